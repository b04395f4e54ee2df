"""The 850 summary (CTT line count and hash total, AMT order total) checked against the lines.

Mismatches are warnings: the PO1 lines are what is ordered, the summary only restates them, and real
partners send summaries that do not add up (the corpus has an AMT of 12 for a line of 665).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gateway.core.errors import Issue
from mappings.x12.context import issue
from mappings.x12.values import decimal, integer

CENT = Decimal("0.01")


def check_totals(
    lines: list[dict[str, Any]],
    po1_count: int,
    ctt: tuple[int, str, str] | None,
    amt: tuple[int, str] | None,
) -> list[Issue]:
    """`lines` as translated (a line with an unreadable quantity is missing); ctt/amt as (position, …)."""
    found = []
    complete = len(lines) == po1_count
    if ctt is not None:
        position, count, hash_total = ctt
        if integer(count) != po1_count:
            found.append(
                issue(
                    "X12_CTT_COUNT",
                    f"CTT01 says {count!r} line items but the order has {po1_count} PO1 segments",
                    "CTT",
                    position,
                    "CTT01",
                    warning=True,
                )
            )
        total = sum((line["quantity"] for line in lines), Decimal(0))
        if hash_total and complete and decimal(hash_total) != total:
            found.append(
                issue(
                    "X12_CTT_HASH",
                    f"CTT02 says the quantities add up to {hash_total!r} but they add up to {total}",
                    "CTT",
                    position,
                    "CTT02",
                    warning=True,
                )
            )
    if amt is not None and complete and all(line["unit_price"] is not None for line in lines):
        position, sent = amt
        stated = decimal(sent)
        computed = sum((_amount(line) for line in lines), Decimal(0))
        if stated is None or abs(stated - computed) >= CENT:
            found.append(
                issue(
                    "X12_AMT_TOTAL",
                    f"AMT02 says the order totals {sent!r} but its lines (quantity times unit price) add up "
                    f"to {computed.normalize():f}",
                    "AMT",
                    position,
                    "AMT02",
                    warning=True,
                )
            )
    return found


def _amount(line: dict[str, Any]) -> Decimal:
    amount: Decimal = line["quantity"] * line["unit_price"]
    basis = line["price_basis_quantity"]
    return amount / basis if basis else amount
