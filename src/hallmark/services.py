"""The parts a running hallmark needs, built once per process and passed explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hallmark.ledger import Ledger, Signer
from hallmark.registry import Components, load_components
from hallmark.settings import Settings
from hallmark.store import Database, MediaStore
from hallmark.store.models import utcnow_iso


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    ledger: Ledger
    media: MediaStore
    components: Components

    def close(self) -> None:
        self.db.dispose()


def build_services(
    settings: Settings,
    *,
    plugins: tuple[str, ...] = (),
    migrate: bool = True,
    clock: Callable[[], str] = utcnow_iso,
) -> Services:
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    if migrate:
        db.migrate()
    return Services(
        settings=settings,
        db=db,
        ledger=Ledger(Signer.load_or_create(settings.keys_dir), clock=clock),
        media=MediaStore(settings.media_dir),
        components=load_components(settings, plugins),
    )
