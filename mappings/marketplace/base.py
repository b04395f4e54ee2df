"""What a marketplace shape reader is: it recognises one kind of JSON record and translates it.

A document is split into records (one per order; see `document.records`); each record is offered to
the registered shapes in order (`shapes.SHAPES`) and the first whose `matches` says yes reads it.
`matches` looks only at keys, never at values, so it is cheap and cannot fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from mappings.base import InterchangeHeader, MessageOutcome


@dataclass(frozen=True, slots=True)
class Record:
    """One JSON object of a document that should be an order (or a known non-order)."""

    value: dict[str, Any]
    path: str  # its JSON path in the document: "" (the root), "order", "orders[3]", "[0]"
    wrapper: str | None  # the single key it was wrapped in ("order", "orders", "fulfillment", "payload")
    position: int  # 1-based index in the document


class Shape(Protocol):
    name: str  # the marketplace: "shopify", "woocommerce", "amazon" (becomes OrderSource.format)
    label: str  # what it is, in words: "a Shopify order"
    is_order: bool  # False for shapes recognised only to be refused by name (a Shopify fulfillment)

    def matches(self, record: Record) -> bool: ...

    def read(self, record: Record) -> tuple[InterchangeHeader, MessageOutcome]: ...


__all__ = ["Record", "Shape"]
