"""The e-mail connector against the fake IMAP server and a real SMTP server on 127.0.0.1: what a poll
takes from a mail, that it never marks anything seen before `confirm`, how a mail is released, the
fallbacks for servers without MOVE or keywords, TLS, errors an operator can act on, and sending."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from connectors import registry
from connectors.base import ChannelContext, InboundItem, Outcome, confirm_item
from connectors.email.connector import EmailConnector
from gateway.core.errors import ConfigError, ConnectorRejected, ConnectorUnavailable, Issue
from tests.connectors.email import imap_server, smtp_server, support
from tests.connectors.email.imap_server import ImapServer, ImapState, running_imap_server
from tests.connectors.email.smtp_server import SmtpCapture, free_port

EDI = b"UNA:+.? 'UNB+UNOC:3+5412345000013:14+5790000274017:14+241120:1015+ICR0001'"
TEMPLATE = "ORDERGATE ORDER\nOrder: 4711\nBuyer: acme\n\nSKU | Qty\nA-1 | 2\n"


def connector_for(
    imap: int | None, smtp: int | None, limit: int = 10_000, **overrides: Any
) -> EmailConnector:
    built = registry.build(
        "email",
        support.settings(imap, smtp, **overrides),
        support.secrets(),
        context=ChannelContext("mail-in", "acme", limit, "both"),
    )
    assert isinstance(built, EmailConnector)
    return built


@pytest.fixture
async def connector(imap: ImapServer, smtp: SmtpCapture) -> AsyncIterator[EmailConnector]:
    built = connector_for(imap.port, smtp.port, processed_folder="processed", failed_folder="failed")
    try:
        yield built
    finally:
        await built.aclose()


def fetched(state: ImapState) -> list[str]:
    return [c for c in state.commands if c.startswith("UID FETCH")]


# What a poll takes -------------------------------------------------------------------------------------


async def test_a_poll_reads_with_peek_and_leaves_the_mail_unseen(
    imap: ImapServer, connector: EmailConnector
) -> None:
    imap.state.deliver(support.mail(attachments=[("po.edi", EDI, "application/edifact")]))
    (item,) = await connector.poll()
    assert (item.payload, item.filename, item.content_type, item.partner_id) == (
        EDI,
        "po.edi",
        "application/edifact",
        "acme",
    )
    assert item.meta["subject"] == "Order 4711" and item.meta["from"] == support.PARTNER
    assert item.meta["message_id"].endswith("@acme.example>") and item.meta["date"].startswith("2026-11-30")
    assert "UID FETCH 1 (BODY.PEEK[])" in fetched(imap.state)
    assert not any("BODY[]" in c for c in fetched(imap.state))
    (mail,) = imap.state.mails()
    assert mail.flags == set()
    (again,) = await connector.poll()  # not confirmed: offered again
    assert again.payload == EDI


async def test_every_attachment_is_an_item_whatever_its_name(
    imap: ImapServer, connector: EmailConnector
) -> None:
    imap.state.deliver(
        support.mail(
            attachments=[
                ("po.edi", EDI, "application/edifact"),
                ("order.pdf", b"%PDF-1.7 order", "application/pdf"),
                ("../../etc/lines.csv", b"sku;qty\nA;1\n", "text/csv"),
                ("order", b"<Order/>", "application/xml"),
                ("scan.jpg", b"\xff\xd8\xff photo", "image/jpeg"),
                ("signature.asc", b"-----BEGIN PGP SIGNATURE-----", "application/pgp-signature"),
            ],
            inline_image=True,
        )
    )
    items = await connector.poll()
    assert [(i.filename, i.content_type) for i in items] == [
        ("po.edi", "application/edifact"),
        ("order.pdf", "application/pdf"),
        ("lines.csv", "text/csv"),
        ("order", "application/xml"),
    ]
    assert len({i.meta["part"] for i in items}) == 4 and "text" not in {i.meta["part"] for i in items}
    assert items[2].payload == b"sku;qty\nA;1\n"  # the cover note is no item: there are documents


async def test_a_template_or_an_interchange_in_the_text_is_an_item(
    imap: ImapServer, connector: EmailConnector
) -> None:
    imap.state.deliver(support.mail(text=TEMPLATE))
    imap.state.deliver(
        support.mail(text=EDI.decode(), attachments=[("terms.pdf", b"%PDF", "application/pdf")])
    )
    first, second, third = await connector.poll()
    assert (first.filename, first.content_type, first.meta["part"]) == (
        "Order 4711.txt",
        "text/plain; charset=utf-8",
        "text",
    )
    assert first.payload.decode() == TEMPLATE
    assert (second.filename, third.filename) == ("terms.pdf", "Order 4711.txt")
    assert third.payload.strip() == EDI


async def test_a_mail_without_attachment_offers_its_text(imap: ImapServer, connector: EmailConnector) -> None:
    imap.state.deliver(support.mail(text="Please send 10 blue pens.\n\nJane", inline_image=True))
    (item,) = await connector.poll()
    assert item.payload == b"Please send 10 blue pens.\n\nJane\n" and item.meta["part"] == "text"


async def test_oversized_attachments_and_mails_are_refused_without_their_bytes(
    imap: ImapServer, smtp: SmtpCapture
) -> None:
    connector = connector_for(imap.port, smtp.port, limit=100, max_message_bytes=4000)
    imap.state.deliver(support.mail(attachments=[("big.edi", b"x" * 101, "application/edifact")]))
    huge = imap.state.deliver(
        support.mail(subject="Huge", attachments=[("huge.edi", b"y" * 5000, "application/edifact")])
    )
    try:
        big, whole = await connector.poll()
    finally:
        await connector.aclose()
    assert big.payload == b"" and big.refusal is not None and big.refusal.code == "DOCUMENT_TOO_LARGE"
    assert "101 bytes" in big.refusal.message
    assert whole.payload == b"" and whole.refusal is not None and whole.refusal.code == "EMAIL_TOO_LARGE"
    assert whole.filename == "Huge.eml" and whole.meta["subject"] == "Huge"
    assert f"UID FETCH {huge} (BODY.PEEK[HEADER])" in fetched(imap.state)
    assert f"UID FETCH {huge} (BODY.PEEK[])" not in fetched(imap.state)  # never downloaded


# Release ---------------------------------------------------------------------------------------------------


async def test_a_mail_is_released_once_all_its_items_are_confirmed(
    imap: ImapServer, connector: EmailConnector
) -> None:
    imap.state.deliver(
        support.mail(
            attachments=[("a.edi", EDI, "application/edifact"), ("b.edi", EDI + b"2", "application/edifact")]
        )
    )
    first, second = await connector.poll()
    await connector.confirm(first, document_id="DOCA", accepted=True)
    assert imap.state.unseen() != [] and "processed" not in imap.state.folders
    await connector.confirm(second, document_id="DOCB", accepted=True)
    assert imap.state.mails() == []
    (moved,) = imap.state.mails("processed")
    assert moved.flags == {"\\Seen", "ordergate-DOCA", "ordergate-DOCB"}
    assert await connector.poll() == []


async def test_without_folders_a_confirmed_mail_stays_seen(imap: ImapServer, smtp: SmtpCapture) -> None:
    connector = connector_for(imap.port, smtp.port)
    imap.state.deliver(support.mail(attachments=[("a.edi", EDI, "application/edifact")]))
    try:
        (item,) = await connector.poll()
        await connector.confirm(item, document_id="D1", accepted=False)
        assert await connector.poll() == []
    finally:
        await connector.aclose()
    (mail,) = imap.state.mails()
    assert mail.flags == {"\\Seen", "ordergate-D1"} and set(imap.state.folders) == {"INBOX"}


@pytest.mark.parametrize(("move", "uidplus"), [(False, True), (False, False)])
async def test_without_move_the_mail_is_copied_and_expunged(
    move: bool, uidplus: bool, smtp: SmtpCapture
) -> None:
    with running_imap_server(ImapState(move=move, uidplus=uidplus, keywords=False)) as imap:
        connector = connector_for(imap.port, smtp.port, processed_folder="done")
        imap.state.deliver(support.mail(attachments=[("a.edi", EDI, "application/edifact")]))
        keep = imap.state.deliver(support.mail(attachments=[("b.edi", EDI, "application/edifact")]))
        try:
            first, _ = await connector.poll()
            await connector.confirm(first, document_id="D1", accepted=True)
        finally:
            await connector.aclose()
        (moved,) = imap.state.mails("done")
        assert moved.flags == {"\\Seen"}  # no keywords where the server would not keep them
        assert [m.uid for m in imap.state.mails()] == [keep]
        assert any(c.startswith("UID COPY") for c in imap.state.commands)
        assert any(c.startswith("UID EXPUNGE" if uidplus else "EXPUNGE") for c in imap.state.commands)


async def test_a_failed_release_is_retried_before_anything_is_offered_again(
    imap: ImapServer, connector: EmailConnector
) -> None:
    imap.state.deliver(support.mail(attachments=[("a.edi", EDI, "application/edifact")]))
    (item,) = await connector.poll()
    imap.state.hang_up_on.add("UID STORE")
    with pytest.raises(ConnectorUnavailable) as caught:
        await connector.confirm(item, document_id="D1", accepted=True)
    assert caught.value.retryable and len(imap.state.unseen()) == 1
    imap.state.hang_up_on.clear()
    assert await connector.poll() == []  # released first, not taken again
    assert imap.state.mails() == [] and len(imap.state.mails("processed")) == 1


async def test_a_renumbered_folder_offers_its_mail_again(imap: ImapServer, connector: EmailConnector) -> None:
    imap.state.deliver(support.mail(attachments=[("a.edi", EDI, "application/edifact")]))
    (item,) = await connector.poll()
    imap.state.renumber()
    await connector.aclose()  # the next command reconnects and sees the new UIDVALIDITY
    with pytest.raises(ConnectorRejected, match="UIDVALIDITY 1000 → 1001"):
        await connector.confirm(item, document_id="D1", accepted=True)
    (again,) = await connector.poll()
    assert again.meta["mail"] == (1001, 2) and again.payload == EDI


async def test_confirm_passes_the_outcome_only_to_connectors_that_take_it(connector: EmailConnector) -> None:
    class OldStyle:
        channel = "old"
        confirmed: list[tuple[str, bool]] = []

        async def confirm(self, item: InboundItem, *, document_id: str, accepted: bool) -> None:
            self.confirmed.append((document_id, accepted))

    old = OldStyle()
    item = InboundItem(b"x", "old", None)
    await confirm_item(old, Outcome(item, "D9", False, (Issue(code="X", message="y"),)))  # type: ignore[arg-type]
    assert old.confirmed == [("D9", False)]


# Security, TLS and errors ---------------------------------------------------------------------------------


def test_plain_connections_are_refused_beyond_this_machine() -> None:
    with pytest.raises(ConfigError, match="imap_security=plain sends the password unencrypted"):
        registry.parse_settings("email", support.settings(993, None, imap_host="mail.acme.example"))
    with pytest.raises(ConfigError, match=r"smtp_security=plain .* not smtp\.acme\.example"):
        registry.parse_settings("email", support.settings(None, 25, smtp_host="smtp.acme.example"))
    with pytest.raises(ConfigError, match="password: unknown setting"):
        registry.parse_settings("email", support.settings(1, None) | {"password": imap_server.PASSWORD})
    assert registry.parse_settings("email", support.settings(1, 2, imap_host="localhost"))


@pytest.mark.parametrize("mode", ["tls", "starttls"])
async def test_tls_and_starttls_verify_the_server(mode: str, tmp_path: Path, smtp: SmtpCapture) -> None:
    cert, context = support.certificate(tmp_path)
    server = running_imap_server(tls=context) if mode == "tls" else running_imap_server(starttls=context)
    with server as imap:
        imap.state.deliver(support.mail(attachments=[("a.edi", EDI, "application/edifact")]))
        trusted = connector_for(imap.port, smtp.port, imap_security=mode, tls_ca_file=str(cert))
        untrusted = connector_for(imap.port, smtp.port, imap_security=mode)
        try:
            (item,) = await trusted.poll()
            checks = await untrusted.check()
        finally:
            await trusted.aclose()
            await untrusted.aclose()
    assert item.payload == EDI
    assert checks[0].name == "imap connect" and not checks[0].ok
    assert "certificate is not trusted" in checks[0].detail and "tls_ca_file" in checks[0].detail


async def test_starttls_missing_on_the_server_is_a_clear_error(imap: ImapServer) -> None:
    connector = connector_for(imap.port, None, imap_security="starttls")
    with pytest.raises(ConnectorRejected, match="does not offer STARTTLS; use imap_security=tls"):
        await connector.poll()
    await connector.aclose()


async def test_check_names_each_step_and_never_a_password(
    imap: ImapServer, smtp: SmtpCapture, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = connector_for(imap.port, smtp.port, send_to=["edi@acme.example"])
    assert all(check.ok for check in await good.check())
    await good.aclose()

    wrong = registry.build(
        "email",
        support.settings(imap.port, smtp.port),
        support.DictSecrets({"GW_IMAP_PASSWORD": "wrong-imap-pw", "GW_SMTP_PASSWORD": "wrong-smtp-pw"}),
        context=ChannelContext("mail-in", "acme", 1000, "both"),
    )
    checks = {check.name: check for check in await wrong.check()}
    await wrong.aclose()
    assert checks["imap connect"].ok and not checks["imap login"].ok
    assert "secret GW_IMAP_PASSWORD" in checks["imap login"].detail
    assert checks["smtp connect"].ok and not checks["smtp login"].ok
    assert "secret GW_SMTP_PASSWORD" in checks["smtp login"].detail

    missing = registry.build(
        "email",
        support.settings(imap.port, None, reply_on_failure=False),
        support.DictSecrets({}),
        context=ChannelContext("mail-in", "acme", 1000, "inbound"),
    )
    (check,) = await missing.check()
    assert (check.name, check.ok) == ("secrets", False) and "GW_IMAP_PASSWORD" in check.detail
    shown = caplog.text + repr(good) + repr(wrong) + str(checks)
    for secret in (imap_server.PASSWORD, smtp_server.PASSWORD, "wrong-imap-pw", "wrong-smtp-pw"):
        assert secret not in shown


async def test_an_unreachable_server_is_retryable() -> None:
    connector = connector_for(free_port(), None)
    with pytest.raises(ConnectorUnavailable, match="connection refused") as caught:
        await connector.poll()
    assert caught.value.retryable


# Sending ------------------------------------------------------------------------------------------------


async def test_send_mails_the_document_and_returns_its_message_id(
    imap: ImapServer, smtp: SmtpCapture
) -> None:
    connector = connector_for(None, smtp.port, send_to=["edi@acme.example", "ops@acme.example"])
    receipt = await connector.send(b"UNA:+.? 'UNB", filename="ordrsp-4711.edi", meta={"order": "4711"})
    (sent,) = smtp.messages()
    assert sent.mail_from == "orders@gateway.example"
    assert sent.recipients == ("edi@acme.example", "ops@acme.example")
    assert receipt.details["message_id"] == sent.message["Message-ID"]
    assert receipt.remote_ref == "edi@acme.example,ops@acme.example/ordrsp-4711.edi" and receipt.size == 12
    (attachment,) = sent.message.iter_attachments()
    assert attachment.get_filename() == "ordrsp-4711.edi"
    assert attachment.get_content_type() == "application/edifact"
    assert attachment.get_payload(decode=True) == b"UNA:+.? 'UNB"
    assert "order: 4711" in str(sent.message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


@pytest.mark.parametrize(("code", "error"), [(451, ConnectorUnavailable), (554, ConnectorRejected)])
async def test_smtp_answers_decide_whether_to_retry(code: int, error: type[Exception]) -> None:
    from tests.connectors.email.smtp_server import running_smtp_server

    with running_smtp_server(SmtpCapture(refuse=code)) as smtp:
        connector = connector_for(None, smtp.port, send_to=["edi@acme.example"])
        with pytest.raises(error, match=f"the server said {code}"):
            await connector.send(b"x", filename="a.edi")


async def test_an_outbound_only_channel_cannot_poll() -> None:
    connector = connector_for(None, free_port(), send_to=["edi@acme.example"])
    with pytest.raises(ConnectorRejected, match="no imap_host"):
        await connector.poll()


async def test_a_poll_reads_no_more_than_one_mail_limit(imap: ImapServer, smtp: SmtpCapture) -> None:
    mails = [support.mail(attachments=[(name, b"x" * 600, "application/edifact")]) for name in "abc"]
    for raw in mails:
        imap.state.deliver(raw)
    limit = len(mails[0]) + len(mails[1]) + 10  # two mails fit, three do not
    connector = connector_for(imap.port, smtp.port, max_message_bytes=limit)
    try:
        first = await connector.poll()
        for item in first:
            await connector.confirm(item, document_id=f"D{item.filename}", accepted=True)
        second = await connector.poll()
    finally:
        await connector.aclose()
    assert [i.filename for i in first] == ["a", "b"]
    assert [i.filename for i in second] == ["c"]
