"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from partner_portal.deps import DatabaseDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers")
async def readyz(database: DatabaseDep, response: Response) -> dict[str, Any]:
    try:
        await database.ping()
    except Exception as error:  # any driver error means "not ready", reported, never raised
        response.status_code = 503
        return {"status": "unavailable", "database": f"{type(error).__name__}"}
    return {"status": "ok", "database": "ok"}
