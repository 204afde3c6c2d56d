from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from hallmark import __version__
from hallmark.api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(services: ServicesDep) -> dict[str, Any]:
    with services.db.session() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__, "database": services.db.dialect}
