"""The gateway side of a pushed request (webhooks): find the partner's channel, let its connector verify
the request, commit every item to the archive, and only then build the answer (RELIABILITY rule 1:
a 2xx means "we have it").

- Items are archived through `GatewayService.submit` (raw bytes and the intake announcement in one
  transaction); an item the connector holds (`HOLD`: an order update, a stale delivery) is archived
  with its failure in one transaction and never announced; a refused item (too large) is an empty
  document with its failure (`gateway.inbox.record_refusal`).
- Delivery ids (`DELIVERY_ID`) are kept per partner channel in `webhook_deliveries`: claimed before the
  archive, settled with the document id after it, released if the archive failed. A repeat of a settled
  delivery is answered 200 with the first document; one still being taken in, 409 (retry later); a
  claim older than `CLAIM_LEASE_SECONDS` without a document (a crash) is taken over. Rows older than
  the duplicate window (`ORDERGATE_DUPLICATE_WINDOW_DAYS`) are pruned as new deliveries are claimed.
- A request that is not provably the partner's is neither archived nor described to the sender: it is
  logged with the reason and counted (`ordergate_push_requests_total{outcome="unauthenticated"}`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from connectors import registry
from connectors.base import InboundItem, Outcome, PushConnector, SecretSource
from connectors.webhooks.base import DELIVERY_ID, DUPLICATE, HOLD, IN_PROGRESS, PushRejected, Unauthenticated
from gateway.channels import Secrets, build_connector, get_channel
from gateway.core.errors import ConfigError, ConnectorRejected, GatewayError, Issue
from gateway.inbox import record_refusal
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import PartnerChannel, WebhookDelivery

log = logging.getLogger("ordergate.push")

INBOUND_ROUTE = "/inbound"
"""The generic route for pushed channels (`partner_portal.routes.inbound`)."""

CLAIM_LEASE_SECONDS = 60.0
JSON = {"content-type": "application/json"}


class Submitter(Protocol):
    """What archives a document and announces it to the pipeline: the `GatewayService`."""

    database: Database

    async def submit(
        self,
        raw: bytes,
        *,
        channel: str,
        filename: str | None = None,
        content_type: str | None = None,
        partner_id: str | None = None,
    ) -> str: ...


@dataclass(frozen=True, slots=True)
class Reply:
    """The HTTP answer, and the outcome it is counted under."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    outcome: str


def error_reply(status: int, code: str, message: str, outcome: str) -> Reply:
    headers = {**JSON, "retry-after": "60"} if status in (409, 503) else JSON
    return Reply(status, headers, json.dumps({"error": {"code": code, "message": message}}).encode(), outcome)


# Metrics --------------------------------------------------------------------------------------------


class PushMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "ordergate_push_requests",
            "Pushed requests (webhooks) by channel kind and outcome: received, duplicate, held, ping, "
            "unauthenticated, bad_request, too_large, in_progress, unavailable, misconfigured, "
            "unknown_channel.",
            ["kind", "outcome"],
            registry=registry,
        )

    def count(self, kind: str, outcome: str) -> None:
        self.requests.labels(kind=kind, outcome=outcome).inc()


_metrics: weakref.WeakKeyDictionary[CollectorRegistry, PushMetrics] = weakref.WeakKeyDictionary()
_metrics_lock = threading.Lock()


def push_metrics(registry: CollectorRegistry) -> PushMetrics:
    """The push counters on `registry` (the pipeline's, so `/metrics` shows them), created once."""
    with _metrics_lock:
        found = _metrics.get(registry)
        if found is None:
            found = _metrics[registry] = PushMetrics(registry)
        return found


# Delivery ids ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    state: Literal["new", "taken", "busy"]
    document_id: str | None = None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _find(
    session: AsyncSession, partner_id: str, channel: str, delivery: str
) -> WebhookDelivery | None:
    query = select(WebhookDelivery).where(
        WebhookDelivery.partner_id == partner_id,
        WebhookDelivery.channel == channel,
        WebhookDelivery.delivery_id == delivery,
    )
    return (await session.scalars(query)).first()


async def claim_delivery(
    database: Database, partner_id: str, channel: str, delivery: str, *, keep_days: int
) -> Claim:
    """Take a delivery id before archiving its document: "new" (go ahead), "taken" (a repeat; its
    document is given) or "busy" (another request holds it now)."""
    now = repo.utcnow()
    try:
        async with database.transaction() as session:
            await session.execute(
                delete(WebhookDelivery).where(WebhookDelivery.claimed_at < now - timedelta(days=keep_days))
            )
            row = await _find(session, partner_id, channel, delivery)
            if row is None:
                session.add(
                    WebhookDelivery(
                        partner_id=partner_id, channel=channel, delivery_id=delivery, claimed_at=now
                    )
                )
                await session.flush()
                return Claim("new")
            if row.document_id is not None:
                return Claim("taken", row.document_id)
            if now - _aware(row.claimed_at) < timedelta(seconds=CLAIM_LEASE_SECONDS):
                return Claim("busy")
            row.claimed_at = now  # left behind by a crash before the archive: take it over
            return Claim("new")
    except IntegrityError:  # a concurrent request inserted the same id first
        return Claim("busy")


async def settle_delivery(
    database: Database, partner_id: str, channel: str, delivery: str, document_id: str | None
) -> None:
    """Record the document a claimed delivery became, or (None) release the claim so a retry may try
    again. Best effort: a claim left behind runs out after its lease."""
    try:
        async with database.transaction() as session:
            row = await _find(session, partner_id, channel, delivery)
            if row is None:
                return
            if document_id is None:
                await session.delete(row)
            else:
                row.document_id = document_id
    except Exception:
        log.warning(
            "delivery %s of %s/%s: could not update its record", delivery, partner_id, channel, exc_info=True
        )


# Archiving ------------------------------------------------------------------------------------------


async def archive_held(database: Database, item: InboundItem, issue: Issue) -> str:
    """Authentic bytes kept but not translated: the document and its failure commit together, and
    nothing announces it, so only a replay (`ordergate failed replay`) processes it."""
    async with database.transaction() as session:
        document = await repo.archive_document(
            session,
            item.payload,
            channel=item.channel,
            filename=item.filename,
            content_type=item.content_type,
            partner_id=item.partner_id,
        )
        await repo.record_failure(session, document_id=document.id, stage="receive", issues=[issue])
        document.status, document.processed_at = "failed", repo.utcnow()
        return document.id


class PushReceiver:
    """Takes pushed requests for the partners' channels into the archive."""

    def __init__(
        self,
        service: Submitter,
        *,
        max_document_bytes: int,
        keep_days: int,
        metrics: PushMetrics,
        secrets: SecretSource | None = None,
    ) -> None:
        self.service = service
        self.database = service.database
        self.max_document_bytes = max_document_bytes
        self.keep_days = keep_days
        self.metrics = metrics
        self.secrets = secrets or Secrets()

    async def channel(self, partner_id: str, name: str) -> PartnerChannel | None:
        """The enabled inbound push channel at this address, or None (one answer for every reason, so
        the address says nothing about which partners or channels exist)."""
        async with self.database.session() as session:
            row = await get_channel(session, partner_id, name)
        if row is None or not row.enabled or row.direction not in ("inbound", "both"):
            return None
        try:
            spec = registry.get(row.kind)
        except ConfigError:
            return None
        # A kind with its own endpoint (AS2: duplicate Message-IDs, MDNs) is never taken in here.
        return row if spec.push and spec.push_route == INBOUND_ROUTE else None

    async def find(self, partner_id: str, name: str) -> PartnerChannel | Reply:
        """The channel, or the reply when there is none (404) or the database cannot say (503)."""
        try:
            row = await self.channel(partner_id, name)
        except Exception:
            log.exception("inbound %s/%s: the channel could not be looked up", partner_id, name)
            self.metrics.count("unknown", "unavailable")
            return error_reply(
                503, "NOT_TAKEN", "the delivery could not be taken in; retry later", "unavailable"
            )
        return row if row is not None else self.unknown()

    def unknown(self) -> Reply:
        self.metrics.count("unknown", "unknown_channel")
        return error_reply(
            404, "UNKNOWN_CHANNEL", "no channel takes deliveries at this address", "unknown_channel"
        )

    async def too_large(self, row: PartnerChannel, size: int | None, *, peer: str | None) -> Reply:
        """A body above the limit, refused before it is read (so its signature is never checked): an
        empty document with the failure, claimed by the channel's partner but not attributed."""
        stated = f"{size} bytes" if size is not None else f"more than {self.max_document_bytes} bytes"
        issue = Issue(
            code="DOCUMENT_TOO_LARGE",
            message=f"a {row.kind} delivery to channel {row.name} of {stated} is larger than the limit of "
            f"{self.max_document_bytes} (ORDERGATE_MAX_DOCUMENT_BYTES); it was refused with 413 unread, "
            "its signature unchecked",
        )
        item = InboundItem(b"", row.name, row.partner_id, f"{row.kind} delivery", refusal=issue)
        try:
            result = await record_refusal(self.database, item)
            log.warning(
                "inbound %s/%s from %s: %s (document %s)",
                row.partner_id,
                row.name,
                peer,
                stated,
                result.document_id,
            )
        except Exception:
            log.exception(
                "inbound %s/%s: could not record the refusal of an oversized delivery",
                row.partner_id,
                row.name,
            )
        self.metrics.count(row.kind, "too_large")
        return error_reply(
            413, "DOCUMENT_TOO_LARGE", f"the body is larger than {self.max_document_bytes} bytes", "too_large"
        )

    async def handle(
        self, row: PartnerChannel, body: bytes, headers: Mapping[str, str], *, peer: str | None
    ) -> Reply:
        reply = await self._handle(row, body, headers, peer=peer)
        self.metrics.count(row.kind, reply.outcome)
        return reply

    async def _handle(
        self, row: PartnerChannel, body: bytes, headers: Mapping[str, str], *, peer: str | None
    ) -> Reply:
        where = f"inbound {row.partner_id}/{row.name} ({row.kind}) from {peer or 'unknown peer'}"
        try:
            connector = build_connector(row, max_document_bytes=self.max_document_bytes, secrets=self.secrets)
        except GatewayError as error:
            log.error("%s: the channel cannot be built: %s", where, error)
            return _misconfigured()
        assert isinstance(connector, PushConnector), f"{row.kind} declares push but cannot receive"
        try:
            try:
                items = await connector.receive(body, headers)
            except Unauthenticated as error:
                log.warning("%s: refused, not archived: %s", where, error)
                return error_reply(
                    401, "UNAUTHENTICATED", "the request could not be authenticated", "unauthenticated"
                )
            except PushRejected as error:
                log.warning("%s: refused: %s", where, error)
                return error_reply(error.status, error.code, error.message, "bad_request")
            except ConnectorRejected as error:
                log.warning("%s: refused: %s", where, error)
                return error_reply(400, error.code, "the request was refused", "bad_request")
            except ConfigError as error:  # a secret is missing: ours to fix, the sender should retry
                log.error("%s: cannot verify deliveries: %s", where, error)
                return _misconfigured()
            outcomes = [await self._take(row, item, where) for item in items]
            answer = await connector.answer(outcomes)
        except Exception:
            log.exception("%s: failed unexpectedly; answered 503 so the sender retries", where)
            return error_reply(
                503, "NOT_TAKEN", "the delivery could not be taken in; retry later", "unavailable"
            )
        finally:
            await connector.aclose()
        return Reply(answer.status, dict(answer.headers), answer.body, _outcome(outcomes, answer.status))

    async def _take(self, row: PartnerChannel, item: InboundItem, where: str) -> Outcome:
        """Commit one item, or say why not (document_id None)."""
        if item.refusal is not None:
            result = await record_refusal(self.database, item)
            return Outcome(item, result.document_id, accepted=False)
        delivery = item.meta.get(DELIVERY_ID)
        if isinstance(delivery, str):
            claim = await claim_delivery(
                self.database, row.partner_id, row.name, delivery, keep_days=self.keep_days
            )
            if claim.state == "taken":
                log.info("%s: delivery %s repeated; it is document %s", where, delivery, claim.document_id)
                return Outcome(_mark(item, DUPLICATE), claim.document_id, accepted=True)
            if claim.state == "busy":
                log.info("%s: delivery %s is being taken in by another request", where, delivery)
                return Outcome(_mark(item, IN_PROGRESS), None, accepted=False)
        hold = item.meta.get(HOLD)
        try:
            if isinstance(hold, Issue):
                document_id = await archive_held(self.database, item, hold)
            else:
                document_id = await self.service.submit(
                    item.payload,
                    channel=item.channel,
                    filename=item.filename,
                    content_type=item.content_type,
                    partner_id=item.partner_id,
                )
        except Exception:
            log.exception("%s: delivery %s could not be archived", where, delivery)
            if isinstance(delivery, str):
                await settle_delivery(self.database, row.partner_id, row.name, delivery, None)
            return Outcome(item, None, accepted=False)
        if isinstance(delivery, str):
            await settle_delivery(self.database, row.partner_id, row.name, delivery, document_id)
        log.info(
            "%s: delivery %s is document %s%s",
            where,
            delivery,
            document_id,
            f", held: {hold.describe()}" if isinstance(hold, Issue) else "",
        )
        return Outcome(item, document_id, accepted=not isinstance(hold, Issue))


def _mark(item: InboundItem, flag: str) -> InboundItem:
    return dataclasses.replace(item, meta={**item.meta, flag: True})


def _misconfigured() -> Reply:
    return error_reply(
        503, "CHANNEL_UNAVAILABLE", "this channel cannot take deliveries now; retry later", "misconfigured"
    )


def _outcome(outcomes: list[Outcome], status: int) -> str:
    """The metric's outcome for an answered request."""
    if status == 409:
        return "in_progress"
    if status == 413:
        return "too_large"
    if status >= 500:
        return "unavailable"
    if not outcomes:
        return "ping"
    if all(o.item.meta.get(DUPLICATE) for o in outcomes):
        return "duplicate"
    if any(o.item.meta.get(HOLD) for o in outcomes):
        return "held"
    return "received" if status < 300 else "refused"


__all__ = [
    "CLAIM_LEASE_SECONDS",
    "Claim",
    "PushMetrics",
    "PushReceiver",
    "Reply",
    "Submitter",
    "archive_held",
    "claim_delivery",
    "error_reply",
    "push_metrics",
    "settle_delivery",
]
