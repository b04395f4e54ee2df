"""The marketplace kinds in the contract suite (tests/connectors/test_contract.py).

They serve orders from an API, not files: there is no file to drop, name, grow or move aside, and
nothing is sent, so the suite's file and outbound cases do not apply (`files = False`, and a kind
without outbound); what does — capabilities, settings refused when unknown, nothing offered when
nothing arrived, `check`, no secret in any repr — runs against the fakes. At-least-once delivery
and the cursor are covered by this package's own tests. The connectors are built through the
registry, so their cursor goes to the default store, under an `ORDERGATE_HOME` private to the test.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors import registry
from connectors.base import ChannelContext, Connector
from gateway.settings import get_settings
from tests.connectors.conftest import DictSecrets
from tests.connectors.marketplaces.fakes import Fake, FakeAmazon, FakeShopify, FakeWooCommerce
from tests.connectors.marketplaces.support import (
    LWA_ID,
    LWA_REFRESH,
    LWA_SECRET,
    SECRET_VALUES,
    SECRETS,
    SHOPIFY_TOKEN,
    WOO_KEY,
    WOO_SECRET,
    amazon_settings,
)

LIMIT = 1000


@dataclass
class MarketplaceHarness:
    kind: str
    settings: dict[str, Any]
    secrets: DictSecrets
    inbound: Path
    outbound: Path
    secret_values: tuple[str, ...] = SECRET_VALUES
    files: bool = False
    arrives_whole: bool = True

    def build(self) -> Connector:
        context = ChannelContext("contract", "acme", LIMIT, "inbound")
        return registry.build(self.kind, self.settings, self.secrets, context=context)


Close = Callable[[], Awaitable[None]]


def _private_home(tmp_path: Path, fake: Fake) -> Close:
    """Point ORDERGATE_HOME (where the default cursor store writes) at the test's folder, start the
    fake, and undo both when the harness closes."""
    previous = os.environ.get("ORDERGATE_HOME")
    os.environ["ORDERGATE_HOME"] = str(tmp_path / "home")
    get_settings.cache_clear()
    fake.start()

    async def close() -> None:
        fake.stop()
        if previous is None:
            os.environ.pop("ORDERGATE_HOME", None)
        else:
            os.environ["ORDERGATE_HOME"] = previous
        get_settings.cache_clear()

    return close


def _harness(kind: str, settings: dict[str, Any], tmp_path: Path) -> MarketplaceHarness:
    return MarketplaceHarness(kind, settings, DictSecrets(SECRETS), tmp_path / "in", tmp_path / "out")


async def shopify_harness(tmp_path: Path) -> tuple[MarketplaceHarness, Close]:
    fake = FakeShopify([], token=SHOPIFY_TOKEN)
    close = _private_home(tmp_path, fake)
    settings = {"shop_url": fake.url, "access_token_secret": "ACME_SHOPIFY_TOKEN"}
    return _harness("shopify-rest", settings, tmp_path), close


async def woocommerce_harness(tmp_path: Path) -> tuple[MarketplaceHarness, Close]:
    fake = FakeWooCommerce([], key=WOO_KEY, secret=WOO_SECRET)
    close = _private_home(tmp_path, fake)
    settings = {
        "site_url": fake.url,
        "consumer_key_secret": "ACME_WOO_KEY",
        "consumer_secret_secret": "ACME_WOO_SECRET",
    }
    return _harness("woocommerce-rest", settings, tmp_path), close


async def amazon_harness(tmp_path: Path) -> tuple[MarketplaceHarness, Close]:
    fake = FakeAmazon([], {}, client_id=LWA_ID, client_secret=LWA_SECRET, refresh_token=LWA_REFRESH)
    close = _private_home(tmp_path, fake)
    settings = amazon_settings(fake)
    del settings["since"], settings["window_hours"]
    return _harness("amazon-spapi", settings, tmp_path), close


HARNESSES = {
    "shopify-rest": shopify_harness,
    "woocommerce-rest": woocommerce_harness,
    "amazon-spapi": amazon_harness,
}

__all__ = ["HARNESSES", "MarketplaceHarness"]
