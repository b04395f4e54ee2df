"""`ordergate audit list`: the append-only audit log of what operations did, newest first.

The view and the query are shared with `partner_portal.routes.audit` (`GET /api/audit`), so the command's
`--json` and the API answer with the same shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli.context import run_with_database
from gateway.cli.output import print_json, print_table
from gateway.settings import Settings
from gateway.storage.database import Database
from gateway.storage.models import AuditEntry

app = typer.Typer(help="The audit log: who did what to which record, when and why.", no_args_is_help=True)


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


@app.callback()
def audit() -> None:
    """The audit log: who did what to which record, when and why (append-only)."""


@app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """List the audit log, newest first."""

    async def body(database: Database, _: Settings) -> list[AuditView]:
        async with database.session() as session:
            return await list_audit(session, limit=limit)

    entries = run_with_database(body)
    if as_json:
        print_json(AuditList(entries=entries).model_dump(mode="json"))
        return
    print_table(
        ["AT", "ACTOR", "ACTION", "TARGET", "REASON", "DETAIL"],
        [
            [
                e.at,
                e.actor,
                e.action,
                e.target,
                e.reason,
                " ".join(f"{k}={v}" for k, v in e.detail.items()) or None,
            ]
            for e in entries
        ],
        empty="the audit log is empty",
    )
