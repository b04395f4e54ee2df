"""ANSI ASC X12: interchanges (ISA … IEA) in, canonical orders from 850 purchase orders out.

isa.py        the fixed-width ISA and the separators it declares
tokenizer.py  bytes → segments, streaming, one interchange after another
envelope.py   ISA/GS/ST nesting, counts and control numbers → events (context.py: what a set sees)
po850.py      one 850 → Order (codes.py code lists, values.py numbers and dates, totals.py CTT/AMT)
sets.py       plain names of the sets ordergate reads for their envelope only
render.py     orders → an 850 interchange
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from mappings.base import Event, Source
from mappings.x12.envelope import read_interchanges
from mappings.x12.tokenizer import READ_SIZE

_BOM = b"\xef\xbb\xbf"


class X12Format:
    name: ClassVar[str] = "x12"
    label: ClassVar[str] = "ANSI ASC X12"

    def sniff(self, head: bytes) -> bool:
        """True for "ISA" followed by a special character, after an optional BOM and white space."""
        head = head.removeprefix(_BOM).lstrip(b" \t\r\n")
        if len(head) < 4 or not head.startswith(b"ISA"):
            return False
        separator = head[3:4]
        return not (separator.isalnum() or separator.isspace())

    def read(self, source: Source, chunk_size: int = READ_SIZE) -> Iterator[Event]:
        """Stream events: an `InterchangeHeader` per interchange, then a `MessageOutcome` per set."""
        return read_interchanges(source, chunk_size)


FORMAT = X12Format()

__all__ = ["FORMAT", "X12Format"]
