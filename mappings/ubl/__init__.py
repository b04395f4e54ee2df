"""OASIS UBL 2.x (2.0 to 2.4): Order, OrderChange and OrderCancellation in, canonical orders out.

documents.py  namespaces, which documents are orders, plain names of the others, who sends what
reader.py     a parsed document → InterchangeHeader + MessageOutcome
order.py      header → Order (parties.py parties and identifier schemes, lines.py lines,
              amounts.py allowances/charges, taxes and totals)

Parsing is `mappings.xml.safe`: no DTD, no entities, no network, a size limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from mappings.base import Event, Source
from mappings.ubl.documents import document_of
from mappings.ubl.reader import read_document
from mappings.xml import DEFAULT_MAX_BYTES, parse, read_limited, root_of


class UblFormat:
    name: ClassVar[str] = "ubl"
    label: ClassVar[str] = "OASIS UBL 2"

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes

    def sniff(self, head: bytes) -> bool:
        """True when the root element is in a UBL 2 document namespace (…:xsd:<Document>-2)."""
        root = root_of(head)
        return root is not None and document_of(root.namespace) is not None

    def read(self, source: Source) -> Iterator[Event]:
        """One header and one message; `ParseError` for unsafe, oversized or malformed XML."""
        yield from read_document(parse(read_limited(source, self.max_bytes)))


FORMAT = UblFormat()

__all__ = ["FORMAT", "UblFormat"]
