"""Moderation of prompts and outputs."""
