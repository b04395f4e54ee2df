"""E-mail: poll a partner channel's IMAP folder for orders, answer failures and send documents by SMTP.

settings.py   EmailSettings: IMAP and SMTP servers, security, secret names, folders, answer rules
imap.py       one imaplib connection in a worker thread: search, fetch (PEEK), release; errors mapped
smtp.py       smtplib in a worker thread: one connection per message; errors mapped
mail.py       a fetched mail → attachments, text body, header facts (pure)
items.py      a parsed mail → the items the gateway archives (one per document)
answers.py    RFC 3834: when a mail may be answered; the per-sender answer limit
compose.py    the failure answer and the outbound document mail (pure)
connector.py  poll / confirm (with the outcome) / send / check

Both protocols use the standard library rather than aioimaplib/aiosmtplib: imaplib and smtplib are
maintained with Python, support implicit TLS and STARTTLS with a verifying `SSLContext`, and parse the
protocols completely; a poll every minute or two and a rare answer do not need native asyncio, and a
worker thread per call keeps the event loop free. The text of a mail is offered as a document when a
registered format recognises it, which the factory asks `mappings.registry` (the only place this
connector meets formats).
"""

from __future__ import annotations

from connectors.base import ChannelContext, Connector, ConnectorSpec, SecretSource
from connectors.email.settings import EmailSettings

_BOM_AND_SPACE = b"\xef\xbb\xbf \t\r\n"


def recognise(text: bytes) -> bool:
    """True when a registered format claims the text (the ordergate template, a pasted interchange)."""
    from mappings.registry import SNIFF_BYTES, detect

    return detect(text[:SNIFF_BYTES].lstrip(_BOM_AND_SPACE)) is not None


def _build(settings: EmailSettings, secrets: SecretSource, context: ChannelContext) -> Connector:
    from connectors.email.connector import EmailConnector

    return EmailConnector(settings, secrets, context, recognise=recognise)


SPEC = ConnectorSpec(
    kind="email",
    label="E-mail: IMAP mailbox polled, answers and documents by SMTP",
    settings=EmailSettings,
    factory=_build,  # type: ignore[arg-type]  # the registry validates settings into EmailSettings first
    inbound=True,
    outbound=True,
    poll=True,
    default_poll_seconds=120.0,
)

__all__ = ["SPEC", "EmailSettings", "recognise"]
