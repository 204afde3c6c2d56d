"""An existing database upgrades in place: a 0001 store gains the watermark id column."""

from __future__ import annotations

from alembic import command
from migration_helpers import CONTENT, TENANT, database_at, index_names
from sqlalchemy import inspect, text

from hallmark.services import build_services
from hallmark.settings import Settings
from hallmark.store.db import SCHEMA_REVISION, Database, alembic_config


def _content_columns(db: Database) -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("contents")}


def test_a_0001_database_upgrades_and_keeps_its_records(settings: Settings) -> None:
    old = database_at(settings, "0001", watermark_id=None)
    assert old.schema_revision() == "0001"
    assert "watermark_id" not in _content_columns(old)
    old.dispose()

    services = build_services(settings)  # what any command does with an existing HOME
    try:
        db = services.db
        assert db.schema_revision() == SCHEMA_REVISION  # the head: test_store checks it
        assert "watermark_id" in _content_columns(db)
        assert "ix_contents_watermark_id" in index_names(db, "contents")
        with db.engine.connect() as connection:
            row = connection.execute(text("SELECT id, tenant_id, watermark_id FROM contents")).one()
        assert tuple(row) == (CONTENT, TENANT, None)
    finally:
        services.close()


def test_the_upgrade_downgrades_and_upgrades_again(settings: Settings) -> None:
    db = database_at(settings, "0001", watermark_id=None)
    try:
        db.migrate()
        assert "watermark_id" in _content_columns(db)
        command.downgrade(alembic_config(db.engine), "0001")
        assert db.schema_revision() == "0001"
        assert "watermark_id" not in _content_columns(db)
        db.migrate()
        assert db.schema_revision() == SCHEMA_REVISION
        assert "watermark_id" in _content_columns(db)
    finally:
        db.dispose()
