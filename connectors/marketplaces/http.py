"""One HTTP client per channel (httpx), and what the marketplaces' answers mean for the gateway.

Retried here, with tenacity (RELIABILITY rule 6: an allow-list, jittered exponential waits, a bounded
number of attempts, the last error re-raised): 429 — waiting what `Retry-After` asks, or until the
operation's token bucket has a token again —, 408, 5xx, timeouts and failed connections. Never
retried: any other 4xx, which becomes a `ConnectorRejected` saying what to fix (401/403 as
`AuthRefused`, so a token can be refreshed once). Redirects are not followed: the credentials would
travel along to wherever they point. Answers are read up to a size bound.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from connectors.marketplaces import jsondoc
from connectors.marketplaces.clock import Clock, TokenBucket
from gateway.core.errors import ConnectorRejected, ConnectorUnavailable

MAX_RESPONSE_BYTES = 64 << 20
_RETRIED_STATUSES = {408, 429, 500, 502, 503, 504}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class Busy(ConnectorUnavailable):
    """An answer worth trying again: rate limited, a server error, no answer. `retry_after` is what the
    server asked for; `retry_here` is False when that is longer than this poll should wait."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        retry_after: float | None = None,
        status: int | None = None,
        retry_here: bool = True,
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
        self.status = status
        self.retry_here = retry_here


class Refused(ConnectorRejected):
    """A 4xx other than 408/429: permanent until someone acts. Keeps the status and the body, which
    for some APIs is worth archiving (Amazon's `errors` for one order)."""

    def __init__(self, message: str, *, code: str, status: int, body: bytes) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.body = body


class AuthRefused(Refused):
    """401 or 403: the credentials or the token were refused."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes
    url: httpx.URL
    next_url: httpx.URL | None = None

    def json(self, what: str, code: str) -> Any:
        try:
            return jsondoc.loads(self.body)
        except jsondoc.JsonRefused as error:
            raise ConnectorRejected(
                f"{what}: the answer from {self.url.host} is not JSON ({error}; it starts with "
                f"{_excerpt(self.body, 60)!r})",
                code=f"{code}_BAD_RESPONSE",
            ) from None


def retry_after(headers: Mapping[str, str], clock: Clock) -> float | None:
    """`Retry-After` in seconds (a number, or an HTTP date), None when absent or unreadable."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - clock.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def reason(body: bytes) -> str:
    """The service's own words for a refusal, from the usual JSON error shapes, briefly."""
    try:
        data = jsondoc.loads(body)
    except jsondoc.JsonRefused:
        return _excerpt(body, 200)
    parts: list[str] = []
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list):
            for error in errors[:3]:
                if isinstance(error, dict):
                    parts.append(": ".join(str(error[k]) for k in ("code", "message") if error.get(k)))
                else:
                    parts.append(str(error))
        elif isinstance(errors, dict):
            parts.extend(f"{key}: {value}" for key, value in list(errors.items())[:3])
        elif errors:
            parts.append(str(errors))
        for key in ("error", "error_description", "code", "message"):
            if isinstance(data.get(key), str) and not errors:
                parts.append(data[key])
    return _CONTROL.sub(" ", "; ".join(p for p in parts if p))[:300]


def _excerpt(body: bytes, size: int) -> str:
    return _CONTROL.sub(" ", body[:size].decode("utf-8", "replace")).strip()


class ApiClient:
    """Requests to one service with the retry, pacing and error rules above. `service` and `code` name
    it in messages and error codes (`SHOPIFY_AUTH`, `AMAZON_RATE_LIMITED`)."""

    def __init__(
        self,
        *,
        service: str,
        code: str,
        timeout: float,
        max_attempts: int,
        max_retry_after: float,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.service = service
        self.code = code
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_retry_after = max_retry_after
        self.clock = clock
        self.max_response_bytes = max_response_bytes
        self._backoff = wait_random_exponential(multiplier=0.5, max=30)
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "ordergate"},
        )

    def __repr__(self) -> str:
        return f"ApiClient({self.service})"

    async def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        what: str,
        credentials: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        bucket: TokenBucket | None = None,
        rate_header: str | None = None,
        service: str | None = None,
        code: str | None = None,
    ) -> Reply:
        """One request, retried as the module says. `what` names the step for messages ("list
        orders"); `credentials` names the secrets a 401/403 message points at."""
        service, code = service or self.service, code or self.code
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda error: isinstance(error, Busy) and error.retry_here),
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            sleep=self.clock.sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if bucket is not None:
                        await bucket.take()
                    reply = await self._send(method, url, params, headers, data, auth, what, service, code)
                    if bucket is not None and rate_header:
                        _adopt(bucket, reply.headers.get(rate_header))
                    if reply.status == 429 and bucket is not None:
                        bucket.drain()
                    self._judge(reply, what, credentials, service, code)
                    return reply
        except Busy as error:
            if error.retry_here and self.max_attempts > 1:
                raise ConnectorUnavailable(
                    f"{error.message} (tried {self.max_attempts} times)", code=error.code
                ) from None
            raise
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, Busy) and error.retry_after is not None:
            return error.retry_after
        return float(self._backoff(state))

    async def _send(
        self,
        method: str,
        url: str | httpx.URL,
        params: Mapping[str, str | int] | None,
        headers: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
        auth: httpx.Auth | None,
        what: str,
        service: str,
        code: str,
    ) -> Reply:
        try:
            async with self._client.stream(
                method, url, params=params, headers=headers, data=data, auth=auth or httpx.USE_CLIENT_DEFAULT
            ) as response:
                body = await self._read(response, what, code)
                links = response.links
        except httpx.TimeoutException:
            raise Busy(
                f"{what}: {service} gave no answer within {self.timeout:g}s", code=f"{code}_TIMEOUT"
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            raise ConnectorRejected(f"{what}: {error}", code=f"{code}_BAD_URL") from None
        except httpx.TransportError as error:
            detail = str(error) or type(error).__name__
            raise Busy(
                f"{what}: {service} cannot be reached ({detail})", code=f"{code}_UNAVAILABLE"
            ) from None
        following = links.get("next", {}).get("url")
        return Reply(
            response.status_code,
            response.headers,
            body,
            response.url,
            response.url.join(following) if following else None,
        )

    async def _read(self, response: httpx.Response, what: str, code: str) -> bytes:
        limit = self.max_response_bytes
        declared = response.headers.get("content-length", "")
        chunks: list[bytes] = []
        size = int(declared) if declared.isdigit() else 0
        if size <= limit:
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    break
                chunks.append(chunk)
        if size > limit:
            raise ConnectorRejected(
                f"{what}: the answer is larger than {limit} bytes; lower page_size", code=f"{code}_TOO_LARGE"
            )
        return b"".join(chunks)

    def _judge(self, reply: Reply, what: str, credentials: str, service: str, code: str) -> None:
        status = reply.status
        if 200 <= status < 300:
            return
        said = reason(reply.body)
        said = f" ({said})" if said else ""
        if status in _RETRIED_STATUSES or status >= 500:
            wait = retry_after(reply.headers, self.clock)
            asked = f"; asked to wait {wait:g}s" if wait is not None else ""
            what_happened = "rate limited" if status == 429 else "a server error"
            if wait is not None and wait > self.max_retry_after:
                raise Busy(
                    f"{what}: {service} answered HTTP {status}, {what_happened}{asked}, longer than "
                    f"max_retry_after_seconds ({self.max_retry_after:g}); the next poll tries again",
                    code=f"{code}_RATE_LIMITED" if status == 429 else f"{code}_SERVER_ERROR",
                    retry_after=wait,
                    status=status,
                    retry_here=False,
                )
            raise Busy(
                f"{what}: {service} answered HTTP {status}, {what_happened}{asked}{said}",
                code=f"{code}_RATE_LIMITED" if status == 429 else f"{code}_SERVER_ERROR",
                retry_after=wait,
                status=status,
            )
        if 300 <= status < 400:
            target = reply.headers.get("location", "?")
            raise Refused(
                f"{what}: {service} redirects to {target}; set the URL it answers on (redirects are not "
                "followed: the credentials would go along)",
                code=f"{code}_REDIRECT",
                status=status,
                body=reply.body,
            )
        if status in (401, 403):
            refused = "the credentials" if status == 401 else "access"
            raise AuthRefused(
                f"{what}: {service} refused {refused} (HTTP {status}){said}; check {credentials}",
                code=f"{code}_AUTH" if status == 401 else f"{code}_FORBIDDEN",
                status=status,
                body=reply.body,
            )
        if status == 404:
            raise Refused(
                f"{what}: {reply.url.copy_with(query=None)} was not found (HTTP 404){said}",
                code=f"{code}_NOT_FOUND",
                status=status,
                body=reply.body,
            )
        raise Refused(
            f"{what}: {service} refused the request (HTTP {status}){said}",
            code=f"{code}_HTTP_{status}",
            status=status,
            body=reply.body,
        )

    def same_origin(self, url: httpx.URL, base: str, what: str) -> httpx.URL:
        """A URL the service handed us (a `Link` header) may only point back at the service itself:
        anywhere else would receive the credentials."""
        origin = httpx.URL(base)
        if (url.scheme, url.host, url.port) != (origin.scheme, origin.host, origin.port):
            raise ConnectorRejected(
                f"{what}: {self.service} pointed the next page at {url.scheme}://{url.host}, not at "
                f"{origin.scheme}://{origin.host}; not followed",
                code=f"{self.code}_BAD_LINK",
            )
        return url

    async def aclose(self) -> None:
        await self._client.aclose()


def _adopt(bucket: TokenBucket, stated: str | None) -> None:
    try:
        rate = float(stated) if stated else 0.0
    except ValueError:
        return
    if rate > 0:
        bucket.adopt_rate(rate)


def check_name(error: Exception) -> str:
    """The `Check` a failure belongs to, by its code: credentials, secrets, or reaching the service."""
    code = getattr(error, "code", "")
    if code.endswith(("_AUTH", "_FORBIDDEN")):
        return "authentication"
    if code in ("MISSING_SECRET", "BAD_SECRET_NAME", "SECRETS_FILE", "SECRETS_FILE_PERMISSIONS"):
        return "secrets"
    return "connect"


__all__ = [
    "MAX_RESPONSE_BYTES",
    "ApiClient",
    "AuthRefused",
    "Busy",
    "Refused",
    "Reply",
    "check_name",
    "reason",
    "retry_after",
]
