"""Small builders for handwritten EDIFACT fixtures, so each test shows only the segments it is about."""

from __future__ import annotations

import io

import pytest

from gateway.core.errors import Issue, ParseError
from mappings.base import InterchangeHeader, MessageOutcome, collect
from mappings.edifact import FORMAT
from mappings.edifact.tokenizer import Segment, Tokenizer

UNB = "UNB+UNOC:3+SENDER:14+RECEIVER:14+240101:1200+ICR1'"


def message(ref: str, *segments: str, kind: str = "ORDERS:D:96A:UN:EAN008", count: int | None = None) -> str:
    """UNH … UNT around `segments` (each without its terminator), with the right UNT count unless given."""
    body = "".join(f"{s}'" for s in segments)
    total = len(segments) + 2 if count is None else count
    return f"UNH+{ref}+{kind}'{body}UNT+{total}+{ref}'"


def interchange(*messages: str, unb: str = UNB, unz: str | None = None, una: str = "") -> bytes:
    """UNA? UNB … UNZ around messages; UNZ counts the messages unless given."""
    trailer = f"UNZ+{len(messages)}+ICR1'" if unz is None else unz
    return (una + unb + "".join(messages) + trailer).encode("latin-1")


def read(data: bytes, chunk_size: int | None = None) -> tuple[InterchangeHeader, list[MessageOutcome]]:
    source = io.BytesIO(data) if chunk_size else data
    events = FORMAT.read(source, chunk_size=chunk_size) if chunk_size else FORMAT.read(source)
    header, messages = collect(events)
    assert header is not None
    return header, messages


def refused(data: bytes, chunk_size: int | None = None) -> ParseError:
    with pytest.raises(ParseError) as info:
        read(data, chunk_size)
    return info.value


def segments(data: bytes, chunk_size: int = 1 << 14) -> list[Segment]:
    return list(Tokenizer(io.BytesIO(data), chunk_size=chunk_size))


def codes_of(issues: list[Issue]) -> list[str]:
    return [issue.code for issue in issues]


def only(issues: list[Issue], code: str) -> Issue:
    found = [issue for issue in issues if issue.code == code]
    assert len(found) == 1, issues
    return found[0]
