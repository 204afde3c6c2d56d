"""Persistence: SQLAlchemy models, the database handle, migrations and the media folder."""

from hallmark.store.db import Database
from hallmark.store.media import MediaStore

__all__ = ["Database", "MediaStore"]
