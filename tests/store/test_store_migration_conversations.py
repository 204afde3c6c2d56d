"""An existing database upgrades in place: a 0002 store gains the assistant's tables."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from hallmark.services import build_services
from hallmark.settings import Settings
from hallmark.store.db import SCHEMA_REVISION, Database, alembic_config

TENANT = "a" * 32
CONTENT = "c" * 32
NEW_TABLES = {"conversations", "chat_messages", "chat_usage"}


def _database_at_0002(settings: Settings) -> Database:
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    command.upgrade(alembic_config(db.engine), "0002")
    with db.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO tenants (id, name, created_at) VALUES (:id, 'acme', 'then')"),
            {"id": TENANT},
        )
        connection.execute(
            text(
                "INSERT INTO contents (id, tenant_id, flow, medium, media_type, digest, size, "
                "classification, decision, labels, jurisdictions, ledger_seq, created_at, "
                "watermark_id) VALUES (:id, :tenant, 'create', 'image', 'image/png', "
                "'sha256:x', 1, 'confirmed', 'allow', '[]', 'cn', 1, 'then', 'w1')"
            ),
            {"id": CONTENT, "tenant": TENANT},
        )
    return db


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_a_0002_database_upgrades_and_keeps_its_records(settings: Settings) -> None:
    old = _database_at_0002(settings)
    assert old.schema_revision() == "0002" and not NEW_TABLES & _tables(old)
    old.dispose()

    services = build_services(settings)  # what any command does with an existing HOME
    try:
        db = services.db
        assert db.schema_revision() == SCHEMA_REVISION  # the head: test_store checks it
        assert _tables(db) >= NEW_TABLES
        indexes = {index["name"] for index in inspect(db.engine).get_indexes("conversations")}
        assert {"ix_conversations_tenant_id", "ix_conversations_user_id"} <= indexes
        assert "ix_conversations_updated_at" in indexes
        with db.engine.connect() as connection:
            row = connection.execute(text("SELECT id, tenant_id, watermark_id FROM contents")).one()
        assert tuple(row) == (CONTENT, TENANT, "w1")
    finally:
        services.close()


def test_deleting_a_conversation_cascades_to_its_messages(settings: Settings) -> None:
    db = _database_at_0002(settings)
    try:
        db.migrate()
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO conversations (id, tenant_id, user_id, title, model, minor, "
                    "jurisdictions, created_at, updated_at) "
                    "VALUES ('c1', :tenant, 'u', '', '', false, 'cn', 'then', 'then')"
                ),
                {"tenant": TENANT},
            )
            connection.execute(
                text(
                    "INSERT INTO chat_messages (conversation_id, seq, role, content, created_at) "
                    "VALUES ('c1', 1, 'user', 'hi', 'then'), ('c1', 2, 'assistant', 'ok', 'then')"
                )
            )
            connection.execute(text("DELETE FROM conversations WHERE id = 'c1'"))
            left = connection.execute(text("SELECT count(*) FROM chat_messages")).scalar()
        assert left == 0
    finally:
        db.dispose()


def test_the_upgrade_downgrades_and_upgrades_again(settings: Settings) -> None:
    db = _database_at_0002(settings)
    try:
        db.migrate()
        assert _tables(db) >= NEW_TABLES
        command.downgrade(alembic_config(db.engine), "0002")
        assert db.schema_revision() == "0002" and not NEW_TABLES & _tables(db)
        db.migrate()
        assert db.schema_revision() == SCHEMA_REVISION and _tables(db) >= NEW_TABLES
    finally:
        db.dispose()
