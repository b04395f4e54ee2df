"""The e-mail order template: detected by its first line, read into one canonical order, and every bad
line named with its number so the partner can fix it from the answer."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from mappings.base import collect
from mappings.mailtext import FORMAT
from mappings.registry import detect, formats
from mappings.translate import translate

ORDER = """ORDERGATE ORDER
Order: 4711
Buyer: 4012345000009
Buyer name: Acme Retail
Supplier: 4098765000003
Date: 2026-12-01
Delivery date: 2026-12-05
Currency: eur
Ship to: Acme Store 12, Main Street 1, 12345 Berlin, DE
Ship to id: ST-12
Note: ring at the back door
Note: second note

SKU     | GTIN          | Qty | Unit | Price | Description
ABC-100 |               | 10  | PCE  | 1.25  | Blue pens
        | 4006381333931 | 2,5 | KGM  |       | Paper clips
END
Kind regards, Jane
"""


def test_registered_and_sniffed_by_its_first_line() -> None:
    assert FORMAT in formats()
    assert detect(ORDER.encode()) is FORMAT
    assert FORMAT.sniff(b"\xef\xbb\xbf\r\n  ordergate  order\r\nOrder: 1")
    assert not FORMAT.sniff(b"Hello,\nORDERGATE ORDER\n")  # not the first line: a cover note
    assert not FORMAT.sniff(b"UNA:+.? 'UNB+UNOC:3")
    assert detect(b"UNB+UNOC:3+x") is not FORMAT


def test_the_example_becomes_one_order() -> None:
    translation = translate(ORDER.encode())
    assert translation.format == "mailtext" and translation.errors == []
    (order,) = translation.orders
    assert (order.order_number, str(order.order_date), str(order.requested_delivery_date)) == (
        "4711",
        "2026-12-01",
        "2026-12-05",
    )
    assert order.currency == "EUR"
    assert order.buyer is not None and order.buyer.name == "Acme Retail"
    assert order.buyer.identifier("GLN") == "4012345000009"
    assert order.seller is not None and order.seller.identifier("GLN") == "4098765000003"
    assert order.ship_to is not None and order.ship_to.name == "Acme Store 12"
    assert order.ship_to.address is not None
    assert order.ship_to.address.street == ["Main Street 1", "12345 Berlin", "DE"]
    assert order.ship_to.identifier("PARTNER") == "ST-12"
    assert order.notes == ["ring at the back door", "second note"]
    first, second = order.lines
    assert (first.line_number, first.seller_item_id, first.quantity, first.unit, first.unit_price) == (
        "1",
        "ABC-100",
        Decimal("10"),
        "PCE",
        Decimal("1.25"),
    )
    assert (second.gtin, second.seller_item_id, second.quantity, second.unit_price) == (
        "4006381333931",
        None,
        Decimal("2.5"),
        None,
    )
    assert second.description == "Paper clips"
    header = translation.interchanges[0].header
    assert (header.format, header.sender_id, header.sender_qualifier, header.control_ref) == (
        "mailtext",
        "4012345000009",
        "GLN",
        "4711",
    )
    assert order.source.format == "mailtext" and order.source.interchange_control_ref == "4711"


def test_markdown_tables_and_a_signature_after_the_table() -> None:
    text = (
        "ordergate order\r\norder no.: A-1\r\nBUYER_ID: acme-7\r\n\r\n"
        "| Item | Quantity | Unit price |\r\n|:---|---:|---|\r\n| X1 | 3 | 9.90 |\r\n\r\n"
        "Best regards\r\nJane\r\n-- \r\nAcme | Retail\r\n"
    )
    translation = translate(text.encode())
    (order,) = translation.orders
    assert order.order_number == "A-1" and order.buyer is not None
    assert order.buyer.identifier("PARTNER") == "acme-7"
    assert translation.interchanges[0].header.sender_qualifier is None
    (line,) = order.lines
    assert (line.seller_item_id, line.quantity, line.unit_price) == ("X1", Decimal("3"), Decimal("9.90"))


def test_every_bad_line_is_named_in_line_order() -> None:
    text = """ORDERGATE ORDER
Order: 4711
Buyer: acme
Date: 1.12.2026
Shipto: Acme Store
Currency: Euro
Please deliver quickly

SKU | Qty | Price
A-1 | ten | 1.00
A-2 | 0 | 1.00
A-3 | 1 | 1.00 | extra
    | 2 | 3.00
A-5 |   | 1,5,0
"""
    translation = translate(text.encode())
    assert translation.orders == []
    found = [(issue.code, issue.position, issue.element) for issue in translation.errors]
    assert found == [
        ("MAILTEXT_BAD_DATE", 4, "date"),
        ("MAILTEXT_UNKNOWN_FIELD", 5, None),
        ("MAILTEXT_BAD_CURRENCY", 6, "currency"),
        ("MAILTEXT_BAD_LINE", 7, None),
        ("MAILTEXT_BAD_QUANTITY", 10, "qty"),
        ("MAILTEXT_BAD_QUANTITY", 11, "qty"),
        ("MAILTEXT_BAD_ROW", 12, None),
        ("MAILTEXT_MISSING_ITEM", 13, "sku"),
        ("MAILTEXT_BAD_PRICE", 14, "price"),
        ("MAILTEXT_BAD_QUANTITY", 14, "qty"),
    ]
    messages = {issue.position: issue.message for issue in translation.errors}
    assert messages[5].startswith("line 5: 'Shipto' is not a field of the template (Order, Buyer")
    assert (
        messages[10]
        == "line 10: quantity 'ten' is not a number (digits, at most one '.' or ',' for decimals)"
    )
    assert messages[12] == "line 12: 4 cells, but the table has 3 columns (sku | qty | price)"


@pytest.mark.parametrize(
    ("text", "code", "position"),
    [
        ("ORDERGATE ORDER\nBuyer: acme\n\nSKU | Qty\nA | 1\n", "MAILTEXT_MISSING_FIELD", 1),
        ("\n\nORDERGATE ORDER\nOrder: 1\n", "MAILTEXT_MISSING_FIELD", 3),
        ("ORDERGATE ORDER\nOrder: 1\nBuyer: acme\n", "MAILTEXT_NO_TABLE", 1),
        ("ORDERGATE ORDER\nOrder: 1\nBuyer: acme\nSKU | Qty\n", "MAILTEXT_NO_TABLE", 4),
        ("ORDERGATE ORDER\nOrder: 1\nBuyer: acme\nSKU | Colour\nA | red\n", "MAILTEXT_BAD_HEADER", 4),
        ("ORDERGATE ORDER\nOrder: 1\nOrder: 2\nBuyer: a\nSKU | Qty\nA | 1\n", "MAILTEXT_DUPLICATE_FIELD", 3),
        ("ORDERGATE ORDER\nOrder: 1\nBuyer: a\nGTIN | Qty\n4006381333932 | 1\n", "MAILTEXT_BAD_GTIN", 5),
        ("ORDERGATE ORDER\nOrder: 1\nBuyer:\nSKU | Qty\nA | 1\n", "MAILTEXT_EMPTY_FIELD", 3),
    ],
)
def test_structural_problems(text: str, code: str, position: int) -> None:
    errors = translate(text.encode()).errors
    assert [(e.code, e.position) for e in errors][:1] == [(code, position)], errors


def test_missing_order_and_buyer_are_named_together() -> None:
    (error,) = translate(b"ORDERGATE ORDER\nSKU | Qty\nA | 1\n").errors
    assert error.code == "MAILTEXT_MISSING_FIELD"
    assert "lacks the fields Order and Buyer" in error.message


def test_text_that_is_not_utf8_names_its_line() -> None:
    (error,) = translate("ORDERGATE ORDER\nOrder: 1\nNote: Grüße\n".encode("latin-1")).errors
    assert (error.code, error.position) == ("MAILTEXT_ENCODING", 3)


def test_reads_a_stream_as_well_as_bytes() -> None:
    header, messages = collect(FORMAT.read(io.BytesIO(ORDER.encode())))
    assert header is not None and header.control_ref == "4711"
    assert [m.order.order_number for m in messages if m.order] == ["4711"]


def test_an_oversized_text_is_refused() -> None:
    (error,) = translate(b"ORDERGATE ORDER\n" + b"x" * (1 << 20)).errors
    assert error.code == "MAILTEXT_TOO_LARGE"
