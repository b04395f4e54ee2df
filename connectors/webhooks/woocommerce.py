"""WooCommerce webhooks (`kind = "woocommerce-webhook"`): a store posts its `order.*` events to
`/inbound/<partner>/<channel>`.

A request is the partner's when `X-WC-Webhook-Signature` is base64(HMAC-SHA256(secret, raw body)) under
the webhook's secret (`hmac_secret`) and `X-WC-Webhook-Source` is the channel's `store_url`.

- The ping WooCommerce sends when a webhook is saved (form body `webhook_id=<n>`, unsigned) is answered
  200 and stores nothing.
- `order.created` → translated (the body is a WooCommerce REST v3 order); `order.updated`, `.deleted`,
  `.restored` → archived and held with `ORDER_UPDATE_NOT_APPLIED` (see the Shopify connector); other
  topics → held with `WEBHOOK_TOPIC_NOT_TAKEN`.
- Replays: WooCommerce sends no timestamp header and does not retry a failed delivery (it counts
  failures and disables the webhook after five). `X-WC-Webhook-Delivery-ID` (a hash of webhook id and
  second) is kept per channel, so a replayed capture is a duplicate; and the order's own
  `date_modified_gmt` (else `date_created_gmt`) must lie within the freshness window, default one day
  because WooCommerce delivers through a background queue that can lag on quiet sites. Outside it the
  delivery is held, never dropped. A replayed body is also caught downstream: the same bytes are a
  duplicate document and the same order id a duplicate interchange.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from connectors.base import ChannelContext, Connector, ConnectorSpec, InboundItem, SecretSource
from connectors.webhooks.base import (
    DELIVERY_ID,
    HOLD,
    BadDelivery,
    Unauthenticated,
    WebhookConnector,
    WebhookSettings,
    delivery_id,
    lower_keys,
    outside_window,
    parse_time,
    required,
)
from gateway.core.errors import Issue

KIND = "woocommerce-webhook"
TAKEN_TOPIC = "order.created"
SIGNATURE = "X-WC-Webhook-Signature"
TOPIC = "X-WC-Webhook-Topic"
SOURCE = "X-WC-Webhook-Source"
DELIVERY = "X-WC-Webhook-Delivery-ID"
_PING = re.compile(rb"webhook_id=[0-9]{1,20}")
_ORDER_CHANGES = {"order.updated", "order.deleted", "order.restored"}


def normalise_url(value: str) -> str:
    """A store's home URL compared as WooCommerce sends it: scheme and host case-insensitive, the
    trailing slash optional."""
    parts = urlsplit(value.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


class WooCommerceWebhookSettings(WebhookSettings):
    store_url: str = Field(description="The store's home URL, as X-WC-Webhook-Source names it")
    max_age_seconds: float | None = Field(
        default=86400.0,
        gt=0,
        description="An order last modified longer ago than this is archived but held (unset: no limit)",
    )

    @field_validator("store_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be the store's home URL, such as https://shop.example.com/")
        return normalise_url(value)


def topic_hold(topic: str) -> Issue | None:
    """Why a topic is kept but not translated; None for `order.created`."""
    if topic == TAKEN_TOPIC:
        return None
    if topic in _ORDER_CHANGES:
        return Issue(
            code="ORDER_UPDATE_NOT_APPLIED",
            message=f"WooCommerce {topic} is kept but not applied: ordergate takes each order in once, "
            f"from {TAKEN_TOPIC}, and does not amend stored orders yet; act on the change by hand",
            element=TOPIC,
        )
    return Issue(
        code="WEBHOOK_TOPIC_NOT_TAKEN",
        message=f"WooCommerce topic {topic} is not an order event: kept, not processed; point only "
        f"{TAKEN_TOPIC} webhooks at this channel",
        element=TOPIC,
    )


def modified_at(body: bytes) -> tuple[datetime, str] | None:
    """The order's `date_modified_gmt` (else `date_created_gmt`) and which one; None when the body has
    neither (the translation then says what is wrong with it)."""
    try:
        order = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(order, dict):
        return None
    for field in ("date_modified_gmt", "date_created_gmt"):
        value = order.get(field)
        if isinstance(value, str) and value:
            try:
                return parse_time(value, field), field
            except BadDelivery:
                return None
    return None


class WooCommerceWebhookConnector(WebhookConnector[WooCommerceWebhookSettings]):
    label = "WooCommerce webhook"

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> Sequence[InboundItem]:
        refused = self.oversized(body)
        if refused is not None:
            return [refused]
        found = lower_keys(headers)
        signature = found.get(SIGNATURE.lower())
        if signature is None and _PING.fullmatch(body.strip()):
            return []  # the ping on saving a webhook: answered 200, nothing to keep
        self.verify(body, signature, SIGNATURE)
        source = found.get(SOURCE.lower(), "")
        if normalise_url(source) != self.settings.store_url:
            raise Unauthenticated(
                f"{SOURCE} is {source[:200]!r}, not the channel's store {self.settings.store_url}",
                element=SOURCE,
            )
        topic = required(found, TOPIC)
        delivery = delivery_id(found, DELIVERY)
        hold = topic_hold(topic)
        if hold is None and (modified := modified_at(body)) is not None:
            hold = outside_window(modified[0], self.settings, what=modified[1])
        meta: dict[str, object] = {
            DELIVERY_ID: delivery,
            "topic": topic,
            "source": source,
            "webhook_id": found.get("x-wc-webhook-id"),
        }
        if hold is not None:
            meta[HOLD] = hold
        return [self.item(body, name=f"woocommerce {topic} {delivery}.json", meta=meta)]


def _build(settings: WooCommerceWebhookSettings, secrets: SecretSource, context: ChannelContext) -> Connector:
    return WooCommerceWebhookConnector(settings, secrets, context)


SPEC = ConnectorSpec(
    kind=KIND,
    label="WooCommerce webhooks (order.created), HMAC-verified",
    settings=WooCommerceWebhookSettings,
    factory=_build,  # type: ignore[arg-type]  # the registry validates settings into the model first
    inbound=True,
    outbound=False,
    push=True,
)

__all__ = [
    "KIND",
    "SPEC",
    "WooCommerceWebhookConnector",
    "WooCommerceWebhookSettings",
    "modified_at",
    "normalise_url",
    "topic_hold",
]
