"""AS2 endpoints: `POST /as2/{partner}/{channel}` takes a partner's message in and answers with its MDN;
`POST /as2/{partner}/{channel}/mdn` takes the async MDNs for messages we sent on that channel.

A message is archived (committed) before any MDN is built: the synchronous MDN is the HTTP response, an
async one is posted after the response has gone. A resend of a Message-ID already taken gets a positive
MDN and no second document; an archive that fails gets 503 (no MDN) so the partner sends again. A
refused message (unknown AS2 names, bad signature, undecryptable) gets its negative MDN and leaves
nothing in the archive.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from fastapi import APIRouter, BackgroundTasks, Request, Response

from connectors.as2.settings import As2Settings
from connectors.as2.store import As2Store
from connectors.base import ChannelContext, InboundItem, Outcome
from connectors.registry import parse_settings
from gateway.channels import Secrets, get_channel
from gateway.core.errors import ConfigError, ConnectorRejected, Issue
from gateway.inbox import record_refusal
from gateway.service import GatewayService
from gateway.settings import Settings
from partner_portal.deps import ServiceDep, SettingsDep

if TYPE_CHECKING:  # pyas2lib (and its crypto) loads with the first AS2 request, not with the portal
    from connectors.as2.connector import As2Connector
    from connectors.as2.inbound import As2Answer, AsyncMdn

log = logging.getLogger("ordergate.as2")

router = APIRouter(prefix="/as2", tags=["as2"])

ENVELOPE_ALLOWANCE = 1024 * 1024  # signature, CMS and MIME headers around the largest document
TEXT = "text/plain; charset=utf-8"
MESSAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/pkcs7-mime": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _text(status: int, text: str, **headers: str) -> Response:
    return Response(f"{text}\n".encode(), status, headers={"Content-Type": TEXT, **headers})


def _reply(answer: As2Answer) -> Response:
    return Response(answer.body, answer.status, headers=dict(answer.headers))


async def _body(request: Request, limit: int) -> bytes | None:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


async def _connector(
    service: GatewayService, settings: Settings, partner: str, channel: str, *, outbound: bool
) -> As2Connector | None:
    """The connector of an enabled AS2 channel at this address, or None (one answer whatever the
    reason, so the address says nothing about which partners exist)."""
    async with service.database.session() as session:
        row = await get_channel(session, partner, channel)
    wanted = ("outbound", "both") if outbound else ("inbound", "both")
    if row is None or row.kind != "as2" or not row.enabled or row.direction not in wanted:
        return None
    from connectors.as2.connector import As2Connector

    parsed = parse_settings("as2", row.settings)
    assert isinstance(parsed, As2Settings)
    context = ChannelContext(row.name, row.partner_id, settings.max_document_bytes, row.direction)  # type: ignore[arg-type]
    store = As2Store(service.database, keep_days=settings.duplicate_window_days)
    return As2Connector(parsed, Secrets(), context, store=store)


@router.options("/{partner}/{channel}", include_in_schema=False)
async def options(partner: str, channel: str) -> Response:
    """What a partner's connection test (and our own `check`) sends: the endpoint is here."""
    return Response(status_code=200, headers={"Allow": "POST, OPTIONS"})


@router.post("/{partner}/{channel}", summary="Receive an AS2 message", openapi_extra=MESSAGE_BODY)
async def receive_message(
    partner: str,
    channel: str,
    request: Request,
    background: BackgroundTasks,
    service: ServiceDep,
    settings: SettingsDep,
) -> Response:
    where = f"AS2 {partner}/{channel} from {request.client.host if request.client else 'unknown peer'}"
    try:
        connector = await _connector(service, settings, partner, channel, outbound=False)
    except Exception:
        log.exception("%s: the channel could not be looked up", where)
        return _text(503, "The message was not taken; send it again later.", **{"Retry-After": "60"})
    if connector is None:
        return _text(404, "No AS2 channel takes messages at this address.")
    body = await _body(request, 2 * settings.max_document_bytes + ENVELOPE_ALLOWANCE)
    if body is None:
        await connector.aclose()
        log.warning("%s: refused unread, larger than the limit", where)
        return _text(413, f"The message is larger than {settings.max_document_bytes} bytes allow.")
    delivery: AsyncMdn | None = None
    try:
        answer = await _handle(service, connector, body, request.headers, where)
        delivery = answer.async_mdn
        return _reply(answer)
    finally:
        if delivery is not None:
            background.add_task(_deliver, connector, delivery)
        else:
            await connector.aclose()


async def _handle(
    service: GatewayService, connector: As2Connector, body: bytes, headers: Mapping[str, str], where: str
) -> As2Answer:
    from connectors.as2.inbound import As2Answer, As2Refused

    try:
        (item,) = await connector.receive(body, headers)
    except As2Refused as refusal:
        log.warning("%s: %s; nothing archived", where, refusal.message)
        return refusal.answer
    except ConfigError as error:  # our keys or secrets: ours to fix, the sender retries
        log.error("%s: the channel cannot take messages: %s", where, error)
        return As2Answer(503, {"Content-Type": TEXT, "Retry-After": "60"}, b"The message was not taken.\n")
    except Exception:
        log.exception("%s: reading the message failed unexpectedly; answered 503", where)
        return As2Answer(503, {"Content-Type": TEXT, "Retry-After": "60"}, b"The message was not taken.\n")
    outcome = await _take(service, connector, item, where)
    return await connector.answer([outcome])


async def _take(service: GatewayService, connector: As2Connector, item: InboundItem, where: str) -> Outcome:
    """Commit the message's payload, or say why not: a resend is its first document, a refusal an
    empty document with its failure, a failed archive `document_id=None` (503)."""
    from connectors.as2.connector import AS2
    from connectors.as2.inbound import Received

    received = item.meta[AS2]
    assert isinstance(received, Received)
    store = connector.store
    key = {"as2_from": received.as2_from, "as2_to": received.as2_to, "message_id": received.message_id}
    try:
        if item.refusal is not None:
            result = await record_refusal(service.database, item)
            log.warning("%s: message %s refused: %s", where, received.message_id, item.refusal.message)
            return Outcome(item, result.document_id, accepted=False)
        claim = await store.claim(
            partner_id=item.partner_id or "", channel=item.channel, sha256=received.sha256, **key
        )
        if claim.state == "taken":
            log.info(
                "%s: message %s resent; it is document %s", where, received.message_id, claim.document_id
            )
            return Outcome(item, claim.document_id, accepted=True)
        if claim.state == "busy":
            log.info("%s: message %s is being taken in by another request", where, received.message_id)
            return Outcome(item, None, accepted=False)
        if claim.state == "conflict":
            issue = Issue(
                code="AS2_MESSAGE_ID_REUSED",
                message=f"Message-ID {received.message_id} was already used for other content "
                f"(document {claim.document_id}); a new message needs a new Message-ID",
            )
            refused = dataclasses.replace(item, payload=b"", refusal=issue)
            result = await record_refusal(service.database, refused)
            log.warning("%s: %s", where, issue.message)
            return Outcome(refused, result.document_id, accepted=False)
    except Exception:
        log.exception("%s: message %s could not be checked or recorded", where, received.message_id)
        return Outcome(item, None, accepted=False)
    try:
        document_id = await service.submit(
            item.payload,
            channel=item.channel,
            filename=item.filename,
            content_type=item.content_type,
            partner_id=item.partner_id,
        )
    except Exception:
        log.exception("%s: message %s could not be archived; answered 503", where, received.message_id)
        await store.settle(document_id=None, **key)
        return Outcome(item, None, accepted=False)
    await store.settle(document_id=document_id, **key)
    log.info("%s: message %s is document %s", where, received.message_id, document_id)
    return Outcome(item, document_id, accepted=True)


async def _deliver(connector: As2Connector, delivery: AsyncMdn) -> None:
    try:
        await connector.deliver(delivery)
    finally:
        await connector.aclose()


@router.post("/{partner}/{channel}/mdn", summary="Receive an async MDN for a message we sent")
async def receive_mdn(
    partner: str, channel: str, request: Request, service: ServiceDep, settings: SettingsDep
) -> Response:
    connector = await _connector(service, settings, partner, channel, outbound=True)
    if connector is None:
        return _text(404, "No AS2 channel takes MDNs at this address.")
    try:
        body = await _body(request, ENVELOPE_ALLOWANCE)
        if body is None:
            return _text(413, "An MDN is not that large.")
        verdict = await connector.accept_mdn(body, request.headers)
    except ConnectorRejected as error:
        log.warning("AS2 %s/%s: MDN refused: %s", partner, channel, error.message)
        return _text(400, error.message)
    except ConfigError as error:
        log.error("AS2 %s/%s: cannot verify MDNs: %s", partner, channel, error)
        return _text(503, "The MDN could not be checked; send it again later.", **{"Retry-After": "60"})
    finally:
        await connector.aclose()
    return _text(200, f"MDN recorded: {verdict.disposition}")
