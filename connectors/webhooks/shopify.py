"""Shopify webhooks (`kind = "shopify-webhook"`): a shop posts its `orders/*` events to
`/inbound/<partner>/<channel>`.

A request is the partner's when `X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(key, raw body)) under
the channel's `hmac_secret` (the app's client secret, or the shop's webhook signing key) and
`X-Shopify-Shop-Domain` is the channel's `shop_domain`. Only the body is signed: the headers could be
rewritten by whoever holds a captured body, so attribution rests on a key that is the partner's own.

- `orders/create` → translated (the body is a bare Shopify Order, `mappings.marketplace`).
- any other `orders/*` topic (updated, cancelled, edited, paid, fulfilled …) → archived and held with
  `ORDER_UPDATE_NOT_APPLIED`: the marketplace format uses the order id as the interchange reference, so
  an update would be refused as a duplicate interchange, and ordergate does not amend stored orders yet.
- other topics → archived and held with `WEBHOOK_TOPIC_NOT_TAKEN`.
- `X-Shopify-Webhook-Id` is the delivery id (the same on each of Shopify's retries: 8 over 4 hours);
  `X-Shopify-Triggered-At` outside [now - max_age_seconds, now + clock_skew_seconds] → held
  (`WEBHOOK_STALE`, `WEBHOOK_FROM_THE_FUTURE`), never silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from pydantic import Field, field_validator

from connectors.base import ChannelContext, Connector, ConnectorSpec, InboundItem, SecretSource
from connectors.webhooks.base import (
    DELIVERY_ID,
    HOLD,
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

KIND = "shopify-webhook"
TAKEN_TOPIC = "orders/create"
SIGNATURE = "X-Shopify-Hmac-Sha256"
TOPIC = "X-Shopify-Topic"
SHOP = "X-Shopify-Shop-Domain"
WEBHOOK_ID = "X-Shopify-Webhook-Id"
TRIGGERED_AT = "X-Shopify-Triggered-At"
_SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}\.myshopify\.com$")
_WHAT_IT_MEANS = {
    "orders/cancelled": "the order was cancelled in Shopify: cancel it downstream by hand",
    "orders/updated": "the order changed in Shopify: apply the change downstream by hand if it matters",
    "orders/edited": "the order's lines were edited in Shopify: apply the edit downstream by hand",
    "orders/delete": "the order was deleted in Shopify",
}


class ShopifyWebhookSettings(WebhookSettings):
    shop_domain: str = Field(description="The shop's <name>.myshopify.com domain (X-Shopify-Shop-Domain)")

    @field_validator("shop_domain")
    @classmethod
    def _shop(cls, value: str) -> str:
        domain = value.strip().lower().removeprefix("https://").rstrip("/")
        if not _SHOP_DOMAIN.match(domain):
            raise ValueError("must be the shop's myshopify.com domain, such as acme-store.myshopify.com")
        return domain


def topic_hold(topic: str) -> Issue | None:
    """Why a topic is kept but not translated; None for `orders/create`."""
    if topic == TAKEN_TOPIC:
        return None
    if topic.startswith("orders/"):
        meaning = _WHAT_IT_MEANS.get(topic, "the order's state changed in Shopify")
        return Issue(
            code="ORDER_UPDATE_NOT_APPLIED",
            message=f"Shopify {topic} is kept but not applied ({meaning}): ordergate takes each order in "
            f"once, from {TAKEN_TOPIC}, and does not amend stored orders yet",
            element=TOPIC,
        )
    return Issue(
        code="WEBHOOK_TOPIC_NOT_TAKEN",
        message=f"Shopify topic {topic} is not an order event: kept, not processed; subscribe this "
        f"channel to {TAKEN_TOPIC} only",
        element=TOPIC,
    )


class ShopifyWebhookConnector(WebhookConnector[ShopifyWebhookSettings]):
    label = "Shopify webhook"

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> Sequence[InboundItem]:
        refused = self.oversized(body)
        if refused is not None:
            return [refused]
        found = lower_keys(headers)
        self.verify(body, found.get(SIGNATURE.lower()), SIGNATURE)
        shop = found.get(SHOP.lower(), "").strip().lower()
        if shop != self.settings.shop_domain:
            raise Unauthenticated(
                f"{SHOP} is {shop[:100]!r}, not the channel's shop {self.settings.shop_domain}", element=SHOP
            )
        topic = required(found, TOPIC)
        webhook_id = delivery_id(found, WEBHOOK_ID)
        triggered_at = parse_time(required(found, TRIGGERED_AT), TRIGGERED_AT)
        hold = topic_hold(topic) or outside_window(triggered_at, self.settings, what=TRIGGERED_AT)
        meta: dict[str, object] = {
            DELIVERY_ID: webhook_id,
            "topic": topic,
            "shop": shop,
            "triggered_at": triggered_at.isoformat(),
            "event_id": found.get("x-shopify-event-id"),
            "api_version": found.get("x-shopify-api-version"),
        }
        if hold is not None:
            meta[HOLD] = hold
        return [self.item(body, name=f"shopify {topic.replace('/', '-')} {webhook_id}.json", meta=meta)]


def _build(settings: ShopifyWebhookSettings, secrets: SecretSource, context: ChannelContext) -> Connector:
    return ShopifyWebhookConnector(settings, secrets, context)


SPEC = ConnectorSpec(
    kind=KIND,
    label="Shopify webhooks (orders/create), HMAC-verified",
    settings=ShopifyWebhookSettings,
    factory=_build,  # type: ignore[arg-type]  # the registry validates settings into the model first
    inbound=True,
    outbound=False,
    push=True,
)

__all__ = ["KIND", "SPEC", "ShopifyWebhookConnector", "ShopifyWebhookSettings", "topic_hold"]
