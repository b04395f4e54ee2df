"""The three partner files of the fixtures, read as their partners mean them."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from mappings.tabular import TabularFormat
from tests.mappings.tabular.helpers import FIXTURES, fixture_mapping, run


def test_semicolon_csv_with_decimal_commas_and_german_dates() -> None:
    data = (FIXTURES / "mueller_orders.csv").read_bytes()
    translation = run(fixture_mapping("mueller"), data)
    assert translation.errors == [] and translation.warnings == []
    assert translation.format == "csv"
    first, second = translation.orders
    assert first.order_number == "4500012345"
    assert first.order_date == date(2025, 3, 3)
    assert first.currency == "EUR"
    assert first.buyer is not None and first.buyer.name == "Baustoffe Würzner GmbH"
    assert first.buyer.identifier("SELLER") == "10077"
    assert first.ship_to is not None and first.ship_to.address is not None
    assert first.ship_to.address.street == ["Industriestraße 12"]
    assert (first.ship_to.address.city, first.ship_to.address.country) == ("München", "DE")
    assert first.notes == ["Anlieferung Rampe 3"]
    # "1.200" with "." as thousands separator; "0,085" with a decimal comma
    assert [(ln.line_number, ln.quantity, ln.unit, ln.unit_price) for ln in first.lines] == [
        ("10", Decimal("1200"), "PCE", Decimal("0.085")),
        ("20", Decimal("2500"), "PCE", Decimal("0.042")),
    ]
    assert first.lines[1].description == "Dübel 8 mm; Nylon"  # a quoted delimiter
    assert first.lines[0].requested_delivery_date == date(2025, 3, 10)
    assert [(i.scheme, i.value) for i in first.lines[0].item_identifiers] == [
        ("GTIN", "4006381333931"),
        ("SELLER", "BO-1001"),
    ]
    assert second.order_number == "4500012346"
    assert [ln.unit for ln in second.lines] == ["CT", "KGM", "PK"]  # ST/KAR/KG/PAK mapped
    assert second.lines[0].description == "Kleber „Extra stark“ 310 ml"  # cp1252 quotation marks
    assert second.lines[1].quantity == Decimal("12.5")
    assert second.lines[2].unit_price == Decimal("1049.00")
    assert second.lines[2].gtin is None and second.lines[0].requested_delivery_date is None
    assert second.notes == []


def test_source_and_interchange_of_a_csv_file() -> None:
    data = (FIXTURES / "mueller_orders.csv").read_bytes()
    translation = run(fixture_mapping("mueller"), data)
    [interchange] = translation.interchanges
    header = interchange.header
    assert (header.format, header.sender_id, header.sender_qualifier) == ("csv", "4012345000009", "GLN")
    assert header.control_ref == "sha256:" + hashlib.sha256(data).hexdigest()[:20]
    assert len(header.control_ref) <= 35
    assert [m.position for m in interchange.messages] == [2, 4]  # physical line of each order's first row
    source = translation.orders[1].source
    assert (source.format, source.message_type, source.sender_id) == ("csv", "CSV", "4012345000009")
    assert source.interchange_control_ref == header.control_ref
    assert source.message_control_ref == "2"


def test_comma_csv_with_bom_repeated_header_row_and_multiline_notes() -> None:
    translation = run(fixture_mapping("webshop"), (FIXTURES / "webshop_orders.csv").read_bytes())
    assert translation.errors == []
    first, second = translation.orders
    assert [ln.seller_item_id for ln in first.lines] == ["MUG-BL", "TEA-EG"]
    assert first.lines[1].description == 'Tea "Earl Grey" 100 g'  # doubled quotes
    assert first.notes == ["Please ring twice.\nThanks!"]  # a line break inside quotes, once per order
    assert first.ship_to is not None and first.ship_to.address is not None
    assert first.ship_to.address.street == ["Hauptstraße 5", "Hinterhaus"]  # two columns, one list
    assert first.buyer is not None and first.buyer.contact is not None
    assert first.buyer.contact.email == "anna.berg@example.org"
    assert {ln.unit for ln in first.lines} == {"PCE"}  # a constant
    assert second.order_number == "WEB-1002"
    assert second.ship_to is not None and second.ship_to.address is not None
    assert second.ship_to.address.street == ["1 Rue de la Paix"]  # the empty second street is no line
    assert [m.position for m in translation.interchanges[0].messages] == [2, 7]


def test_fixed_width_header_line_trailer_with_implied_decimals() -> None:
    translation = run(fixture_mapping("nordlicht"), (FIXTURES / "nordlicht_orders.txt").read_bytes())
    assert translation.errors == []
    assert translation.format == "fixed"
    first, second = translation.orders
    assert first.order_number == "PO-778801"
    assert first.order_date == date(2025, 3, 5)
    assert first.requested_delivery_date == date(2025, 3, 12)
    assert first.buyer is not None and first.buyer.identifier("GLN") == "4012345000047"
    assert first.ship_to is not None and first.ship_to.identifier("GLN") == "4012345000054"
    assert [(ln.line_number, ln.gtin, ln.quantity, ln.unit, ln.unit_price) for ln in first.lines] == [
        ("00001", "04012345000108", Decimal("12.000"), "PCE", Decimal("125.50")),
        ("00002", "04012345000115", Decimal("2.500"), "KGM", Decimal("3.99")),
    ]
    assert first.lines[0].description == 'Gartenschlauch 1/2" 25 m'  # padding trimmed
    assert second.requested_delivery_date is None  # "00000000" is a null value
    assert second.lines[0].unit_price == Decimal("49.99")
    assert second.source.format == "fixed-width"
    assert second.source.message_type == "NL-ORD"
    assert translation.interchanges[0].header.format == "fixed"


def test_the_format_is_a_csv_or_fixed_width_class_by_layout() -> None:
    csv_format = TabularFormat(fixture_mapping("mueller"))
    fixed_format = TabularFormat(fixture_mapping("nordlicht"))
    assert (csv_format.name, fixed_format.name) == ("csv", "fixed")
    assert isinstance(csv_format, TabularFormat) and isinstance(fixed_format, TabularFormat)


RECORDS_CSV = """
[layout]
kind = "csv"
header = false
skip_rows = 1
record_type = { column = 1 }

[grouping]
by = "records"
header = "HDR"
line = "POS"
ignore = ["TXT"]

[[fields]]
target = "order_number"
column = 2

[[fields]]
target = "references.contract"
column = 3

[[fields]]
target = "lines.quantity"
column = 3

[[fields]]
target = "lines.description"
column = 4
"""


def test_csv_with_record_types_and_numbered_columns() -> None:
    data = "export 2025-03-01 (title line)\nHDR,77,K-1\nPOS,,5,one\nTXT,a text record\nPOS,,2.5,two\nHDR,78\nPOS,,1,x\n"
    translation = run(RECORDS_CSV, data)
    assert translation.errors == []
    first, second = translation.orders
    assert [(ln.quantity, ln.description) for ln in first.lines] == [
        (Decimal(5), "one"),
        (Decimal("2.5"), "two"),
    ]
    assert [(r.qualifier, r.value) for r in first.references] == [("contract", "K-1")]
    assert second.order_number == "78" and second.references == []
    assert [m.position for m in translation.interchanges[0].messages] == [2, 6]
