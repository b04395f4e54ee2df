"""The registry of marketplace shapes: which JSON records ordergate recognises, tried in this order.

Adding a marketplace is one module with a `Shape` and one entry here. Order matters only where keys
overlap: a Shopify fulfillment is tried before a Shopify order.
"""

from __future__ import annotations

from gateway.core.errors import UnsupportedDocument
from mappings.marketplace.amazon import AMAZON_ORDER
from mappings.marketplace.base import Record, Shape
from mappings.marketplace.shopify import SHOPIFY_FULFILLMENT, SHOPIFY_ORDER
from mappings.marketplace.woocommerce import WOOCOMMERCE_ORDER

SHAPES: tuple[Shape, ...] = (AMAZON_ORDER, SHOPIFY_FULFILLMENT, SHOPIFY_ORDER, WOOCOMMERCE_ORDER)


def order_shapes() -> str:
    """The order shapes ordergate reads, in words, for messages."""
    labels = [shape.label for shape in SHAPES if shape.is_order]
    return ", ".join(labels[:-1]) + f" or {labels[-1]}" if len(labels) > 1 else labels[0]


def recognise(record: Record) -> Shape:
    """The shape that reads this record; `UnsupportedDocument` (UNSUPPORTED_FORMAT) when none does."""
    shape = next((s for s in SHAPES if s.matches(record)), None)
    if shape is None:
        path = record.path or "$"
        raise UnsupportedDocument(
            f"the JSON at {path} is none of the marketplace order shapes ordergate reads ({order_shapes()})",
            code="UNSUPPORTED_FORMAT",
            position=record.position,
            element=path,
        )
    return shape


__all__ = ["SHAPES", "order_shapes", "recognise"]
