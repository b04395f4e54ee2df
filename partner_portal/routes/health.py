"""Liveness and readiness.

`/healthz` answers as long as the process serves requests. `/readyz` answers 200 only when the database
and the bus both answer within a few seconds, else 503 naming the one(s) that did not. Neither raises:
a failure is a status, and its detail goes to the server log, not to the caller.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from gateway.observability import probes

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database and the bus answer")
async def readyz(request: Request, response: Response) -> dict[str, Any]:
    state = request.app.state
    database = getattr(state, "database", None)
    bus = getattr(getattr(state, "service", None), "bus", None)
    ready, body = await probes.readiness(database, bus, timeout=probes.READY_TIMEOUT)
    if not ready:
        response.status_code = 503
    return body
