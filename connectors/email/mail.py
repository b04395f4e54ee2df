"""One fetched mail → what ordergate takes from it: the documents, the text, and the facts an answer needs.

Every attached part is a document, whatever its name or extension says, except parts that are plainly
not documents by content type (`SKIPPED_TYPES`: pictures such as signature logos, sound, video,
signatures, keys, vCards, calendar invitations, delivery reports); they are listed so an answer can
name them. The text body is the first `text/plain` part that is not an attachment (else `text/html`).

Pure: bytes in, a `Mail` out; no I/O, never raises for a malformed mail (the stdlib parser records
defects instead), so a broken mail is still answered and archived.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

from connectors.base import display_name

SKIPPED_MAIN_TYPES = frozenset({"image", "audio", "video"})
SKIPPED_TYPES = frozenset(
    {
        "application/pgp-signature",
        "application/pgp-keys",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "text/vcard",
        "text/x-vcard",
        "text/calendar",
        "message/delivery-status",
        "message/disposition-notification",
    }
)


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str  # display name only
    content_type: str
    payload: bytes


@dataclass(slots=True)
class Mail:
    message_id: str | None
    subject: str
    sender: str  # the From header as shown: "Jane Doe <jane@acme.example>"
    from_address: str | None
    reply_address: str | None  # Reply-To, else From
    date: str | None  # ISO 8601 when the Date header parses
    references: tuple[str, ...]
    headers: dict[str, str]  # lower-cased names: only those the answer rules read
    size: int
    attachments: list[Attachment] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "logo.png (image/png)"
    text: str | None = None
    complete: bool = True  # False: only the header was fetched (the mail is too large)

    def meta(self) -> dict[str, str]:
        return {
            "message_id": self.message_id or "",
            "from": self.sender,
            "subject": self.subject,
            "date": self.date or "",
        }


RULE_HEADERS = (
    "auto-submitted",
    "precedence",
    "return-path",
    "list-id",
    "list-unsubscribe",
    "x-auto-response-suppress",
    "x-autoreply",
    "x-autorespond",
    "sender",
)


def read_mail(raw: bytes, *, complete: bool = True, size: int | None = None) -> Mail:
    """Parse a whole mail (or, `complete=False`, only its header)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    mail = Mail(
        message_id=_header(message, "message-id") or None,
        subject=_header(message, "subject"),
        sender=_header(message, "from"),
        from_address=_first_address(message, "from"),
        reply_address=_first_address(message, "reply-to") or _first_address(message, "from"),
        date=_date(message),
        references=_references(message),
        headers={name: _header(message, name) for name in RULE_HEADERS if name in message},
        size=len(raw) if size is None else size,
        complete=complete,
    )
    if complete:
        _walk(message, mail)
    return mail


def _walk(message: Message, mail: Mail) -> None:
    body = _body_part(message)
    if body is not None:
        mail.text = _text(body)
    for number, part in enumerate(message.walk(), 1):
        if part.is_multipart() or part is body:
            continue
        content_type = part.get_content_type()
        name = _filename(part)
        if (
            name is None
            and part.get_content_disposition() != "attachment"
            and content_type.startswith("text/")
        ):
            continue  # an alternative of the text body, or text inline in the message
        shown = display_name(name, fallback=f"part-{number}")
        if content_type in SKIPPED_TYPES or content_type.split("/")[0] in SKIPPED_MAIN_TYPES:
            mail.skipped.append(f"{shown} ({content_type})")
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        mail.attachments.append(Attachment(shown, content_type, data))


def _body_part(message: Message) -> Message | None:
    if isinstance(message, EmailMessage):
        try:
            return message.get_body(preferencelist=("plain", "html"))
        except Exception:  # a broken structure: no body rather than no mail
            return None
    return None


def _text(part: Message) -> str:
    raw = part.get_payload(decode=True)
    data = raw if isinstance(raw, bytes) else b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return data.decode("utf-8", "replace")


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except Exception:  # a malformed RFC 2231 parameter
        return None


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot make sense of
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _first_address(message: Message, name: str) -> str | None:
    try:
        values = message.get_all(name) or []
        found = [address for _, address in getaddresses([str(v) for v in values]) if "@" in address]
    except Exception:
        return None
    return found[0] if found else None


def _date(message: Message) -> str | None:
    try:
        return parsedate_to_datetime(_header(message, "date")).isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def _references(message: Message) -> tuple[str, ...]:
    return tuple(_header(message, "references").split())


__all__ = ["SKIPPED_MAIN_TYPES", "SKIPPED_TYPES", "Attachment", "Mail", "read_mail"]
