"""E-mail through the real ingest path (`gateway.inbox.drain_once`, a real `Ingestor`): archive first,
then confirm with the outcome; orders from attachments and from the template in the text; one polite
answer for what failed, none for automatic mail, at most a few per sender; a crash before confirm."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from connectors.base import InboundConnector
from gateway.channels import build_connector, get_channel, save_channel
from gateway.inbox import drain_once
from gateway.ingest import Ingestor
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.repository import IdentifierSpec
from tests.connectors.email import support
from tests.connectors.email.imap_server import ImapServer
from tests.connectors.email.smtp_server import SmtpCapture

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
EDIFACT = (FIXTURES / "orders_d96a_basic.edi").read_bytes()
GLN = "4012345000009"
TEMPLATE = f"""ORDERGATE ORDER
Order: M-100
Buyer: {GLN}
Date: 2026-12-01

SKU | Qty | Price
ABC-100 | 10 | 1.25
ABC-200 | 2 | 0.50

Kind regards, Jane
"""


@pytest.fixture
async def hexa(database: Database) -> Database:
    async with database.transaction() as session:
        await repo.upsert_partner(
            session,
            "hexa",
            name="Hexa",
            identifiers=[IdentifierSpec("edifact", "14", "5412345000013"), IdentifierSpec("gln", "", GLN)],
        )
    return database


async def channel(
    database: Database, imap: ImapServer, smtp: SmtpCapture, **overrides: Any
) -> InboundConnector:
    settings = support.settings(
        imap.port, smtp.port, processed_folder="processed", failed_folder="failed", **overrides
    )
    async with database.transaction() as session:
        await save_channel(session, "hexa", "mail-in", kind="email", direction="inbound", settings=settings)
    return await reopen(database)


async def reopen(database: Database) -> InboundConnector:
    """The stored channel's connector, as `ordergate serve` builds it (after a restart, say)."""
    async with database.session() as session:
        row = await get_channel(session, "hexa", "mail-in")
    assert row is not None
    connector = build_connector(row, max_document_bytes=2000, secrets=support.secrets())
    assert isinstance(connector, InboundConnector)
    return connector


@pytest.fixture
async def mailbox(hexa: Database, imap: ImapServer, smtp: SmtpCapture) -> AsyncIterator[InboundConnector]:
    connector = await channel(hexa, imap, smtp)
    try:
        yield connector
    finally:
        await connector.aclose()


async def test_an_edifact_attachment_becomes_an_order(
    hexa: Database, imap: ImapServer, smtp: SmtpCapture, mailbox: InboundConnector
) -> None:
    imap.state.deliver(support.mail(attachments=[("po.edi", EDIFACT, "application/edifact")]))
    (result,) = await drain_once(mailbox, Ingestor(hexa))
    assert result.status == "accepted", result.errors
    async with hexa.session() as session:
        (order,) = await repo.list_orders(session, document_id=result.document_id)
        document = await repo.get_document(session, result.document_id)
    assert order.order_number == "PO-4711" and order.partner_id == "hexa"
    assert document is not None and (document.channel, document.filename) == ("mail-in", "po.edi")
    (moved,) = imap.state.mails("processed")
    assert moved.flags == {"\\Seen", f"ordergate-{result.document_id}"} and imap.state.mails() == []
    assert smtp.messages() == []  # nothing to complain about


async def test_the_template_in_the_text_becomes_an_order(
    hexa: Database, imap: ImapServer, smtp: SmtpCapture, mailbox: InboundConnector
) -> None:
    imap.state.deliver(support.mail(subject="Order M-100", text=TEMPLATE))
    (result,) = await drain_once(mailbox, Ingestor(hexa))
    assert (result.status, result.format) == ("accepted", "mailtext"), result.errors
    async with hexa.session() as session:
        (order,) = await repo.list_orders(session, document_id=result.document_id)
        document = await repo.get_document(session, result.document_id, with_raw=True)
    assert (order.order_number, order.partner_id) == ("M-100", "hexa")
    assert document is not None and document.raw == TEMPLATE.encode()
    assert document.filename == "Order M-100.txt"
    assert smtp.messages() == [] and len(imap.state.mails("processed")) == 1


async def test_several_attachments_one_answer_for_the_one_that_failed(
    hexa: Database, imap: ImapServer, smtp: SmtpCapture, mailbox: InboundConnector
) -> None:
    imap.state.deliver(
        support.mail(
            attachments=[
                ("po.edi", EDIFACT, "application/edifact"),
                ("terms.pdf", b"%PDF-1.7 general terms", "application/pdf"),
            ]
        )
    )
    edi, pdf = await drain_once(mailbox, Ingestor(hexa))
    assert (edi.status, pdf.status) == ("accepted", "failed")
    (moved,) = imap.state.mails("failed")  # a document failed: a person should look
    assert moved.flags == {"\\Seen", f"ordergate-{edi.document_id}", f"ordergate-{pdf.document_id}"}
    (answer,) = smtp.messages()
    text = support.text_of(answer.message)
    assert "* terms.pdf:\n      - the document is a PDF file, not an EDI document [UNKNOWN_FORMAT]" in text
    assert "These were received and are being processed:\n  * po.edi" in text
    assert f"document {edi.document_id}, document {pdf.document_id}" in text


async def test_a_mail_with_nothing_readable_gets_one_polite_answer_and_a_stored_failure(
    hexa: Database, imap: ImapServer, smtp: SmtpCapture, mailbox: InboundConnector
) -> None:
    original = support.mail(subject="Urgent: pens", text="Please send 10 blue pens.\nJane", inline_image=True)
    imap.state.deliver(original)
    (result,) = await drain_once(mailbox, Ingestor(hexa))
    assert result.status == "failed" and result.errors[0].code == "UNKNOWN_FORMAT"
    async with hexa.session() as session:
        (failure,) = await repo.list_failures(session, document_id=result.document_id)
        document = await repo.get_document(session, result.document_id, with_raw=True)
    assert failure.code == "UNKNOWN_FORMAT"
    assert document is not None and document.raw == b"Please send 10 blue pens.\nJane\n"

    (answer,) = smtp.messages()
    message = answer.message
    asked = support.mail_headers(original)
    assert answer.mail_from == "<>" and answer.recipients == ("jane@acme.example",)  # null sender: no loops
    assert message["To"] == "jane@acme.example" and message["From"] == "orders@gateway.example"
    assert message["Subject"] == "Re: Urgent: pens"
    assert message["In-Reply-To"] == asked["Message-ID"] and message["References"] == asked["Message-ID"]
    assert message["Auto-Submitted"] == "auto-replied"
    text = support.text_of(message)
    assert text.startswith(
        'Hello,\n\nthank you for your e-mail "Urgent: pens" of 2026-11-30 09:15. We could not take it in:'
    )
    assert "the text of the e-mail:\n      - the document is neither UN/EDIFACT" in text
    assert "The e-mail has no attachment we can read (not documents: logo.png (image/png))" in text
    assert "starting with the line ORDERGATE ORDER" in text and f"document {result.document_id}" in text
    assert await drain_once(mailbox, Ingestor(hexa)) == []  # seen now: neither taken nor answered again
    assert len(smtp.messages()) == 1 and len(imap.state.mails("failed")) == 1


async def test_a_bad_template_is_answered_with_its_line_numbers(
    hexa: Database, imap: ImapServer, smtp: SmtpCapture, mailbox: InboundConnector
) -> None:
    imap.state.deliver(support.mail(text=TEMPLATE.replace("| 10 |", "| ten |")))
    (result,) = await drain_once(mailbox, Ingestor(hexa))
    assert result.status == "failed"
    (answer,) = smtp.messages()
    assert "line 7: quantity 'ten' is not a number" in support.text_of(answer.message)


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ({"Auto-Submitted": "auto-replied"}, support.PARTNER),
        ({"Auto-Submitted": "auto-generated; type=mdn"}, support.PARTNER),
        ({"Precedence": "bulk"}, support.PARTNER),
        ({"Precedence": "list"}, support.PARTNER),
        ({"Return-Path": "<>"}, support.PARTNER),
        ({"List-Id": "<buyers.acme.example>"}, support.PARTNER),
        ({"X-Auto-Response-Suppress": "OOF, AutoReply"}, support.PARTNER),
        ({}, "Mail Delivery System <MAILER-DAEMON@mx.acme.example>"),
        ({}, "Acme <noreply@acme.example>"),
        ({}, "Acme <no-reply@acme.example>"),
        ({}, "ordergate <orders@gateway.example>"),
    ],
)
async def test_automatic_mail_gets_no_answer(
    hexa: Database,
    imap: ImapServer,
    smtp: SmtpCapture,
    mailbox: InboundConnector,
    headers: dict[str, str],
    sender: str,
) -> None:
    imap.state.deliver(support.mail(text="Your order was delivered.", headers=headers, sender=sender))
    (result,) = await drain_once(mailbox, Ingestor(hexa))
    assert result.status == "failed"  # stored like any failure …
    assert imap.state.unseen() == [] and smtp.messages() == []  # … released, and never answered


async def test_answers_to_one_sender_are_limited(hexa: Database, imap: ImapServer, smtp: SmtpCapture) -> None:
    connector = await channel(hexa, imap, smtp, replies_per_sender_per_hour=2)
    try:
        for number in range(3):
            imap.state.deliver(support.mail(subject=f"try {number}", text="junk"))
        imap.state.deliver(support.mail(subject="other", text="junk", sender="Bob <bob@acme.example>"))
        results = await drain_once(connector, Ingestor(hexa))
    finally:
        await connector.aclose()
    assert [r.status for r in results] == ["failed"] * 4
    assert [(s.recipients, s.message["Subject"]) for s in smtp.messages()] == [
        (("jane@acme.example",), "Re: try 0"),
        (("jane@acme.example",), "Re: try 1"),
        (("bob@acme.example",), "Re: other"),
    ]


async def test_an_answer_that_cannot_be_sent_is_tried_again_at_the_next_poll(
    hexa: Database, imap: ImapServer, smtp: SmtpCapture, mailbox: InboundConnector
) -> None:
    imap.state.deliver(support.mail(text="junk"))
    smtp.refuse = 451
    (result,) = await drain_once(mailbox, Ingestor(hexa))
    assert result.status == "failed" and imap.state.unseen() == []  # released all the same
    assert smtp.messages() == []
    smtp.refuse = None
    assert await drain_once(mailbox, Ingestor(hexa)) == []
    (answer,) = smtp.messages()
    assert answer.message["Subject"] == "Re: Order 4711"


async def test_a_crash_before_confirm_offers_the_mail_again_as_a_recognised_duplicate(
    hexa: Database, imap: ImapServer, smtp: SmtpCapture
) -> None:
    imap.state.deliver(support.mail(attachments=[("po.edi", EDIFACT, "application/edifact")]))
    crashed = await channel(hexa, imap, smtp)
    (item,) = await crashed.poll()
    first = await Ingestor(hexa).receive(item.payload, channel=item.channel, partner_id=item.partner_id)
    await crashed.aclose()  # the process dies between the archive commit and confirm
    assert first.status == "accepted" and len(imap.state.unseen()) == 1

    restarted = await reopen(hexa)
    try:
        (second,) = await drain_once(restarted, Ingestor(hexa))
    finally:
        await restarted.aclose()
    assert second.status == "failed" and second.errors[0].code == "DUPLICATE_DOCUMENT"
    assert imap.state.unseen() == [] and len(imap.state.mails("processed")) == 1  # taken before: done
    assert smtp.messages() == []  # the partner did nothing wrong
    async with hexa.session() as session:
        assert await repo.count_orders(session) == 1


async def test_oversized_documents_and_mails_are_stored_failures_and_answered(
    hexa: Database, imap: ImapServer, smtp: SmtpCapture
) -> None:
    connector = await channel(hexa, imap, smtp, max_message_bytes=6000)
    imap.state.deliver(
        support.mail(subject="big", attachments=[("big.edi", b"x" * 2001, "application/edifact")])
    )
    imap.state.deliver(
        support.mail(subject="huge", attachments=[("huge.edi", b"y" * 6000, "application/edifact")])
    )
    try:
        big, huge = await drain_once(connector, Ingestor(hexa))
    finally:
        await connector.aclose()
    assert (big.errors[0].code, huge.errors[0].code) == ("DOCUMENT_TOO_LARGE", "EMAIL_TOO_LARGE")
    async with hexa.session() as session:
        stored = await repo.get_document(session, huge.document_id)
    assert stored is not None and (stored.status, stored.size, stored.filename) == ("failed", 0, "huge.eml")
    assert len(imap.state.mails("failed")) == 2
    first, second = (support.text_of(s.message) for s in smtp.messages())
    assert "big.edi has 2001 bytes, more than the limit of 2000" in first
    assert "the e-mail has" in second and "more than the limit of 6000 for one e-mail" in second
