"""What the operations tests share: the CLI in-process, and the database behind it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from typer.testing import CliRunner

from gateway.cli.app import app
from gateway.settings import get_settings
from gateway.storage.database import Database
from gateway.storage.ids import new_id
from gateway.storage.models import AuditEntry, OutboxMessage, ParkedMessage
from gateway.storage.repository import utcnow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EDIFACT = FIXTURES / "orders_d96a_basic.edi"
HEXA_EDIFACT_ID = "5412345000013:14"

T = TypeVar("T")
runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def cli_json(*args: str, expect: int = 0) -> Any:
    code, output = cli(*args, "--json")
    assert code == expect, output
    return json.loads(output)


def with_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the database the CLI uses (the current settings), from a synchronous test."""

    async def main() -> T:
        database = Database(get_settings().resolved_database_url)
        try:
            await database.migrate()
            return await work(database)
        finally:
            await database.close()

    return asyncio.run(main())


def park(
    *,
    stage: str = "route",
    routing_key: str = "route.hexa._",
    order_id: str | None = "01ordernotreal",
    document_id: str | None = None,
    reason: str = "partner 'hexa' has no default destination",
    attempts: int = 3,
) -> tuple[str, str]:
    """A parked message as the parking recorder stores it; returns its CLI id (p<n>) and message id."""
    message_id = new_id()
    reference = {"order_id": order_id} if order_id else {"document_id": document_id}
    history = [
        {"at": f"2026-01-01T10:0{n}:00+00:00", "queue": stage, "error": f"Park: {reason}"}
        for n in range(attempts)
    ]

    async def insert(database: Database) -> int:
        async with database.transaction() as session:
            row = ParkedMessage(
                message_id=message_id,
                stage=stage,
                routing_key=routing_key,
                body=json.dumps(reference).encode(),
                headers={
                    **reference,
                    "trace": "t-1",
                    "x-og-reason": reason,
                    "x-og-parked-stage": stage,
                },
                reason=reason,
                attempts=attempts,
                history=history,
                document_id=document_id,
                order_id=order_id,
                status="open",
                parked_at=utcnow(),
            )
            session.add(row)
            await session.flush()
            return row.id

    return f"p{with_database(insert)}", message_id


def outbox(message_id: str | None = None) -> list[OutboxMessage]:
    async def read(database: Database) -> list[OutboxMessage]:
        async with database.session() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if message_id is not None:
                query = query.where(OutboxMessage.message_id == message_id)
            return list((await session.scalars(query)).all())

    return with_database(read)


def parked_status(cli_id: str) -> str:
    async def read(database: Database) -> str:
        async with database.session() as session:
            row = await session.get(ParkedMessage, int(cli_id[1:]))
            assert row is not None
            return row.status

    return with_database(read)


def audit_rows() -> list[AuditEntry]:
    async def read(database: Database) -> list[AuditEntry]:
        async with database.session() as session:
            return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())

    return with_database(read)
