"""The mails ordergate writes: the polite answer to a mail whose documents failed, and a document sent
as an attachment. Pure: facts in, an `EmailMessage` out.

The answer follows RFC 3834 for automatic responses: `Auto-Submitted: auto-replied`, `In-Reply-To`
and `References` pointing at the mail it answers, the subject quoted after `Re:`, and
`X-Auto-Response-Suppress: All` so an out-of-office assistant does not answer the answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from connectors.email.mail import Mail
from gateway.core.errors import Issue
from mappings.mailtext.lines import MARKER

TEMPLATE_HINT = f"""To order without an attachment, write the order into the text of the e-mail,
starting with the line {MARKER}, for example:

    {MARKER}
    Order: 4711
    Buyer: <your buyer id or GLN>
    Date: 2026-12-01

    SKU     | Qty | Price
    ABC-100 | 10  | 1.25
    END
"""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What became of one document of the mail."""

    name: str
    document_id: str
    accepted: bool
    issues: tuple[Issue, ...] = ()
    is_text: bool = False  # the text of the mail rather than an attachment


def _where(issue: Issue) -> str:
    where = []
    if issue.segment:
        where.append(f"segment {issue.segment}")
    if issue.element:
        where.append(f"at {issue.element}")
    return f" [{issue.code}{', ' if where else ''}{', '.join(where)}]"


def _reasons(verdict: Verdict) -> list[str]:
    errors = [f"{issue.message}{_where(issue)}" for issue in verdict.issues if issue.severity == "error"]
    return errors or ["it could not be processed (no further reason was given)"]


def failure_answer(
    mail: Mail,
    verdicts: Sequence[Verdict],
    *,
    sender: str,
    recipient: str,
) -> EmailMessage:
    """The answer to a mail some of whose documents failed: each failed one with its plain reasons,
    the ones taken in, and the document references support can look up."""
    failed = [v for v in verdicts if not v.accepted]
    taken = [v for v in verdicts if v.accepted]
    subject = mail.subject or "(no subject)"
    when = f" of {mail.date[:16].replace('T', ' ')}" if mail.date else ""
    lines = [
        "Hello,",
        "",
        f'thank you for your e-mail "{subject}"{when}. '
        + ("We could not take in all of it:" if taken else "We could not take it in:"),
        "",
    ]
    for verdict in failed:
        name = "the text of the e-mail" if verdict.is_text else verdict.name
        lines.append(f"  * {name}:")
        lines.extend(f"      - {reason}" for reason in _reasons(verdict))
    if any(v.is_text for v in failed) and not any(not v.is_text for v in verdicts):
        skipped = f" (not documents: {', '.join(mail.skipped)})" if mail.skipped else ""
        lines += ["", f"The e-mail has no attachment we can read{skipped}, and its text is no order."]
    if taken:
        lines += ["", "These were received and are being processed:"]
        lines.extend(f"  * {'the text of the e-mail' if v.is_text else v.name}" for v in taken)
    lines += [
        "",
        "Please correct what is listed above and send it again.",
        "If you have questions, quote these references: "
        + ", ".join(f"document {v.document_id}" for v in verdicts)
        + ".",
    ]
    if any(v.is_text for v in failed):
        lines += ["", TEMPLATE_HINT.rstrip()]
    lines += ["", "This is an automatic answer from the order gateway.", ""]
    lines += _quoted_header(mail)

    message = _new(sender, recipient, f"Re: {subject}")
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    if mail.message_id:
        message["In-Reply-To"] = mail.message_id
        message["References"] = " ".join([*mail.references, mail.message_id][-10:])
    message.set_content("\n".join(lines))
    return message


def _quoted_header(mail: Mail) -> list[str]:
    quoted = [f"> From: {mail.sender}", f"> Subject: {mail.subject}"]
    if mail.date:
        quoted.append(f"> Date: {mail.date}")
    if mail.message_id:
        quoted.append(f"> Message-ID: {mail.message_id}")
    return quoted


def document_mail(
    payload: bytes,
    *,
    filename: str,
    content_type: str,
    sender: str,
    recipients: Sequence[str],
    meta: Mapping[str, str],
) -> EmailMessage:
    """A document as the attachment of an otherwise short mail; `meta["subject"]` names it, other
    meta entries are listed in the text."""
    message = _new(sender, ", ".join(recipients), meta.get("subject") or filename)
    facts = [f"{key}: {value}" for key, value in sorted(meta.items()) if key != "subject"]
    message.set_content("\n".join(["Please find the document attached.", "", *facts, ""]))
    main, _, sub = content_type.partition("/")
    message.add_attachment(payload, maintype=main, subtype=sub or "octet-stream", filename=filename)
    return message


def _new(sender: str, to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = " ".join(subject.split())[:250]
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    return message


__all__ = ["TEMPLATE_HINT", "Verdict", "document_mail", "failure_answer"]
