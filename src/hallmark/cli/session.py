"""The services of one CLI command and the tenant it acts as, closed when the command ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hallmark.services import Services


@contextmanager
def tenant_session(tenant: str) -> Iterator[tuple[Services, str]]:
    """The services built from the settings, and the id of ``tenant`` (made if new)."""
    from hallmark.accounts.service import ensure_tenant
    from hallmark.services import build_services
    from hallmark.settings import load_settings

    services = build_services(load_settings())
    try:
        with services.db.session() as session:
            tenant_id = ensure_tenant(session, services.ledger, tenant).id
        yield services, tenant_id
    finally:
        services.close()
