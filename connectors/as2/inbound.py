"""Taking one AS2 message in: HTTP headers + raw body → verified, decrypted, decompressed payload
(pyas2lib does the MIME and CMS work), or a refusal that carries the negative MDN to answer with.

Only the channel's partnership is accepted: AS2-To must be our name and AS2-From the partner's, and
the signature must verify with the partner's pinned certificate. A refusal never reveals more than the
standard disposition and a one-line reason, and is always answered in the HTTP response itself: an
MDN is never posted to a URL taken from a request we could not authenticate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.as2 import library, mdn
from connectors.as2.mdn import Disposition, MdnRequest
from connectors.base import PushAnswer
from gateway.core.errors import ConnectorRejected

MAX_MESSAGE_ID = 255
HOP_BY_HOP = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "expect", "te", "upgrade"}
)


@dataclass(frozen=True, slots=True)
class Received:
    """A message that passed every check, with what the MDN and duplicate detection need."""

    message: Any = field(repr=False)  # the parsed pyas2lib Message, to build the MDN from
    message_id: str
    as2_from: str
    as2_to: str
    payload: bytes = field(repr=False)
    filename: str | None
    content_type: str | None
    sha256: str
    mic: str | None
    digest_algorithm: str | None
    signed: bool
    encrypted: bool
    compressed: bool
    mdn: MdnRequest | None


@dataclass(frozen=True, slots=True)
class AsyncMdn:
    """An MDN to post after the HTTP response, to the URL the (authenticated) sender gave."""

    url: str
    headers: Mapping[str, str]
    body: bytes = field(repr=False)
    original_message_id: str


@dataclass(frozen=True, slots=True)
class As2Answer(PushAnswer):
    """The HTTP reply, plus an MDN to deliver separately when the sender asked for an async one."""

    async_mdn: AsyncMdn | None = None


class As2Refused(ConnectorRejected):
    """The message was not taken: `answer` is what the sender gets (a negative MDN, or 400 when it
    asked for none)."""

    code = "AS2_REFUSED"

    def __init__(self, message: str, *, disposition: Disposition, answer: As2Answer) -> None:
        super().__init__(message)
        self.disposition = disposition
        self.answer = answer


def mime_bytes(body: bytes, headers: Mapping[str, str]) -> bytes:
    """The request as the MIME entity pyas2lib parses: HTTP headers (transport ones left out), a blank
    line, the body. Header bytes are kept as they came (latin-1 round trip)."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() not in HOP_BY_HOP)
    return head.encode("latin-1", "replace") + b"\r\n" + body


def _why(error: BaseException | None) -> tuple[Disposition, str]:
    """The disposition for what pyas2lib raised, and a reason safe to show the sender."""
    ex = library.exceptions
    if isinstance(error, ex.PartnerNotFound):
        return mdn.refused(
            "authentication-failed"
        ), "the AS2-From/AS2-To pair is not a partnership of this URL"
    if isinstance(error, ex.DecryptionError):
        return mdn.refused("decryption-failed"), "the message cannot be decrypted with our private key"
    if isinstance(error, ex.IntegrityError):
        if "Digest does not match" in str(error):
            return mdn.refused("integrity-check-failed"), "the content differs from what was signed"
        return mdn.refused("authentication-failed"), "the signature does not verify with your certificate"
    if isinstance(error, ex.InsufficientSecurityError):
        return (
            mdn.refused("insufficient-message-security"),
            "messages on this partnership must be signed and encrypted",
        )
    if isinstance(error, ex.DecompressionError):
        return mdn.refused("decompression-failed"), "the compressed content cannot be decompressed"
    return mdn.refused("unexpected-processing-error"), "the message cannot be read as AS2"


def refusal_answer(message: Any, disposition: Disposition, reason: str) -> As2Answer:
    """The synchronous reply refusing a message: its MDN if one was asked for, else 400 and the reason."""
    request = mdn.requested(message.headers) if message.payload is not None else None
    if request is None:
        return As2Answer(
            400, {"Content-Type": "text/plain; charset=utf-8"}, f"{disposition}: {reason}\n".encode()
        )
    headers, body = mdn.build(message, disposition, f"The AS2 message was not taken: {reason}.")
    return As2Answer(200, headers, body)


def parse(raw: bytes, *, organization: Any, partner: Any, as2_id: str, partner_as2_id: str) -> Received:
    """Check and open one message (CPU-bound: run it in a thread). Raises `As2Refused`."""
    message = library.Message()

    def partnership(to: str, sender: str) -> tuple[Any, Any]:
        # Both or neither: pyas2lib signs MDNs with the partner's settings, so never one alone.
        return (organization, partner) if (to, sender) == (as2_id, partner_as2_id) else (None, None)

    status, (error, _trace), _ = message.parse(raw, find_org_partner_cb=partnership)
    if error is not None or status != "processed":
        disposition, reason = _why(error)
        raise As2Refused(
            f"AS2 message {message.message_id or '(no Message-ID)'} refused: {disposition}: {reason}",
            disposition=disposition,
            answer=refusal_answer(message, disposition, reason),
        )
    message_id = (message.message_id or "").strip()
    if not message_id or len(message_id) > MAX_MESSAGE_ID:
        disposition, reason = (
            mdn.refused("unexpected-processing-error"),
            "the Message-ID is missing or too long",
        )
        raise As2Refused(
            f"AS2 message refused: {reason}",
            disposition=disposition,
            answer=refusal_answer(message, disposition, reason),
        )
    payload = bytes(message.content or b"")
    inner = message.payload
    return Received(
        message=message,
        message_id=message_id,
        as2_from=partner_as2_id,
        as2_to=as2_id,
        payload=payload,
        filename=inner.get_filename() if inner is not None else None,
        content_type=inner.get_content_type() if inner is not None else None,
        sha256=hashlib.sha256(payload).hexdigest(),
        mic=message.mic.decode() if message.mic else None,
        digest_algorithm=message.digest_alg,
        signed=bool(message.signed),
        encrypted=bool(message.encrypted),
        compressed=bool(message.compressed),
        mdn=mdn.requested(message.headers),
    )


__all__ = ["As2Answer", "As2Refused", "AsyncMdn", "Received", "mime_bytes", "parse", "refusal_answer"]
