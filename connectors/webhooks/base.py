"""What every webhook channel shares: HMAC verification over the raw body, the refusals the HTTP layer
turns into status codes, the freshness window, and the reply after the archive commit.

Items a webhook connector returns may carry, in `meta`:
- `DELIVERY_ID`: the sender's id of this delivery, the same on every retry of it. The gateway keeps it
  per partner channel and answers a repeat without a second document.
- `HOLD`: an `Issue`. The bytes are archived (they are authentic, and after an outage ops may want them)
  but not translated: the document gets this failure instead, and `ordergate failed replay` can still
  process it. Used for topics ordergate does not apply (order updates) and deliveries outside the
  freshness window.
The gateway marks outcomes it answered from that store with `DUPLICATE` or `IN_PROGRESS`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Generic, TypeVar

from pydantic import Field, SecretStr

from connectors.base import (
    ChannelContext,
    Check,
    ConnectorSettings,
    InboundItem,
    Outcome,
    PushAnswer,
    SecretName,
    SecretSource,
    display_name,
)
from gateway.core.errors import ConfigError, ConnectorRejected, Issue

DELIVERY_ID = "delivery_id"
HOLD = "hold"
DUPLICATE = "duplicate"
IN_PROGRESS = "in_progress"

JSON_HEADERS = {"content-type": "application/json"}
_DELIVERY_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class PushRejected(ConnectorRejected):
    """A pushed request that is not taken in; `status` is the HTTP answer. The message is for the log:
    the sender is told only the code."""

    status: ClassVar[int] = 400


class Unauthenticated(PushRejected):
    """Not provably the partner's: no or a wrong signature, another shop. Never archived."""

    code = "WEBHOOK_UNAUTHENTICATED"
    status = 401


class BadDelivery(PushRejected):
    """Authentic, but not a delivery this channel can take (a header missing or malformed)."""

    code = "WEBHOOK_BAD_REQUEST"
    status = 400


class WebhookSettings(ConnectorSettings):
    hmac_secret: SecretName = Field(description="Secret holding the key the sender signs bodies with")
    max_age_seconds: float | None = Field(
        default=300.0,
        gt=0,
        description="A delivery older than this is archived but held, not translated (unset: no limit)",
    )
    clock_skew_seconds: float = Field(
        default=300.0, ge=0, description="How far in the future a delivery's time may be"
    )


def lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    """HTTP header names are case-insensitive; a plain mapping (tests, other servers) may not be."""
    return {name.lower(): value for name, value in headers.items()}


def signature_matches(key: SecretStr, body: bytes, signature: str | None) -> bool:
    """True when `signature` is base64(HMAC-SHA256(key, body)) over the raw bytes, compared in constant
    time. A missing or undecodable signature is simply no match."""
    if not signature:
        return False
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(key.get_secret_value().encode("utf-8"), body, hashlib.sha256).digest()
    return hmac.compare_digest(given, expected)


def sign(key: str, body: bytes) -> str:
    """base64(HMAC-SHA256(key, body)), as Shopify and WooCommerce sign (what tests send)."""
    return base64.b64encode(hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def required(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name.lower(), "").strip()
    if not value:
        raise BadDelivery(f"the {name} header is missing", element=name)
    return value


def delivery_id(headers: Mapping[str, str], name: str) -> str:
    value = required(headers, name)
    if not _DELIVERY_ID.match(value):
        raise BadDelivery(f"the {name} header is not a delivery id (letters, digits, . _ : -)", element=name)
    return value


def parse_time(value: str, what: str) -> datetime:
    """An ISO 8601 time; one without an offset is UTC (WooCommerce's `*_gmt` fields)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadDelivery(f"{what} {value[:40]!r} is not an ISO 8601 time", element=what) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def outside_window(moment: datetime, settings: WebhookSettings, *, what: str) -> Issue | None:
    """Why a delivery made at `moment` is held, or None when it is fresh."""
    now = datetime.now(UTC)
    if moment > now + timedelta(seconds=settings.clock_skew_seconds):
        return Issue(
            code="WEBHOOK_FROM_THE_FUTURE",
            message=f"{what} is {moment.isoformat()}, more than {settings.clock_skew_seconds:g}s ahead of "
            "this server's clock: it is kept but not processed (check both clocks), replay it once it is "
            "known to be genuine",
            element=what,
        )
    if settings.max_age_seconds is not None and moment < now - timedelta(seconds=settings.max_age_seconds):
        return Issue(
            code="WEBHOOK_STALE",
            message=f"{what} is {moment.isoformat()}, older than the channel's max_age_seconds "
            f"({settings.max_age_seconds:g}s): a replay, or a retry after an outage. It is kept but not "
            "processed; replay it (`ordergate failed replay`) if the order is still wanted",
            element=what,
        )
    return None


S = TypeVar("S", bound=WebhookSettings)


class WebhookConnector(Generic[S]):
    """The parts of a webhook channel that do not depend on the sender: secret lookup, size limit,
    `check`, `answer`. Subclasses implement `receive`."""

    label: ClassVar[str] = "webhook"

    def __init__(self, settings: S, secrets: SecretSource, context: ChannelContext) -> None:
        self.settings = settings
        self.secrets = secrets
        self.context = context
        self.channel = context.channel

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channel={self.channel!r}, partner={self.context.partner_id!r})"

    def key(self) -> SecretStr:
        """The signing key, looked up per request so a rotated secret applies at once."""
        return self.secrets.get(self.settings.hmac_secret)

    def verify(self, body: bytes, signature: str | None, header: str) -> None:
        if signature is None:
            raise Unauthenticated(f"the {header} header is missing", element=header)
        if not signature_matches(self.key(), body, signature):
            raise Unauthenticated(
                f"{header} does not match the body (wrong secret, or the body was altered)", element=header
            )

    def item(self, body: bytes, *, name: str, meta: Mapping[str, object]) -> InboundItem:
        return InboundItem(
            payload=body,
            channel=self.channel,
            partner_id=self.context.partner_id,
            filename=display_name(name),
            content_type="application/json",
            meta=dict(meta),
        )

    def oversized(self, body: bytes) -> InboundItem | None:
        """The refusal of a body above the limit (the HTTP layer refuses it before reading, this is the
        connector's own guard)."""
        limit = self.context.max_document_bytes
        if len(body) <= limit:
            return None
        issue = Issue(
            code="DOCUMENT_TOO_LARGE",
            message=f"a {self.label} delivery of {len(body)} bytes is larger than the limit of {limit} "
            "(ORDERGATE_MAX_DOCUMENT_BYTES); it was not taken in",
        )
        return InboundItem(
            b"", self.channel, self.context.partner_id, f"{self.label} delivery", refusal=issue
        )

    async def check(self) -> Sequence[Check]:
        checks = []
        try:
            self.key()
            checks.append(Check("secret", True, f"hmac_secret {self.settings.hmac_secret} is set"))
        except ConfigError as error:
            checks.append(Check("secret", False, error.message))
        where = f"/inbound/{self.context.partner_id}/{self.channel}"
        checks.append(Check("endpoint", True, f"the sender posts to https://<this gateway>{where}"))
        return checks

    async def answer(self, outcomes: Sequence[Outcome]) -> PushAnswer:
        """2xx only when every item is committed: "we have it", whatever the translation will say."""
        if any(o.document_id is None for o in outcomes):
            if any(o.item.meta.get(IN_PROGRESS) for o in outcomes):
                return _reply(409, "DELIVERY_IN_PROGRESS", "this delivery is being taken in; retry later")
            return _reply(503, "NOT_TAKEN", "the delivery could not be stored; retry later")
        if any(o.item.refusal is not None for o in outcomes):
            return _reply(413, "DOCUMENT_TOO_LARGE", "the delivery is larger than this gateway takes")
        if not outcomes:
            status = "nothing to take"
        elif all(o.item.meta.get(DUPLICATE) for o in outcomes):
            status = "duplicate"
        elif any(o.item.meta.get(HOLD) for o in outcomes):
            status = "held"
        else:
            status = "received"
        body = {"status": status, "documents": [o.document_id for o in outcomes]}
        return PushAnswer(200, JSON_HEADERS, json.dumps(body).encode())

    async def aclose(self) -> None:
        return None


def _reply(status: int, code: str, message: str) -> PushAnswer:
    headers = {**JSON_HEADERS, "retry-after": "60"} if status in (409, 503) else JSON_HEADERS
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return PushAnswer(status, headers, body)


__all__ = [
    "DELIVERY_ID",
    "DUPLICATE",
    "HOLD",
    "IN_PROGRESS",
    "BadDelivery",
    "PushRejected",
    "Unauthenticated",
    "WebhookConnector",
    "WebhookSettings",
    "delivery_id",
    "lower_keys",
    "outside_window",
    "parse_time",
    "required",
    "sign",
    "signature_matches",
]
