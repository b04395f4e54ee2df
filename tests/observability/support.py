"""Helpers for the observability tests: a partner with a webhook destination, submitting a document,
waiting for the pipeline, and reading a sample from a private registry."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select

from gateway.observability.metrics import Metrics
from gateway.pipeline import operations
from gateway.pipeline.runtime import Pipeline
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import Destination, OrderRecord, PartnerRoute
from gateway.storage.repository import IdentifierSpec

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EDIFACT = (FIXTURES / "orders_d96a_basic.edi").read_bytes()
SECRET_ENV = "ORDERGATE_TEST_3PL_SECRET"


async def set_up_partner(database: Database, url: str, *, partner: bool = True, route: bool = True) -> None:
    async with database.transaction() as session:
        if partner:
            await repo.upsert_partner(
                session, "hexa", name="Hexa", identifiers=[IdentifierSpec("edifact", "14", "5412345000013")]
            )
        session.add(
            Destination(
                id="wh1",
                kind="webhook",
                url=url,
                secret_env=SECRET_ENV,
                timeout_seconds=2,
                created_at=repo.utcnow(),
            )
        )
        if partner and route:
            await session.flush()
            session.add(PartnerRoute(partner_id="hexa", destination_id="wh1"))


async def submit(database: Database, pipeline: Pipeline, raw: bytes, partner: str | None = "hexa") -> str:
    async with database.transaction() as session:
        document = await operations.archive_and_announce(session, raw, channel="api", partner_id=partner)
    pipeline.relay.wake()
    return document.id


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 15.0) -> None:
    """Wait until `check()` (plain or async) is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the pipeline did not get there in time")
        await asyncio.sleep(0.05)


async def order_statuses(database: Database) -> list[str]:
    async with database.session() as session:
        return list((await session.scalars(select(OrderRecord.status))).all())


def value(metrics: Metrics, name: str, **labels: str) -> float:
    """A sample's value in the private registry, 0 when the series does not exist."""
    return metrics.registry.get_sample_value(name, labels) or 0.0
