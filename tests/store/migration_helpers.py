"""Stores at an old schema revision, for the tests that upgrade them in place."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from hallmark.settings import Settings
from hallmark.store.db import Database, alembic_config

TENANT = "a" * 32
CONTENT = "c" * 32


def database_at(
    settings: Settings,
    revision: str,
    *,
    flow: str = "create",
    classification: str = "confirmed",
    watermark_id: str | None = "w1",
) -> Database:
    """The test's store migrated only to ``revision``, holding one tenant (TENANT, "acme") and
    one image content (CONTENT). ``watermark_id=None`` leaves out the watermark column, which
    revision 0002 adds."""
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    command.upgrade(alembic_config(db.engine), revision)
    columns = (
        "id, tenant_id, flow, medium, media_type, digest, size, classification, decision, "
        "labels, jurisdictions, ledger_seq, created_at"
    )
    values = (
        ":id, :tenant, :flow, 'image', 'image/png', 'sha256:x', 1, :classification, 'allow', "
        "'[]', 'cn', 1, 'then'"
    )
    params = {"id": CONTENT, "tenant": TENANT, "flow": flow, "classification": classification}
    if watermark_id is not None:
        columns, values = columns + ", watermark_id", values + ", :watermark_id"
        params["watermark_id"] = watermark_id
    with db.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO tenants (id, name, created_at) VALUES (:id, 'acme', 'then')"),
            {"id": TENANT},
        )
        connection.execute(text(f"INSERT INTO contents ({columns}) VALUES ({values})"), params)
    return db


def table_names(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def index_names(db: Database, table: str) -> set[str]:
    return {str(index["name"]) for index in inspect(db.engine).get_indexes(table)}
