"""The stage handlers. Each runs inside an idempotent consumer's transaction and returns the messages
it causes; review and route are deliberately simple until the rules and routing engine arrive."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.bus.base import BusMessage, Park
from gateway.ingest import Ingestor
from gateway.pipeline.messages import document_message, order_message
from gateway.storage import repository as repo
from gateway.storage.models import OrderEvent, OrderRecord, PartnerRoute
from mappings.translate import translate


async def _order(session: AsyncSession, message: BusMessage) -> OrderRecord:
    order_id = message.json()["order_id"]
    order = await repo.get_order(session, order_id)
    if order is None:
        raise Park(f"order {order_id} does not exist")
    return order


def _advance(order: OrderRecord, status: str, detail: str) -> None:
    order.status = status
    order.events.append(OrderEvent(status=status, at=repo.utcnow(), detail=detail))


async def intake(session: AsyncSession, message: BusMessage) -> Sequence[BusMessage]:
    """An archived document is announced: hand it to translation (routing carries partner and channel)."""
    document_id = message.json()["document_id"]
    document = await repo.get_document(session, document_id)
    if document is None:
        raise Park(f"document {document_id} does not exist")
    if document.status != "received":
        return []  # already translated (or failed): replays go through `ordergate failed replay`
    return [
        document_message("translate", document_id, partner=document.claimed_partner, channel=document.channel)
    ]


def translate_stage(ingestor: Ingestor):  # type: ignore[no-untyped-def]
    async def handle(session: AsyncSession, message: BusMessage) -> Sequence[BusMessage]:
        document_id = message.json()["document_id"]
        document = await repo.get_document(session, document_id, with_raw=True)
        if document is None:
            raise Park(f"document {document_id} does not exist")
        if document.status != "received":
            return []
        translation = await asyncio.to_thread(translate, document.raw)
        await ingestor.store(session, document_id, document.claimed_partner, translation)
        return []  # store() has announced each order to review in this same transaction

    return handle


async def review(session: AsyncSession, message: BusMessage) -> Sequence[BusMessage]:
    """Approve every translated order (auto-review rules come with the rules engine)."""
    order = await _order(session, message)
    if order.status != "received":
        return []
    _advance(order, "approved", "auto-approved: no review rules configured")
    return [
        order_message(
            "route", order.id, partner=order.partner_id, channel=None, document_id=order.document_id
        )
    ]


async def route_stage(session: AsyncSession, message: BusMessage) -> Sequence[BusMessage]:
    """Send the order to its partner's default destination; without one it is parked for a person."""
    order = await _order(session, message)
    if order.status != "approved":
        return []
    route = await session.get(PartnerRoute, order.partner_id) if order.partner_id else None
    if route is None:
        raise Park(
            f"partner {order.partner_id!r} has no default destination: set one with "
            f"`ordergate destinations route {order.partner_id} DESTINATION`, then replay"
        )
    order.destination_id = route.destination_id
    _advance(order, "routed", f"routed to {route.destination_id}")
    return [
        order_message(
            "dispatch",
            order.id,
            partner=order.partner_id,
            channel=route.destination_id,
            document_id=order.document_id,
        )
    ]
