"""An existing database upgrades in place: a 0002 store gains the assistant's tables."""

from __future__ import annotations

from alembic import command
from migration_helpers import CONTENT, TENANT, database_at, index_names, table_names
from sqlalchemy import text

from hallmark.services import build_services
from hallmark.settings import Settings
from hallmark.store.db import SCHEMA_REVISION, alembic_config

NEW_TABLES = {"conversations", "chat_messages", "chat_usage"}


def test_a_0002_database_upgrades_and_keeps_its_records(settings: Settings) -> None:
    old = database_at(settings, "0002")
    assert old.schema_revision() == "0002" and not NEW_TABLES & table_names(old)
    old.dispose()

    services = build_services(settings)  # what any command does with an existing HOME
    try:
        db = services.db
        assert db.schema_revision() == SCHEMA_REVISION  # the head: test_store checks it
        assert table_names(db) >= NEW_TABLES
        indexes = index_names(db, "conversations")
        assert {"ix_conversations_tenant_id", "ix_conversations_user_id"} <= indexes
        assert "ix_conversations_updated_at" in indexes
        with db.engine.connect() as connection:
            row = connection.execute(text("SELECT id, tenant_id, watermark_id FROM contents")).one()
        assert tuple(row) == (CONTENT, TENANT, "w1")
    finally:
        services.close()


def test_deleting_a_conversation_cascades_to_its_messages(settings: Settings) -> None:
    db = database_at(settings, "0002")
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
    db = database_at(settings, "0002")
    try:
        db.migrate()
        assert table_names(db) >= NEW_TABLES
        command.downgrade(alembic_config(db.engine), "0002")
        assert db.schema_revision() == "0002" and not NEW_TABLES & table_names(db)
        db.migrate()
        assert db.schema_revision() == SCHEMA_REVISION and table_names(db) >= NEW_TABLES
    finally:
        db.dispose()
