"""Failures: what went wrong — documents that could not be translated (ids `f<n>`) and pipeline messages
the bus gave up on (ids `p<n>`) — and the two things operations do about them: replay and discard.

The listing, detail and actions are the ones `ordergate failed …` uses, so both answer alike.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query
from pydantic import BaseModel, Field

from gateway.failed import (
    ID_HELP,
    ActionResult,
    FailedDetail,
    FailedList,
    FailedProblem,
    FailedRef,
    KindFilter,
    StatusFilter,
    discard_failed,
    get_failed,
    list_failed,
    replay_failed,
)
from partner_portal.deps import DatabaseDep, SessionDep

router = APIRouter(prefix="/api/failures", tags=["failures"])

API_ACTOR = "api"


class Problem(BaseModel):
    detail: str


class ReplayRequest(BaseModel):
    reason: str | None = Field(default=None, description="Why, for the audit log")
    actor: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description=f"Who is acting, for the audit log; '{API_ACTOR}' when omitted",
    )


class DiscardRequest(ReplayRequest):
    reason: str = Field(min_length=1, pattern=r"\S", description="Why it needs no reprocessing (required)")


_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": f"No such record (ids are {ID_HELP})"}
}
_ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    **_NOT_FOUND,
    409: {"model": Problem, "description": "Already replayed or discarded, or cannot be replayed"},
}


def _ref(failed_id: str) -> FailedRef:
    try:
        return FailedRef.parse(failed_id)
    except FailedProblem as error:
        raise HTTPException(error.http_status, str(error)) from None


@router.get("", summary="List failed documents and parked messages, newest first")
async def list_failures(
    session: SessionDep,
    kind: Annotated[KindFilter, Query(description="documents, messages, or all")] = "all",
    status: Annotated[StatusFilter, Query(description="open, replayed, discarded, or all")] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> FailedList:
    return FailedList(failures=await list_failed(session, kind=kind, status=status, limit=limit))


@router.get(
    "/{failed_id}",
    summary="One failed document or parked message, with everything known and the actions taken",
    responses=_NOT_FOUND,
)
async def get_failure(failed_id: str, session: SessionDep) -> FailedDetail:
    try:
        return await get_failed(session, _ref(failed_id))
    except FailedProblem as error:
        raise HTTPException(error.http_status, str(error)) from None


@router.post(
    "/{failed_id}/replay",
    summary="Queue a failed document or parked message for reprocessing",
    responses=_ACTION_ERRORS,
)
async def replay(
    failed_id: str,
    database: DatabaseDep,
    request: Annotated[ReplayRequest | None, Body()] = None,
) -> ActionResult:
    """A document failure is re-announced to intake and re-translated from its archived bytes (after a
    partner or mapping fix); a parked message is republished with its original id and routing key. The
    work is queued in the same transaction as the status change and the audit entry; the running
    pipeline takes it from there.

    The actor is recorded as given, or as "api" when omitted: the API has no authentication yet, so it
    cannot tell who is calling. Once it has, the authenticated user replaces both."""
    request = request or ReplayRequest()
    try:
        return await replay_failed(
            database, _ref(failed_id), actor=request.actor or API_ACTOR, reason=request.reason
        )
    except FailedProblem as error:
        raise HTTPException(error.http_status, str(error)) from None


@router.post(
    "/{failed_id}/discard",
    summary="Close a failed document or parked message without reprocessing it",
    responses=_ACTION_ERRORS,
)
async def discard(failed_id: str, database: DatabaseDep, request: DiscardRequest) -> ActionResult:
    """The record stays (status discarded), with its raw bytes or message body; a reason is required.

    The actor is recorded as given, or as "api" when omitted: the API has no authentication yet, so it
    cannot tell who is calling. Once it has, the authenticated user replaces both."""
    try:
        return await discard_failed(
            database, _ref(failed_id), actor=request.actor or API_ACTOR, reason=request.reason
        )
    except FailedProblem as error:
        raise HTTPException(error.http_status, str(error)) from None
