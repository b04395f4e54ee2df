"""The connector contract: how documents arrive and leave. A connector only moves bytes; it never
knows formats.

Inbound, polled (SFTP, folders, IMAP): `poll()` returns what has arrived and is complete; the gateway
commits each item's raw bytes to the archive and only then calls `confirm(item, document_id=…,
accepted=…)`, which releases the sender's copy (moves or deletes the remote file, sets the IMAP seen
flag). A crash before `confirm` leaves the copy in place, so it is offered again: at-least-once, and the
archive's duplicate checks absorb the repeat (RELIABILITY rule 1).

Inbound, pushed (webhooks, AS2): the HTTP layer hands the raw request to `receive(body, headers)`, which
verifies it (signature, HMAC) and turns it into items; the gateway archives them, then calls
`answer(outcomes)` for the reply the sender gets (2xx, an MDN). An item whose archive commit failed has
`document_id=None` in its outcome, and the answer must then say "not taken" (5xx, error MDN).

Outbound: `send(payload, filename=…, meta=…) -> Receipt`. Failures raise `ConnectorUnavailable`
(retryable: try again later) or `ConnectorRejected` (permanent until someone acts); both are
`TransportError`s, so a stage reads `error.retryable`.

Every connector states its capabilities in its `ConnectorSpec` and takes a pydantic settings model in
which secrets are referenced by name (`password_secret = "ACME_SFTP_PASSWORD"`) and resolved through a
`SecretSource` only when used, as `SecretStr`.
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, SecretStr, StringConstraints

from gateway.core.errors import Issue

Direction = Literal["inbound", "outbound", "both"]

SECRET_NAME_PATTERN = r"^[A-Z][A-Z0-9_]{0,63}$"
SecretName = Annotated[str, StringConstraints(pattern=SECRET_NAME_PATTERN)]
"""The name of a secret (`ACME_SFTP_PASSWORD`), never its value: settings fields ending in `_secret`."""


class ConnectorSettings(BaseModel):
    """Base of every connector's settings: unknown keys are refused (a mistyped `pasword_secret` or a
    clear-text `password` must not pass silently), and the model holds no secret values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def secret_names(self) -> dict[str, str]:
        """The secrets these settings reference, by field: what `channels list` may show."""
        return {
            name: value
            for name, value in self.model_dump().items()
            if name.endswith("_secret") and isinstance(value, str)
        }


class SecretSource(Protocol):
    def get(self, name: str) -> SecretStr:
        """The secret's value; raises `ConfigError` (naming the secret, never a value) if it is unset."""
        ...


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What a connector knows about the channel it serves, beside its own settings."""

    channel: str
    partner_id: str | None
    max_document_bytes: int
    direction: Direction = "inbound"


@dataclass(frozen=True, slots=True)
class InboundItem:
    """One complete document as it arrived. `filename` is for display only (made by `display_name`):
    a partner-supplied name never becomes a path. `meta` holds what the connector needs to `confirm`
    the item. `refusal` is set (and `payload` empty) when the connector would not take the bytes in,
    for instance a file above the size limit: the gateway records the refusal, then confirms it as not
    accepted."""

    payload: bytes
    channel: str
    partner_id: str | None
    filename: str | None = None
    content_type: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    refusal: Issue | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof of an outbound delivery: where it landed, when, and how."""

    channel: str
    remote_ref: str
    size: int
    at: datetime
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Check:
    """One line of `ordergate channels test`: what was tried, whether it worked, in plain words."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of an item: its document id once committed (None: the archive failed), and the
    issues that say why it was not accepted (what a connector that answers the sender tells it)."""

    item: InboundItem
    document_id: str | None
    accepted: bool
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True, slots=True)
class PushAnswer:
    """The reply to the sender of a pushed request (HTTP status, headers, body such as an MDN)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@runtime_checkable
class Connector(Protocol):
    channel: str

    async def check(self) -> Sequence[Check]:
        """Try the connection (reach, host key, authentication, folders) without moving documents;
        never raises: every problem is a failed `Check`."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class InboundConnector(Connector, Protocol):
    async def poll(self) -> Sequence[InboundItem]:
        """What has arrived since the last poll and is complete."""
        ...

    async def confirm(self, item: InboundItem, *, document_id: str, accepted: bool) -> None:
        """Called only after the item is committed to the archive: release or move the sender's copy.
        A connector that tells the sender why a document failed (e-mail) also declares the keyword
        `outcome: Outcome | None = None`; `confirm_item` passes it then, and only then."""
        ...


@runtime_checkable
class PushConnector(Connector, Protocol):
    async def receive(self, body: bytes, headers: Mapping[str, str]) -> Sequence[InboundItem]:
        """Verify a pushed request and turn it into items; `ConnectorRejected` for a bad signature."""
        ...

    async def answer(self, outcomes: Sequence[Outcome]) -> PushAnswer:
        """The reply, built only after every item's archive commit was attempted."""
        ...


@runtime_checkable
class OutboundConnector(Connector, Protocol):
    async def send(self, payload: bytes, *, filename: str, meta: Mapping[str, str] | None = None) -> Receipt:
        """Deliver the bytes under `filename` (a deterministic name, so a resend is recognisable)."""
        ...


Factory = Callable[[Any, SecretSource, ChannelContext], Connector]


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """A transport declared as data: its kind, settings model, capabilities and factory. Capabilities
    are stated, never inferred from which methods happen to exist."""

    kind: str
    label: str
    settings: type[ConnectorSettings]
    factory: Factory
    inbound: bool
    outbound: bool
    poll: bool = False
    push: bool = False
    push_route: str = "/inbound"
    """Where senders post to a pushed connector (`<route>/{partner}/{channel}`): the generic webhook
    route, or a protocol's own endpoint (AS2 answers with MDNs at `/as2`)."""
    default_poll_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.inbound != (self.poll or self.push):
            raise ValueError(f"connector {self.kind}: an inbound connector either polls or is pushed to")

    def directions(self) -> tuple[Direction, ...]:
        found: list[Direction] = []
        if self.inbound:
            found.append("inbound")
        if self.outbound:
            found.append("outbound")
        if self.inbound and self.outbound:
            found.append("both")
        return tuple(found)


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def display_name(name: str | bytes | None, *, fallback: str = "unnamed") -> str:
    """A partner-supplied name made safe to show and to store as metadata: its last path component,
    without control or path characters or leading dots, at most 200 characters. It is still never
    used as a path; storage keys are generated."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = _UNSAFE.sub("_", text).strip().lstrip(".").strip()
    return text[:200] or fallback


async def confirm_item(connector: InboundConnector, outcome: Outcome) -> None:
    """Confirm an archived item, handing the whole outcome (with its issues) to connectors whose
    `confirm` takes it; connectors written before `outcome` existed are called as they were."""
    if outcome.document_id is None:
        raise ValueError("only an archived item (with a document id) can be confirmed")
    extra: dict[str, Any] = {"outcome": outcome} if _takes_outcome(connector) else {}
    await connector.confirm(outcome.item, document_id=outcome.document_id, accepted=outcome.accepted, **extra)


def _takes_outcome(connector: InboundConnector) -> bool:
    try:
        return "outcome" in inspect.signature(connector.confirm).parameters
    except (TypeError, ValueError):
        return False


def too_large(size: int, limit: int, name: str) -> Issue:
    """The refusal of a document above the size limit, as every connector words it."""
    return Issue(
        code="DOCUMENT_TOO_LARGE",
        message=f"{name} has {size} bytes, more than the limit of {limit} (ORDERGATE_MAX_DOCUMENT_BYTES); "
        "it was not taken in and is moved aside on the sender's side",
    )


def single_component(name: str) -> bool:
    """True when `name` can only address an entry inside its folder: no separator, NUL, `.` or `..`."""
    return bool(name) and name not in {".", ".."} and not any(c in name for c in "/\\\x00")


__all__ = [
    "SECRET_NAME_PATTERN",
    "ChannelContext",
    "Check",
    "Connector",
    "ConnectorSettings",
    "ConnectorSpec",
    "Direction",
    "Factory",
    "InboundConnector",
    "InboundItem",
    "OutboundConnector",
    "Outcome",
    "PushAnswer",
    "PushConnector",
    "Receipt",
    "SecretName",
    "SecretSource",
    "confirm_item",
    "display_name",
    "single_component",
    "too_large",
]
