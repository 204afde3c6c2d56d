"""An existing database upgrades in place: a 0001 store gains the watermark id column."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from hallmark.services import build_services
from hallmark.settings import Settings
from hallmark.store.db import SCHEMA_REVISION, Database, alembic_config

TENANT = "a" * 32
CONTENT = "c" * 32


def _database_at_0001(settings: Settings) -> Database:
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    command.upgrade(alembic_config(db.engine), "0001")
    with db.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO tenants (id, name, created_at) VALUES (:id, 'acme', 'then')"),
            {"id": TENANT},
        )
        connection.execute(
            text(
                "INSERT INTO contents (id, tenant_id, flow, medium, media_type, digest, size, "
                "classification, decision, labels, jurisdictions, ledger_seq, created_at) "
                "VALUES (:id, :tenant, 'create', 'image', 'image/png', 'sha256:x', 1, "
                "'confirmed', 'allow', '[]', 'cn', 1, 'then')"
            ),
            {"id": CONTENT, "tenant": TENANT},
        )
    return db


def _content_columns(db: Database) -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("contents")}


def test_a_0001_database_upgrades_and_keeps_its_records(settings: Settings) -> None:
    old = _database_at_0001(settings)
    assert old.schema_revision() == "0001"
    assert "watermark_id" not in _content_columns(old)
    old.dispose()

    services = build_services(settings)  # what any command does with an existing HOME
    try:
        db = services.db
        assert db.schema_revision() == SCHEMA_REVISION  # the head: test_store checks it
        assert "watermark_id" in _content_columns(db)
        indexes = {index["name"] for index in inspect(db.engine).get_indexes("contents")}
        assert "ix_contents_watermark_id" in indexes
        with db.engine.connect() as connection:
            row = connection.execute(text("SELECT id, tenant_id, watermark_id FROM contents")).one()
        assert tuple(row) == (CONTENT, TENANT, None)
    finally:
        services.close()


def test_the_upgrade_downgrades_and_upgrades_again(settings: Settings) -> None:
    db = _database_at_0001(settings)
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
