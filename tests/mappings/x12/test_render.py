"""Renderer: exact output for a known order, the separator policy, streaming, and round trips of random
orders through random separators back to equal canonical orders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import ean

from gateway.core.canonical import Address, Contact, Identifier, Order, OrderLine, OrderSource, Party
from gateway.core.errors import ValidationError
from mappings.base import InterchangeHeader, collect
from mappings.x12 import FORMAT
from mappings.x12.isa import Separators, parse_isa
from mappings.x12.render import iter_render_850, render_850

MOMENT = datetime(2024, 3, 15, 9, 30)
ENVELOPE = {
    "sender_id": "BUYER",
    "sender_qualifier": "ZZ",
    "receiver_id": "SELLER",
    "receiver_qualifier": "01",
    "control_number": 905,
    "prepared_at": MOMENT,
}


def small_order(**changes: object) -> Order:
    fields: dict[str, object] = {
        "order_number": "PO-1",
        "order_date": date(2024, 3, 15),
        "requested_delivery_date": date(2024, 4, 1),
        "currency": "USD",
        "buyer": Party(name="Acme", identifiers=[Identifier(scheme="GLN", value="0614141000036")]),
        "ship_to": Party(
            name="Store 12",
            address=Address(
                street=["1 Main St"], city="Dallas", region="TX", postal_code="75201", country="US"
            ),
            contact=Contact(name="Dock", phone="555-0100"),
        ),
        "lines": [
            OrderLine(
                line_number="1",
                gtin="4006381333931",
                buyer_item_id="B-1",
                description="Widget",
                quantity=Decimal("24"),
                unit="EA",
                unit_price=Decimal("3.250"),
            )
        ],
        "notes": ["Call before delivery"],
        "source": OrderSource(format="x12", message_type="850"),
    }
    return Order(**(fields | changes))  # type: ignore[arg-type]


GOLDEN = (
    "ISA*00*          *00*          *ZZ*BUYER          *01*SELLER         *240315*0930*U*00401*000000905*0*P*>~\n"
    "GS*PO*BUYER*SELLER*20240315*0930*905*X*004010~\n"
    "ST*850*0001~\n"
    "BEG*00*SA*PO-1**20240315~\n"
    "CUR*BY*USD~\n"
    "DTM*002*20240401~\n"
    "N9*L1*NOTES~\n"
    "MSG*Call before delivery~\n"
    "N1*BY*Acme*UL*0614141000036~\n"
    "N1*ST*Store 12~\n"
    "N3*1 Main St~\n"
    "N4*Dallas*TX*75201*US~\n"
    "PER*IC*Dock*TE*555-0100~\n"
    "PO1*1*24*EA*3.25**EN*4006381333931*IN*B-1~\n"
    "PID*F****Widget~\n"
    "CTT*1*24~\n"
    "SE*15*0001~\n"
    "GE*1*905~\n"
    "IEA*1*000000905~\n"
)


def test_golden_interchange() -> None:
    newline = Separators(element="*", component=">", segment="~", repetition="^", suffix="\n")
    assert render_850([small_order()], separators=newline, **ENVELOPE).decode() == GOLDEN  # type: ignore[arg-type]


def test_isa_is_fixed_width_and_counts_are_right() -> None:
    data = render_850([small_order(), small_order(order_number="PO-2")], **ENVELOPE)  # type: ignore[arg-type]
    assert data.index(b"GS*") == 106
    header = parse_isa(data.decode(), final=True)
    assert header is not None and header.warnings == ()
    _, outcomes = collect(FORMAT.read(data))
    assert [(o.message_ref, o.errors) for o in outcomes] == [("0001", []), ("0002", [])]


def test_5010_writes_the_repetition_separator_and_3010_short_dates() -> None:
    data = render_850([small_order()], version="005010", **ENVELOPE).decode()  # type: ignore[arg-type]
    assert "*^*00501*" in data and "GS*PO*BUYER*SELLER*20240315*0930*905*X*005010~" in data
    data = render_850([small_order()], version="003010", **ENVELOPE).decode()  # type: ignore[arg-type]
    assert "*U*00301*" in data and "BEG*00*SA*PO-1**240315~" in data and "*240315*0930*905*X*003010~" in data


def test_separators_in_free_text_become_spaces() -> None:
    order = small_order(
        buyer=Party(name="A*B~C>D^E"), notes=["line one\nline two"], lines=[small_order().lines[0].model_copy(
            update={"description": "50% *off*"})]
    )  # fmt: skip
    _, [outcome] = collect(FORMAT.read(render_850([order], **ENVELOPE)))  # type: ignore[arg-type]
    assert outcome.order is not None and outcome.order.buyer is not None
    assert outcome.order.buyer.name == "A B C D E"
    assert outcome.order.notes == ["line one line two"]
    assert outcome.order.lines[0].description == "50%  off"


@pytest.mark.parametrize(
    "order",
    [
        small_order(order_number="PO*1"),
        small_order(currency="US~"),
        small_order(buyer=Party(identifiers=[Identifier(scheme="GLN", value="061414100003>")])),
        small_order(lines=[small_order().lines[0].model_copy(update={"buyer_item_id": "B^1"})]),
    ],
)
def test_separators_in_codes_and_references_are_refused(order: Order) -> None:
    with pytest.raises(ValidationError) as raised:
        render_850([order], version="005010", **ENVELOPE)  # type: ignore[arg-type]
    assert raised.value.code == "X12_RENDER_SEPARATOR"


@pytest.mark.parametrize(
    ("order", "code"),
    [
        (small_order(purpose="other"), "X12_RENDER_PURPOSE"),
        (small_order(lines=[small_order().lines[0].model_copy(update={"price_basis_quantity": Decimal(7)})]),
         "X12_RENDER_PRICE_BASIS"),
        (small_order(lines=[small_order().lines[0].model_copy(update={"item_identifiers": [
            Identifier(scheme="X12:MG", value=str(n)) for n in range(11)]})]), "X12_RENDER_TOO_MANY_IDS"),
    ],
)  # fmt: skip
def test_what_an_850_cannot_carry_is_refused(order: Order, code: str) -> None:
    with pytest.raises(ValidationError) as raised:
        render_850([order], **ENVELOPE)  # type: ignore[arg-type]
    assert raised.value.code == code


@pytest.mark.parametrize(
    "changes",
    [
        {"control_number": 0},
        {"control_number": 1_000_000_000},
        {"sender_id": "X" * 16},
        {"version": "4010"},
        {"separators": Separators(element="*", component="*", segment="~")},
        {"separators": Separators(element="A", component=">", segment="~")},
    ],
)
def test_bad_arguments(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        render_850([small_order()], **(ENVELOPE | changes))  # type: ignore[arg-type]


def test_streaming_renders_each_order_as_it_comes() -> None:
    consumed = []

    def orders() -> Iterator[Order]:
        for n in range(3):
            consumed.append(n)
            yield small_order(order_number=f"PO-{n}")

    chunks = iter_render_850(orders(), **ENVELOPE)  # type: ignore[arg-type]
    assert next(chunks).startswith(b"ISA") and consumed == []
    assert b"PO-0" in next(chunks) and consumed == [0]
    rest = list(chunks)
    assert consumed == [0, 1, 2] and rest[-1].startswith(b"GE*3*905~IEA*1*000000905~")


# -- round trips ----------------------------------------------------------------------------------------

POOL = list("*|~^!+:>'`;{}")  # separator candidates: none of them may appear in the generated text
TEXT = (
    st.text(st.sampled_from(list("ABCXYZabcxyz0189 .,-/&#()éÜ東")), min_size=1, max_size=20)
    .map(str.strip)
    .filter(bool)
)
CODE = st.text(st.sampled_from(list("ABCDEFXYZ0123456789-")), min_size=1, max_size=12)
DATES = st.dates(min_value=date(1950, 1, 1), max_value=date(2049, 12, 31))  # YYMMDD-safe for 003010
AMOUNT = st.decimals(min_value=Decimal("-9999"), max_value=Decimal("999999"), places=3)
OTHER_PARTY_QUALIFIER = CODE.filter(lambda q: q not in {"1", "9", "UL", "92", "91", "ZZ"})
OTHER_ITEM_QUALIFIER = st.text(st.sampled_from(list("ABDGMQRTWZ")), min_size=2, max_size=2)


def with_check_digit(digits: str) -> str:
    return digits + ean.calc_check_digit(digits)


GTIN = st.one_of(
    st.from_regex(r"[0-9]{12}", fullmatch=True), st.from_regex(r"[0-9]{13}", fullmatch=True)
).map(with_check_digit)
UPC = st.from_regex(r"[0-9]{11}", fullmatch=True).map(with_check_digit)

PARTY_ID = st.one_of(
    st.builds(
        Identifier,
        scheme=st.sampled_from(["DUNS", "DUNS+4", "GLN", "BUYER", "SELLER", "PARTNER"]),
        value=CODE,
    ),
    st.builds(Identifier, scheme=OTHER_PARTY_QUALIFIER.map(lambda q: f"X12:{q}"), value=CODE),
)
ITEM_ID = st.one_of(
    st.builds(Identifier, scheme=st.just("GTIN"), value=GTIN),
    st.builds(Identifier, scheme=st.just("UPC"), value=UPC),
    st.builds(Identifier, scheme=st.sampled_from(["BUYER", "SELLER", "ISBN"]), value=CODE),
    st.builds(Identifier, scheme=OTHER_ITEM_QUALIFIER.map(lambda q: f"X12:{q}"), value=CODE),
)


@st.composite
def addresses(draw: st.DrawFn) -> Address | None:
    address = Address(
        street=draw(st.lists(TEXT, max_size=3)),
        city=draw(st.none() | TEXT),
        region=draw(st.none() | st.from_regex(r"[A-Z]{2}", fullmatch=True)),
        postal_code=draw(st.none() | CODE),
        country=draw(st.none() | st.from_regex(r"[A-Z]{2}", fullmatch=True)),
    )
    return address if address != Address() else None


@st.composite
def contacts(draw: st.DrawFn) -> Contact | None:
    contact = Contact(
        name=draw(st.none() | TEXT),
        phone=draw(st.none() | st.from_regex(r"[0-9]{3}-[0-9]{4}", fullmatch=True)),
        email=draw(st.none() | st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.example", fullmatch=True)),
    )
    return contact if contact != Contact() else None


PARTY = st.builds(
    Party,
    name=st.none() | TEXT,
    identifiers=st.lists(PARTY_ID, max_size=1),
    address=addresses(),
    contact=contacts(),
)


@st.composite
def lines(draw: st.DrawFn) -> OrderLine:
    identifiers = draw(st.lists(ITEM_ID, max_size=10))

    def first(scheme: str) -> str | None:
        return next((i.value for i in identifiers if i.scheme == scheme), None)

    return OrderLine(
        line_number=draw(CODE),
        gtin=first("GTIN") or first("UPC"),
        buyer_item_id=first("BUYER"),
        seller_item_id=first("SELLER"),
        item_identifiers=identifiers,
        description=draw(st.none() | TEXT),
        quantity=draw(AMOUNT),
        unit=draw(st.none() | st.sampled_from(["EA", "CA", "PK", "LB"])),
        unit_price=draw(st.none() | AMOUNT),
        price_basis_quantity=draw(st.sampled_from([None, *map(Decimal, (10, 12, 100, 1000, 10000, 100000))])),
        requested_delivery_date=draw(st.none() | DATES),
        notes=draw(st.lists(TEXT, max_size=2)),
    )


ORDER = st.builds(
    Order,
    order_number=CODE,
    order_date=st.none() | DATES,
    requested_delivery_date=st.none() | DATES,
    purpose=st.sampled_from(["original", "replace", "cancel", "change", "confirmation", "duplicate"]),
    currency=st.none() | st.from_regex(r"[A-Z]{3}", fullmatch=True),
    buyer=st.none() | PARTY,
    seller=st.none() | PARTY,
    ship_to=st.none() | PARTY,
    bill_to=st.none() | PARTY,
    lines=st.lists(lines(), min_size=1, max_size=4),
    notes=st.lists(TEXT, max_size=3),
    source=st.just(OrderSource(format="x12", message_type="850")),
)


@st.composite
def separators(draw: st.DrawFn) -> Separators:
    element, component, repetition, visible = draw(st.permutations(POOL))[:4]
    segment = draw(st.sampled_from([visible, "\n"]))
    suffix = "" if segment == "\n" else draw(st.sampled_from(["", "\n", "\r\n"]))
    return Separators(
        element=element, component=component, segment=segment, repetition=repetition, suffix=suffix
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    orders=st.lists(ORDER, min_size=1, max_size=3),
    chosen=separators(),
    version=st.sampled_from(["004010", "005010", "003010", "004010VICS"]),
    control=st.integers(min_value=1, max_value=999_999_999),
    test=st.booleans(),
)
def test_round_trip(orders: list[Order], chosen: Separators, version: str, control: int, test: bool) -> None:
    data = render_850(
        orders,
        sender_id="SENDER-1",
        sender_qualifier="ZZ",
        receiver_id="RECEIVER",
        receiver_qualifier="01",
        control_number=control,
        separators=chosen,
        version=version,
        test=test,
    )
    header, outcomes = collect(FORMAT.read(data))
    assert isinstance(header, InterchangeHeader)
    assert (header.control_ref, header.test) == (f"{control:09d}", test)
    assert len(outcomes) == len(orders)
    for number, (outcome, original) in enumerate(zip(outcomes, orders, strict=True), start=1):
        assert not [e for e in outcome.errors if e.code.startswith("X12_")]
        assert not [w for w in outcome.warnings if w.code.startswith("X12_")]
        assert outcome.order is not None
        assert outcome.order.model_dump(exclude={"source"}) == original.model_dump(exclude={"source"})
        assert outcome.order.source == OrderSource(
            format="x12",
            standard_version=version,
            message_type="850",
            sender_id="SENDER-1",
            sender_qualifier="ZZ",
            receiver_id="RECEIVER",
            receiver_qualifier="01",
            interchange_control_ref=f"{control:09d}",
            group_control_ref=str(control),
            message_control_ref=f"{number:04d}",
            test=test,
        )
