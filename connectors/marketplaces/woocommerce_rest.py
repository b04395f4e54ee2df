"""WooCommerce orders, polled over the REST API v3.

`GET /wp-json/wc/v3/orders?modified_after=…&dates_are_gmt=true&orderby=modified&order=asc&per_page=…
&page=N` with HTTP Basic auth (consumer key and secret), over https only: WooCommerce takes Basic auth
over https, and plain http would send the keys in clear (a loopback address is the one exception).
The keys never go into the query string, where logs would keep them.

Paging keeps its place by time rather than by page number alone: an order modified while a poll
pages through the list moves to its end, and page N+1 would then skip the order that slid onto page
N. So after each page the next request starts again from the newest time seen (`modified_after`,
one second earlier, with orders already read recognised), and only a page whose orders all share one
second moves on by page number; `X-WP-TotalPages` says when the list ends. Each order becomes one
item, the bare order object, `woocommerce-order-<id>.json`; the cursor follows `date_modified_gmt`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.base import ChannelContext, Check, ConnectorSpec, InboundItem, SecretSource
from connectors.marketplaces.clock import Clock, SystemClock
from connectors.marketplaces.cursor import StateStore, default_store, parse_time
from connectors.marketplaces.feed import FetchedOrder, OrderFeed
from connectors.marketplaces.http import ApiClient, Reply, check_name
from connectors.marketplaces.settings import WooCommerceRestSettings
from gateway.core.errors import ConnectorRejected, GatewayError

KIND = "woocommerce-rest"
CODE = "WOOCOMMERCE"
ORDERS_PATH = "/wp-json/wc/v3/orders"
_SECOND = timedelta(seconds=1)


class WooCommerceRestConnector:
    def __init__(
        self,
        settings: WooCommerceRestSettings,
        secrets: SecretSource,
        context: ChannelContext,
        *,
        clock: Clock | None = None,
        store: StateStore | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.channel = context.channel
        self.secrets = secrets
        self.clock = clock or SystemClock()
        self.overlap = timedelta(seconds=settings.overlap_seconds)
        self.api = ApiClient(
            service="WooCommerce",
            code=CODE,
            timeout=settings.timeout_seconds,
            max_attempts=settings.max_attempts,
            max_retry_after=settings.max_retry_after_seconds,
            clock=self.clock,
            transport=transport,
        )
        self.feed = OrderFeed(
            kind=KIND,
            marketplace="woocommerce",
            source=settings.site_url,
            context=context,
            store=store or default_store(),
            overlap=self.overlap,
            first=lambda: settings.first_cursor_time(self.clock.now()),
        )

    def __repr__(self) -> str:
        return f"WooCommerceRestConnector(channel={self.channel!r}, site={self.settings.site_url!r})"

    async def _get(self, params: Mapping[str, str | int], what: str) -> Reply:
        settings = self.settings
        auth = httpx.BasicAuth(
            self.secrets.get(settings.consumer_key_secret).get_secret_value(),
            self.secrets.get(settings.consumer_secret_secret).get_secret_value(),
        )
        return await self.api.request(
            "GET",
            settings.site_url + ORDERS_PATH,
            params=params,
            auth=auth,
            what=what,
            credentials=f"the consumer key and secret in secrets {settings.consumer_key_secret} and "
            f"{settings.consumer_secret_secret} (read access), and that the web server passes the "
            "Authorization header on to WordPress",
        )

    # Inbound ----------------------------------------------------------------------------------------

    async def poll(self) -> Sequence[InboundItem]:
        settings = self.settings
        cursor = await self.feed.cursor()
        bound, page = cursor.at - self.overlap, 1
        fetched: list[FetchedOrder] = []
        read: set[tuple[str, datetime]] = set()
        while True:
            reply = await self._get(
                {
                    "modified_after": _woo_time(bound - _SECOND),
                    "dates_are_gmt": "true",
                    "orderby": "modified",
                    "order": "asc",
                    "per_page": settings.page_size,
                    "page": page,
                },
                "list orders",
            )
            orders = [_fetched(order, index) for index, order in enumerate(_orders(reply))]
            new = [order for order in orders if (order.order_id, order.updated) not in read]
            read.update((order.order_id, order.updated) for order in new)
            fetched.extend(new)
            if not orders or page >= _total_pages(reply, len(orders), settings.page_size, page):
                break
            if len(self.feed.fresh(cursor, fetched)) >= settings.max_orders_per_poll:
                break
            newest = max(order.updated for order in orders)
            if new and newest > bound:
                bound, page = newest, 1
            else:  # a whole page within one second of the bound: move on by page number
                page += 1
        return await self.feed.offer(self.feed.fresh(cursor, fetched)[: settings.max_orders_per_poll])

    async def confirm(self, item: InboundItem, *, document_id: str, accepted: bool) -> None:
        await self.feed.confirm(item)

    # Both -------------------------------------------------------------------------------------------

    async def check(self) -> Sequence[Check]:
        try:
            reply = await self._get({"per_page": 1}, "list orders")
            _orders(reply)
        except GatewayError as error:
            return [Check(check_name(error), False, error.message)]
        total = reply.headers.get("x-wp-total")
        return [
            Check(
                "authentication",
                True,
                f"{self.settings.site_url} took the consumer key and lists orders"
                + (f" ({total} in all)" if total else ""),
            ),
            await self.feed.check(),
        ]

    async def aclose(self) -> None:
        await self.api.aclose()


def _woo_time(value: datetime) -> str:
    """GMT, whole seconds, no zone: what `modified_after` with `dates_are_gmt=true` reads."""
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat()


def _total_pages(reply: Reply, count: int, page_size: int, page: int) -> int:
    stated = reply.headers.get("x-wp-totalpages", "")
    if stated.isdigit():
        return int(stated)
    return page + 1 if count >= page_size else page  # header stripped by a proxy: a full page means more


def _orders(reply: Reply) -> list[Any]:
    data = reply.json("list orders", CODE)
    if not isinstance(data, list):
        raise ConnectorRejected(
            "list orders: the answer is not a list of orders; is site_url the WordPress site's root, "
            "with pretty permalinks (so /wp-json/ reaches the REST API)?",
            code=f"{CODE}_BAD_RESPONSE",
        )
    return data


def _fetched(order: Any, index: int) -> FetchedOrder:
    order_id = order.get("id") if isinstance(order, dict) else None
    updated = parse_time(order.get("date_modified_gmt")) if isinstance(order, dict) else None
    if isinstance(order_id, bool) or not isinstance(order_id, int | str) or updated is None:
        raise ConnectorRejected(
            f"list orders: [{index}] has no id or no readable date_modified_gmt",
            code=f"{CODE}_BAD_ORDER",
            element=f"[{index}]",
        )
    return FetchedOrder(str(order_id), updated, order)


def _build(
    settings: WooCommerceRestSettings, secrets: SecretSource, context: ChannelContext
) -> WooCommerceRestConnector:
    return WooCommerceRestConnector(settings, secrets, context)


SPEC = ConnectorSpec(
    kind=KIND,
    label="WooCommerce orders, polled over the REST API v3 (https, consumer key)",
    settings=WooCommerceRestSettings,
    factory=_build,  # type: ignore[arg-type]  # the registry validates settings into WooCommerceRestSettings
    inbound=True,
    outbound=False,
    poll=True,
    default_poll_seconds=60.0,
)

__all__ = ["KIND", "SPEC", "WooCommerceRestConnector"]
