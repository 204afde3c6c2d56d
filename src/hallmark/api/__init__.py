"""The HTTP API (FastAPI): one router per resource, errors rendered in one place."""
