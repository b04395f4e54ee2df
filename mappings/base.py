"""The contract every inbound format implements, and the shapes its translation yields.

A format module reads an interchange as a stream of events so that a 1 GB interchange translates in
bounded memory: first one `InterchangeHeader`, then one `MessageOutcome` per message, in order. An
envelope that breaks (a wrong UNZ/IEA count, a missing trailer, a control reference that does not match)
raises `ParseError` from the iterator, possibly after messages were yielded: callers must treat the
whole interchange as rejected then ("no orders from a partly parsed interchange").

A message that is readable but is not an order (an invoice, an ack) is yielded with `order=None` and
`supported=False`; the caller decides whether that rejects the document.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, ClassVar, Protocol

from gateway.core.canonical import Order
from gateway.core.errors import Issue

Source = bytes | BinaryIO
"""What a format reads: the whole document in memory, or a binary stream read in chunks."""

CHUNK_SIZE = 1 << 20


def iter_chunks(source: Source, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield the source in chunks, whether it is bytes or a binary stream."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]
        return
    while chunk := source.read(chunk_size):
        yield chunk


@dataclass(frozen=True, slots=True)
class InterchangeHeader:
    """Envelope facts known before any message is read: who sent it, to whom, under which reference."""

    format: str
    sender_id: str
    sender_qualifier: str | None
    receiver_id: str
    receiver_qualifier: str | None
    control_ref: str
    syntax: str | None = None  # "UNOC:3", "00401"
    prepared_at: str | None = None  # date and time as sent, e.g. "20240101:1200" or "240101:1200"
    test: bool = False
    ack_requested: bool = False


@dataclass(slots=True)
class MessageOutcome:
    """One message of an interchange: its order, or why it has none."""

    message_type: str  # "ORDERS", "850", "INVOIC" …
    message_ref: str  # UNH 0062 / ST02
    version: str | None  # "D:96A:UN:EAN008" / "004010"
    position: int  # segment position of UNH / ST in the interchange, 1-based
    order: Order | None = None
    supported: bool = True
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    group_ref: str | None = None


Event = InterchangeHeader | MessageOutcome


class Format(Protocol):
    """One inbound format. Register an instance in `mappings.registry`; nothing else needs editing."""

    name: ClassVar[str]
    label: ClassVar[str]

    def sniff(self, head: bytes) -> bool:
        """True when the first bytes (up to 4 KiB, BOM and leading white space included) are this format."""
        ...

    def read(self, source: Source) -> Iterator[Event]:
        """Translate an interchange, streaming. Raises `ParseError` for envelope or syntax problems."""
        ...


def collect(events: Iterable[Event]) -> tuple[InterchangeHeader | None, list[MessageOutcome]]:
    """Drain a format's events into memory (tests and small documents)."""
    header: InterchangeHeader | None = None
    messages: list[MessageOutcome] = []
    for event in events:
        if isinstance(event, InterchangeHeader):
            header = event
        else:
            messages.append(event)
    return header, messages
