"""The pure parts of answering: RFC 3834's rules, the per-sender limit over a sliding hour, the answer's
threading headers, and how a mail's parts are told apart."""

from __future__ import annotations

import pytest

from connectors.email.answers import AnswerLimit, why_not_answer
from connectors.email.compose import Verdict, failure_answer
from connectors.email.mail import read_mail
from gateway.core.errors import Issue
from tests.connectors.email import support

OWN = {"orders@gateway.example"}


def test_a_persons_mail_may_be_answered_at_its_reply_to() -> None:
    mail = read_mail(
        support.mail(headers={"Reply-To": "Purchasing <buying@acme.example>", "Auto-Submitted": "no"})
    )
    assert why_not_answer(mail, OWN) is None
    assert mail.reply_address == "buying@acme.example" and mail.from_address == "jane@acme.example"


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"Auto-Submitted": "auto-generated"}, support.PARTNER, "sent automatically"),
        ({"Precedence": "junk"}, support.PARTNER, "bulk mail"),
        ({"Return-Path": "<>"}, support.PARTNER, "return path is empty"),
        ({"List-Unsubscribe": "<mailto:leave@acme.example>"}, support.PARTNER, "mailing list"),
        ({"X-Autoreply": "yes"}, support.PARTNER, "itself an automatic answer"),
        ({}, "owner-buyers@acme.example", "a machine's address"),
        ({}, "buyers-request@acme.example", "a machine's address"),
        ({}, "Do Not Reply <do-not-reply@acme.example>", "a machine's address"),
        ({"Reply-To": "postmaster@acme.example"}, support.PARTNER, "a machine's address"),
        ({}, "ORDERS@gateway.example", "ordergate's own address"),
        ({}, "undisclosed-recipients:;", "names no sender address"),
    ],
)
def test_no_answer_to_machines_lists_and_loops(headers: dict[str, str], sender: str, reason: str) -> None:
    mail = read_mail(support.mail(headers=headers, sender=sender))
    found = why_not_answer(mail, OWN)
    assert found is not None and reason in found


def test_the_limit_counts_per_sender_over_a_sliding_hour() -> None:
    now = [0.0]
    limit = AnswerLimit(2, clock=lambda: now[0])
    assert limit.allow("jane@acme.example") and limit.allow("JANE@acme.example")
    assert not limit.allow("jane@acme.example")
    assert limit.allow("bob@acme.example")
    now[0] = 3599.0
    assert not limit.allow("jane@acme.example")
    now[0] = 3600.0
    assert limit.allow("jane@acme.example")
    assert not AnswerLimit(0).allow("jane@acme.example")


def test_the_answer_threads_under_the_mail_it_answers() -> None:
    raw = support.mail(headers={"References": "<a@acme.example> <b@acme.example>"}, subject="PO 4711")
    raw = raw.replace(b"Subject: PO 4711", b"Subject: PO\r\n 4711")  # a folded header
    mail = read_mail(raw)
    verdicts = [
        Verdict("po.edi", "DOC1", True),
        Verdict(
            "x.pdf",
            "DOC2",
            False,
            (Issue(code="UNKNOWN_FORMAT", message="a PDF", segment="UNB", element="0004"),),
        ),
    ]
    answer = failure_answer(mail, verdicts, sender="orders@gateway.example", recipient="jane@acme.example")
    assert answer["Subject"] == "Re: PO 4711"
    assert answer["In-Reply-To"] == mail.message_id
    assert answer["References"] == f"<a@acme.example> <b@acme.example> {mail.message_id}"
    text = support.text_of(answer)
    assert "We could not take in all of it:" in text
    assert "  * x.pdf:\n      - a PDF [UNKNOWN_FORMAT, segment UNB, at 0004]" in text
    assert "ORDERGATE ORDER" not in text  # the template hint is for a text that failed


def test_a_broken_mail_still_parses() -> None:
    raw = (
        b"From: =?bogus?q?x?= <jane@acme.example>\r\nSubject: =?utf-8?b?!!!?=\r\nDate: yesterday\r\n"
        b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n"
        b"hello \xff\r\n--zz\r\nContent-Type: application/edifact; name*=bad''%%\r\n"
        b"Content-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\n!!notbase64\r\n--zz--\r\n"
    )
    mail = read_mail(raw)
    assert mail.from_address == "jane@acme.example" and mail.date is None
    assert mail.text is not None and mail.text.startswith("hello")
    (attachment,) = mail.attachments
    assert attachment.content_type == "application/edifact" and attachment.filename
