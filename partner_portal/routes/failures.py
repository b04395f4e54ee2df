"""Failures: documents that could not be processed, with the precise reason."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from gateway.storage import repository as repo
from gateway.views import failure_json
from partner_portal.deps import SessionDep

router = APIRouter(prefix="/api/failures", tags=["failures"])


@router.get("", summary="List failures, newest first")
async def list_failures(
    session: SessionDep,
    status: Annotated[str, Query(description="open, or all")] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    rows = await repo.list_failures(session, status=None if status == "all" else status, limit=limit)
    return {"failures": [failure_json(f) for f in rows]}


@router.get("/{failure_id}", summary="One failure with every issue found")
async def get_failure(failure_id: int, session: SessionDep) -> dict[str, Any]:
    failure = await repo.get_failure(session, failure_id)
    if failure is None:
        raise HTTPException(404, f"no failure {failure_id}")
    return failure_json(failure)
