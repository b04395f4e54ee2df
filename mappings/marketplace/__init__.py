"""Marketplace orders as JSON: Shopify, WooCommerce and Amazon SP-API orders in, canonical orders out.

One registered format rather than one per marketplace: the first 4 KiB of a JSON document only say
that it is JSON (the keys that tell the marketplaces apart may come late), and `mappings.registry`
hands a document to the first format whose sniffer says yes, so only one format can claim JSON. The
marketplace is recognised after parsing, by a registry of shapes (`shapes.py`).

base.py         a record of a document, and the Shape protocol that reads one
document.py     bytes → parsed JSON (bounded, Decimal numbers) → one record per order
shapes.py       the shape registry: which record is which marketplace's order (or known non-order)
shopify.py      Shopify Order (REST, webhooks); a Shopify fulfillment is refused by name
woocommerce.py  WooCommerce REST v2/v3 order
amazon.py       Amazon SP-API Orders v0: getOrder + getOrderItems, archived side by side
build.py        envelope facts, parties, the events of one record; fields.py typed reads with JSON paths

Every order is its own interchange (`InterchangeHeader.control_ref` = the marketplace's order id) and
message (`message_ref` = the order id, `position` = its 1-based index in the document). Issues name the
JSON path in `element` (0-based indexes: `line_items[2].quantity` is the third line's quantity) and
the order's index in `position`; malformed JSON gives its line as `position`, line and column in words.
`OrderSource.format` is the marketplace ("shopify", "woocommerce", "amazon").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from mappings.base import Event, Source
from mappings.marketplace.build import FORMAT_NAME
from mappings.marketplace.document import load, records
from mappings.marketplace.shapes import recognise

_BOM = b"\xef\xbb\xbf"


class MarketplaceFormat:
    name: ClassVar[str] = FORMAT_NAME
    label: ClassVar[str] = "Marketplace order JSON (Shopify, WooCommerce, Amazon SP-API)"

    def sniff(self, head: bytes) -> bool:
        """True for a JSON object or list: "{" or "[" after an optional BOM and white space."""
        return head.removeprefix(_BOM).lstrip(b" \t\r\n")[:1] in (b"{", b"[")

    def read(self, source: Source) -> Iterator[Event]:
        """Parse the whole document, recognise every record's shape (refusing the document before any
        event when one is unknown), then yield a header and an outcome per record."""
        found = [(record, recognise(record)) for record in records(load(source))]
        for record, shape in found:
            yield from shape.read(record)


FORMAT = MarketplaceFormat()

__all__ = ["FORMAT", "MarketplaceFormat"]
