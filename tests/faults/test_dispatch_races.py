"""Two copies of one dispatch message handled at once — what at-least-once delivery produces after a
crash (the outbox relay republishes a batch whose mark was lost, or the broker redelivers a message whose
handler is still running). Found while running the crash scenarios; deterministic here, in process, on
SQLite and PostgreSQL, with a scripted 3PL:

- copy A posts first and its answer is held back; copy B posts, gets 200 and records SENT;
- then A gets its answer: a failure (503, or 409 "key already used") must not turn the SENT dispatch
  back into PENDING or FAILED nor park the order (it did both before the fix in `Dispatcher._settle`);
  a 200 must not record a second effect, nor fail with the processed-message key's IntegrityError and
  go round the retry queue (it did before the fix in `Dispatcher._done`). A just returns: acknowledged.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from gateway.ingest import Ingestor
from gateway.pipeline.dispatch import Dispatcher
from gateway.pipeline.messages import order_message
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import Destination, Dispatch, OrderEvent, OrderRecord, ProcessedMessage
from gateway.storage.repository import IdentifierSpec
from tests.faults.harness import TEMPLATE_SENDER, edifact_order

pytestmark = pytest.mark.faults


async def _routed_order(database: Database) -> str:
    async with database.transaction() as session:
        await repo.upsert_partner(
            session, "hexa", name="Hexa", identifiers=[IdentifierSpec("edifact", "14", TEMPLATE_SENDER)]
        )
        session.add(
            Destination(
                id="wh",
                kind="webhook",
                url="http://3pl.test/orders",
                timeout_seconds=1,
                created_at=repo.utcnow(),
            )
        )
    result = await Ingestor(database).receive(edifact_order(1), channel="api", partner_id="hexa")
    [order_id] = result.order_ids
    async with database.transaction() as session:
        order = await session.get(OrderRecord, order_id)
        assert order is not None
        order.destination_id, order.status = "wh", "routed"
    return order_id


@pytest.mark.parametrize("late_status", [503, 409, 200])
async def test_a_copy_answered_after_the_other_sent_it_changes_nothing(
    database: Database, late_status: int
) -> None:
    order_id = await _routed_order(database)
    calls = 0
    release_first = asyncio.Event()

    async def respond(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:  # copy A: answered only after copy B has finished
            await release_first.wait()
            return httpx.Response(late_status)
        return httpx.Response(200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(respond))
    dispatcher = Dispatcher(database, client=client, attempts_in_place=1)
    message = order_message("dispatch", order_id, partner="hexa", channel="wh")
    try:
        first = asyncio.create_task(dispatcher.handle(message))
        while calls < 1:
            await asyncio.sleep(0.01)
        await dispatcher.handle(message)  # copy B: sent, recorded SENT
        release_first.set()
        await first  # neither retried nor parked: acknowledged
    finally:
        await client.aclose()

    async with database.session() as session:
        dispatch = (await session.scalars(select(Dispatch).where(Dispatch.order_id == order_id))).one()
        order = await session.get(OrderRecord, order_id)
        dispatched_events = await session.scalar(
            select(func.count())
            .select_from(OrderEvent)
            .where(OrderEvent.order_id == order_id, OrderEvent.status == "dispatched")
        )
        processed = await session.scalar(
            select(func.count()).select_from(ProcessedMessage).where(ProcessedMessage.consumer == "dispatch")
        )
    assert calls == 2
    assert (dispatch.state, dispatch.response_status) == ("SENT", 200), dispatch.last_error
    assert order is not None and order.status == "dispatched"
    assert (dispatched_events, processed) == (1, 1)
    # A later delivery of the same message is a no-op.
    await Dispatcher(database, client=httpx.AsyncClient(transport=httpx.MockTransport(respond))).handle(
        message
    )
    assert calls == 2
