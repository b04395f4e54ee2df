"""AS2 between two ordergate profiles on 127.0.0.1 (real apps under uvicorn, real HTTP, pyas2lib on both
sides): an EDIFACT order sent by ALPHA becomes a canonical order at BRAVO, acknowledged by a signed MDN
whose MIC ALPHA checks; the async variant; resends; forged, tampered and undecryptable messages; a
failing archive."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from connectors.as2 import keys, mdn, outbound
from connectors.as2.connector import As2Connector
from gateway.core.errors import ConnectorRejected, ConnectorUnavailable
from gateway.storage.models import As2Received, As2Sent
from tests.connectors.as2.conftest import EDIFACT, Profile, wait_for
from tests.connectors.as2.pki import identity

# pyas2lib sends text types in MIME canonical form: line ends become CRLF (the MIC covers that form).
CANONICAL = EDIFACT.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


async def send(connector: As2Connector, payload: bytes = EDIFACT, filename: str = "po-4711.edi") -> Any:
    try:
        return await connector.send(payload, filename=filename)
    finally:
        await connector.aclose()


async def received_rows(profile: Profile) -> list[As2Received]:
    async with profile.database.session() as session:
        return list((await session.scalars(select(As2Received))).all())


async def test_an_order_sent_by_alpha_becomes_a_canonical_order_at_bravo(
    profiles: tuple[Profile, Profile],
) -> None:
    alpha, bravo = profiles
    receipt = await send(alpha.connector())

    assert receipt.details["mdn"] == "processed" and receipt.details["disposition"] == "processed"
    assert receipt.remote_ref == "BRAVO/po-4711.edi" and receipt.size == len(EDIFACT)
    assert receipt.details["message_id"].endswith("@alpha.as2.ordergate")
    assert receipt.details["mic_algorithm"] == "sha256" and receipt.details["mic"]
    [document] = await bravo.documents()
    assert document.channel == "as2" and document.claimed_partner == "alpha"
    assert document.filename == "po-4711.edi" and document.content_type == "application/edifact"
    settled = await bravo.settled(document.id)
    assert settled.status == "accepted" and settled.partner_id == "alpha"
    assert await bravo.order_count() == 1
    async with bravo.database.session() as session:
        from gateway.storage import repository as repo

        raw = await repo.get_document(session, document.id, with_raw=True)
        assert raw is not None and raw.raw == CANONICAL
        [order] = await repo.list_orders(session, document_id=document.id)
        assert order.order_number == "PO-4711"
    [row] = await received_rows(bravo)
    assert (row.as2_from, row.as2_to, row.document_id) == ("ALPHA", "BRAVO", document.id)
    assert row.message_id == receipt.details["message_id"]


async def test_the_sync_mdn_is_signed_and_carries_the_mic(profiles: tuple[Profile, Profile]) -> None:
    alpha, bravo = profiles
    connector = alpha.connector(compress=False)
    organization, partner, _ = connector._profiles()
    outgoing = outbound.build(
        connector.settings,
        organization,
        partner,
        EDIFACT,
        filename="po.edi",
        content_type="application/EDIFACT",
    )
    async with httpx.AsyncClient() as client:
        response = await outbound.post(client, bravo.endpoint, outgoing, timeout=30)
    assert response.headers["content-type"].startswith("multipart/signed")
    assert 'micalg="sha256"' in response.headers["content-type"]
    assert response.headers["as2-from"] == "BRAVO" and response.headers["as2-to"] == "ALPHA"
    verdict = mdn.read(outbound.response_mime(response), outgoing.message)
    assert verdict.ok and verdict.mic == outgoing.mic
    # The same MDN with its MIC altered no longer verifies: the signature covers it.
    assert outgoing.mic is not None
    forged = outbound.response_mime(response).replace(outgoing.mic.encode(), b"A" * len(outgoing.mic))
    assert not mdn.read(forged, outgoing.message).ok
    await connector.aclose()


async def test_async_mdn_is_posted_back_and_recorded(profiles: tuple[Profile, Profile]) -> None:
    alpha, bravo = profiles
    receipt = await send(alpha.connector(mdn_mode="async", async_mdn_wait_seconds=15))
    assert receipt.details["mdn"] == "processed"
    sent = await alpha.connector().mdn_status(receipt.details["message_id"])
    assert sent is not None and sent.status == "processed" and sent.mdn_at is not None
    assert sent.mic == receipt.details["mic"]
    assert len(await bravo.documents()) == 1


async def test_async_send_without_waiting_is_pending_until_the_mdn_arrives(
    profiles: tuple[Profile, Profile], monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, _ = profiles
    # Hold the MDN back a little on arrival: on a fast machine it could otherwise be recorded before
    # `send` looks, and the receipt would (rightly) say processed instead of pending.
    accept_mdn = As2Connector.accept_mdn

    async def slow_accept_mdn(self: As2Connector, body: bytes, headers: Any) -> Any:
        await asyncio.sleep(0.5)
        return await accept_mdn(self, body, headers)

    monkeypatch.setattr(As2Connector, "accept_mdn", slow_accept_mdn)
    receipt = await send(alpha.connector(mdn_mode="async"))
    assert receipt.details["mdn"] == "pending"

    async def status() -> str | None:
        sent = await alpha.connector().mdn_status(receipt.details["message_id"])
        return sent.status if sent and sent.status != "awaiting_mdn" else None

    assert await wait_for(status) == "processed"


async def test_a_resent_message_id_is_one_document_and_a_positive_mdn(
    profiles: tuple[Profile, Profile],
) -> None:
    alpha, bravo = profiles
    first = await send(alpha.connector())
    again = await send(alpha.connector())
    assert again.details["message_id"] == first.details["message_id"]  # same name and bytes: same id
    assert again.details["disposition"] == "processed"  # no duplicate warning: it would loop resends
    assert len(await bravo.documents()) == 1
    assert len(await received_rows(bravo)) == 1

    # Other content under a used Message-ID is refused with a reason, and archived as a refusal only.
    connector = alpha.connector()
    organization, partner, _ = connector._profiles()
    original = outbound.build(
        connector.settings,
        organization,
        partner,
        EDIFACT,
        filename="po-4711.edi",
        content_type="application/EDIFACT",
    )
    changed = outbound.build(
        connector.settings,
        organization,
        partner,
        EDIFACT + b"X",
        filename="po-4711.edi",
        content_type="application/EDIFACT",
    )
    headers = {**changed.headers, "Message-ID": original.headers["Message-ID"]}
    changed.message.message_id = original.message_id
    async with httpx.AsyncClient() as client:
        response = await client.post(bravo.endpoint, content=changed.body, headers=headers)
    verdict = mdn.read(outbound.response_mime(response), changed.message)
    assert not verdict.ok and verdict.detail == "unexpected-processing-error"
    assert b"already used for other content" in response.content
    documents = await bravo.documents()
    assert [d.status for d in documents] == ["accepted", "failed"] and documents[1].size == 0
    await connector.aclose()


async def _post_built(
    bravo: Profile, outgoing: outbound.Outgoing, body: bytes | None = None
) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            bravo.endpoint, content=outgoing.body if body is None else body, headers=outgoing.headers
        )


async def test_a_tampered_body_gets_integrity_check_failed_and_nothing_is_stored(
    profiles: tuple[Profile, Profile], caplog: pytest.LogCaptureFixture
) -> None:
    alpha, bravo = profiles
    await bravo.configure(require_encrypted=False)
    connector = alpha.connector(encrypt=False, compress=False)

    class Tamper(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            body = (await request.aread()).replace(b"PO-4711", b"PO-4712")
            forged = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            return await self.inner.handle_async_request(forged)

    connector._client = httpx.AsyncClient(transport=Tamper())
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorRejected) as caught:
        await send(connector)
    assert caught.value.code == "AS2_MDN_NEGATIVE"
    assert "processed/error: integrity-check-failed" in caught.value.message
    assert await bravo.documents() == [] and await received_rows(bravo) == []
    assert not any("Traceback" in r.getMessage() or r.exc_info for r in caplog.records)
    await connector._client.aclose()


async def test_a_message_for_another_certificate_gets_decryption_failed(
    profiles: tuple[Profile, Profile],
) -> None:
    alpha, bravo = profiles
    connector = alpha.connector()
    organization, partner, _ = connector._profiles()
    partner.encrypt_cert = identity("SOMEONE-ELSE").cert_pem  # encrypted for a key BRAVO does not hold
    outgoing = outbound.build(
        connector.settings,
        organization,
        partner,
        EDIFACT,
        filename="po.edi",
        content_type="application/EDIFACT",
    )
    response = await _post_built(bravo, outgoing)
    assert response.status_code == 200
    verdict = mdn.read(outbound.response_mime(response), outgoing.message)  # signed by BRAVO: it verifies
    assert not verdict.ok and (verdict.disposition, verdict.detail) == (
        "processed/error",
        "decryption-failed",
    )
    assert await bravo.documents() == []
    await connector.aclose()


async def test_a_signature_by_another_key_gets_authentication_failed(
    profiles: tuple[Profile, Profile],
) -> None:
    alpha, bravo = profiles
    impostor = identity("IMPOSTOR")
    connector = alpha.connector()
    _, partner, _ = connector._profiles()
    organization = keys.library.Organization(
        as2_name="ALPHA", sign_key=impostor.key_pem + impostor.cert_pem, domain="impostor.example"
    )
    outgoing = outbound.build(
        connector.settings,
        organization,
        partner,
        EDIFACT,
        filename="po.edi",
        content_type="application/EDIFACT",
    )
    response = await _post_built(bravo, outgoing)
    verdict = mdn.read(outbound.response_mime(response), outgoing.message)
    assert (verdict.disposition, verdict.detail) == ("processed/error", "authentication-failed")
    assert await bravo.documents() == []
    await connector.aclose()


async def test_unknown_as2_names_get_an_unsigned_negative_mdn(profiles: tuple[Profile, Profile]) -> None:
    alpha, bravo = profiles
    connector = alpha.connector()
    organization, partner, _ = connector._profiles()
    outgoing = outbound.build(
        connector.settings,
        organization,
        partner,
        EDIFACT,
        filename="po.edi",
        content_type="application/EDIFACT",
    )
    headers = {**outgoing.headers, "AS2-From": "MALLORY"}
    async with httpx.AsyncClient() as client:
        response = await client.post(bravo.endpoint, content=outgoing.body, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("multipart/report")  # never signed for strangers
    assert b"processed/error: authentication-failed" in response.content
    assert await bravo.documents() == []
    await connector.aclose()


async def test_an_unsigned_message_is_insufficient_security(profiles: tuple[Profile, Profile]) -> None:
    alpha, bravo = profiles
    receipt_error = None
    try:
        await send(alpha.connector(sign=False, mdn_signed=True))
    except ConnectorRejected as error:
        receipt_error = error
    assert receipt_error is not None and "insufficient-message-security" in receipt_error.message
    assert await bravo.documents() == []


async def test_a_failing_archive_answers_503_and_a_resend_is_taken(
    profiles: tuple[Profile, Profile], monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, bravo = profiles

    async def broken(*_args: Any, **_kwargs: Any) -> str:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(bravo.service, "submit", broken)
        with pytest.raises(ConnectorUnavailable) as caught:
            await send(alpha.connector())
    assert caught.value.code == "AS2_SERVER_BUSY" and caught.value.retryable
    assert await bravo.documents() == [] and await received_rows(bravo) == []  # claim released

    receipt = await send(alpha.connector())
    assert receipt.details["mdn"] == "processed"
    assert len(await bravo.documents()) == 1


async def test_a_failing_archive_sends_no_async_mdn(
    profiles: tuple[Profile, Profile], monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, bravo = profiles

    async def broken(*_args: Any, **_kwargs: Any) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(bravo.service, "submit", broken)
    with pytest.raises(ConnectorUnavailable):
        await send(alpha.connector(mdn_mode="async", async_mdn_wait_seconds=1))
    async with alpha.database.session() as session:
        [row] = (await session.scalars(select(As2Sent))).all()
    assert row.status == "sending"  # no MDN came: it is sent again, not marked done


async def test_unknown_addresses_and_mdns_for_nothing_we_sent(profiles: tuple[Profile, Profile]) -> None:
    alpha, bravo = profiles
    async with httpx.AsyncClient() as client:
        assert (await client.post(f"{bravo.url}/as2/nobody/as2", content=b"x")).status_code == 404
        assert (await client.post(f"{bravo.url}/as2/alpha/other", content=b"x")).status_code == 404
        assert (await client.request("OPTIONS", bravo.endpoint)).status_code == 200
        stray = await client.post(
            f"{alpha.endpoint}/mdn",
            content=b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n",
            headers={"Content-Type": 'multipart/report; report-type=disposition-notification; boundary="b"'},
        )
    assert stray.status_code == 400 and "did not send" in stray.text


async def test_check_reports_keys_certificates_and_reach(profiles: tuple[Profile, Profile]) -> None:
    alpha, _ = profiles
    connector = alpha.connector()
    checks = await connector.check()
    assert [c.name for c in checks] == [
        "key pair",
        "our certificate",
        "partner certificate",
        "pyas2lib",
        "partner url",
    ]
    assert all(c.ok for c in checks), checks
    await connector.aclose()

    unreachable = alpha.connector(partner_url="http://127.0.0.1:9/as2")
    failing = {c.name: c for c in await unreachable.check()}
    assert not failing["partner url"].ok and "cannot be reached" in failing["partner url"].detail
    await unreachable.aclose()
