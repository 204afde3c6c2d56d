"""Generators: each kind behind one small interface, found through the engines registry."""
