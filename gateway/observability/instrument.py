"""Instrumenting stage handlers: metrics, the logging context, and document verdicts.

`instrument(stage, handler, …)` wraps the handler a bus subscription calls. Around each message it binds
the logging context (stage, message id, attempt, document id, order id — identifiers only, never the
body's other contents), times the handler, and counts its outcome the way the bus will settle it:
returning = ok; raising = parked when the contract parks at once (`Park`, a non-retryable
`GatewayError`) or the attempt was the last one, else retry. A failure while recording the parked queue
is always a retry (the bus never parks it again). A cancelled handler (forced shutdown) is not counted:
its message is delivered again.

`verdict_observer(metrics)` is given to the translate stage: the verdicts a batch reached are counted
once the consumer's transaction commits, so a rolled-back or redelivered message is never counted twice.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.bus.base import BusMessage, BusSettings, Handler, Park, Retry, should_park_now
from gateway.core.errors import GatewayError
from gateway.observability.logs import log_context
from gateway.observability.metrics import Metrics
from gateway.storage.models import Document

log = logging.getLogger("ordergate.pipeline")

PARKING_STAGES = frozenset({"parking", "parked"})
"""Stage names whose failures the bus always retries (the parked queue is never parked again)."""

_ID_KEYS = ("document_id", "order_id")


def message_ids(message: BusMessage) -> dict[str, str]:
    """`document_id` and `order_id` from the headers, else from the (small JSON reference) body; only
    those two keys are ever read from the body."""
    found: dict[str, str] = {}
    headers: Mapping[str, Any] = message.headers or {}
    for key in _ID_KEYS:
        value = headers.get(key)
        if isinstance(value, bytes):  # AMQP long strings may arrive undecoded
            value = value.decode("utf-8", "replace")
        if isinstance(value, str) and value:
            found[key] = value
    if len(found) < len(_ID_KEYS) and message.body[:1] == b"{":
        try:
            body = json.loads(message.body)
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in _ID_KEYS:
                value = body.get(key)
                if key not in found and isinstance(value, str) and value:
                    found[key] = value
    return found


def failure_outcome(stage: str, message: BusMessage, error: BaseException, settings: BusSettings) -> str:
    """How the bus settles a message whose handler raised `error` (the rules of `gateway.bus.base`)."""
    if stage in PARKING_STAGES:
        return "retry"
    if should_park_now(error) or message.attempt >= settings.max_attempts:
        return "parked"
    return "retry"


def instrument(stage: str, handler: Handler, *, metrics: Metrics, settings: BusSettings) -> Handler:
    """`handler` with its outcome counted and timed, and the logging context bound while it runs."""

    async def handle(message: BusMessage) -> None:
        try:
            ids = message_ids(message)
        except Exception:  # never let observability fail a message
            ids = {}
        with log_context(stage=stage, message_id=message.message_id, attempt=message.attempt, **ids):
            started = time.perf_counter()
            try:
                await handler(message)
            except Exception as error:
                elapsed = time.perf_counter() - started
                outcome = failure_outcome(stage, message, error, settings)
                metrics.observe_message(stage, outcome, elapsed)
                _log_failure(stage, outcome, message, error, settings, elapsed)
                raise
            elapsed = time.perf_counter() - started
            metrics.observe_message(stage, "ok", elapsed)
            # Per message at DEBUG only: the metrics count them; failures log at WARNING.
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s ok in %.1f ms", stage, elapsed * 1000, extra={"outcome": "ok"})

    return handle


def _log_failure(
    stage: str, outcome: str, message: BusMessage, error: BaseException, settings: BusSettings, elapsed: float
) -> None:
    expected = isinstance(error, Park | Retry | GatewayError)
    attempt = (
        f"{message.attempt}" if stage in PARKING_STAGES else f"{message.attempt} of {settings.max_attempts}"
    )
    log.warning(
        "%s failed on attempt %s after %.1f ms, %s: %s: %s",
        stage,
        attempt,
        elapsed * 1000,
        "parking it" if outcome == "parked" else "will retry",
        type(error).__name__,
        error,
        extra={"outcome": outcome},
        exc_info=None if expected else error,  # a traceback only for the unexpected
    )


def verdict_observer(metrics: Metrics) -> Callable[[AsyncSession, Sequence[tuple[Document, Any]]], None]:
    """For the translate stage: count the verdicts it reached, once its transaction commits, so a
    rolled-back or redelivered batch is never counted twice."""

    def observe(session: AsyncSession, decided: Sequence[tuple[Document, Any]]) -> None:
        seen = [
            (document.channel, result.status, result.errors, len(result.order_ids))
            for document, result in decided
        ]

        def committed(_: Any) -> None:
            for channel, status, errors, orders in seen:
                verdict = "accepted" if status == "accepted" else "failed"
                code = errors[0].code if verdict == "failed" and errors else None
                metrics.observe_document(channel, verdict, code)
                if verdict == "accepted":
                    log.info("document accepted with %d order(s)", orders, extra={"verdict": verdict})
                else:
                    log.info("document failed: %s", code, extra={"verdict": verdict, "code": code})

        event.listen(session.sync_session, "after_commit", committed, once=True)

    return observe


__all__ = ["PARKING_STAGES", "failure_outcome", "instrument", "message_ids", "verdict_observer"]
