"""Round trip: any order written as UBL by lxml (which escapes what XML needs) reads back the same values."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml.builder import ElementMaker

from mappings.translate import translate

UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
CBC = ElementMaker(namespace=f"{UBL}CommonBasicComponents-2", nsmap={"cbc": f"{UBL}CommonBasicComponents-2"})
CAC = ElementMaker(
    namespace=f"{UBL}CommonAggregateComponents-2", nsmap={"cac": f"{UBL}CommonAggregateComponents-2"}
)
ROOT = ElementMaker(namespace=f"{UBL}Order-2", nsmap={None: f"{UBL}Order-2"})

texts = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() == s and " " not in s[:1])
amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**9), places=4)
units = st.from_regex(r"[A-Z0-9]{1,3}", fullmatch=True)
lines = st.lists(st.tuples(texts, amounts, units, st.none() | amounts, texts, texts), min_size=1, max_size=5)


def write(number: str, note: str, items: list[tuple[str, Decimal, str, Decimal | None, str, str]]) -> bytes:
    order_lines = []
    for line_id, quantity, unit, price, seller_id, name in items:
        item = [CBC.ID(line_id), CBC.Quantity(f"{quantity:f}", unitCode=unit)]
        if price is not None:
            item.append(CAC.Price(CBC.PriceAmount(f"{price:f}", currencyID="EUR")))
        item.append(CAC.Item(CBC.Name(name), CAC.SellersItemIdentification(CBC.ID(seller_id))))
        order_lines.append(CAC.OrderLine(CAC.LineItem(*item)))
    root = ROOT.Order(
        CBC.ID(number),
        CBC.IssueDate("2024-01-31"),
        CBC.Note(note),
        CBC.DocumentCurrencyCode("EUR"),
        *order_lines,
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@settings(max_examples=60, deadline=None)
@given(number=texts, note=texts, items=lines)
def test_ubl_round_trip(
    number: str, note: str, items: list[tuple[str, Decimal, str, Decimal | None, str, str]]
) -> None:
    translation = translate(write(number, note, items))
    assert translation.status == "accepted", [e.describe() for e in translation.errors]
    [order] = translation.orders
    assert (order.order_number, order.notes, order.currency) == (number, [note], "EUR")
    assert [
        (line.line_number, line.quantity, line.unit, line.unit_price, line.seller_item_id, line.description)
        for line in order.lines
    ] == items
