"""The stage handlers. Each takes a batch of messages inside an idempotent consumer's transaction and
answers per message: the messages it causes, or the exception that message gets (`Park` when the record
it names does not exist). A handler decides every message's fate before it writes, so a failed message
leaves no effect (the contract of `consumer.idempotent`). Status changes are set-based statements — one
per batch, not one per order — because the database round trips are what limits throughput
(docs/BENCHMARKS.md). Review and route are deliberately simple until the rules and routing engine arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from gateway.bus.base import BusMessage, Park
from gateway.ingest import Ingestor, IngestResult
from gateway.partner_formats import formats_for, translate_for
from gateway.pipeline.consumer import Outcome, body_field
from gateway.pipeline.messages import document_message, order_message
from gateway.storage import repository as repo
from gateway.storage.models import Document, OrderEvent, OrderRecord, PartnerRoute
from gateway.storage.repository import table_of
from mappings.translate import Translation

Outcomes = dict[str, Outcome]
INLINE_TRANSLATION_BYTES = 256 * 1024

# The stages' statements are built once: building a statement and its cache key costs SQLAlchemy about
# 0.1 ms of CPU, as much as executing it, and a stage runs several per batch (measured, BENCHMARKS.md).
_DOCUMENTS, _ORDERS, _ROUTES, _EVENTS = (
    table_of(model) for model in (Document, OrderRecord, PartnerRoute, OrderEvent)
)
_ANNOUNCED = select(
    _DOCUMENTS.c.id, _DOCUMENTS.c.status, _DOCUMENTS.c.claimed_partner, _DOCUMENTS.c.channel
).where(_DOCUMENTS.c.id.in_(bindparam("ids", expanding=True)))
_TO_TRANSLATE = (
    select(Document).options(undefer(Document.raw)).where(Document.id.in_(bindparam("ids", expanding=True)))
)
_APPROVE = (
    update(_ORDERS)
    .where(_ORDERS.c.id.in_(bindparam("ids", expanding=True)), _ORDERS.c.status == "received")
    .values(status="approved")
    .returning(_ORDERS.c.id, _ORDERS.c.partner_id, _ORDERS.c.document_id)
)
_EXISTING = select(_ORDERS.c.id).where(_ORDERS.c.id.in_(bindparam("ids", expanding=True)))
_TO_ROUTE = (
    select(
        _ORDERS.c.id, _ORDERS.c.status, _ORDERS.c.partner_id, _ORDERS.c.document_id, _ROUTES.c.destination_id
    )
    .select_from(_ORDERS.outerjoin(_ROUTES, _ROUTES.c.partner_id == _ORDERS.c.partner_id))
    .where(_ORDERS.c.id.in_(bindparam("ids", expanding=True)))
)
_ROUTED = (
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_id"), _ORDERS.c.status == "approved")
    .values(status="routed", destination_id=bindparam("destination"))
)
_ADD_EVENTS = insert(_EVENTS)


def _references(messages: Sequence[BusMessage], key: str, outcomes: Outcomes) -> dict[str, str]:
    """message id → the record id its body names; a message without one is parked in `outcomes`."""
    found: dict[str, str] = {}
    for message in messages:
        try:
            found[message.message_id] = body_field(message, key)
        except Park as error:
            outcomes[message.message_id] = error
    return found


async def add_events(session: AsyncSession, events: Sequence[tuple[str, str, str]]) -> None:
    """Append (order id, status, detail) to the orders' histories in one statement."""
    if events:
        now = repo.utcnow()
        await session.execute(
            _ADD_EVENTS,
            [
                {"order_id": order, "status": status, "at": now, "detail": detail}
                for order, status, detail in events
            ],
        )


async def intake(session: AsyncSession, messages: Sequence[BusMessage]) -> Outcomes:
    """Archived documents are announced: hand each to translation (routing carries partner and channel)."""
    outcomes: Outcomes = {}
    wanted = _references(messages, "document_id", outcomes)
    rows = {row.id: row for row in await session.execute(_ANNOUNCED, {"ids": list(set(wanted.values()))})}
    for message_id, document_id in wanted.items():
        row = rows.get(document_id)
        if row is None:
            outcomes[message_id] = Park(f"document {document_id} does not exist")
        elif row.status != "received":
            outcomes[
                message_id
            ] = []  # already translated (or failed): replays go through `ordergate failed replay`
        else:
            outcomes[message_id] = [
                document_message("translate", document_id, partner=row.claimed_partner, channel=row.channel)
            ]
    return outcomes


Verdicts = Callable[[AsyncSession, Sequence[tuple[Document, IngestResult]]], None]


def translate_stage(
    ingestor: Ingestor, on_verdicts: Verdicts | None = None
) -> Callable[[AsyncSession, Sequence[BusMessage]], Any]:
    """Translate a batch of documents (in one worker thread: pure CPU) and store each verdict."""

    async def handle(session: AsyncSession, messages: Sequence[BusMessage]) -> Outcomes:
        outcomes: Outcomes = {}
        wanted = _references(messages, "document_id", outcomes)
        documents = {
            d.id: d for d in await session.scalars(_TO_TRANSLATE, {"ids": list(set(wanted.values()))})
        }
        todo: list[tuple[str, Document]] = []
        for message_id, document_id in wanted.items():
            document = documents.get(document_id)
            if document is None:
                outcomes[message_id] = Park(f"document {document_id} does not exist")
            elif document.status != "received" or any(d is document for _, d in todo):
                outcomes[message_id] = []  # already decided, or twice in this batch
            else:
                todo.append((message_id, document))
        own = await formats_for(session, {document.claimed_partner for _, document in todo})

        def translate_all() -> list[Translation]:
            return [translate_for(d.raw, own.get(d.claimed_partner or "", ())) for _, d in todo]

        # Small documents are translated right here: handing a millisecond of work to a thread costs
        # more than it saves, since the thread and the event loop then take turns on the GIL in 5 ms
        # slices (profiled). Large ones go to a thread so the loop keeps serving the bus.
        if sum(len(d.raw) for _, d in todo) <= INLINE_TRANSLATION_BYTES:
            translations = translate_all()
        else:
            translations = await asyncio.to_thread(translate_all)
        results = await ingestor.store_many(
            session,
            [
                (document, document.claimed_partner, t)
                for (_, document), t in zip(todo, translations, strict=True)
            ],
        )
        decided = [(document, result) for (_, document), result in zip(todo, results, strict=True)]
        for message_id, _ in todo:
            outcomes[message_id] = []  # store_many() announced each order to review in this transaction
        if on_verdicts is not None and decided:
            on_verdicts(session, decided)
        return outcomes

    return handle


async def review(session: AsyncSession, messages: Sequence[BusMessage]) -> Outcomes:
    """Approve every translated order (auto-review rules come with the rules engine)."""
    outcomes: Outcomes = {}
    wanted = _references(messages, "order_id", outcomes)
    approved = {row.id: row for row in await session.execute(_APPROVE, {"ids": list(set(wanted.values()))})}
    await add_events(
        session,
        [(order_id, "approved", "auto-approved: no review rules configured") for order_id in approved],
    )
    await _settle_others(session, wanted, approved, outcomes)
    announced: set[str] = set()
    for message_id, order_id in wanted.items():
        row = approved.get(order_id)
        if row is None or order_id in announced:
            outcomes.setdefault(message_id, [])
            continue
        announced.add(order_id)
        outcomes[message_id] = [
            order_message(
                "route", order_id, partner=row.partner_id, channel=None, document_id=row.document_id
            )
        ]
    return outcomes


async def _settle_others(
    session: AsyncSession, wanted: Mapping[str, str], changed: Mapping[str, Any], outcomes: Outcomes
) -> None:
    """Messages whose order was not changed: parked if the order does not exist, else done (a
    redelivery after the order moved on)."""
    others = {order_id for order_id in wanted.values() if order_id not in changed}
    if not others:
        return
    existing = set(await session.scalars(_EXISTING, {"ids": list(others)}))
    for message_id, order_id in wanted.items():
        if order_id in others:
            outcomes[message_id] = [] if order_id in existing else Park(f"order {order_id} does not exist")


async def route_stage(session: AsyncSession, messages: Sequence[BusMessage]) -> Outcomes:
    """Send each order to its partner's default destination; without one it is parked for a person."""
    outcomes: Outcomes = {}
    wanted = _references(messages, "order_id", outcomes)
    rows = {row.id: row for row in await session.execute(_TO_ROUTE, {"ids": list(set(wanted.values()))})}
    routed: dict[str, Any] = {}
    for message_id, order_id in wanted.items():
        row = rows.get(order_id)
        if row is None:
            outcomes[message_id] = Park(f"order {order_id} does not exist")
        elif row.status != "approved" or order_id in routed:
            outcomes[message_id] = []
        elif row.destination_id is None:
            outcomes[message_id] = Park(
                f"partner {row.partner_id!r} has no default destination: set one with "
                f"`ordergate destinations route {row.partner_id} DESTINATION`, then replay"
            )
        else:
            routed[order_id] = row
            outcomes[message_id] = [
                order_message(
                    "dispatch",
                    order_id,
                    partner=row.partner_id,
                    channel=row.destination_id,
                    document_id=row.document_id,
                )
            ]
    if routed:
        await session.execute(
            _ROUTED,
            [{"order_id": order_id, "destination": row.destination_id} for order_id, row in routed.items()],
        )
        await add_events(
            session,
            [(order_id, "routed", f"routed to {row.destination_id}") for order_id, row in routed.items()],
        )
    return outcomes
