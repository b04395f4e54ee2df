"""Settings of the polled marketplace channels. Secrets are referenced by name; every URL must be
https, except to a loopback address (a local test double), because the credentials travel with each
request."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta
from typing import Annotated, Any

import httpx
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints

from connectors.base import ConnectorSettings, SecretName


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def base_url(value: str) -> str:
    """A service's root URL, normalised without a trailing slash; refuses what would leak credentials:
    plain http to anything but a loopback address, user:password@, a query or a fragment."""
    try:
        url = httpx.URL(value.strip())
    except httpx.InvalidURL:
        raise ValueError("must be a URL such as https://shop.example.com") from None
    if url.scheme not in ("https", "http") or not url.host:
        raise ValueError("must be an https:// URL with a host name")
    if url.scheme == "http" and not is_loopback(url.host):
        raise ValueError(
            "must use https: the credentials travel with every request (plain http is allowed only to a "
            "loopback address such as 127.0.0.1)"
        )
    if url.userinfo:
        raise ValueError("must not carry a user name or password; credentials are secrets, named in *_secret")
    if url.query or url.fragment:
        raise ValueError("must be the service's root URL, without ?query or #fragment")
    return str(url.copy_with(path=url.path.rstrip("/") or "")).rstrip("/")


ServiceUrl = Annotated[str, AfterValidator(base_url)]


def _comma_list(value: Any) -> Any:
    return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value


class PolledMarketplaceSettings(ConnectorSettings):
    """What every polled marketplace shares: where the first poll starts, how much one poll takes in,
    and how patient it is with a busy server."""

    since: AwareDatetime | None = Field(
        default=None,
        description="Orders updated from this time on are read at the first poll (ISO 8601 with a zone); "
        "default: 24 hours before the first poll. Later polls continue from the stored cursor",
    )
    max_orders_per_poll: int = Field(default=250, ge=1, le=10_000)
    overlap_seconds: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        description="Each poll re-reads this much before the cursor, for orders stamped a little earlier "
        "than they became visible; orders already taken are recognised and not offered again",
    )
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    max_attempts: int = Field(default=5, ge=1, le=10, description="Tries per request on 429, 5xx, timeouts")
    max_retry_after_seconds: float = Field(
        default=120.0, gt=0, description="A longer Retry-After ends the poll; the next poll tries again"
    )

    def first_cursor_time(self, now: datetime) -> datetime:
        return self.since if self.since is not None else now - timedelta(hours=24)


_SHOPIFY_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")


def _shopify_version(value: str) -> str:
    if not _SHOPIFY_VERSION.match(value):
        raise ValueError("must be a Shopify API version such as 2026-01 (YYYY-01, -04, -07 or -10)")
    return value


class ShopifyRestSettings(PolledMarketplaceSettings):
    shop_url: ServiceUrl = Field(description="https://<shop>.myshopify.com")
    api_version: Annotated[str, AfterValidator(_shopify_version)] = "2026-01"
    access_token_secret: SecretName = Field(description="Secret holding the Admin API access token")
    page_size: int = Field(default=250, ge=1, le=250)
    call_limit_threshold: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Pause when X-Shopify-Shop-Api-Call-Limit shows the bucket this full",
    )
    leak_rate: float = Field(
        default=2.0, gt=0, description="Requests per second the shop's bucket drains (2; Plus: 20)"
    )


class WooCommerceRestSettings(PolledMarketplaceSettings):
    site_url: ServiceUrl = Field(description="The WordPress site's root URL, https://shop.example.com")
    consumer_key_secret: SecretName = Field(description="Secret holding the REST API consumer key (ck_…)")
    consumer_secret_secret: SecretName = Field(description="Secret holding the consumer secret (cs_…)")
    page_size: int = Field(default=100, ge=1, le=100)


MarketplaceId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,20}$")]


class AmazonSpApiSettings(PolledMarketplaceSettings):
    endpoint: ServiceUrl = Field(
        default="https://sellingpartnerapi-na.amazon.com",
        description="The SP-API regional endpoint (-na, -eu or -fe)",
    )
    token_url: ServiceUrl = Field(
        default="https://api.amazon.com/auth/o2/token", description="The Login with Amazon token endpoint"
    )
    marketplace_ids: Annotated[tuple[MarketplaceId, ...], BeforeValidator(_comma_list)] = Field(
        min_length=1, max_length=50, description="MarketplaceIds to read, e.g. A1PA6795UKMFR9"
    )
    client_id_secret: SecretName
    client_secret_secret: SecretName
    refresh_token_secret: SecretName
    max_orders_per_poll: int = Field(default=100, ge=1, le=10_000)
    overlap_seconds: float = Field(default=0.0, ge=0, le=86_400)
    page_size: int = Field(default=100, ge=1, le=100, description="MaxResultsPerPage of getOrders")
    window_hours: float = Field(
        default=24.0, gt=0, le=24 * 31, description="The longest stretch of time one getOrders query covers"
    )
    lag_seconds: float = Field(
        default=120.0,
        ge=120.0,
        description="Read only orders updated at least this long ago; Amazon requires two minutes",
    )
    token_margin_seconds: float = Field(default=60.0, ge=0, le=1800)
    get_orders_rate: float = Field(
        default=0.0167, gt=0, description="Requests per second (SP-API usage plan)"
    )
    get_orders_burst: int = Field(default=20, ge=1)
    get_order_items_rate: float = Field(default=0.5, gt=0)
    get_order_items_burst: int = Field(default=30, ge=1)


__all__ = [
    "AmazonSpApiSettings",
    "PolledMarketplaceSettings",
    "ShopifyRestSettings",
    "WooCommerceRestSettings",
    "base_url",
    "is_loopback",
]
