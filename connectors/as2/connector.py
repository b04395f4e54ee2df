"""The AS2 connector of one partner channel: pushed inbound (receive → item; answer → MDN) and outbound
(send → Receipt once the MDN says `processed`).

Inbound, `receive` verifies and opens the message or raises `As2Refused` carrying the negative MDN;
`answer` is built only after the archive commit was attempted: a positive MDN for a stored document (or
a resend of one), a negative MDN for a refused item, 503 without an MDN when the archive failed (the
partner sends again). A requested async MDN is returned as `As2Answer.async_mdn` for the HTTP layer to
post after its response (`deliver`).

Outbound, `send` posts a signed, encrypted (optionally compressed) message and, in sync mode, verifies
the MDN in the response: its signature with the partner's certificate, its disposition, and the MIC
against ours. In async mode the message is recorded in the store before the POST and the MDN arrives at
`accept_mdn` (the `/as2/<partner>/<channel>/mdn` endpoint); `send` waits for it up to
`async_mdn_wait_seconds`, else returns a Receipt saying `mdn=pending`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.as2 import inbound, keys, mdn, outbound
from connectors.as2.inbound import As2Answer, As2Refused, AsyncMdn, Received
from connectors.as2.settings import As2Settings
from connectors.as2.store import As2Store, SentMessage
from connectors.base import (
    ChannelContext,
    Check,
    InboundItem,
    Outcome,
    Receipt,
    SecretSource,
    display_name,
    single_component,
    too_large,
)
from gateway.core.errors import ConfigError, ConnectorRejected, ConnectorUnavailable, GatewayError

log = logging.getLogger("ordergate.connectors.as2")

AS2 = "as2"  # the key of the `Received` facts in an item's meta
RETRY_AFTER_SECONDS = 60
ASYNC_MDN_ATTEMPTS = (0.0, 2.0, 10.0)  # seconds before each attempt to post an async MDN


class As2Connector:
    def __init__(
        self,
        settings: As2Settings,
        secrets: SecretSource,
        context: ChannelContext,
        *,
        store: As2Store | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.secrets = secrets
        self.channel = context.channel
        self.partner_id = context.partner_id
        self.max_bytes = context.max_document_bytes
        self.direction = context.direction
        self._store = store
        self._owned_store: As2Store | None = None
        self._client = client
        self._owned_client: httpx.AsyncClient | None = None
        self._material: keys.KeyMaterial | None = None
        self._pyas2: tuple[Any, Any, Any] | None = None  # organization, outbound partner, inbound partner

    def __repr__(self) -> str:
        return (
            f"As2Connector(channel={self.channel!r}, {self.settings.as2_id!r} <-> "
            f"{self.settings.partner_as2_id!r}, url={self.settings.partner_url!r})"
        )

    # Key material -----------------------------------------------------------------------------------

    def material(self) -> keys.KeyMaterial:
        if self._material is None:
            self._material = keys.load(self.settings, self.secrets)
        return self._material

    def _profiles(self) -> tuple[Any, Any, Any]:
        if self._pyas2 is None:
            material = self.material()
            problem = keys.validity_problem(material.partner_certificate)
            if problem:
                raise keys.KeyProblem(f"the partner's certificate {problem}")
            self._pyas2 = (
                keys.organization(self.settings, material),
                keys.partner(self.settings, material),
                keys.inbound_partner(self.settings, material),
            )
        return self._pyas2

    @property
    def store(self) -> As2Store:
        if self._store is None:
            self._owned_store = self._store = As2Store.from_settings()
        return self._store

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._owned_client = self._client = httpx.AsyncClient()
        return self._client

    # Inbound ----------------------------------------------------------------------------------------

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> Sequence[InboundItem]:
        """One item for a message that passed every check; `As2Refused` (with its MDN) otherwise.
        `KeyProblem` (a `ConfigError`) when our own keys cannot be used: ours to fix, not the sender's."""
        organization, _, partner = self._profiles()
        raw = inbound.mime_bytes(body, headers)
        received = await asyncio.to_thread(
            inbound.parse,
            raw,
            organization=organization,
            partner=partner,
            as2_id=self.settings.as2_id,
            partner_as2_id=self.settings.partner_as2_id,
        )
        name = display_name(received.filename, fallback=f"as2-{received.sha256[:12]}")
        meta = {AS2: received, "message_id": received.message_id}
        if len(received.payload) > self.max_bytes:
            refusal = too_large(len(received.payload), self.max_bytes, name)
            return [
                InboundItem(b"", self.channel, self.partner_id, name, received.content_type, meta, refusal)
            ]
        return [
            InboundItem(received.payload, self.channel, self.partner_id, name, received.content_type, meta)
        ]

    async def answer(self, outcomes: Sequence[Outcome]) -> As2Answer:
        if len(outcomes) != 1 or not isinstance(outcomes[0].item.meta.get(AS2), Received):
            raise ValueError("an AS2 answer is about exactly one received message")
        outcome = outcomes[0]
        received: Received = outcome.item.meta[AS2]
        refusal = outcome.item.refusal
        if refusal is None and outcome.document_id is None:
            return As2Answer(
                503,
                {"Retry-After": str(RETRY_AFTER_SECONDS), "Content-Type": "text/plain; charset=utf-8"},
                b"The message was not stored; send it again later.\n",
            )
        if refusal is not None or not outcome.accepted:
            reason = refusal.message if refusal is not None else "the message was not taken"
            disposition, text = (
                mdn.refused("unexpected-processing-error"),
                f"The AS2 message was not taken: {reason}",
            )
        else:
            disposition, text = mdn.STORED, keys.MDN_TEXT
        if received.mdn is None:
            status = 200 if disposition.positive else 400
            return As2Answer(
                status, {"Content-Type": "text/plain; charset=utf-8"}, f"{disposition}\n".encode()
            )
        headers, body = await asyncio.to_thread(mdn.build, received.message, disposition, text)
        if received.mdn.async_url is None:
            return As2Answer(200, headers, body)
        delivery = AsyncMdn(received.mdn.async_url, headers, body, received.message_id)
        return As2Answer(200, {"Content-Type": "text/plain; charset=utf-8"}, b"", async_mdn=delivery)

    async def deliver(self, delivery: AsyncMdn) -> bool:
        """Post an async MDN, retrying briefly; False when it could not be delivered (the partner will
        resend the message, and the resend gets the same answer)."""
        last = ""
        for wait in ASYNC_MDN_ATTEMPTS:
            await asyncio.sleep(wait)
            try:
                response = await self.client.post(
                    delivery.url,
                    content=delivery.body,
                    headers=dict(delivery.headers),
                    timeout=self.settings.timeout_seconds,
                    follow_redirects=False,
                )
            except httpx.HTTPError as error:
                last = f"{type(error).__name__}: {error}"
                continue
            if response.status_code < 300:
                log.info("channel %s: async MDN for %s delivered", self.channel, delivery.original_message_id)
                return True
            last = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                break
        log.warning(
            "channel %s: async MDN for %s not delivered to %s: %s",
            self.channel,
            delivery.original_message_id,
            delivery.url,
            last,
        )
        return False

    # Outbound ---------------------------------------------------------------------------------------

    async def send(self, payload: bytes, *, filename: str, meta: Mapping[str, str] | None = None) -> Receipt:
        settings = self.settings
        if not single_component(filename) or filename.startswith(".") or len(filename) > 200:
            raise ConnectorRejected(
                f"{filename!r} is not a plain file name", code="BAD_REMOTE_NAME", element="filename"
            )
        if settings.partner_url is None:
            raise ConnectorRejected(
                f"channel {self.channel}: no partner_url to send to", code="AS2_NO_PARTNER_URL"
            )
        try:
            organization, partner, _ = self._profiles()
        except GatewayError as error:
            raise ConnectorRejected(f"channel {self.channel}: {error.message}", code=error.code) from None
        content_type = (meta or {}).get("content_type") or settings.content_type
        outgoing = await asyncio.to_thread(
            outbound.build,
            settings,
            organization,
            partner,
            payload,
            filename=filename,
            content_type=content_type,
        )
        sha256 = hashlib.sha256(payload).hexdigest()
        tracked = settings.mdn_mode == "async"
        if tracked:
            await self.store.sending(
                message_id=outgoing.message_id,
                partner_id=self.partner_id,
                channel=self.channel,
                as2_from=settings.as2_id,
                as2_to=settings.partner_as2_id,
                filename=filename,
                sha256=sha256,
                mic=outgoing.mic,
                mic_algorithm=outgoing.digest_algorithm,
                mdn_mode=settings.mdn_mode,
            )
        response = await outbound.post(
            self.client, settings.partner_url, outgoing, timeout=settings.timeout_seconds
        )
        details = {
            "transport": "as2",
            "url": settings.partner_url,
            "message_id": outgoing.message_id,
            "mic": outgoing.mic or "",
            "mic_algorithm": outgoing.digest_algorithm or "",
        }
        if settings.mdn_mode == "sync":
            verdict = await self._sync_mdn(response, outgoing)
            details |= {"mdn": "processed", "disposition": verdict.disposition}
        elif tracked:
            await self.store.update_sent(outgoing.message_id, status="awaiting_mdn")
            details |= await self._await_async(outgoing.message_id)
        else:
            details["mdn"] = "none"
        log.info("channel %s: AS2 message %s sent (%s)", self.channel, outgoing.message_id, details["mdn"])
        # Where it landed: the partner, under the file name; the Message-ID is in the details.
        remote = f"{settings.partner_as2_id}/{filename}"
        return Receipt(self.channel, remote, len(payload), datetime.now(UTC), details)

    async def _sync_mdn(self, response: httpx.Response, outgoing: outbound.Outgoing) -> mdn.MdnVerdict:
        if not response.content.strip():
            raise ConnectorUnavailable(
                f"AS2 message {outgoing.message_id}: {self.settings.partner_url} answered HTTP "
                f"{response.status_code} without the MDN; it is sent again under the same Message-ID",
                code="AS2_MDN_MISSING",
            )
        verdict = await asyncio.to_thread(mdn.read, outbound.response_mime(response), outgoing.message)
        if not verdict.ok:
            raise ConnectorRejected(
                f"AS2 message {outgoing.message_id}: {verdict.problem}", code=verdict.code
            )
        return verdict

    async def _await_async(self, message_id: str) -> dict[str, str]:
        """Wait up to `async_mdn_wait_seconds` for the MDN to be recorded by `accept_mdn`."""
        deadline = asyncio.get_running_loop().time() + self.settings.async_mdn_wait_seconds
        while True:
            sent = await self.store.get_sent(message_id)
            if sent is not None and sent.status == "failed":
                raise ConnectorRejected(
                    f"AS2 message {message_id}: {sent.detail or sent.disposition}", code="AS2_MDN_NEGATIVE"
                )
            if sent is not None and sent.status == "processed":
                return {"mdn": "processed", "disposition": sent.disposition or "processed"}
            if asyncio.get_running_loop().time() >= deadline:
                return {"mdn": "pending"}
            await asyncio.sleep(0.05)

    async def accept_mdn(self, body: bytes, headers: Mapping[str, str]) -> mdn.MdnVerdict:
        """An async MDN for a message this channel sent: verified against the MIC we recorded, and
        recorded as its outcome. `ConnectorRejected` when it is for no message of ours."""
        raw = inbound.mime_bytes(body, headers)
        message_id = await asyncio.to_thread(mdn.original_message_id, raw)
        sent = await self.store.get_sent(message_id) if message_id else None
        if sent is None or sent.channel != self.channel or sent.partner_id != self.partner_id:
            raise ConnectorRejected(
                f"channel {self.channel}: an MDN for {message_id or 'no Message-ID'}, which this channel did "
                "not send",
                code="AS2_MDN_UNKNOWN_MESSAGE",
            )
        organization, partner, _ = self._profiles()
        original = outbound.original(
            organization, partner, message_id=sent.message_id, mic=sent.mic, digest=sent.mic_algorithm
        )
        verdict = await asyncio.to_thread(mdn.read, raw, original)
        await self.store.update_sent(
            sent.message_id,
            status="processed" if verdict.ok else "failed",
            disposition=verdict.disposition,
            detail=verdict.problem,
        )
        log.log(
            logging.INFO if verdict.ok else logging.WARNING,
            "channel %s: async MDN for %s: %s",
            self.channel,
            sent.message_id,
            verdict.problem or verdict.disposition,
        )
        return verdict

    async def mdn_status(self, message_id: str) -> SentMessage | None:
        return await self.store.get_sent(message_id)

    # Both -------------------------------------------------------------------------------------------

    async def check(self) -> Sequence[Check]:
        try:
            material = self.material()
        except (ConfigError, GatewayError) as error:
            return [Check("keys", False, error.message)]
        checks = [Check("key pair", True, "our private key matches our certificate")]
        for label, certificate in (
            ("our certificate", material.certificate),
            ("partner certificate", material.partner_certificate),
        ):
            problem = keys.validity_problem(certificate)
            subject = certificate.subject.rfc4514_string()
            checks.append(
                Check(
                    label,
                    problem is None,
                    f"{subject} {problem}"
                    if problem
                    else f"{subject} valid until {certificate.not_valid_after_utc:%Y-%m-%d}",
                )
            )
        try:
            self._profiles()
        except GatewayError as error:
            checks.append(Check("pyas2lib", False, error.message))
        except Exception as error:  # pyas2lib refusing the material
            checks.append(Check("pyas2lib", False, f"the keys cannot be used for AS2: {error}"))
        else:
            checks.append(Check("pyas2lib", True, "keys and certificates load for signing and encryption"))
        if self.direction in ("outbound", "both"):
            checks.append(await self._check_url())
        return checks

    async def _check_url(self) -> Check:
        url = self.settings.partner_url
        if url is None:
            return Check("partner url", False, "no partner_url is set: nothing can be sent")
        try:
            response = await self.client.request(
                "OPTIONS", url, timeout=min(self.settings.timeout_seconds, 15)
            )
        except httpx.HTTPError as error:
            return Check("partner url", False, f"{url} cannot be reached: {type(error).__name__}: {error}")
        if response.status_code >= 500:
            return Check("partner url", False, f"{url} answered OPTIONS with HTTP {response.status_code}")
        return Check("partner url", True, f"{url} answered (HTTP {response.status_code})")

    async def aclose(self) -> None:
        if self._owned_client is not None:
            await self._owned_client.aclose()
            self._owned_client = self._client = None
        if self._owned_store is not None:
            await self._owned_store.aclose()
            self._owned_store = self._store = None


__all__ = ["AS2", "As2Connector", "As2Refused"]
