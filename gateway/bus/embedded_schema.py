"""The embedded bus's one table: every message waiting in a queue is a row until it is acknowledged.

Times are Unix epoch seconds (float) rather than timestamps: the claim query compares them on every poll,
and a float compares the same way on SQLite (which has no timestamp type) and PostgreSQL. `created_at`
is a real timestamp, for people reading the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Double, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.storage.models import Base


class QueuedMessage(Base):
    """A message in queue `queue`, ready from `available_at`; while a consumer holds it, `lease_until`
    and `lease_token` say until when and which claim. A lease that runs out (the consumer died) makes the
    row ready again; `deliveries` counts those claims so a message that keeps killing its consumer is
    parked instead of looping."""

    __tablename__ = "bus_messages"
    __table_args__ = (Index("ix_bus_messages_ready", "queue", "available_at", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    message_id: Mapped[str] = mapped_column(String(64), index=True)
    queue: Mapped[str] = mapped_column(String(32))
    routing_key: Mapped[str] = mapped_column(String(255))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    history: Mapped[str] = mapped_column(Text, default="[]")
    available_at: Mapped[float] = mapped_column(Double)
    lease_until: Mapped[float | None] = mapped_column(Double)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


__all__ = ["QueuedMessage"]
