"""UN/EDIFACT: interchanges in (ORDERS translated to canonical orders), ORDERS interchanges out.

Modules, one job each:
    separators  UNA service characters and their defaults
    charsets    UNB syntax identifier → character set, and bytes that don't fit it
    tokenizer   bytes in chunks → (tag, elements, position), streaming
    envelope    UNB/UNG/UNH/UNT/UNE/UNZ checks, one message held at a time
    content     element checks for every message (tags, code lengths, numbers)
    messages    per message type: translate ORDERS, name the others in plain words
    orders      ORDERS → canonical `Order`
    values      components, numbers (either decimal mark), DTM dates
    render      canonical orders → ORDERS interchange, streaming
    codes       the stable issue codes

pydifact: the reader uses its own tokenizer and a plain tuple per segment, `(tag, elements, position)`,
rather than `pydifact.segments.Segment`. Measured on the 16 MB, 10,000-message ORDERS D96A benchmark
interchange (~740,000 segments), building a pydifact `Segment` per segment (its constructor checks the
tag and copies the elements) adds ~0.5 s, more than tokenizing costs (~0.4 s) and about a quarter of the
whole translation, which the speed target cannot afford. The renderer, where escaping is the point and
speed matters less, is built on pydifact's `Segment`, `Characters` and `Serializer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from gateway.core.errors import GatewayError, ParseError
from mappings.base import Event, Source
from mappings.edifact import codes
from mappings.edifact.envelope import read_interchange
from mappings.edifact.render import iter_render, render_orders
from mappings.edifact.separators import DEFAULT, Separators
from mappings.edifact.tokenizer import WINDOW

_BOM = b"\xef\xbb\xbf"


class EdifactFormat:
    name: ClassVar[str] = "edifact"
    label: ClassVar[str] = "UN/EDIFACT"

    def sniff(self, head: bytes) -> bool:
        """An interchange starts with UNA, or with UNB followed by a separator (after a BOM or blanks)."""
        if head.startswith(_BOM):
            head = head[3:]
        head = head[:64].translate(None, b"\r\n").lstrip(b" \t")
        if head.startswith(b"UNA"):
            return True
        return head.startswith(b"UNB") and len(head) > 3 and not head[3:4].isalnum()

    def read(self, source: Source, *, chunk_size: int = WINDOW) -> Iterator[Event]:
        """Translate an interchange, streaming; every failure to read it is a `ParseError`."""
        return _guarded(read_interchange(source, chunk_size=chunk_size))


def _guarded(events: Iterator[Event]) -> Iterator[Event]:
    """Keep the format's promise that unreadable input raises `ParseError`, whatever went wrong inside.

    I/O errors of the source stream pass through unchanged: they say nothing about the document, and a
    retry may succeed.
    """
    try:
        yield from events
    except (GatewayError, OSError, MemoryError):
        raise
    except Exception as error:
        raise ParseError(
            f"the interchange could not be read ({type(error).__name__}: {error})", code=codes.INTERNAL
        ) from error


FORMAT = EdifactFormat()

__all__ = ["DEFAULT", "FORMAT", "EdifactFormat", "Separators", "iter_render", "render_orders"]
