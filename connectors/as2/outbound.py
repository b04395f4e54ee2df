"""Sending one AS2 message: build it with pyas2lib (compress, sign, encrypt), POST it with httpx, and
judge the HTTP outcome. Reading the MDN itself is `mdn.read`.

The Message-ID is derived from the file name and the bytes, so a retry after a timeout carries the
same Message-ID and the partner's duplicate detection absorbs it (RELIABILITY rule 5: same key, same
body on every try). Redirects are not followed: a POST of signed data goes where it was configured.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.as2 import library
from connectors.as2.settings import As2Settings
from gateway.core.errors import ConnectorRejected, ConnectorUnavailable


@dataclass(frozen=True, slots=True)
class Outgoing:
    message: Any = field(repr=False)  # the built pyas2lib Message (holds the MIC the MDN must carry)
    message_id: str
    mic: str | None
    digest_algorithm: str | None
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)


def message_id_left(filename: str, payload: bytes) -> str:
    digest = hashlib.sha256(filename.encode() + b"\x00" + payload).hexdigest()
    return f"og-{digest[:40]}"


def build(
    settings: As2Settings,
    organization: Any,
    partner: Any,
    payload: bytes,
    *,
    filename: str,
    content_type: str,
) -> Outgoing:
    """CPU-bound (RSA, AES, zlib): run it in a thread."""
    message = library.Message(sender=organization, receiver=partner)
    message.build(
        payload,
        filename=filename,
        subject=settings.subject,
        content_type=content_type,
        disposition_notification_to=f"as2@{settings.domain}",
        message_id=message_id_left(filename, payload),
    )
    headers = {str(k): str(v) for k, v in message.headers.items() if k.lower() != "mime-version"}
    return Outgoing(
        message=message,
        message_id=message.message_id,
        mic=message.mic.decode() if message.mic else None,
        digest_algorithm=message.digest_alg,
        headers=headers,
        body=bytes(message.content),
    )


def original(organization: Any, partner: Any, *, message_id: str, mic: str | None, digest: str | None) -> Any:
    """A pyas2lib Message standing for one we sent earlier, to verify its async MDN against."""
    message = library.Message(sender=organization, receiver=partner)
    message.message_id, message.digest_alg = message_id, digest
    message.mic = mic.encode() if mic else None
    return message


async def post(client: httpx.AsyncClient, url: str, outgoing: Outgoing, *, timeout: float) -> httpx.Response:
    """POST the message; transport trouble and 5xx/429 are retryable, other refusals are not."""
    try:
        response = await client.post(
            url, content=outgoing.body, headers=outgoing.headers, timeout=timeout, follow_redirects=False
        )
    except httpx.TimeoutException:
        raise ConnectorUnavailable(
            f"AS2 message {outgoing.message_id} to {url}: no answer within {timeout:g}s; it is sent again "
            "under the same Message-ID",
            code="AS2_TIMEOUT",
        ) from None
    except httpx.HTTPError as error:
        raise ConnectorUnavailable(
            f"AS2 message {outgoing.message_id} to {url}: {type(error).__name__}: {error}",
            code="AS2_UNREACHABLE",
        ) from None
    status = response.status_code
    if status >= 500 or status == 429:
        raise ConnectorUnavailable(
            f"AS2 message {outgoing.message_id}: {url} answered HTTP {status}; try again later",
            code="AS2_SERVER_BUSY",
        )
    if status >= 300:
        raise ConnectorRejected(
            f"AS2 message {outgoing.message_id}: {url} refused it with HTTP {status}: {_excerpt(response)}",
            code="AS2_HTTP_REFUSED",
        )
    return response


def response_mime(response: httpx.Response) -> bytes:
    """The HTTP response as a MIME entity (headers, blank line, body), as pyas2lib reads MDNs."""
    head = "".join(f"{k}: {v}\r\n" for k, v in response.headers.items() if k.lower() != "content-length")
    return head.encode("latin-1", "replace") + b"\r\n" + response.content


def _excerpt(response: httpx.Response) -> str:
    text = response.content[:200].decode("utf-8", "replace").strip()
    return " ".join(text.split()) or "(empty body)"


__all__ = ["Outgoing", "build", "message_id_left", "original", "post", "response_mime"]
