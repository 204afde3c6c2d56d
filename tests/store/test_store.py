"""The store: migrations reach Alembic's head, and media is content-addressed and atomic."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from hallmark.errors import NotFound, StoreUnavailable
from hallmark.services import Services
from hallmark.store.db import SCHEMA_REVISION, Database, alembic_config
from hallmark.store.media import MediaStore, digest_of


def test_schema_revision_constant_is_alembics_head(services: Services) -> None:
    script = ScriptDirectory.from_config(alembic_config(services.db.engine))
    assert script.get_current_head() == SCHEMA_REVISION
    assert services.db.schema_revision() == SCHEMA_REVISION


def test_migrate_is_idempotent(services: Services) -> None:
    services.db.migrate()
    services.db.migrate()
    assert services.db.schema_revision() == SCHEMA_REVISION


def test_sqlite_runs_in_wal_mode(services: Services) -> None:
    if services.db.dialect != "sqlite":
        pytest.skip("SQLite only")
    with services.db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_unreachable_database_is_a_clear_error() -> None:
    database = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailable, match="cannot open the database"):
        database.migrate()


def test_media_is_stored_once_under_its_digest(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    digest = store.put(b"hello")
    assert digest == digest_of(b"hello") and store.put(b"hello") == digest
    assert store.get(digest) == b"hello"
    assert store.path_for(digest).relative_to(tmp_path).parts[:2] == ("sha256", digest[7:9])
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]


def test_bad_or_missing_digests_are_not_found(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    for digest in ("sha256:" + "0" * 64, "md5:abc", "sha256:../../etc/passwd"):
        with pytest.raises(NotFound):
            store.get(digest)
