"""Property: orders written as a European supplier's CSV and read back through its mapping are the
same orders, whatever the text (delimiters, quotes, line breaks, umlauts) and numbers hold."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.mappings.tabular.helpers import run

MAPPING = """
[layout]
kind = "csv"
delimiter = ";"
encoding = "cp1252"

[values]
decimal = ","
thousands = "."
dates = ["%d.%m.%Y"]

[[fields]]
target = "order_number"
column = "Beleg"

[[fields]]
target = "order_date"
column = "Datum"

[[fields]]
target = "buyer.name"
column = "Kunde"

[[fields]]
target = "lines.seller_item_id"
column = "Artikel"

[[fields]]
target = "lines.description"
column = "Text"

[[fields]]
target = "lines.quantity"
column = "Menge"

[[fields]]
target = "lines.unit"
column = "ME"
map = { ST = "PCE", KAR = "CT", KG = "KGM" }
unmapped = "error"

[[fields]]
target = "lines.unit_price"
column = "Preis"
"""
UNITS = {"PCE": "ST", "CT": "KAR", "KGM": "KG"}
HEADER = ["Beleg", "Datum", "Kunde", "Artikel", "Text", "Menge", "ME", "Preis"]


@dataclass(frozen=True)
class Line:
    item: str
    text: str | None
    quantity: Decimal
    unit: str
    price: Decimal | None


@dataclass(frozen=True)
class Sent:
    number: str
    day: date
    customer: str | None
    lines: tuple[Line, ...]


def _strip_stable(text: str) -> bool:
    return text == text.strip()


# cp1252 text with the characters that test quoting: the delimiter, quotes, line breaks, umlauts, €
free_text = st.text(
    alphabet=st.sampled_from("abcXYZ09 ;,\"'\n-äöüßÄÖÜéçñ€„“\u2013&/"), min_size=1, max_size=30
).filter(lambda t: _strip_stable(t) and t.strip() != "")
codes = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=12).filter(_strip_stable)
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("9999999"), places=3)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999"), places=2)

lines = st.builds(
    Line,
    item=codes,
    text=st.none() | free_text,
    quantity=quantities,
    unit=st.sampled_from(sorted(UNITS)),
    price=st.none() | prices,
)
orders = st.lists(
    st.builds(
        Sent,
        number=codes,
        day=st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)),
        customer=st.none() | free_text,
        lines=st.lists(lines, min_size=1, max_size=4).map(tuple),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda order: order.number,
)


def number(value: Decimal) -> str:
    """1234567.5 → "1.234.567,5", as the supplier writes it."""
    return f"{value:,f}".translate(str.maketrans(",.", ".,"))


def render(sent: list[Sent]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for order in sent:
        for line in order.lines:
            writer.writerow(
                [
                    order.number,
                    order.day.strftime("%d.%m.%Y"),
                    order.customer or "",
                    line.item,
                    line.text or "",
                    number(line.quantity),
                    UNITS[line.unit],
                    number(line.price) if line.price is not None else "",
                ]
            )
    return out.getvalue().encode("cp1252")


@settings(max_examples=150, deadline=None)
@given(orders)
def test_rendered_orders_read_back_the_same(sent: list[Sent]) -> None:
    translation = run(MAPPING, render(sent))
    assert translation.errors == []
    read = [
        Sent(
            number=order.order_number,
            day=order.order_date or date.min,
            customer=order.buyer.name if order.buyer else None,
            lines=tuple(
                Line(ln.seller_item_id or "", ln.description, ln.quantity, ln.unit or "", ln.unit_price)
                for ln in order.lines
            ),
        )
        for order in translation.orders
    ]
    assert read == sent
