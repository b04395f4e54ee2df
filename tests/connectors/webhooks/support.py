"""Signed requests as Shopify and WooCommerce send them, and the bodies the tests post.

The signature is computed here with the standard library, independently of the connector's code, the
way the senders document it: base64 of the HMAC-SHA256 digest of the raw body under the shared secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.corpus import entries, require_corpus

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHOP = "koffie-hexa.myshopify.com"
STORE = "https://koffie.example.nl/"
SHOPIFY_KEY = "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"
WOO_KEY = "wc-webhook-secret: 5u9?&Lp!x"
SHOPIFY_ORDER_FILE = "json/shopify_order_rest_fixture_shopify_python_api.json"


def signature(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def shopify_headers(
    body: bytes,
    *,
    key: str = SHOPIFY_KEY,
    topic: str = "orders/create",
    webhook_id: str | None = None,
    triggered_at: datetime | None = None,
    shop: str = SHOP,
) -> dict[str, str]:
    moment = triggered_at or datetime.now(UTC)
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature(key, body),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2024-07",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        # Shopify sends nanoseconds: 2024-11-05T08:41:19.123456789Z
        "X-Shopify-Triggered-At": moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z",
    }


def woocommerce_headers(
    body: bytes,
    *,
    key: str = WOO_KEY,
    topic: str = "order.created",
    delivery_id: str | None = None,
    source: str = STORE,
) -> dict[str, str]:
    resource, _, event = topic.partition(".")
    return {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.1.2 Hookshot (WordPress/6.6.1)",
        "X-WC-Webhook-Source": source,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": signature(key, body),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
    }


def shopify_order() -> dict[str, Any]:
    """The corpus's Shopify REST order, unwrapped: a webhook body is the bare order object."""
    require_corpus()
    [entry] = entries(lambda e: e.file == SHOPIFY_ORDER_FILE)
    wrapped = json.loads(entry.path.read_text(encoding="utf-8"))
    return wrapped["order"]  # type: ignore[no-any-return]


def shopify_body(**changes: Any) -> bytes:
    return json.dumps({**shopify_order(), **changes}).encode()


def woocommerce_order(*, modified: datetime | None = None, **changes: Any) -> dict[str, Any]:
    """The fixture order, last modified `modified` (default: now), as WooCommerce states it (UTC)."""
    order = json.loads((FIXTURES / "woocommerce_order_created.json").read_text(encoding="utf-8"))
    moment = (modified or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    order["date_modified_gmt"] = moment
    order.update(changes)
    return order  # type: ignore[no-any-return]


def woocommerce_body(*, modified: datetime | None = None, **changes: Any) -> bytes:
    # WooCommerce sends wp_json_encode output: compact, slashes escaped.
    text = json.dumps(woocommerce_order(modified=modified, **changes), separators=(",", ":"))
    return text.replace("/", "\\/").encode()


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def shopify_settings(secret: str = "HEXA_SHOPIFY_HMAC", **extra: Any) -> dict[str, Any]:
    return {"shop_domain": SHOP, "hmac_secret": secret, **extra}


def woocommerce_settings(secret: str = "HEXA_WOO_HMAC", **extra: Any) -> dict[str, Any]:
    return {"store_url": STORE, "hmac_secret": secret, **extra}
