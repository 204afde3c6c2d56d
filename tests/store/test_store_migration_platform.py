"""An existing database upgrades in place: a 0003 store gains the platform's tables."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from hallmark.services import build_services
from hallmark.settings import Settings
from hallmark.store.db import SCHEMA_REVISION, Database, alembic_config

TENANT = "a" * 32
CONTENT = "c" * 32
NEW_TABLES = {"uploads", "posts", "reports", "report_events", "publications"}


def _database_at_0003(settings: Settings) -> Database:
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    command.upgrade(alembic_config(db.engine), "0003")
    with db.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO tenants (id, name, created_at) VALUES (:id, 'acme', 'then')"),
            {"id": TENANT},
        )
        connection.execute(
            text(
                "INSERT INTO contents (id, tenant_id, flow, medium, media_type, digest, size, "
                "classification, decision, labels, jurisdictions, ledger_seq, created_at, "
                "watermark_id) VALUES (:id, :tenant, 'receive', 'image', 'image/png', "
                "'sha256:x', 1, 'none', 'allow', '[]', 'cn', 1, 'then', 'w1')"
            ),
            {"id": CONTENT, "tenant": TENANT},
        )
        connection.execute(
            text(
                "INSERT INTO conversations (id, tenant_id, user_id, title, model, minor, "
                "jurisdictions, created_at, updated_at) "
                "VALUES ('c1', :tenant, 'u', 'hello', '', false, 'cn', 'then', 'then')"
            ),
            {"tenant": TENANT},
        )
    return db


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def _index_names(db: Database, table: str) -> set[str]:
    return {str(index["name"]) for index in inspect(db.engine).get_indexes(table)}


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
    assert old.schema_revision() == "0003" and not NEW_TABLES & _tables(old)
    old.dispose()

    services = build_services(settings)  # what any command does with an existing HOME
    try:
        db = services.db
        assert db.schema_revision() == SCHEMA_REVISION
        assert _tables(db) >= NEW_TABLES
        assert {"ix_uploads_tenant_id", "ix_uploads_state"} <= _index_names(db, "uploads")
        assert {"ix_posts_tenant_id", "ix_posts_original_digest", "ix_posts_state"} <= (
            _index_names(db, "posts")
        )
        assert {"ix_reports_due_at", "ix_reports_post_id"} <= _index_names(db, "reports")
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
        assert db.schema_revision() == "0003" and not NEW_TABLES & _tables(db)
        db.migrate()
        assert db.schema_revision() == SCHEMA_REVISION and _tables(db) >= NEW_TABLES
    finally:
        db.dispose()
