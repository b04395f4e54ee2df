"""The inbound connector contract.

A connector only moves bytes: it never knows formats. `poll` finds what arrived; the gateway archives
each item (commits the raw bytes) and only then calls `confirm`, so the sender's copy is never released
before ours is safe (RELIABILITY rule 1). Issue 5 adds outbound connectors and a registry of transports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class InboundItem:
    payload: bytes
    channel: str
    partner_id: str | None
    filename: str | None = None
    content_type: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class InboundConnector(Protocol):
    channel: str

    async def poll(self) -> Sequence[InboundItem]:
        """What has arrived since the last poll and is complete."""
        ...

    async def confirm(self, item: InboundItem, *, document_id: str, accepted: bool) -> None:
        """Called after the item is archived and processed: release or move the sender's copy."""
        ...
