"""MDNs (RFC 4130 §7, RFC 3798): the dispositions we send back, and reading the ones partners send us.

What we answer, by case (RFC 4130 §7.4.3 modifiers):

    stored (or a resend of a message already stored)   processed
    the AS2-From/AS2-To pair is not this channel's     processed/error: authentication-failed
    signature does not verify with the pinned cert     processed/error: authentication-failed
    content altered (digest differs from the signed)   processed/error: integrity-check-failed
    cannot decrypt with our key                        processed/error: decryption-failed
    cannot decompress                                  processed/error: decompression-failed
    unsigned/unencrypted where the channel requires    processed/error: insufficient-message-security
    anything else refused (too large, id reused)       processed/error: unexpected-processing-error

A duplicate is answered `processed`, never `processed/warning: duplicate-document`: a warning makes
some senders resend again, looping (RFC 4130 §9.3 says replays are discarded by duplicate detection;
rejected erratum 3055 and peers' practice explain the loop). A signed MDN is sent when the message
asked for one (`Disposition-Notification-Options`) and came from the configured partner; the
`Received-Content-MIC` is the digest of what the partner signed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email import message_from_bytes
from typing import Any

from connectors.as2 import library

PROCESSED = "processed"
ERROR = "processed/error"
MDN_DIGESTS = ("sha256", "sha384", "sha512")

_MICALG = re.compile(r"signed-receipt-micalg\s*=\s*(?:required|optional)\s*,\s*([^;]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Disposition:
    type: str
    modifier: str | None = None

    @property
    def positive(self) -> bool:
        return self.type == PROCESSED

    def __str__(self) -> str:
        return f"{self.type}: {self.modifier}" if self.modifier else self.type


STORED = Disposition(PROCESSED)


def refused(modifier: str) -> Disposition:
    return Disposition(ERROR, modifier)


@dataclass(frozen=True, slots=True)
class MdnRequest:
    """What the sender asked for: a signed MDN or not, in the response or posted to `async_url`."""

    signed: bool
    async_url: str | None


def requested(headers: Mapping[str, str]) -> MdnRequest | None:
    lower = {k.lower(): v for k, v in headers.items()}
    if not lower.get("disposition-notification-to"):
        return None
    url = (lower.get("receipt-delivery-option") or "").strip() or None
    return MdnRequest(signed=bool(lower.get("disposition-notification-options")), async_url=url)


def _micalg(options: str) -> str:
    """The digest for a signed MDN: the first SHA-2 one the sender lists (RFC 4130 §7.3), else sha256."""
    found = _MICALG.search(options)
    offered = [a.strip().lower().replace("-", "") for a in found.group(1).split(",")] if found else []
    return next((a for a in offered if a in MDN_DIGESTS), "sha256")


def build(message: Any, disposition: Disposition, text: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of the MDN for a parsed pyas2lib message. It is signed (pyas2lib decides:
    options present and our organization known) with a SHA-2 digest the sender offered."""
    payload = message.payload
    options = payload.get("disposition-notification-options") if payload is not None else None
    if options:
        payload.replace_header(
            "disposition-notification-options",
            f"signed-receipt-protocol=required, pkcs7-signature; signed-receipt-micalg=required, {_micalg(options)}",
        )
    mdn = library.Mdn()
    mdn.build(
        message=message,
        status=disposition.type,
        detailed_status=disposition.modifier,
        confirmation_text=text,
        failed_text=text,
    )
    headers = {str(k): str(v) for k, v in mdn.headers.items() if k.lower() != "mime-version"}
    return headers, bytes(mdn.content)


# Reading MDNs we receive ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MdnVerdict:
    """A partner's MDN, verified: `ok` only for `processed` with a signature (when asked) and the MIC
    we computed. `code` says what is wrong otherwise."""

    ok: bool
    disposition: str
    detail: str | None
    mic: str | None
    code: str
    problem: str | None = None


def original_message_id(raw: bytes) -> str | None:
    """The Original-Message-ID an MDN answers, without verifying it (to find what it is about)."""
    mdn = library.Mdn()
    mdn.payload = message_from_bytes(raw)
    try:
        message_id, _ = mdn.detect_mdn()
    except Exception:
        return None
    return str(message_id) if message_id else None


def _received_mic(payload: Any) -> str | None:
    if payload is None:
        return None
    for part in payload.walk():
        if part.get_content_type() == "message/disposition-notification":
            fields = part.get_payload()
            fields = fields[-1] if isinstance(fields, list) and fields else fields
            value = fields.get("Received-Content-MIC") if hasattr(fields, "get") else None
            return str(value).split(",")[0].strip() if value else None
    return None


def read(raw: bytes, original: Any) -> MdnVerdict:
    """Verify an MDN (headers + body) for `original`, the pyas2lib message we sent (with its MIC)."""
    mdn = library.Mdn()
    status, detail = mdn.parse(
        raw,
        find_message_cb=lambda message_id, _recipient: (
            original if message_id == original.message_id else None
        ),
    )
    status = (status or "").strip()
    mic = _received_mic(mdn.payload)
    detail = str(detail).strip() if detail else None
    lowered = status.lower()
    if lowered.startswith("failed/failure") or not status:
        why = detail or "no disposition found"
        code = "AS2_MDN_UNKNOWN_MESSAGE" if why == "original-message-not-found" else "AS2_MDN_INVALID"
        return MdnVerdict(False, status or "none", detail, mic, code, f"the MDN cannot be trusted: {why}")
    if lowered == "processed/warning" and detail == "Message Integrity check failed.":
        return _mic_mismatch(status, detail, mic, original)
    if lowered.startswith("processed/error") or lowered.startswith("failed"):
        return MdnVerdict(
            False,
            status,
            detail,
            mic,
            "AS2_MDN_NEGATIVE",
            f"the partner refused the message: {status}: {detail}",
        )
    if not lowered.startswith("processed"):
        return MdnVerdict(False, status, detail, mic, "AS2_MDN_NEGATIVE", f"unexpected disposition {status}")
    expected = original.mic.decode() if original.mic else None
    if expected is not None and mic != expected:
        return _mic_mismatch(status, detail, mic, original)
    # processed, or processed/warning (such as duplicate-document): the partner holds the message.
    return MdnVerdict(True, status, detail, mic, "AS2_MDN_PROCESSED")


def _mic_mismatch(status: str, detail: str | None, mic: str | None, original: Any) -> MdnVerdict:
    expected = original.mic.decode() if original.mic else None
    return MdnVerdict(
        False,
        status,
        detail,
        mic,
        "AS2_MIC_MISMATCH",
        f"the MDN's Received-Content-MIC {mic or '(none)'} is not the MIC of what we sent ({expected})",
    )


__all__ = [
    "ERROR",
    "PROCESSED",
    "STORED",
    "Disposition",
    "MdnRequest",
    "MdnVerdict",
    "build",
    "original_message_id",
    "read",
    "refused",
    "requested",
]
