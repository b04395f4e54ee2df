"""Reads and writes as plain async functions over a session. None of them commits: the caller's
transaction decides what lands together."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload, undefer

from gateway.core.canonical import Order
from gateway.core.errors import Issue
from gateway.storage.ids import new_id
from gateway.storage.models import (
    Base,
    Document,
    Failure,
    Interchange,
    OrderEvent,
    OrderLineRecord,
    OrderRecord,
    Partner,
    PartnerIdentifier,
)


def table_of(model: type[Base]) -> Table:
    """A model's Core table. Set-based statements go through it: SQLAlchemy's ORM-enabled bulk insert
    and update cost several times the CPU of the Core statements for the same rows (profiled)."""
    return cast(Table, model.__table__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class IdentifierSpec(NamedTuple):
    standard: str
    qualifier: str
    value: str

    def __str__(self) -> str:
        return f"{self.standard} {self.value}" + (f" (qualifier {self.qualifier})" if self.qualifier else "")


# Partners -------------------------------------------------------------------------------------------


async def upsert_partner(
    session: AsyncSession, partner_id: str, *, name: str | None, identifiers: Iterable[IdentifierSpec] = ()
) -> Partner:
    """Create the partner, or extend an existing one with more identifiers (and a new name, if given)."""
    partner = await get_partner(session, partner_id)
    if partner is None:
        partner = Partner(id=partner_id, name=name or partner_id, active=True, created_at=utcnow())
        session.add(partner)
        partner.identifiers = []
    elif name:
        partner.name = name
    known = {IdentifierSpec(i.standard, i.qualifier, i.value) for i in partner.identifiers}
    for spec in identifiers:
        if spec not in known:
            partner.identifiers.append(
                PartnerIdentifier(standard=spec.standard, qualifier=spec.qualifier, value=spec.value)
            )
            known.add(spec)
    await session.flush()
    return partner


async def get_partner(session: AsyncSession, partner_id: str) -> Partner | None:
    return await session.get(Partner, partner_id)


async def list_partners(session: AsyncSession) -> Sequence[Partner]:
    return (await session.scalars(select(Partner).order_by(Partner.id))).all()


async def find_identifier(session: AsyncSession, spec: IdentifierSpec) -> PartnerIdentifier | None:
    """The registered identifier matching (standard, qualifier, value); one registered without a
    qualifier matches any qualifier."""
    rows = (
        await session.scalars(
            select(PartnerIdentifier).where(
                PartnerIdentifier.standard == spec.standard,
                PartnerIdentifier.value == spec.value,
                PartnerIdentifier.qualifier.in_({spec.qualifier, ""}),
            )
        )
    ).all()
    return min(rows, key=lambda row: row.qualifier == "", default=None)


# Documents ------------------------------------------------------------------------------------------


async def archive_document(
    session: AsyncSession,
    raw: bytes,
    *,
    channel: str,
    filename: str | None = None,
    content_type: str | None = None,
    partner_id: str | None = None,
) -> Document:
    document = Document(
        id=new_id(),
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        raw=raw,
        channel=channel,
        filename=filename,
        content_type=content_type,
        received_at=utcnow(),
        claimed_partner=partner_id,
        status="received",
        order_count=0,
    )
    session.add(document)
    await session.flush()
    return document


async def get_document(session: AsyncSession, document_id: str, *, with_raw: bool = False) -> Document | None:
    options = [undefer(Document.raw)] if with_raw else []
    return await session.get(Document, document_id, options=options)


async def list_documents(
    session: AsyncSession, *, status: str | None = None, partner_id: str | None = None, limit: int = 50
) -> Sequence[Document]:
    query = select(Document).order_by(Document.received_at.desc(), Document.id.desc()).limit(limit)
    if status:
        query = query.where(Document.status == status)
    if partner_id:
        query = query.where(Document.partner_id == partner_id)
    return (await session.scalars(query)).all()


async def find_accepted_with_hash(session: AsyncSession, sha256: str, *, exclude: str) -> Document | None:
    query = (
        select(Document)
        .where(Document.sha256 == sha256, Document.status == "accepted", Document.id != exclude)
        .order_by(Document.received_at)
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def accepted_by_hash(
    session: AsyncSession, hashes: Iterable[str], *, exclude: Iterable[str]
) -> dict[str, tuple[str, datetime]]:
    """sha256 → (id, received_at) of the earliest accepted document with those bytes, in one query."""
    query = (
        select(Document.sha256, Document.id, Document.received_at)
        .where(
            Document.sha256.in_(set(hashes)), Document.status == "accepted", Document.id.not_in(set(exclude))
        )
        .order_by(Document.received_at.desc())
    )
    return {row.sha256: (row.id, row.received_at) for row in await session.execute(query)}


# Interchanges ---------------------------------------------------------------------------------------


class InterchangeKey(NamedTuple):
    format: str
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control_ref: str


async def find_interchange(session: AsyncSession, key: InterchangeKey) -> Interchange | None:
    query = select(Interchange).where(
        *(getattr(Interchange, name) == value for name, value in key._asdict().items())
    )
    return (await session.scalars(query)).first()


async def find_interchanges(
    session: AsyncSession, keys: Iterable[InterchangeKey]
) -> dict[InterchangeKey, tuple[str, datetime]]:
    """Each already-received key → (document id, received_at), in one query."""
    wanted = set(keys)
    if not wanted:
        return {}
    columns = [getattr(Interchange, name) for name in InterchangeKey._fields]
    query = select(*columns, Interchange.document_id, Interchange.received_at).where(
        Interchange.control_ref.in_({key.control_ref for key in wanted})
    )
    found: dict[InterchangeKey, tuple[str, datetime]] = {}
    for row in await session.execute(query):
        key = InterchangeKey(*row[: len(columns)])
        if key in wanted:
            found[key] = (row.document_id, row.received_at)
    return found


async def record_interchange(
    session: AsyncSession, key: InterchangeKey, *, document_id: str, partner_id: str | None
) -> Interchange:
    row = Interchange(**key._asdict(), document_id=document_id, partner_id=partner_id, received_at=utcnow())
    session.add(row)
    return row


# Orders ---------------------------------------------------------------------------------------------


class NewOrder(NamedTuple):
    order: Order
    document_id: str
    sequence: int
    partner_id: str | None
    warnings: Sequence[Issue]


async def insert_orders(
    session: AsyncSession, new: Sequence[NewOrder], *, status: str = "received"
) -> list[str]:
    """Insert orders with their lines and first event in three statements; their new ids, in order.
    (`record_order` does the same for one order through the ORM.)"""
    if not new:
        return []
    now = utcnow()
    ids = [new_id() for _ in new]
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for order_id, item in zip(ids, new, strict=True):
        order = item.order
        orders.append(
            {
                "id": order_id,
                "document_id": item.document_id,
                "sequence": item.sequence,
                "partner_id": item.partner_id,
                "order_number": order.order_number,
                "order_date": order.order_date,
                "requested_delivery_date": order.requested_delivery_date,
                "currency": order.currency,
                "purpose": order.purpose,
                "buyer_name": order.buyer.name if order.buyer else None,
                "message_type": order.source.message_type,
                "message_ref": order.source.message_control_ref,
                "line_count": len(order.lines),
                "status": status,
                "destination_id": None,
                "canonical": order.model_dump(mode="json"),
                "warnings": [w.model_dump(mode="json") for w in item.warnings],
                "created_at": now,
            }
        )
        lines.extend(
            {
                "order_id": order_id,
                "position": position,
                "line_number": line.line_number,
                "gtin": line.gtin,
                "buyer_item_id": line.buyer_item_id,
                "seller_item_id": line.seller_item_id,
                "description": line.description,
                "quantity": line.quantity,
                "unit": line.unit,
                "unit_price": line.unit_price,
                "requested_delivery_date": line.requested_delivery_date,
            }
            for position, line in enumerate(order.lines, start=1)
        )
        events.append(
            {
                "order_id": order_id,
                "status": status,
                "at": now,
                "detail": f"translated from document {item.document_id}",
            }
        )
    await session.execute(insert(table_of(OrderRecord)), orders)
    if lines:
        await session.execute(insert(table_of(OrderLineRecord)), lines)
    await session.execute(insert(table_of(OrderEvent)), events)
    return ids


async def record_order(
    session: AsyncSession,
    order: Order,
    *,
    document_id: str,
    sequence: int,
    partner_id: str | None,
    warnings: Sequence[Issue] = (),
    status: str = "received",
) -> OrderRecord:
    now = utcnow()
    record = OrderRecord(
        id=new_id(),
        document_id=document_id,
        sequence=sequence,
        partner_id=partner_id,
        order_number=order.order_number,
        order_date=order.order_date,
        requested_delivery_date=order.requested_delivery_date,
        currency=order.currency,
        purpose=order.purpose,
        buyer_name=order.buyer.name if order.buyer else None,
        message_type=order.source.message_type,
        message_ref=order.source.message_control_ref,
        line_count=len(order.lines),
        status=status,
        canonical=order.model_dump(mode="json"),
        warnings=[w.model_dump(mode="json") for w in warnings],
        created_at=now,
    )
    record.lines = [
        OrderLineRecord(
            position=position,
            line_number=line.line_number,
            gtin=line.gtin,
            buyer_item_id=line.buyer_item_id,
            seller_item_id=line.seller_item_id,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            requested_delivery_date=line.requested_delivery_date,
        )
        for position, line in enumerate(order.lines, start=1)
    ]
    record.events = [OrderEvent(status=status, at=now, detail=f"translated from document {document_id}")]
    session.add(record)
    return record


async def get_order(session: AsyncSession, order_id: str) -> OrderRecord | None:
    query = (
        select(OrderRecord)
        .where(OrderRecord.id == order_id)
        .options(selectinload(OrderRecord.lines), selectinload(OrderRecord.events))
    )
    return (await session.scalars(query)).first()


async def list_orders(
    session: AsyncSession,
    *,
    partner_id: str | None = None,
    status: str | None = None,
    document_id: str | None = None,
    limit: int = 50,
) -> Sequence[OrderRecord]:
    query = select(OrderRecord).order_by(OrderRecord.created_at.desc(), OrderRecord.id.desc()).limit(limit)
    if partner_id:
        query = query.where(OrderRecord.partner_id == partner_id)
    if status:
        query = query.where(OrderRecord.status == status)
    if document_id:
        query = (
            query.where(OrderRecord.document_id == document_id).order_by(None).order_by(OrderRecord.sequence)
        )
    return (await session.scalars(query)).all()


async def count_orders(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(OrderRecord)) or 0)


# Failures -------------------------------------------------------------------------------------------


async def record_failure(
    session: AsyncSession, *, document_id: str, stage: str, issues: Sequence[Issue], flush: bool = True
) -> Failure:
    first = issues[0]
    failure = Failure(
        document_id=document_id,
        stage=stage,
        code=first.code,
        reason="; ".join(issue.describe() for issue in issues[:20])
        + (f"; … and {len(issues) - 20} more" if len(issues) > 20 else ""),
        segment=first.segment,
        position=first.position,
        element=first.element,
        issues=[issue.model_dump(mode="json") for issue in issues],
        status="open",
        created_at=utcnow(),
    )
    session.add(failure)
    if flush:
        await session.flush()
    return failure


async def get_failure(session: AsyncSession, failure_id: int) -> Failure | None:
    return await session.get(Failure, failure_id)


async def list_failures(
    session: AsyncSession, *, status: str | None = "open", document_id: str | None = None, limit: int = 50
) -> Sequence[Failure]:
    query = select(Failure).order_by(Failure.created_at.desc(), Failure.id.desc()).limit(limit)
    if status:
        query = query.where(Failure.status == status)
    if document_id:
        query = query.where(Failure.document_id == document_id)
    return (await session.scalars(query)).all()
