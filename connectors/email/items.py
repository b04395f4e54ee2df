"""A parsed mail → the items the gateway archives, one per document.

Each attachment is an item (a refusal without bytes when it is above the document limit). The text is
an item when a registered format recognises it (the ordergate template, an interchange pasted into the
text) or when the mail has no attachment at all: then the text, however unreadable, is archived and
fails translation like any other document, and the sender is told why. A mail too large to download
is one refusal item. Every item's `meta` names its mail (`mail`: UIDVALIDITY, UID) and part, so the
mail is released once all of its items are confirmed.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.base import InboundItem, display_name, too_large
from connectors.email.mail import Mail
from gateway.core.errors import Issue

MailKey = tuple[int, int]  # (UIDVALIDITY, UID): a UID means nothing without its folder's UIDVALIDITY
TEXT_PART = "text"
WHOLE_MAIL = "mail"


def items_for(
    mail: Mail,
    key: MailKey,
    *,
    channel: str,
    partner_id: str | None,
    max_bytes: int,
    recognise: Callable[[bytes], bool],
    message_limit: int,
) -> list[InboundItem]:
    meta = {"mail": key, **mail.meta()}
    subject = display_name(mail.subject, fallback="e-mail")[:150]

    def item(
        part: str, name: str, payload: bytes, content_type: str, refusal: Issue | None = None
    ) -> InboundItem:
        return InboundItem(
            payload if refusal is None else b"",
            channel,
            partner_id,
            name,
            content_type,
            meta={**meta, "part": part},
            refusal=refusal,
        )

    if not mail.complete:
        whole = Issue(
            code="EMAIL_TOO_LARGE",
            message=f"the e-mail has {mail.size} bytes, more than the limit of {message_limit} for one "
            "e-mail (max_message_bytes); it was not downloaded",
        )
        return [item(WHOLE_MAIL, f"{subject}.eml", b"", "message/rfc822", whole)]
    items: list[InboundItem] = []
    refusal: Issue | None
    for number, attachment in enumerate(mail.attachments, 1):
        size = len(attachment.payload)
        refusal = too_large(size, max_bytes, attachment.filename) if size > max_bytes else None
        items.append(
            item(str(number), attachment.filename, attachment.payload, attachment.content_type, refusal)
        )
    text = (mail.text or "").replace("\r\n", "\n").encode("utf-8")  # CRLF is how mail carries lines
    if not items or (text.strip() and recognise(text)):
        refusal = too_large(len(text), max_bytes, "the text of the e-mail") if len(text) > max_bytes else None
        items.append(item(TEXT_PART, f"{subject}.txt", text, "text/plain; charset=utf-8", refusal))
    return items


__all__ = ["TEXT_PART", "WHOLE_MAIL", "MailKey", "items_for"]
