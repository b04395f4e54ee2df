"""The push contract's harness (`tests/connectors/test_contract.py`, pushed section): how to make a
verified request that carries a document, and how to strip its authentication, for each push kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors import registry
from connectors.base import ChannelContext, PushConnector
from tests.connectors.conftest import DictSecrets
from tests.connectors.webhooks.support import (
    SHOPIFY_KEY,
    WOO_KEY,
    shopify_headers,
    shopify_settings,
    woocommerce_headers,
    woocommerce_settings,
)

Request = tuple[bytes, dict[str, str]]


def _flip(body: bytes) -> bytes:
    middle = len(body) // 2
    return body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1 :]


@dataclass
class PushHarness:
    """A push kind wired for the contract: `request(document)` is a request the connector must accept
    (body and headers as the sender sends them), `unauthenticated(headers)` the same headers without
    what proves the sender, `tamper(body)` the body altered in transit."""

    kind: str
    settings: dict[str, Any]
    secrets: DictSecrets
    request: Callable[[bytes], Request]
    unauthenticated: Callable[[dict[str, str]], dict[str, str]]
    tamper: Callable[[bytes], bytes] = _flip
    secret_values: tuple[str, ...] = field(default=())

    def build(self, limit: int) -> PushConnector:
        context = ChannelContext("contract", "acme", limit, "inbound")
        built = registry.build(self.kind, self.settings, self.secrets, context=context)
        assert isinstance(built, PushConnector)
        return built


def shopify() -> PushHarness:
    return PushHarness(
        kind="shopify-webhook",
        settings=shopify_settings("ACME_SHOPIFY_HMAC"),
        secrets=DictSecrets({"ACME_SHOPIFY_HMAC": SHOPIFY_KEY}),
        request=lambda document: (document, shopify_headers(document)),
        unauthenticated=lambda headers: {k: v for k, v in headers.items() if k != "X-Shopify-Hmac-Sha256"},
        secret_values=(SHOPIFY_KEY,),
    )


def woocommerce() -> PushHarness:
    return PushHarness(
        kind="woocommerce-webhook",
        settings=woocommerce_settings("ACME_WOO_HMAC"),
        secrets=DictSecrets({"ACME_WOO_HMAC": WOO_KEY}),
        request=lambda document: (document, woocommerce_headers(document)),
        unauthenticated=lambda headers: {k: v for k, v in headers.items() if k != "X-WC-Webhook-Signature"},
        secret_values=(WOO_KEY,),
    )


HARNESSES: dict[str, Callable[[], PushHarness]] = {
    "shopify-webhook": shopify,
    "woocommerce-webhook": woocommerce,
}
