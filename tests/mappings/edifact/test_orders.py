"""ORDERS → canonical order: a rich handwritten EANCOM order with every segment ordergate reads, then the
tables (purposes, dates, item and party identifiers) and malformed content one case at a time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from gateway.core.canonical import (
    Address,
    Contact,
    Identifier,
    Order,
    OrderLine,
    OrderSource,
    Party,
    Reference,
)
from mappings.edifact import codes

from .support import codes_of, interchange, message, only, read

RICH = """UNA:+.? '
UNB+UNOC:3+5412345000013:14+5790000274017:14+241120:1015+ICR7++ORDERS++1++1'
UNH+ME1+ORDERS:D:96A:UN:EAN008'
BGM+220+PO-4711+5'
DTM+137:202411201015:203'
DTM+2:241127:101'
DTM+64:20241126:102'
DTM+10:20241125:102'
FTX+PUR+++Dock 3?+4:ring Jan?'s bell'
FTX+AAI+++Second note'
RFF+CT:CONTRACT-9'
DTM+171:20240101:102'
NAD+BY+5412345000013::9++Hexa Retail NV:Purchasing+Kerkstraat 1:Building B+Gent+VOV+9000+BE'
RFF+VA:BE0123456789'
CTA+OC+:Jan Peeters'
COM+?+32 9 123 45 67:TE'
COM+jan@hexa.example:EM'
CTA+IC+:Someone Else'
COM+0000:TE'
NAD+SU+123456789::16++Nordic Supply A/S'
NAD+DP+5412345000020::9+Hexa DC Gent:Havenlaan 10'
NAD+ST+5412345000099::9++Second ship-to'
NAD+IV+INV-77::92++Hexa Finance'
NAD+CN+5790000274017::9'
CUX+2:EUR:9'
CUX+3:USD:4'
LIN+1++4006381333931:EN'
PIA+1+ART-100:IN+SUP-100:SA'
IMD+C++CU::9:WIDGETS'
IMD+F++:::Blue widget, :extra large'
QTY+21:12:PCE'
QTY+59:6'
DTM+2:20241128:102'
FTX+AAI+++Handle with care'
MOA+203:54'
PRI+AAA:4.5::NTP:10:PCE'
PRI+AAB:5'
DTM+44:20241231:102'
LIN+++5012345678900:SRV'
PIA+1+MF-200:MF+012345678905:UP'
QTY+21:1,5:KGM'
LOC+7+DOCK1'
QTY+11:99'
DTM+2:20250101:102'
LIN+3++0764569104:IB'
QTY+1:25'
PRI+AAB:9.99'
UNS+S'
CNT+2:3'
UNT+48+ME1'
UNZ+1+ICR7'
"""


@pytest.fixture(scope="module")
def rich() -> tuple[Order, list, list]:  # type: ignore[type-arg]
    lines = RICH.splitlines()
    assert lines[-2] == f"UNT+{len(lines) - 3}+ME1'"  # UNH … UNT: the fixture's own count is honest
    _, (outcome,) = read(RICH.encode("latin-1"))
    assert outcome.order is not None
    return outcome.order, outcome.errors, outcome.warnings


def test_rich_order_header(rich: tuple[Order, list, list]) -> None:  # type: ignore[type-arg]
    order, errors, _ = rich
    assert errors == []
    assert order.order_number == "PO-4711"
    assert order.purpose == "replace"
    assert order.order_date == date(2024, 11, 20)
    assert order.requested_delivery_date == date(2024, 11, 27)  # DTM 2 wins over DTM 64
    assert order.requested_ship_date == date(2024, 11, 25)
    assert order.currency == "EUR"
    assert order.notes == ["Dock 3+4 ring Jan's bell", "Second note"]
    assert order.references == [
        Reference(qualifier="EDIFACT:CT", value="CONTRACT-9")
    ]  # its DTM 171 is no order date
    assert order.source == OrderSource(
        format="edifact",
        standard_version="D96A:EAN008",
        message_type="ORDERS",
        sender_id="5412345000013",
        sender_qualifier="14",
        receiver_id="5790000274017",
        receiver_qualifier="14",
        interchange_control_ref="ICR7",
        group_control_ref=None,
        message_control_ref="ME1",
        test=True,
    )


def test_rich_order_parties(rich: tuple[Order, list, list]) -> None:  # type: ignore[type-arg]
    order, _, _ = rich
    assert order.buyer == Party(
        name="Hexa Retail NV Purchasing",
        identifiers=[
            Identifier(scheme="GLN", value="5412345000013"),
            Identifier(scheme="EDIFACT:VA", value="BE0123456789"),
        ],
        address=Address(
            street=["Kerkstraat 1", "Building B"], city="Gent", region="VOV", postal_code="9000", country="BE"
        ),
        contact=Contact(name="Jan Peeters", phone="+32 9 123 45 67", email="jan@hexa.example"),
    )
    assert order.seller == Party(
        name="Nordic Supply A/S", identifiers=[Identifier(scheme="DUNS", value="123456789")]
    )
    assert order.ship_to == Party(  # DP came first; unstructured C058 gives name and street
        name="Hexa DC Gent",
        identifiers=[Identifier(scheme="GLN", value="5412345000020")],
        address=Address(street=["Havenlaan 10"]),
    )
    assert order.bill_to == Party(
        name="Hexa Finance", identifiers=[Identifier(scheme="BUYER", value="INV-77")]
    )


def test_rich_order_lines(rich: tuple[Order, list, list]) -> None:  # type: ignore[type-arg]
    order, _, warnings = rich
    first, second, third = order.lines
    assert first == OrderLine(
        line_number="1",
        gtin="4006381333931",
        buyer_item_id="ART-100",
        seller_item_id="SUP-100",
        item_identifiers=[
            Identifier(scheme="GTIN", value="4006381333931"),
            Identifier(scheme="BUYER", value="ART-100"),
            Identifier(scheme="SELLER", value="SUP-100"),
        ],
        description="Blue widget, extra large",  # the free-form IMD, its two 7008 continued
        quantity=Decimal("12"),
        unit="PCE",
        unit_price=Decimal("4.5"),
        price_basis_quantity=Decimal("10"),
        requested_delivery_date=date(2024, 11, 28),  # not the price's DTM 44 after PRI
        notes=["Handle with care"],
    )
    assert second == OrderLine(
        line_number="2",  # empty LIN 1082: the line's position
        gtin="5012345678900",
        seller_item_id="MF-200",
        item_identifiers=[
            Identifier(scheme="GTIN", value="5012345678900"),
            Identifier(scheme="EDIFACT:MF", value="MF-200"),
            Identifier(scheme="UPC", value="012345678905"),
        ],
        quantity=Decimal("1.5"),  # decimal comma although UNA says point
        unit="KGM",
        # QTY and DTM after LOC belong to a split delivery, not to the line
    )
    assert third == OrderLine(
        line_number="3",
        item_identifiers=[Identifier(scheme="ISBN", value="0764569104")],
        quantity=Decimal("25"),  # QTY 1 (discrete quantity) when there is no QTY 21
        unit_price=Decimal("9.99"),  # gross price when there is no net price
    )
    warning = only(warnings, codes.LINE_NUMBER_MISSING)
    position = RICH.splitlines().index("LIN+++5012345678900:SRV'")  # UNB is line 1 and position 1
    assert (warning.segment, warning.position, warning.element) == ("LIN", position, "1082")
    assert codes_of(warnings) == [codes.LINE_NUMBER_MISSING]


def order_with(*segments: str, kind: str = "ORDERS:D:96A:UN") -> tuple[Order | None, list, list]:  # type: ignore[type-arg]
    body = segments or ("BGM+220+PO1+9",)
    _, (outcome,) = read(interchange(message("1", *body, kind=kind)))
    return outcome.order, outcome.errors, outcome.warnings


LINE = ("LIN+1++4006381333931:EN", "QTY+21:1")


@pytest.mark.parametrize(
    ("code", "purpose"),
    [
        ("9", "original"),
        ("5", "replace"),
        ("1", "cancel"),
        ("3", "cancel"),
        ("4", "change"),
        ("6", "confirmation"),
        ("7", "duplicate"),
        ("31", "duplicate"),
        ("", "original"),
        ("47", "other"),
    ],
)
def test_message_function_to_purpose(code: str, purpose: str) -> None:
    order, _, _ = order_with(f"BGM+220+PO1+{code}", *LINE)
    assert order is not None and order.purpose == purpose


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        ("20240229", "102", date(2024, 2, 29)),
        ("202402291330", "203", date(2024, 2, 29)),
        ("20240229133059", "204", date(2024, 2, 29)),
        ("240229", "101", date(2024, 2, 29)),
        ("991231", "101", date(1999, 12, 31)),
        ("2402291330", "201", date(2024, 2, 29)),
        ("29022024", "4", date(2024, 2, 29)),
        ("290224", "2", date(2024, 2, 29)),
        ("20240229-20240305", "718", date(2024, 2, 29)),
        ("20240229", "", date(2024, 2, 29)),
    ],
)
def test_date_formats(value: str, fmt: str, expected: date) -> None:
    order, errors, _ = order_with("BGM+220+PO1+9", f"DTM+137:{value}:{fmt}", *LINE)
    assert order is not None and order.order_date == expected, errors


@pytest.mark.parametrize("value", ["20240230", "2024022", "2024-02-2", "202402291330"])
def test_bad_dates_are_message_errors(value: str) -> None:
    _, errors, _ = order_with("BGM+220+PO1+9", f"DTM+137:{value}:102", *LINE)
    issue = only(errors, codes.DATE)
    assert (issue.segment, issue.position, issue.element) == ("DTM", 4, "2380")


def test_unknown_date_format_is_a_warning() -> None:
    order, errors, warnings = order_with("BGM+220+PO1+9", "DTM+137:2024W09:616", *LINE)
    assert order is not None and order.order_date is None and not errors
    assert only(warnings, codes.DATE_FORMAT).element == "2379"


@pytest.mark.parametrize(
    ("kind", "field", "scheme"),
    [
        ("EN", "gtin", "GTIN"),
        ("SRV", "gtin", "GTIN"),
        ("IN", "buyer_item_id", "BUYER"),
        ("BP", "buyer_item_id", "BUYER"),
        ("SA", "seller_item_id", "SELLER"),
        ("MF", "seller_item_id", "EDIFACT:MF"),
        ("IB", None, "ISBN"),
        ("UP", None, "UPC"),
        ("XYZ", None, "EDIFACT:XYZ"),
    ],
)
def test_item_number_types(kind: str, field: str | None, scheme: str) -> None:
    for lin, pia in (("LIN+1++4006381333931:" + kind, None), ("LIN+1", "PIA+5+4006381333931:" + kind)):
        order, _, _ = order_with("BGM+220+PO1+9", lin, *([pia] if pia else []), "QTY+21:1")
        assert order is not None
        (line,) = order.lines
        assert line.item_identifiers == [Identifier(scheme=scheme, value="4006381333931")]
        if field:
            assert getattr(line, field) == "4006381333931"


@pytest.mark.parametrize(
    ("agency", "scheme"),
    [
        ("9", "GLN"),
        ("16", "DUNS"),
        ("91", "SELLER"),
        ("92", "BUYER"),
        ("ZZZ", "PARTNER"),
        ("", "PARTNER"),
        ("5", "EDIFACT:5"),
    ],
)
def test_party_identifier_agencies(agency: str, scheme: str) -> None:
    order, _, _ = order_with("BGM+220+PO1+9", f"NAD+BY+5412345000013::{agency}", *LINE)
    assert order is not None and order.buyer is not None
    assert order.buyer.identifiers == [Identifier(scheme=scheme, value="5412345000013")]


def test_roles() -> None:
    order, _, _ = order_with(
        "BGM+220+PO1+9", "NAD+BY+++B", "NAD+SE+++S", "NAD+ST+++T", "NAD+IV+++I", "NAD+XX+++X", *LINE
    )
    assert order is not None
    assert [p.name if p else None for p in (order.buyer, order.seller, order.ship_to, order.bill_to)] == list(
        "BSTI"
    )


def test_syntax_4_communication_repetitions() -> None:
    data = (
        b"UNB+UNOC:4+S+R+20240101:1200+ICR1'UNH+1+ORDERS:D:01B:UN'BGM+220+PO1+9'NAD+BY+5412345000013::9'"
        b"CTA+IC+:Ann'COM+x:FX*ann@example.org:EM*?+4711:TE'LIN+1++4006381333931:EN'QTY+21:1'UNT+8+1'UNZ+1+ICR1'"
    )
    _, (outcome,) = read(data)
    assert outcome.order is not None and outcome.order.buyer is not None
    assert outcome.order.buyer.contact == Contact(name="Ann", phone="+4711", email="ann@example.org")


def test_reference_currency_wins() -> None:
    order, _, _ = order_with("BGM+220+PO1+9", "CUX+3:USD:4", "CUX+2:EUR:9", *LINE)
    assert order is not None and order.currency == "EUR"
    order, _, warnings = order_with("BGM+220+PO1+9", "CUX+2:EURO:9", *LINE)
    assert order is not None and order.currency == "EURO"
    assert only(warnings, codes.CURRENCY_CODE).element == "6345"


def test_malformed_content_is_reported_not_raised() -> None:
    order, errors, _ = order_with(
        "BGM+220+PO1+9",
        "NAD+BYZZ+5412345000013::9",
        "LIN+1++4006381333931:EN",
        "QTY+21:1020A:EA",
        "PRI+AAA:$1.5",
    )
    assert order is not None and order.buyer is None
    code_length = only(errors, codes.CODE_LENGTH)
    assert (code_length.segment, code_length.position, code_length.element) == ("NAD", 4, "3035")
    numeric = [(e.segment, e.position, e.element) for e in errors if e.code == codes.NUMERIC]
    assert numeric == [("QTY", 6, "6060"), ("PRI", 7, "5118")]
    assert "'1020A'" in errors[1].message
    assert only(errors, codes.QUANTITY_MISSING).position == 5
    assert order.lines[0].unit_price is None


def test_missing_quantity() -> None:
    order, errors, _ = order_with("BGM+220+PO1+9", "LIN+1++4006381333931:EN", "QTY+59:6")
    assert order is not None and only(errors, codes.QUANTITY_MISSING).segment == "LIN"


def test_business_checks_run_on_every_order() -> None:
    order, errors, warnings = order_with("BGM+220+PO1+9", "LIN+1++4006381333932:EN", "QTY+21:0")
    assert order is not None
    assert {"GTIN_CHECK_DIGIT", "LINE_QUANTITY"} <= set(codes_of(errors))
    assert {"CURRENCY_MISSING", "ORDER_DATE_MISSING"} <= set(codes_of(warnings))
    order, errors, _ = order_with("DTM+137:20240101:102")
    assert {"ORDER_NUMBER_MISSING", "ORDER_NO_LINES"} <= set(codes_of(errors))


def test_declared_line_count_is_compared() -> None:
    _, _, warnings = order_with("BGM+220+PO1+9", *LINE, "UNS+S", "CNT+2:2")
    assert only(warnings, codes.LINE_COUNT).position == 7


def test_header_dates_inside_groups_are_not_order_dates() -> None:
    order, _, _ = order_with(
        "BGM+220+PO1+9", "RFF+CT:1", "DTM+137:20200101:102", "NAD+BY+1::9", "DTM+2:20200101:102", *LINE
    )
    assert order is not None and order.order_date is None and order.requested_delivery_date is None


def test_ordered_quantity_wins_over_discrete_quantity() -> None:
    order, _, _ = order_with("BGM+220+PO1+9", "LIN+1++4006381333931:EN", "QTY+1:5", "QTY+21:7:PCE")
    assert order is not None and order.lines[0].quantity == Decimal(7) and order.lines[0].unit == "PCE"


def test_a_mapping_the_model_refuses_is_a_message_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from mappings.edifact.orders import OrdersMapper

    monkeypatch.setattr(OrdersMapper, "run", lambda self, segments: {"order_number": "1", "lines": "x"})
    order, errors, _ = order_with("BGM+220+PO1+9", *LINE)
    assert order is None
    issue = only(errors, codes.MAPPING)
    assert (issue.segment, issue.position) == ("UNH", 2) and "lines" in issue.message


def test_the_first_free_form_description_wins() -> None:
    order, _, _ = order_with(
        "BGM+220+PO1+9", *LINE, "IMD+C++CU::9:CODED", "IMD+F++:::first", "IMD+F++:::second", "IMD+C++:::third"
    )
    assert order is not None and order.lines[0].description == "first"
