"""Round trip: any OrderRequest written by lxml (attributes and text escaped as XML needs) reads back the same."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml.builder import E

from mappings.translate import translate

texts = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=30,
)
amounts = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**7), places=3)
items = st.lists(st.tuples(amounts, amounts, texts, texts), min_size=1, max_size=5)


def write(order_id: str, secret: str, lines: list[tuple[Decimal, Decimal, str, str]]) -> bytes:
    credential = E.Credential(E.Identity("AN01"), domain="NetworkID")
    header = E.Header(
        E.From(credential),
        E.To(E.Credential(E.Identity("AN02"), domain="NetworkID")),
        E.Sender(E.Credential(E.Identity("AN01"), E.SharedSecret(secret), domain="NetworkID")),
    )
    item_outs = [
        E.ItemOut(
            E.ItemID(E.SupplierPartID(part)),
            E.ItemDetail(
                E.UnitPrice(E.Money(f"{price:f}", currency="EUR")), E.Description(text), E.UnitOfMeasure("EA")
            ),
            quantity=f"{quantity:f}",
            lineNumber=str(number),
        )
        for number, (quantity, price, part, text) in enumerate(lines, 1)
    ]
    request = E.OrderRequest(
        E.OrderRequestHeader(orderID=order_id, orderDate="2024-02-29", type="new"), *item_outs
    )
    root = E.cXML(header, E.Request(request), payloadID="p@x", timestamp="2024-02-29T10:00:00Z")
    return etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", doctype='<!DOCTYPE cXML SYSTEM "cXML.dtd">'
    )


@settings(max_examples=60, deadline=None)
@given(order_id=texts, secret=texts.map(lambda s: f"S3CR3T{s}"), lines=items)
def test_cxml_round_trip(order_id: str, secret: str, lines: list[tuple[Decimal, Decimal, str, str]]) -> None:
    assume(all(secret not in value for value in (order_id, *(f"{a} {b} {c} {d}" for a, b, c, d in lines))))
    data = write(order_id, secret, lines)
    translation = translate(data)
    assert translation.status == "accepted", [e.describe() for e in translation.errors]
    [order] = translation.orders
    assert order.order_number == order_id
    assert [(ln.quantity, ln.unit_price, ln.seller_item_id, ln.description) for ln in order.lines] == lines
    assert secret not in order.model_dump_json()
