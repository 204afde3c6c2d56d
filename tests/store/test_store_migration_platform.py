"""An existing database upgrades in place: a 0003 store gains the platform's tables."""

from __future__ import annotations

from alembic import command
from migration_helpers import CONTENT, TENANT, database_at, index_names, table_names
from sqlalchemy import text

from hallmark.services import build_services
from hallmark.settings import Settings
from hallmark.store.db import SCHEMA_REVISION, Database, alembic_config

NEW_TABLES = {"uploads", "posts", "reports", "report_events", "publications"}


def _database_at_0003(settings: Settings) -> Database:
    """A 0003 store with a received content and a conversation."""
    db = database_at(settings, "0003", flow="receive", classification="none")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO conversations (id, tenant_id, user_id, title, model, minor, "
                "jurisdictions, created_at, updated_at) "
                "VALUES ('c1', :tenant, 'u', 'hello', '', false, 'cn', 'then', 'then')"
            ),
            {"tenant": TENANT},
        )
    return db


def _insert_post_with_a_report(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO posts (id, tenant_id, user_id, content_id, original_digest, "
                "caption, medium, media_type, classification, declared_ai, state, "
                "created_at, updated_at) VALUES ('p1', :tenant, 'k1', :content, 'sha256:y', "
                "'', 'image', 'image/png', 'none', false, 'visible', 'then', 'then')"
            ),
            {"tenant": TENANT, "content": CONTENT},
        )
        connection.execute(
            text(
                "INSERT INTO reports (id, tenant_id, post_id, reporter, category, details, "
                "state, due_at, created_at, updated_at) VALUES ('r1', :tenant, 'p1', 'k2', "
                "'general', '', 'open', 'later', 'then', 'then')"
            ),
            {"tenant": TENANT},
        )
        connection.execute(
            text(
                "INSERT INTO report_events (report_id, actor, action, note, created_at) "
                "VALUES ('r1', 'k2', 'filed', '', 'then'), ('r1', 'k3', 'remove', '', 'then')"
            )
        )


def test_a_0003_database_upgrades_and_keeps_its_records(settings: Settings) -> None:
    old = _database_at_0003(settings)
    assert old.schema_revision() == "0003" and not NEW_TABLES & table_names(old)
    old.dispose()

    services = build_services(settings)  # what any command does with an existing HOME
    try:
        db = services.db
        assert db.schema_revision() == SCHEMA_REVISION
        assert table_names(db) >= NEW_TABLES
        assert {"ix_uploads_tenant_id", "ix_uploads_state"} <= index_names(db, "uploads")
        assert {"ix_posts_tenant_id", "ix_posts_original_digest", "ix_posts_state"} <= (
            index_names(db, "posts")
        )
        assert {"ix_reports_due_at", "ix_reports_post_id"} <= index_names(db, "reports")
        with db.engine.connect() as connection:
            content = connection.execute(text("SELECT id, watermark_id FROM contents")).one()
            title = connection.execute(text("SELECT title FROM conversations")).scalar()
        assert tuple(content) == (CONTENT, "w1") and title == "hello"
    finally:
        services.close()


def test_deleting_a_report_cascades_to_its_events(settings: Settings) -> None:
    db = _database_at_0003(settings)
    try:
        db.migrate()
        _insert_post_with_a_report(db)
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM reports WHERE id = 'r1'"))
            left = connection.execute(text("SELECT count(*) FROM report_events")).scalar()
        assert left == 0
    finally:
        db.dispose()


def test_the_upgrade_downgrades_and_upgrades_again(settings: Settings) -> None:
    db = _database_at_0003(settings)
    try:
        db.migrate()
        _insert_post_with_a_report(db)
        command.downgrade(alembic_config(db.engine), "0003")
        assert db.schema_revision() == "0003" and not NEW_TABLES & table_names(db)
        db.migrate()
        assert db.schema_revision() == SCHEMA_REVISION and table_names(db) >= NEW_TABLES
    finally:
        db.dispose()
