"""The audit log: who did what to which record, when and why. Append-only; newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gateway.audit import AuditList, list_audit
from partner_portal.deps import SessionDep

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", summary="The audit log, newest first")
async def get_audit(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many entries, newest first")] = 50,
) -> AuditList:
    """Every replay and discard (and whatever later actions record), with actor, action, target, reason
    and details. Actions taken through the API are recorded with actor "api" unless the caller names one:
    the API has no authentication yet."""
    return AuditList(entries=await list_audit(session, limit=limit))
