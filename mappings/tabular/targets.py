"""The target vocabulary of a mapping file: which canonical fields a column can fill, and how.

A small closed list of dotted paths rather than arbitrary paths into `Order`: every path here is
documented in docs/mapping-files.md, a typo is caught when the mapping is loaded ("did you mean"),
and each path knows its level (file, order or line), its value kind and whether several columns may
feed it (a second street line, several party identifiers).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

Level = Literal["interchange", "order", "line"]
Kind = Literal["text", "date", "decimal", "purpose"]


@dataclass(frozen=True, slots=True)
class Target:
    path: str
    level: Level
    kind: Kind = "text"
    repeatable: bool = False
    """Several fields may feed it; each adds one value (street lines, identifiers, notes, references)."""
    always_required: bool = False
    """The canonical order cannot exist without it, whatever the mapping says."""

    @property
    def is_identifier(self) -> bool:
        """A party identifier: the field names its scheme (GLN, DUNS, BUYER …)."""
        return self.path.endswith(".id")


PARTY_ROLES = ("buyer", "seller", "ship_to", "bill_to")
ITEM_SCHEMES = {"lines.gtin": "GTIN", "lines.buyer_item_id": "BUYER", "lines.seller_item_id": "SELLER"}
"""Item identifiers are also listed in `OrderLine.item_identifiers` under these schemes."""
REFERENCE_PREFIX = "references."


def _vocabulary() -> dict[str, Target]:
    targets = [
        Target("interchange.sender_id", "interchange"),
        Target("interchange.sender_qualifier", "interchange"),
        Target("interchange.receiver_id", "interchange"),
        Target("interchange.receiver_qualifier", "interchange"),
        Target("interchange.control_ref", "interchange"),
        Target("order_number", "order", always_required=True),
        Target("order_date", "order", "date"),
        Target("requested_delivery_date", "order", "date"),
        Target("requested_ship_date", "order", "date"),
        Target("purpose", "order", "purpose"),
        Target("currency", "order"),
        Target("notes", "order", repeatable=True),
        Target("totals.line_total", "order", "decimal"),
        Target("totals.tax_total", "order", "decimal"),
        Target("totals.total", "order", "decimal"),
        Target("lines.line_number", "line"),
        Target("lines.gtin", "line"),
        Target("lines.buyer_item_id", "line"),
        Target("lines.seller_item_id", "line"),
        Target("lines.description", "line"),
        Target("lines.quantity", "line", "decimal", always_required=True),
        Target("lines.unit", "line"),
        Target("lines.unit_price", "line", "decimal"),
        Target("lines.price_basis_quantity", "line", "decimal"),
        Target("lines.line_amount", "line", "decimal"),
        Target("lines.requested_delivery_date", "line", "date"),
        Target("lines.notes", "line", repeatable=True),
    ]
    for role in PARTY_ROLES:
        targets += [
            Target(f"{role}.name", "order"),
            Target(f"{role}.id", "order", repeatable=True),
            Target(f"{role}.address.street", "order", repeatable=True),
            Target(f"{role}.address.city", "order"),
            Target(f"{role}.address.postal_code", "order"),
            Target(f"{role}.address.region", "order"),
            Target(f"{role}.address.country", "order"),
            Target(f"{role}.contact.name", "order"),
            Target(f"{role}.contact.phone", "order"),
            Target(f"{role}.contact.email", "order"),
        ]
    return {t.path: t for t in targets}


TARGETS = _vocabulary()


def resolve(path: str) -> Target:
    """The target a mapping names; `ValueError` with a suggestion when there is none."""
    if path in TARGETS:
        return TARGETS[path]
    if path.startswith(REFERENCE_PREFIX) and len(path) > len(REFERENCE_PREFIX):
        return Target(path, "order", repeatable=True)
    close = difflib.get_close_matches(path, [*TARGETS, "references.<qualifier>"], n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    raise ValueError(f'unknown target "{path}"{hint}; see docs/mapping-files.md for the list')


__all__ = ["ITEM_SCHEMES", "PARTY_ROLES", "REFERENCE_PREFIX", "TARGETS", "Kind", "Level", "Target", "resolve"]
