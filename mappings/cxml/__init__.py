"""cXML (1.1, 1.2.x): OrderRequest in, canonical orders out; every other payload named and refused.

documents.py  payload names and OrderRequest types
reader.py     a parsed document → InterchangeHeader + MessageOutcome
order.py      OrderRequest → Order (parties.py, lines.py, amounts.py)
secrets.py    keeps the Sender's SharedSecret out of parse errors (nothing else ever reads it)

Parsing is `mappings.xml.safe`: the DOCTYPE every cXML document carries names a DTD on xml.cxml.org;
it is never fetched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from gateway.core.errors import ParseError
from mappings.base import Event, Source
from mappings.cxml.reader import read_document
from mappings.cxml.secrets import without_secrets
from mappings.xml import DEFAULT_MAX_BYTES, doctype_of, parse, read_limited, root_of


class CxmlFormat:
    name: ClassVar[str] = "cxml"
    label: ClassVar[str] = "cXML"

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes

    def sniff(self, head: bytes) -> bool:
        """True for a <cXML> root, or a DOCTYPE cXML when the root starts beyond the first bytes."""
        root = root_of(head)
        if root is not None:
            return root.namespace is None and root.local_name == "cXML"
        return doctype_of(head) == "cXML"

    def read(self, source: Source) -> Iterator[Event]:
        """One header and one message; `ParseError` for unsafe, oversized or malformed XML."""
        data = read_limited(source, self.max_bytes)
        try:
            root = parse(data)
        except ParseError as error:
            raise without_secrets(error, data) from None
        yield from read_document(root)


FORMAT = CxmlFormat()

__all__ = ["FORMAT", "CxmlFormat"]
