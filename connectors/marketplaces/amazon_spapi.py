"""Amazon orders, polled over the Selling Partner API (Orders v0).

A poll reads one time window, `LastUpdatedAfter` = the cursor (less the overlap) to
`LastUpdatedBefore` = at most `window_hours` later and at least `lag_seconds` (Amazon: two minutes)
before now, with `getOrders`, every page (`NextToken`, the filters repeated as the API expects), then
`getOrderItems` (every page) for each order it offers. Amazon does not promise the list in time
order, so the whole window is read before anything is offered; when the window is read whole and
every order in it confirmed, the cursor moves to the window's end, and an empty window is passed
within the same poll. Calls carry `x-amz-access-token` (Login with Amazon, `lwa.py`); a 401/403
refreshes the token once. AWS SigV4 signing is not needed by the SP-API any more and is not done.

Rate limits: one token bucket per operation (getOrders 0.0167/s burst 20, getOrderItems 0.5/s burst
30 by the usage plans, or what `x-amzn-RateLimit-Limit` states), and a 429 empties the bucket and is
retried with backoff.

Each order becomes one item: `{"getOrder": {"payload": <the order as getOrders listed it>},
"getOrderItems": <the response, or the list of responses when paged>}` — the document
`mappings/marketplace/amazon.py` reads — named `amazon-order-<AmazonOrderId>.json`. An order whose
getOrderItems Amazon refuses (4xx with `errors`) is archived with that error response, so it shows as
a failed document instead of stalling the channel.

Orders still `Pending` (or `PendingAvailability`) are not offered: payment is not authorised, and
Amazon withholds the items' details and the address until it is. The cursor passes them; when the
payment goes through, the status change updates LastUpdateDate and the order comes round again. The
address (ShippingAddress, BuyerInfo) needs a Restricted Data Token, which this connector does not
request: the marketplace format warns about the missing address.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from connectors.base import ChannelContext, Check, ConnectorSpec, InboundItem, SecretSource
from connectors.marketplaces import jsondoc
from connectors.marketplaces.clock import Clock, SystemClock, TokenBucket
from connectors.marketplaces.cursor import StateStore, default_store, parse_time
from connectors.marketplaces.feed import FetchedOrder, OrderFeed
from connectors.marketplaces.http import ApiClient, AuthRefused, Refused, Reply, check_name
from connectors.marketplaces.lwa import LwaTokens
from connectors.marketplaces.settings import AmazonSpApiSettings
from gateway.core.errors import ConnectorRejected, ConnectorUnavailable, GatewayError

KIND = "amazon-spapi"
CODE = "AMAZON"
ORDERS_PATH = "/orders/v0/orders"
RATE_HEADER = "x-amzn-RateLimit-Limit"
PENDING = frozenset({"Pending", "PendingAvailability"})
_ORDER_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")

log = logging.getLogger("ordergate.connectors.marketplaces")


class AmazonSpApiConnector:
    def __init__(
        self,
        settings: AmazonSpApiSettings,
        secrets: SecretSource,
        context: ChannelContext,
        *,
        clock: Clock | None = None,
        store: StateStore | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.channel = context.channel
        self.clock = clock or SystemClock()
        self.overlap = timedelta(seconds=settings.overlap_seconds)
        self.api = ApiClient(
            service="Amazon SP-API",
            code=CODE,
            timeout=settings.timeout_seconds,
            max_attempts=settings.max_attempts,
            max_retry_after=settings.max_retry_after_seconds,
            clock=self.clock,
            transport=transport,
        )
        self.tokens = LwaTokens(settings, secrets, self.api, self.clock)
        self.orders_bucket = TokenBucket(settings.get_orders_rate, settings.get_orders_burst, self.clock)
        self.items_bucket = TokenBucket(
            settings.get_order_items_rate, settings.get_order_items_burst, self.clock
        )
        self.feed = OrderFeed(
            kind=KIND,
            marketplace="amazon",
            source=f"{settings.endpoint} {','.join(settings.marketplace_ids)}",
            context=context,
            store=store or default_store(),
            overlap=self.overlap,
            first=lambda: settings.first_cursor_time(self.clock.now()),
        )

    def __repr__(self) -> str:
        return (
            f"AmazonSpApiConnector(channel={self.channel!r}, endpoint={self.settings.endpoint!r}, "
            f"marketplaces={','.join(self.settings.marketplace_ids)})"
        )

    async def _call(
        self, path: str, params: Mapping[str, str | int] | None, bucket: TokenBucket, what: str
    ) -> Reply:
        """One SP-API GET; a refused access token is refreshed once, then the refusal stands."""
        for attempt in (1, 2):
            token = await self.tokens.get()
            try:
                return await self.api.request(
                    "GET",
                    self.settings.endpoint + path,
                    params=params,
                    headers={"x-amz-access-token": token},
                    bucket=bucket,
                    rate_header=RATE_HEADER,
                    what=what,
                    credentials=f"that the seller authorised the app for the Orders API ({self.tokens.credentials})",
                )
            except AuthRefused:
                if attempt == 2:
                    raise
                log.info(
                    "channel %s: %s: the access token was refused; refreshing it once", self.channel, what
                )
                self.tokens.forget(token)
        raise AssertionError("unreachable")

    # Inbound ----------------------------------------------------------------------------------------

    async def poll(self) -> Sequence[InboundItem]:
        settings = self.settings
        live_edge = _whole_seconds(self.clock.now() - timedelta(seconds=settings.lag_seconds))
        while True:
            cursor = await self.feed.cursor()
            end = min(live_edge, _whole_seconds(cursor.at + timedelta(hours=settings.window_hours)))
            if end <= cursor.at:
                return []
            listed = await self._list_orders(cursor.at - self.overlap, end)
            chosen, whole = self._choose(self.feed.fresh(cursor, listed))
            documents, complete = await self._with_items(chosen)
            items = await self.feed.offer(documents, reached=end if whole and complete else None)
            if items or not (whole and complete) or end >= live_edge:
                return items
            # the window held nothing to offer and the cursor passed it: read the next one

    async def _list_orders(self, start: datetime, end: datetime) -> list[FetchedOrder]:
        base: dict[str, str | int] = {
            "MarketplaceIds": ",".join(self.settings.marketplace_ids),
            "LastUpdatedAfter": _amazon_time(start),
            "LastUpdatedBefore": _amazon_time(end),
            "MaxResultsPerPage": self.settings.page_size,
        }
        params = base
        listed: list[FetchedOrder] = []
        while True:
            reply = await self._call(ORDERS_PATH, params, self.orders_bucket, "getOrders")
            payload = _payload(reply, "getOrders")
            orders = payload.get("Orders")
            if not isinstance(orders, list):
                raise ConnectorRejected(
                    "getOrders: the payload has no Orders list", code=f"{CODE}_BAD_RESPONSE"
                )
            listed.extend(_fetched(order, index) for index, order in enumerate(orders))
            next_token = payload.get("NextToken")
            if not isinstance(next_token, str) or not next_token:
                return listed
            params = {**base, "NextToken": next_token}

    def _choose(self, fresh: list[FetchedOrder]) -> tuple[list[FetchedOrder], bool]:
        """The first `max_orders_per_poll` orders to offer (with the Pending ones among them); True
        when that is all of them."""
        chosen: list[FetchedOrder] = []
        offered = 0
        for order in fresh:
            if order.skipped is None:
                if offered == self.settings.max_orders_per_poll:
                    return chosen, False
                offered += 1
            chosen.append(order)
        return chosen, True

    async def _with_items(self, chosen: list[FetchedOrder]) -> tuple[list[FetchedOrder], bool]:
        """Each order with its getOrderItems responses. If Amazon stays unavailable part way, the
        orders before stay offered (the cursor can still move) and the rest wait for the next poll."""
        done: list[FetchedOrder] = []
        for order in chosen:
            if order.skipped is not None:
                done.append(order)
                continue
            try:
                items = await self._order_items(order.order_id)
            except ConnectorUnavailable as error:
                if not any(o.skipped is None for o in done):
                    raise
                log.warning(
                    "channel %s: %s; offering the orders before %s", self.channel, error, order.order_id
                )
                return done, False
            document = {"getOrder": {"payload": order.document}, "getOrderItems": items}
            done.append(replace(order, document=document))
        return done, True

    async def _order_items(self, order_id: str) -> Any:
        path = f"{ORDERS_PATH}/{quote(order_id, safe='')}/orderItems"
        what = f"getOrderItems for {order_id}"
        pages: list[Any] = []
        params: dict[str, str | int] | None = None
        while True:
            try:
                reply = await self._call(path, params, self.items_bucket, what)
            except AuthRefused:
                raise
            except Refused as error:  # Amazon's errors for this order: archived, so the order shows as failed
                answer = _errors_answer(error.body)
                if answer is None:
                    raise
                log.warning("channel %s: %s", self.channel, error.message)
                pages.append(answer)
                break
            data = reply.json(what, CODE)
            pages.append(data)
            payload = data.get("payload") if isinstance(data, dict) else None
            next_token = payload.get("NextToken") if isinstance(payload, dict) else None
            if not isinstance(next_token, str) or not next_token:
                break
            params = {"NextToken": next_token}
        return pages[0] if len(pages) == 1 else pages

    async def confirm(self, item: InboundItem, *, document_id: str, accepted: bool) -> None:
        await self.feed.confirm(item)

    # Both -------------------------------------------------------------------------------------------

    async def check(self) -> Sequence[Check]:
        try:
            await self.tokens.get()
        except GatewayError as error:
            return [Check(check_name(error), False, error.message)]
        checks = [
            Check(
                "authentication",
                True,
                f"Login with Amazon issued an access token (valid {self.tokens.seconds_left() / 60:.0f} min)",
            )
        ]
        end = _whole_seconds(self.clock.now() - timedelta(seconds=self.settings.lag_seconds))
        params: dict[str, str | int] = {
            "MarketplaceIds": ",".join(self.settings.marketplace_ids),
            "LastUpdatedAfter": _amazon_time(end - timedelta(minutes=10)),
            "LastUpdatedBefore": _amazon_time(end),
            "MaxResultsPerPage": 1,
        }
        try:
            _payload(await self._call(ORDERS_PATH, params, self.orders_bucket, "getOrders"), "getOrders")
            checks.append(
                Check("orders", True, f"getOrders answers for {', '.join(self.settings.marketplace_ids)}")
            )
        except GatewayError as error:
            checks.append(Check("orders", False, error.message))
        checks.append(await self.feed.check())
        return checks

    async def aclose(self) -> None:
        await self.api.aclose()


def _whole_seconds(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


def _amazon_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _payload(reply: Reply, what: str) -> dict[str, Any]:
    data = reply.json(what, CODE)
    payload = data.get("payload") if isinstance(data, dict) else None
    if not isinstance(payload, dict):
        raise ConnectorRejected(f"{what}: the answer has no payload object", code=f"{CODE}_BAD_RESPONSE")
    return payload


def _errors_answer(body: bytes) -> dict[str, Any] | None:
    try:
        data = jsondoc.loads(body)
    except jsondoc.JsonRefused:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("errors"), list) else None


def _fetched(order: Any, index: int) -> FetchedOrder:
    order_id = order.get("AmazonOrderId") if isinstance(order, dict) else None
    updated = parse_time(order.get("LastUpdateDate")) if isinstance(order, dict) else None
    if not isinstance(order_id, str) or not _ORDER_ID.match(order_id) or updated is None:
        raise ConnectorRejected(
            f"getOrders: Orders[{index}] has no AmazonOrderId or no readable LastUpdateDate",
            code=f"{CODE}_BAD_ORDER",
            element=f"payload.Orders[{index}]",
        )
    status = order.get("OrderStatus")
    if status in PENDING:
        reason = f"{status}: payment not authorised yet; read again once Amazon updates the order"
        return FetchedOrder(order_id, updated, order, skipped=reason)
    return FetchedOrder(order_id, updated, order)


def _build(
    settings: AmazonSpApiSettings, secrets: SecretSource, context: ChannelContext
) -> AmazonSpApiConnector:
    return AmazonSpApiConnector(settings, secrets, context)


SPEC = ConnectorSpec(
    kind=KIND,
    label="Amazon orders, polled over the Selling Partner API (Orders v0, Login with Amazon)",
    settings=AmazonSpApiSettings,
    factory=_build,  # type: ignore[arg-type]  # the registry validates settings into AmazonSpApiSettings first
    inbound=True,
    outbound=False,
    poll=True,
    default_poll_seconds=120.0,
)

__all__ = ["KIND", "SPEC", "AmazonSpApiConnector"]
