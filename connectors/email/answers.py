"""When ordergate may answer a mail (RFC 3834) and how often it may answer one sender.

An automatic answer to an automatic mail starts loops (two auto-responders answering each other) and
reaches no person, so there is none for: `Auto-Submitted` other than `no`; `Precedence: bulk, list or
junk`; an empty `Return-Path` (`<>`: bounces and notifications); mailing-list mail (`List-Id`,
`List-Unsubscribe`); Microsoft's `X-Auto-Response-Suppress` asking for none; senders that are
machines by name (mailer-daemon, postmaster, noreply and its spellings, `owner-…`, `…-request`,
bounces); and ordergate's own address. The answer goes to `Reply-To`, else `From`: it is meant for the
person who sent the order.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable

from connectors.email.mail import Mail

_MACHINE = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?|owner-.*|.*-request"
    r"|.*-bounces?|noreply[-+].*|no-reply[-+].*)$",
    re.IGNORECASE,
)
_SUPPRESS = {"all", "oof", "autoreply"}


def why_not_answer(mail: Mail, own_addresses: Iterable[str]) -> str | None:
    """The reason this mail gets no automatic answer, or None when it may get one."""
    headers = mail.headers
    auto = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"it was sent automatically (Auto-Submitted: {auto})"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return f"it is bulk mail (Precedence: {precedence})"
    if "return-path" in headers and headers["return-path"].strip() in ("<>", ""):
        return "its return path is empty (a bounce or notification)"
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "it came through a mailing list"
    suppress = {word.strip().lower() for word in headers.get("x-auto-response-suppress", "").split(",")}
    if suppress & _SUPPRESS:
        return "it asks for no automatic answers (X-Auto-Response-Suppress)"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "it is itself an automatic answer"
    address = mail.reply_address
    if address is None:
        return "it names no sender address"
    for candidate in {address, mail.from_address or address}:
        if _MACHINE.match(candidate.rpartition("@")[0]):
            return f"{candidate} is a machine's address"
    own = {a.lower() for a in own_addresses}
    if address.lower() in own or (mail.from_address or "").lower() in own:
        return "it came from ordergate's own address"
    return None


class AnswerLimit:
    """At most `per_hour` answers to one address in any hour, so a partner whose system resends a bad
    document in a loop gets a handful of answers, not a flood. Kept in memory: a restart forgets."""

    def __init__(self, per_hour: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_hour = per_hour
        self.clock = clock
        self._sent: dict[str, deque[float]] = {}

    def allow(self, address: str) -> bool:
        """True (and counted) when one more answer to `address` is within the limit."""
        now = self.clock()
        sent = self._sent.setdefault(address.lower(), deque())
        while sent and now - sent[0] >= 3600:
            sent.popleft()
        if len(sent) >= self.per_hour:
            return False
        sent.append(now)
        return True


__all__ = ["AnswerLimit", "why_not_answer"]
