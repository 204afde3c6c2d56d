"""Web UI routes (placeholder until the web shell lands)."""

from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Add the web UI's routes and static files to the app."""
