"""Two tenants for the assistant's store tests."""

from __future__ import annotations

import pytest

from hallmark.accounts.service import ensure_tenant
from hallmark.services import Services


@pytest.fixture
def tenants(services: Services) -> dict[str, str]:
    """Tenant name -> id, for ``acme`` and ``other``."""
    with services.db.session() as session:
        return {
            name: ensure_tenant(session, services.ledger, name).id for name in ("acme", "other")
        }
