"""850 → canonical Order: every field of a rich handwritten 850, then one rule per test."""

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
from mappings.base import MessageOutcome
from tests.mappings.x12.builders import codes, document, group, only, order_850, transaction

RICH_850 = [
    "BEG*05*SA*PO-77**20240315*REL1",
    "CUR*BY*USD",
    "REF*DP*038",
    "PER*BD*Pat Buyer*TE*555-0101*EM*pat@buyer.example",
    "DTM*002*20240401",
    "DTM*010*20240325",
    "N9*L1*NOTES",
    "MSG*Deliver to dock 4",
    "N1*BY*Buyer Corp*UL*0614141000036",
    "N1*SE*Seller Inc*1*123456789",
    "N2*Export Division",
    "N3*1 Main St*Suite 2",
    "N4*Springfield*IL*62701*US",
    "PER*IC*Sam Seller*EM*sam@seller.example",
    "N1*ST*Store 12*92*0012",
    "N3*12 Market Rd",
    "N4*Dallas*TX*75201*US",
    "N1*BT*Accounts*9*1234567890001",
    "N1*LW*Someone Else*ZZ*X",
    "N3*Must not land on the bill-to",
    "PO1*1*24*EA*3.25*PE*UP*012345678905*IN*B-1*VN*S-1",
    "PID*F****Widget, small",
    "DTM*002*20240402",
    "MSG*gift wrap",
    "PO1*2*6.5*CA*40*HP*EN*4006381333931*BP*B-2*VP*S-2*MG*PART-9",
    "PID*F****Gadget",
    "NTE*GEN*fragile",
    "PO1**1*EA*10**SK*S-3",
    "CTT*3*31.5",
    "AMT*TT*90.6",
]


def ids(*pairs: tuple[str, str]) -> list[Identifier]:
    return [Identifier(scheme=scheme, value=value) for scheme, value in pairs]


def test_rich_850_translates_every_field() -> None:
    data = document(
        group(transaction("850", "0042", RICH_850)), sender=("01", "BUYERDUNS"), receiver=("ZZ", "SUPPLIER")
    )
    outcome = only(data)
    expected = Order(
        order_number="PO-77",
        order_date=date(2024, 3, 15),
        requested_delivery_date=date(2024, 4, 1),
        requested_ship_date=date(2024, 3, 25),
        references=[Reference(qualifier="X12:DP", value="038")],
        purpose="replace",
        currency="USD",
        buyer=Party(
            name="Buyer Corp",
            identifiers=ids(("GLN", "0614141000036")),
            contact=Contact(name="Pat Buyer", phone="555-0101", email="pat@buyer.example"),
        ),
        seller=Party(
            name="Seller Inc, Export Division",
            identifiers=ids(("DUNS", "123456789")),
            address=Address(
                street=["1 Main St", "Suite 2"],
                city="Springfield",
                region="IL",
                postal_code="62701",
                country="US",
            ),
            contact=Contact(name="Sam Seller", email="sam@seller.example"),
        ),
        ship_to=Party(
            name="Store 12",
            identifiers=ids(("BUYER", "0012")),
            address=Address(
                street=["12 Market Rd"], city="Dallas", region="TX", postal_code="75201", country="US"
            ),
        ),
        bill_to=Party(name="Accounts", identifiers=ids(("DUNS+4", "1234567890001"))),
        lines=[
            OrderLine(
                line_number="1",
                gtin="012345678905",
                buyer_item_id="B-1",
                seller_item_id="S-1",
                item_identifiers=ids(("UPC", "012345678905"), ("BUYER", "B-1"), ("SELLER", "S-1")),
                description="Widget, small",
                quantity=Decimal(24),
                unit="EA",
                unit_price=Decimal("3.25"),
                requested_delivery_date=date(2024, 4, 2),
                notes=["gift wrap"],
            ),
            OrderLine(
                line_number="2",
                gtin="4006381333931",
                buyer_item_id="B-2",
                seller_item_id="S-2",
                item_identifiers=ids(
                    ("GTIN", "4006381333931"), ("BUYER", "B-2"), ("SELLER", "S-2"), ("X12:MG", "PART-9")
                ),
                description="Gadget",
                quantity=Decimal("6.5"),
                unit="CA",
                unit_price=Decimal(40),
                price_basis_quantity=Decimal(100),
                notes=["fragile"],
            ),
            OrderLine(
                line_number="3",
                seller_item_id="S-3",
                item_identifiers=ids(("SELLER", "S-3")),
                quantity=Decimal(1),
                unit="EA",
                unit_price=Decimal(10),
            ),
        ],
        notes=["Deliver to dock 4"],
        source=OrderSource(
            format="x12",
            standard_version="004010",
            message_type="850",
            sender_id="BUYERDUNS",
            sender_qualifier="01",
            receiver_id="SUPPLIER",
            receiver_qualifier="ZZ",
            interchange_control_ref="000000001",
            group_control_ref="1",
            message_control_ref="0042",
            test=False,
        ),
    )
    assert outcome.order == expected
    assert outcome.errors == []
    assert codes(outcome.warnings) == ["X12_LINE_NUMBER_MISSING"]
    assert (outcome.warnings[0].segment, outcome.warnings[0].position) == (
        "PO1",
        3 + 1 + RICH_850.index("PO1**1*EA*10**SK*S-3"),
    )
    assert (outcome.message_type, outcome.message_ref, outcome.version, outcome.position, outcome.supported) == (
        "850", "0042", "004010", 3, True
    )  # fmt: skip


def translate(*body: str, version: str = "004010") -> MessageOutcome:
    return only(document(group(order_850(*body), version=version)))


def line(*body: str) -> OrderLine:
    order = translate(*body).order
    assert order is not None
    [found] = order.lines
    return found


@pytest.mark.parametrize(
    ("code", "purpose"),
    [("00", "original"), ("01", "cancel"), ("04", "change"), ("05", "replace"), ("06", "confirmation"),
     ("07", "duplicate")],
)  # fmt: skip
def test_purposes(code: str, purpose: str) -> None:
    outcome = translate(f"BEG*{code}*SA*PO-1**20240101", "PO1*1*1*EA")
    assert outcome.order is not None and outcome.order.purpose == purpose
    assert "X12_PURPOSE" not in codes(outcome.warnings)


def test_unknown_purpose_is_other_with_a_warning() -> None:
    outcome = translate("BEG*18*SA*PO-1**20240101", "PO1*1*1*EA")
    assert outcome.order is not None and outcome.order.purpose == "other"
    assert "X12_PURPOSE" in codes(outcome.warnings)


@pytest.mark.parametrize(
    ("qualifier", "scheme"),
    [("1", "DUNS"), ("9", "DUNS+4"), ("UL", "GLN"), ("92", "BUYER"), ("91", "SELLER"), ("ZZ", "PARTNER"),
     ("08", "X12:08")],
)  # fmt: skip
def test_party_identifier_qualifiers(qualifier: str, scheme: str) -> None:
    order = translate(f"N1*ST*Store*{qualifier}*12345", "PO1*1*1*EA").order
    assert order is not None and order.ship_to is not None
    assert order.ship_to.identifiers == ids((scheme, "12345"))


@pytest.mark.parametrize(("code", "role"), [("BY", "buyer"), ("ST", "ship_to"), ("BT", "bill_to"), ("SE", "seller"),
                                            ("VN", "seller"), ("SU", "seller")])  # fmt: skip
def test_party_roles(code: str, role: str) -> None:
    order = translate(f"N1*{code}*Someone", "PO1*1*1*EA").order
    assert order is not None
    assert getattr(order, role) == Party(name="Someone")


@pytest.mark.parametrize(
    ("qualifier", "scheme", "field"),
    [("UP", "UPC", "gtin"), ("EN", "GTIN", "gtin"), ("UK", "GTIN", "gtin"), ("IN", "BUYER", "buyer_item_id"),
     ("BP", "BUYER", "buyer_item_id"), ("CB", "BUYER", "buyer_item_id"), ("VN", "SELLER", "seller_item_id"),
     ("VP", "SELLER", "seller_item_id"), ("VC", "SELLER", "seller_item_id"), ("SK", "SELLER", "seller_item_id"),
     ("MG", "X12:MG", None), ("IB", "ISBN", None)],
)  # fmt: skip
def test_item_identifier_qualifiers(qualifier: str, scheme: str, field: str | None) -> None:
    value = {"UP": "012345678905", "EN": "4006381333931", "UK": "14006381333938"}.get(qualifier, "X-1")
    found = line(f"PO1*1*1*EA***{qualifier}*{value}")
    assert found.item_identifiers == ids((scheme, value))
    for name in ("gtin", "buyer_item_id", "seller_item_id"):
        assert getattr(found, name) == (value if name == field else None)


def test_explicit_gtin_wins_over_upc() -> None:
    found = line("PO1*1*1*EA***UP*012345678905*EN*4006381333931")
    assert found.gtin == "4006381333931"


def test_invalid_upc_is_kept_but_not_a_gtin() -> None:
    outcome = translate("PO1*1*1*EA***UP*012345678901")
    assert outcome.order is not None
    assert outcome.order.lines[0].gtin is None
    assert outcome.order.lines[0].item_identifiers == ids(("UPC", "012345678901"))
    assert "X12_UPC_INVALID" in codes(outcome.warnings)


def test_gtin_with_a_wrong_check_digit_is_an_error_from_the_shared_checks() -> None:
    outcome = translate("PO1*1*1*EA***EN*4006381333932")
    assert codes(outcome.errors) == ["GTIN_CHECK_DIGIT"]


@pytest.mark.parametrize(("code", "basis"), [("PE", None), ("", None), ("HP", 100), ("TP", 1000), ("PD", 12)])
def test_price_basis(code: str, basis: int | None) -> None:
    assert line(f"PO1*1*1*EA*9.99*{code}").price_basis_quantity == (Decimal(basis) if basis else None)


@pytest.mark.parametrize("sent", ["12A", "1,5", "+5", "NaN", "Infinity", "1_000", "١٢", "5-"])
def test_unreadable_quantity_is_an_issue_not_an_exception(sent: str) -> None:
    outcome = translate("BEG*00*SA*PO-1**20240101", "PO1*1*3*EA", f"PO1*2*{sent}*EA", "CTT*2")
    [error] = [e for e in outcome.errors if e.code == "X12_NUMERIC"]
    assert (error.segment, error.position, error.element) == ("PO1", 6, "PO102")
    assert repr(sent) in error.message
    assert outcome.order is not None and [x.line_number for x in outcome.order.lines] == ["1"]


@pytest.mark.parametrize(
    ("sent", "value"), [("7", "7"), ("2.50", "2.5"), (".5", "0.5"), ("10.", "10"), ("1E3", "1000")]
)
def test_x12_numbers(sent: str, value: str) -> None:
    assert line(f"PO1*1*{sent}*EA").quantity == Decimal(value)


def test_unreadable_price() -> None:
    outcome = translate("PO1*1*1*EA*$1.50")
    [error] = outcome.errors
    assert (error.code, error.element) == ("X12_NUMERIC", "PO104")


def test_empty_quantity() -> None:
    outcome = translate("PO1*1**EA")
    assert "X12_ELEMENT_MISSING" in codes(outcome.errors)


def test_negative_quantity_is_read_and_judged_by_the_checks() -> None:
    outcome = translate("PO1*1*-2*EA")
    assert codes(outcome.errors) == ["LINE_QUANTITY"]


def test_dates_follow_gs08_short_before_004010() -> None:
    order = translate("BEG*00*NE*PO-1*R*040317", "PO1*1*1*EA", version="003010").order
    assert order is not None and order.order_date == date(2004, 3, 17)
    order = translate("BEG*00*NE*PO-1*R*991231", "PO1*1*1*EA", version="003060").order
    assert order is not None and order.order_date == date(1999, 12, 31)


@pytest.mark.parametrize(
    ("version", "sent"), [("004010", "240315"), ("003010", "20240315"), ("005010", "240315")]
)
def test_date_length_other_than_the_version_says_is_read_with_a_warning(version: str, sent: str) -> None:
    outcome = translate(f"BEG*00*SA*PO-1**{sent}", "PO1*1*1*EA", version=version)
    assert outcome.order is not None and outcome.order.order_date == date(2024, 3, 15)
    [warning] = [w for w in outcome.warnings if w.code == "X12_DATE_FORMAT"]
    assert (warning.segment, warning.element) == ("BEG", "BEG05")


@pytest.mark.parametrize("sent", ["20241341", "2024031", "2024-03-15", "YYYYMMDD"])
def test_invalid_date_is_an_error(sent: str) -> None:
    outcome = translate(f"BEG*00*SA*PO-1**{sent}", "PO1*1*1*EA")
    [error] = [e for e in outcome.errors if e.code == "X12_DATE"]
    assert (error.segment, error.position, error.element) == ("BEG", 4, "BEG05")


def test_dates_of_qualifiers_not_read_are_not_judged() -> None:
    outcome = translate("DTM*196*garbage", "PO1*1*1*EA")
    assert outcome.errors == []


def test_delivery_date_qualifiers_and_order_date_fallback() -> None:
    order = translate("BEG*00*SA*PO-1", "DTM*004*20240101", "DTM*106*20240110", "PO1*1*1*EA").order
    assert order is not None
    assert (order.order_date, order.requested_delivery_date) == (date(2024, 1, 1), date(2024, 1, 10))
    order = translate("DTM*106*20240110", "DTM*002*20240105", "PO1*1*1*EA").order
    assert order is not None and order.requested_delivery_date == date(2024, 1, 5)


def test_line_delivery_date_prefers_002_over_106() -> None:
    assert line("PO1*1*1*EA", "DTM*106*20240110", "DTM*002*20240105").requested_delivery_date == date(
        2024, 1, 5
    )


def test_missing_beg_means_no_order() -> None:
    outcome = only(document(group(transaction("850", "0001", ["PO1*1*1*EA"]))))
    assert outcome.order is None
    assert codes(outcome.errors) == ["X12_SEGMENT_MISSING"]


def test_empty_po_number_is_judged_by_the_checks() -> None:
    outcome = translate("BEG*00*SA***20240101", "PO1*1*1*EA")
    assert "ORDER_NUMBER_MISSING" in codes(outcome.errors)


def test_ctt_line_count_and_hash_total_mismatch_are_warnings() -> None:
    outcome = translate("PO1*1*2*EA", "PO1*2*3*EA", "CTT*3*9")
    assert codes(outcome.warnings) == ["X12_CTT_COUNT", "X12_CTT_HASH", "CURRENCY_MISSING"]
    assert outcome.warnings[0].message == "CTT01 says '3' line items but the order has 2 PO1 segments"
    assert outcome.errors == []


def test_consistent_totals_have_no_warning() -> None:
    outcome = translate("CUR*BY*USD", "PO1*1*2*EA*1.5", "PO1*2*3*EA*2*HP", "CTT*2*5", "AMT*TT*3.06")
    assert outcome.warnings == []


def test_amount_total_mismatch_is_a_warning() -> None:
    outcome = translate("CUR*BY*USD", "PO1*1*1*EA*665", "CTT*1", "AMT*TT*12")
    [warning] = outcome.warnings
    assert (warning.code, warning.segment, warning.element) == ("X12_AMT_TOTAL", "AMT", "AMT02")
    assert "'12'" in warning.message and "665" in warning.message


def test_qualifier_without_identifier_is_a_warning() -> None:
    outcome = translate("N1*ST*CARGO LIMITED #112*92", "PO1*1*1*EA***IN")
    assert outcome.order is not None and outcome.order.ship_to == Party(name="CARGO LIMITED #112")
    assert outcome.order.lines[0].item_identifiers == []
    assert codes(outcome.warnings)[:2] == ["X12_ID_PAIR", "X12_ID_PAIR"]


def test_a_repeated_party_keeps_the_first() -> None:
    outcome = translate("N1*BY*First", "N1*BY*Second", "N3*Second street", "PO1*1*1*EA")
    assert outcome.order is not None and outcome.order.buyer == Party(name="First")
    assert "X12_PARTY_REPEATED" in codes(outcome.warnings)


def test_line_level_parties_do_not_replace_header_parties() -> None:
    order = translate("N1*ST*Header", "PO1*1*1*EA", "N1*ST*Line level", "N3*Somewhere").order
    assert order is not None and order.ship_to == Party(name="Header")


def test_header_contact_joins_a_buyer_whose_loop_has_none() -> None:
    order = translate("PER*BD*Pat*TE*1", "N1*BY*Buyer*92*B", "N1*ST*Store", "PER*IC*Ship desk*TE*2").order
    assert order is not None and order.buyer is not None and order.ship_to is not None
    assert order.buyer.contact == Contact(name="Pat", phone="1")
    assert order.ship_to.contact == Contact(name="Ship desk", phone="2")


def test_notes_after_the_lines_belong_to_the_order() -> None:
    order = translate("MSG*head", "PO1*1*1*EA", "MSG*line", "CTT*1", "NTE*GEN*tail").order
    assert order is not None
    assert (order.notes, order.lines[0].notes) == (["head", "tail"], ["line"])


def test_isa12_typo_is_accepted_with_a_warning() -> None:
    data = document(group(order_850("PO1*1*1*EA"), version="004010VICS"), version="00040")
    outcome = only(data)
    assert outcome.order is not None and outcome.order.source.standard_version == "004010VICS"
    assert "X12_ISA_VERSION" in codes(outcome.warnings)
    assert outcome.errors == []


def test_test_flag_and_group_reference() -> None:
    outcome = only(document(group(order_850("PO1*1*1*EA"), control="77"), usage="T"))
    assert outcome.order is not None
    assert (outcome.order.source.test, outcome.order.source.group_control_ref, outcome.group_ref) == (
        True,
        "77",
        "77",
    )


def test_header_references_and_ship_date_are_kept() -> None:
    from mappings.translate import translate

    document = (
        b"ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *241120*1015*U*00401*000000007*0*P*>~"
        b"GS*PO*BUYER*SELLER*20241120*1015*7*X*004010~ST*850*0001~BEG*00*SA*PO-1**20241120~"
        b"REF*DP*038~REF*CT**Contract 9~DTM*010*20241125~DTM*002*20241201~N1*BY*Buyer~REF*ZZ*party-level~"
        b"PO1*1*2*EA*1.5**VN*X1~REF*ZZ*line-level~SE*11*0001~GE*1*7~IEA*1*000000007~"
    )
    translation = translate(document)
    assert translation.status == "accepted", translation.errors
    [order] = translation.orders
    assert [(r.qualifier, r.value) for r in order.references] == [("X12:DP", "038"), ("X12:CT", "Contract 9")]
    assert str(order.requested_ship_date) == "2024-11-25"
    assert str(order.requested_delivery_date) == "2024-12-01"
