"""Tables. Every received document is a row before anything else happens to it; everything derived
(orders, failures, interchange references) points back to it, so replay can start from the raw bytes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    identifiers: Mapped[list[PartnerIdentifier]] = relationship(
        back_populates="partner",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="PartnerIdentifier.id",
    )


class PartnerIdentifier(Base):
    """How a partner names itself in an envelope: (standard, qualifier, value).

    standard is "edifact" (UNB sender id and its 0007 qualifier), "x12" (ISA05 qualifier, ISA06 id),
    or a plain scheme such as "gln"; the qualifier is "" when there is none, so the unique key holds.
    """

    __tablename__ = "partner_identifiers"
    __table_args__ = (UniqueConstraint("standard", "qualifier", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    standard: Mapped[str] = mapped_column(String(16))
    qualifier: Mapped[str] = mapped_column(String(8), default="")
    value: Mapped[str] = mapped_column(String(64))

    partner: Mapped[Partner] = relationship(back_populates="identifiers")


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    channel: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # What the channel claimed (inbox folder, --partner, ?partner=): kept as given, never a foreign key,
    # so archiving can't fail on it. partner_id is set only once the envelope's sender is verified.
    claimed_partner: Mapped[str | None] = mapped_column(String(64))
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    format: Mapped[str | None] = mapped_column(String(16))
    message_types: Mapped[str | None] = mapped_column(String(100))
    interchange_ref: Mapped[str | None] = mapped_column(String(35))
    order_count: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Interchange(Base):
    """An accepted interchange's control reference, the key that makes a resend recognisable."""

    __tablename__ = "interchanges"
    __table_args__ = (
        UniqueConstraint(
            "format", "sender_qualifier", "sender_id", "receiver_qualifier", "receiver_id", "control_ref"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    format: Mapped[str] = mapped_column(String(16))
    sender_qualifier: Mapped[str] = mapped_column(String(8), default="")
    sender_id: Mapped[str] = mapped_column(String(64))
    receiver_qualifier: Mapped[str] = mapped_column(String(8), default="")
    receiver_id: Mapped[str] = mapped_column(String(64))
    control_ref: Mapped[str] = mapped_column(String(35))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderRecord(Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("document_id", "sequence"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True)
    order_number: Mapped[str] = mapped_column(String(70), index=True)
    order_date: Mapped[date | None] = mapped_column(Date)
    requested_delivery_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str | None] = mapped_column(String(3))
    purpose: Mapped[str] = mapped_column(String(16))
    buyer_name: Mapped[str | None] = mapped_column(String(200))
    message_type: Mapped[str] = mapped_column(String(16))
    message_ref: Mapped[str | None] = mapped_column(String(35))
    line_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24), index=True)
    destination_id: Mapped[str | None] = mapped_column(String(64))
    canonical: Mapped[dict] = mapped_column(JSON)  # type: ignore[type-arg]
    warnings: Mapped[list] = mapped_column(JSON, default=list)  # type: ignore[type-arg]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    lines: Mapped[list[OrderLineRecord]] = relationship(
        cascade="all, delete-orphan", order_by="OrderLineRecord.position"
    )
    events: Mapped[list[OrderEvent]] = relationship(cascade="all, delete-orphan", order_by="OrderEvent.id")


class OrderLineRecord(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    line_number: Mapped[str] = mapped_column(String(35))
    gtin: Mapped[str | None] = mapped_column(String(14), index=True)
    buyer_item_id: Mapped[str | None] = mapped_column(String(70))
    seller_item_id: Mapped[str | None] = mapped_column(String(70))
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    unit: Mapped[str | None] = mapped_column(String(8))
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    requested_delivery_date: Mapped[date | None] = mapped_column(Date)


class OrderEvent(Base):
    """The order's status history: append-only, with the time each state was entered."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str | None] = mapped_column(Text)


class Failure(Base):
    """Why a document could not be processed, precise enough for ops to fix the cause and replay."""

    __tablename__ = "failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    stage: Mapped[str] = mapped_column(String(24))
    code: Mapped[str] = mapped_column(String(48), index=True)
    reason: Mapped[str] = mapped_column(Text)
    segment: Mapped[str | None] = mapped_column(String(16))
    position: Mapped[int | None] = mapped_column(Integer)
    element: Mapped[str | None] = mapped_column(String(16))
    issues: Mapped[list] = mapped_column(JSON, default=list)  # type: ignore[type-arg]
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# Pipeline ---------------------------------------------------------------------------------------------


class Destination(Base):
    """Where routed orders go. Only the kind `webhook` exists yet: the canonical order posted as signed
    JSON. The HMAC secret is never stored: `secret_env` names the environment variable holding it."""

    __tablename__ = "destinations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(500))
    secret_env: Mapped[str | None] = mapped_column(String(100))
    timeout_seconds: Mapped[float] = mapped_column(Numeric(6, 2), default=10)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PartnerRoute(Base):
    """A partner's default destination (the routing engine of a later issue refines this)."""

    __tablename__ = "partner_routes"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True)
    destination_id: Mapped[str] = mapped_column(ForeignKey("destinations.id"))


class OutboxMessage(Base):
    """Messages committed with the state change that causes them (RELIABILITY rule 2). Without a
    `batch`, the relay publishes them with confirms and only then marks them published. With one, the
    stage consumer that committed them publishes them itself right after its commit and acknowledges
    the batch's messages only after the confirms; `published_at` is then the commit, and a crash before
    the publish is recovered by the broker redelivering the batch's unacknowledged messages, whose
    processed records name the batch (`gateway/pipeline/outbox.py`)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Not unique: a replay publishes a parked message again under its original id.
    message_id: Mapped[str] = mapped_column(String(32), index=True)
    routing_key: Mapped[str] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)  # type: ignore[type-arg]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    batch: Mapped[str | None] = mapped_column(String(32), index=True)


class ProcessedMessage(Base):
    """(consumer, message id) recorded in the same transaction as the consumer's effect, so a
    redelivered message is a no-op (RELIABILITY rule 3)."""

    __tablename__ = "processed_messages"

    consumer: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    batch: Mapped[str | None] = mapped_column(String(32))  # the outbox batch its transaction committed


class ParkedMessage(Base):
    """A message the pipeline gave up on, with everything needed to understand and replay it."""

    __tablename__ = "parked_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(32), unique=True)
    stage: Mapped[str] = mapped_column(String(24), index=True)
    routing_key: Mapped[str] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)  # type: ignore[type-arg]
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    history: Mapped[list] = mapped_column(JSON, default=list)  # type: ignore[type-arg]
    document_id: Mapped[str | None] = mapped_column(String(32), index=True)
    order_id: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    parked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Dispatch(Base):
    """One order sent to one destination: PENDING → SENDING → SENT | FAILED | UNKNOWN, with the same
    idempotency key on every try (RELIABILITY rule 5)."""

    __tablename__ = "dispatches"
    __table_args__ = (UniqueConstraint("order_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    destination_id: Mapped[str] = mapped_column(ForeignKey("destinations.id"))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Append-only: who did what to which record, when and why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # type: ignore[type-arg]


# Channels ---------------------------------------------------------------------------------------------


class PartnerChannel(Base):
    """How documents move to and from one partner: a connector kind with its settings. `settings` never
    holds a secret value, only secret names (`password_secret = "ACME_SFTP_PASSWORD"`), resolved when the
    connector uses them. The last poll's outcome is kept for `ordergate channels list`."""

    __tablename__ = "partner_channels"
    __table_args__ = (UniqueConstraint("partner_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)  # type: ignore[type-arg]
    poll_seconds: Mapped[float] = mapped_column(Numeric(10, 3, asdecimal=False))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_poll_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_poll_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_poll_detail: Mapped[str | None] = mapped_column(Text)


# Pushed deliveries ------------------------------------------------------------------------------------


class WebhookDelivery(Base):
    """A pushed delivery's id per partner channel (Shopify X-Shopify-Webhook-Id, WooCommerce
    X-WC-Webhook-Delivery-ID) and the document it became, so a retried delivery is answered without a
    second document. A row without a document is a claim being taken in, or one a crash left behind
    (taken over once its lease has run out). `document_id` is not a foreign key, like
    `documents.claimed_partner`: keeping a delivery id must never make archiving fail."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("partner_id", "channel", "delivery_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(100))
    document_id: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# AS2 ----------------------------------------------------------------------------------------------------


class As2Received(Base):
    """An AS2 message taken in, by (AS2-From, AS2-To, Message-ID), with the hash of its payload and the
    document it became: a resend is answered with a positive MDN and no second document. A row without
    a document is a claim being taken in (or left by a crash, taken over once its lease has run out).
    `document_id` is not a foreign key: keeping the Message-ID must never make archiving fail."""

    __tablename__ = "as2_received"
    __table_args__ = (UniqueConstraint("as2_from", "as2_to", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    as2_from: Mapped[str] = mapped_column(String(128))
    as2_to: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(255))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class As2Sent(Base):
    """An AS2 message we sent and what its MDN said: `sending` (posted, no answer yet), `awaiting_mdn`
    (async: the partner took it, the MDN is to come), `processed` or `failed`. Holds the MIC the MDN
    must carry."""

    __tablename__ = "as2_sent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    partner_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    as2_from: Mapped[str] = mapped_column(String(128))
    as2_to: Mapped[str] = mapped_column(String(128))
    filename: Mapped[str] = mapped_column(String(255))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    mic: Mapped[str | None] = mapped_column(String(128))
    mic_algorithm: Mapped[str | None] = mapped_column(String(16))
    mdn_mode: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    disposition: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    mdn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# Partner formats --------------------------------------------------------------------------------------


class PartnerMapping(Base):
    """A flat-file mapping (docs/mapping-files.md) attached to a partner, stored as validated JSON: that
    partner's documents whose header or layout it recognises are read through it."""

    __tablename__ = "partner_mappings"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    mapping: Mapped[dict] = mapped_column(JSON)  # type: ignore[type-arg]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
