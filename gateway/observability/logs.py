"""Structured logs: a per-task logging context and the formatters that append it to every line.

The pipeline's stage wrapper binds `stage`, `message_id`, `attempt`, `document_id` and `order_id` with
`log_context(...)`; every record logged inside (in that task, in tasks it starts and in
`asyncio.to_thread` calls, which copy the context) carries them. `configure_logging()` installs one
handler on the root logger: key=value text by default, JSON lines when `ORDERGATE_LOG_FORMAT=json`.

PII: only identifiers go into the context. Order contents are never bound or logged here; callers must
not pass them as `extra` either.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import IO, Any

CONTEXT_KEYS = ("stage", "document_id", "order_id", "message_id", "attempt")
"""The fields the pipeline binds, in the order the formatters print them."""

FORMAT_ENV = "ORDERGATE_LOG_FORMAT"
LEVEL_ENV = "ORDERGATE_LOG_LEVEL"

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_context: ContextVar[Mapping[str, Any]] = ContextVar("ordergate_log_context", default=_EMPTY)

# Attributes every LogRecord has; anything else on a record came from `extra=` or from our filter.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",  # Python 3.12+
    "color_message",  # uvicorn's coloured copy of the message
}


@contextmanager
def log_context(**fields: Any) -> Iterator[Mapping[str, Any]]:
    """Add `fields` (None values are left out) to the logging context for the duration of the block."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(MappingProxyType(merged))
    try:
        yield _context.get()
    finally:
        _context.reset(token)


def current_log_context() -> Mapping[str, Any]:
    return _context.get()


class ContextFilter(logging.Filter):
    """Copies the logging context onto each record as attributes (never overwriting `extra=` ones),
    when the record is handled: in the task that logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if key not in record.__dict__:
                setattr(record, key, value)
        return True


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The context and `extra` fields of a record: context keys first, in `CONTEXT_KEYS` order."""
    extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}
    for key, value in _context.get().items():  # in case the filter is not installed on this handler
        extras.setdefault(key, value)
    ordered = {k: extras.pop(k) for k in CONTEXT_KEYS if k in extras}
    ordered.update(sorted(extras.items()))
    return ordered


def _timestamp(record: logging.LogRecord) -> str:
    return (
        datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if not text or any(c.isspace() or c in '"=\\' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


class KeyValueFormatter(logging.Formatter):
    """`2024-05-01T12:00:00.000Z INFO ordergate.pipeline: translate ok stage=translate document_id=…`"""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        fields = record_fields(record)
        if fields:
            line += " " + " ".join(f"{k}={_text_value(v)}" for k, v in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context fields, and `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def make_formatter(fmt: str | None = None) -> logging.Formatter:
    """`json` → JsonFormatter; anything else → KeyValueFormatter. Default from ORDERGATE_LOG_FORMAT."""
    chosen = (fmt if fmt is not None else os.environ.get(FORMAT_ENV, "text")).strip().lower()
    return JsonFormatter() if chosen == "json" else KeyValueFormatter()


def configure_logging(
    level: int | str | None = None, *, fmt: str | None = None, stream: IO[str] | None = None
) -> logging.Handler:
    """One handler on the root logger with the context filter and the chosen formatter.

    Idempotent: a handler installed by an earlier call is replaced; handlers installed by others (a
    test runner's, say) are left alone. Level from `level`, else ORDERGATE_LOG_LEVEL, else INFO.
    httpx/httpcore request lines (destination URLs) are kept at WARNING unless the level is DEBUG.
    """
    chosen = level if level is not None else os.environ.get(LEVEL_ENV, "INFO")
    numeric = logging.getLevelName(chosen.upper()) if isinstance(chosen, str) else chosen
    if not isinstance(numeric, int):
        numeric = logging.INFO
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_ordergate", False):
            root.removeHandler(existing)
            existing.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler._ordergate = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    handler.setFormatter(make_formatter(fmt))
    root.addHandler(handler)
    root.setLevel(numeric)
    quiet = logging.WARNING if numeric > logging.DEBUG else logging.NOTSET
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(quiet)
    return handler


__all__ = [
    "CONTEXT_KEYS",
    "ContextFilter",
    "JsonFormatter",
    "KeyValueFormatter",
    "configure_logging",
    "current_log_context",
    "log_context",
    "make_formatter",
    "record_fields",
]
