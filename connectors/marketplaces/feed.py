"""Orders fetched from a marketplace → items past the cursor; `confirm` → the cursor advanced.

A poll offers its orders in time order. The cursor advances only over the confirmed *prefix* of that
list: if the third order's archive commit fails (or the process dies), the cursor stays before it,
and the next poll offers it and everything after it again; orders already archived come back as the
same bytes and the archive's duplicate check absorbs them. A confirm of an item from an earlier poll
is ignored: that poll's list is gone, and the newer poll has offered the item again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.base import ChannelContext, Check, InboundItem, display_name, too_large
from connectors.marketplaces import jsondoc
from connectors.marketplaces.cursor import Cursor, StateStore, format_time, parse_time
from gateway.core.errors import GatewayError

log = logging.getLogger("ordergate.connectors.marketplaces")


@dataclass(frozen=True, slots=True)
class FetchedOrder:
    """One order version as read: its id, its last-updated time, and the JSON document to archive.
    `skipped` says why it gets no item (an Amazon order still Pending); the cursor passes it."""

    order_id: str
    updated: datetime
    document: Any = None
    skipped: str | None = None


class OrderFeed:
    def __init__(
        self,
        *,
        kind: str,
        marketplace: str,
        source: str,
        context: ChannelContext,
        store: StateStore,
        overlap: timedelta,
        first: Callable[[], datetime],
    ) -> None:
        self.kind = kind
        self.marketplace = marketplace
        self.source = source  # the shop or account read: a stored cursor for another one is not used
        self.channel = context.channel
        self.partner_id = context.partner_id
        self.max_bytes = context.max_document_bytes
        self.store = store
        self.overlap = overlap
        self.key = f"{context.partner_id or '_'}--{context.channel}"
        self._first = first
        self._cursor: Cursor | None = None
        self._generation = 0
        self._pending: list[tuple[FetchedOrder, bool]] = []
        self._reached: datetime | None = None

    async def cursor(self) -> Cursor:
        """The stored cursor; on the very first use, the start (`since`), stored at once so a restart
        before anything is confirmed starts from the same place."""
        if self._cursor is None:
            state = await self.store.load(self.key)
            cursor = None
            if state is not None:
                if state.get("kind") == self.kind and state.get("source") == self.source:
                    cursor = Cursor.from_json(state.get("cursor"))
                if cursor is None:
                    log.warning(
                        "channel %s: the stored cursor is for %s %s or unreadable; starting afresh",
                        self.channel,
                        state.get("kind"),
                        state.get("source"),
                    )
            if cursor is None:
                cursor = Cursor(self._first())
                await self._save(cursor)
            self._cursor = cursor
        return self._cursor

    def fresh(self, cursor: Cursor, orders: Sequence[FetchedOrder]) -> list[FetchedOrder]:
        """The order versions not taken yet, once each, in (updated, id) order."""
        unique: dict[tuple[str, datetime], FetchedOrder] = {}
        for order in orders:
            if cursor.wants(order.order_id, order.updated, self.overlap):
                unique.setdefault((order.order_id, order.updated), order)
        return sorted(unique.values(), key=lambda order: (order.updated, order.order_id))

    async def offer(
        self, orders: Sequence[FetchedOrder], *, reached: datetime | None = None
    ) -> list[InboundItem]:
        """Items for `orders` (fresh, in order). `reached`: everything up to that time has been read,
        so once all of them are confirmed the cursor may move there even past the last order."""
        self._generation += 1
        self._pending = [(order, order.skipped is not None) for order in orders]
        self._reached = reached
        items = [self._item(order) for order in orders if order.skipped is None]
        await self._advance()
        return items

    def _item(self, order: FetchedOrder) -> InboundItem:
        name = display_name(f"{self.marketplace}-order-{order.order_id}.json")
        meta = {
            "marketplace": self.marketplace,
            "order_id": order.order_id,
            "updated_at": format_time(order.updated),
            "poll": self._generation,
        }
        payload = jsondoc.dumps(order.document)
        if len(payload) > self.max_bytes:
            refusal = too_large(len(payload), self.max_bytes, name)
            return InboundItem(b"", self.channel, self.partner_id, name, "application/json", meta, refusal)
        return InboundItem(payload, self.channel, self.partner_id, name, "application/json", meta)

    async def confirm(self, item: InboundItem) -> None:
        """The item is archived (accepted or not: a failed document is the archive's to show)."""
        if item.meta.get("poll") != self._generation:
            log.debug("channel %s: confirm of %s from an earlier poll ignored", self.channel, item.filename)
            return
        key = (item.meta.get("order_id"), parse_time(item.meta.get("updated_at")))
        self._pending = [
            (order, done or (order.order_id, order.updated) == key) for order, done in self._pending
        ]
        await self._advance()

    async def _advance(self) -> None:
        cursor = start = await self.cursor()
        taken = 0
        for order, done in self._pending:
            if not done:
                break
            cursor = cursor.advance(order.order_id, order.updated, self.overlap)
            taken += 1
        reached = self._reached if taken == len(self._pending) else None
        if reached is not None:
            cursor = cursor.reach(reached, self.overlap)
        if cursor != start:
            await self._save(cursor)
            self._cursor = cursor
        self._pending = self._pending[taken:]
        if reached is not None:
            self._reached = None

    async def _save(self, cursor: Cursor) -> None:
        await self.store.save(
            self.key, {"kind": self.kind, "source": self.source, "cursor": cursor.to_json()}
        )

    async def check(self) -> Check:
        try:
            cursor = await self.cursor()
        except GatewayError as error:
            return Check("cursor", False, error.message)
        return Check("cursor", True, f"the next poll reads orders updated since {format_time(cursor.at)}")


__all__ = ["FetchedOrder", "OrderFeed"]
