"""The audit log as operations read it: who did what to which record, when and why. The CLI
(`ordergate audit list`), the API and the failed-work views share these shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.storage.models import AuditEntry


class AuditView(BaseModel):
    """One action, as recorded in the same transaction as its effect."""

    id: int
    at: datetime
    actor: str = Field(description="Who acted: a user name for the CLI, 'api' for the API")
    action: str = Field(description="replay, discard, …")
    target: str = Field(description="The record acted on, e.g. failure:12 or parked:3")
    reason: str | None
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditList(BaseModel):
    entries: list[AuditView] = Field(description="Newest first")


def as_utc(value: datetime) -> datetime:
    """Times as stored are UTC; SQLite hands them back without a zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def audit_view(entry: AuditEntry) -> AuditView:
    return AuditView(
        id=entry.id,
        at=as_utc(entry.at),
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        reason=entry.reason,
        detail=dict(entry.detail or {}),
    )


async def list_audit(session: AsyncSession, *, limit: int = 50, target: str | None = None) -> list[AuditView]:
    """The newest `limit` entries, optionally only those about one record (`failure:12`, `parked:3`)."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    return [audit_view(e) for e in (await session.scalars(query)).all()]
