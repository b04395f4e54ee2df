"""Renderer: envelope, counts, escaping, separators, streaming."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
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
from mappings.edifact import DEFAULT, Separators, codes
from mappings.edifact.render import iter_render, render_orders

from .support import read, segments

WHEN = datetime(2024, 11, 20, 10, 15)
ENVELOPE = {
    "sender_id": "5412345000013",
    "sender_qualifier": "14",
    "receiver_id": "5790000274017",
    "receiver_qualifier": "14",
    "control_ref": "ICR42",
    "prepared_at": WHEN,
}


def make_order(number: str = "PO-1", **changes: object) -> Order:
    fields: dict[str, object] = {
        "order_number": number,
        "order_date": date(2024, 11, 20),
        "currency": "EUR",
        "buyer": Party(name="Hexa", identifiers=[Identifier(scheme="GLN", value="5412345000013")]),
        "lines": [OrderLine(line_number="1", gtin="4006381333931", quantity=Decimal("12"), unit="PCE")],
        "source": OrderSource(format="edifact", message_type="ORDERS"),
    }
    fields.update(changes)
    return Order.model_validate(fields)


def test_default_interchange_has_no_una_and_exact_segments() -> None:
    data = render_orders([make_order()], **ENVELOPE)  # type: ignore[arg-type]
    assert data.decode().split("'")[:-1] == [
        "UNB+UNOC:3+5412345000013:14+5790000274017:14+241120:1015+ICR42",
        "UNH+1+ORDERS:D:96A:UN",
        "BGM+220+PO-1+9",
        "DTM+137:20241120:102",
        "NAD+BY+5412345000013::9++Hexa",
        "CUX+2:EUR:9",
        "LIN+1++4006381333931:EN",
        "QTY+21:12:PCE",
        "UNS+S",
        "CNT+2:1",
        "UNT+10+1",
        "UNZ+1+ICR42",
    ]


def test_counts_and_references_are_consistent_for_many_orders() -> None:
    data = render_orders([make_order(f"PO-{i}") for i in range(5)], **ENVELOPE)  # type: ignore[arg-type]
    header, messages = read(data)
    assert header.control_ref == "ICR42"
    assert [m.message_ref for m in messages] == ["1", "2", "3", "4", "5"]
    assert all(not m.errors for m in messages)
    assert data.endswith(b"UNZ+5+ICR42'")


def test_custom_separators_write_una_and_escape_every_service_character() -> None:
    separators = Separators(
        component="=", element="*", decimal=",", release="#", repetition=" ", terminator="~"
    )
    note = "a*b=c~d#e'f+g:h?"
    order = make_order(notes=[note], lines=[OrderLine(line_number="1", quantity=Decimal("2.5"))])
    data = render_orders([order], separators=separators, **ENVELOPE)  # type: ignore[arg-type]
    assert data.startswith(b"UNA=*,# ~UNB*UNOC=3*")
    assert b"FTX*AAI***a#*b#=c#~d##e'f+g:h?~" in data
    assert b"QTY*21=2,5~" in data
    _, (outcome,) = read(data)
    assert outcome.order is not None and outcome.order.notes == [note]
    assert outcome.order.lines[0].quantity == Decimal("2.5")


def test_default_separators_escape_the_default_service_characters() -> None:
    data = render_orders([make_order(notes=["Jan's 1+1:2?"])], **ENVELOPE)  # type: ignore[arg-type]
    assert b"FTX+AAI+++Jan?'s 1?+1?:2??'" in data


def test_syntax_4_releases_the_repetition_separator() -> None:
    order = make_order(notes=["5*6"])
    data = render_orders([order], syntax="UNOC:4", **ENVELOPE)  # type: ignore[arg-type]
    assert not data.startswith(b"UNA")  # ':+.?*'' are the syntax 4 defaults
    assert b"FTX+AAI+++5?*6'" in data
    assert b"+20241120:1015+" in data  # syntax 4 dates have a century
    _, (outcome,) = read(data)
    assert outcome.order is not None and outcome.order.notes == ["5*6"]


def test_version_with_association_code() -> None:
    data = render_orders([make_order()], version="D:96A:UN:EAN008", **ENVELOPE)  # type: ignore[arg-type]
    _, (outcome,) = read(data)
    assert outcome.version == "D:96A:UN:EAN008"
    assert outcome.order is not None and outcome.order.source.standard_version == "D96A:EAN008"


def test_test_indicator() -> None:
    header, _ = read(render_orders([make_order()], test=True, **ENVELOPE))  # type: ignore[arg-type]
    assert header.test


def test_rich_order_round_trips() -> None:
    order = make_order(
        purpose="change",
        requested_delivery_date=date(2024, 12, 1),
        requested_ship_date=date(2024, 11, 29),
        references=[
            Reference(qualifier="EDIFACT:CT", value="C+1"),
            Reference(qualifier="EDIFACT:PD", value="P1"),
        ],
        notes=["Ring twice", "Jan's note"],
        buyer=Party(
            name="Hexa Retail",
            identifiers=[
                Identifier(scheme="GLN", value="5412345000013"),
                Identifier(scheme="EDIFACT:VA", value="BE01"),
            ],
            address=Address(
                street=["Kerkstraat 1", "B"], city="Gent", region="VOV", postal_code="9000", country="BE"
            ),
            contact=Contact(name="Jan", phone="+32 9 1", email="jan@x.example"),
        ),
        seller=Party(name="Nordic", identifiers=[Identifier(scheme="DUNS", value="123456789")]),
        ship_to=Party(identifiers=[Identifier(scheme="PARTNER", value="DC1")]),
        bill_to=Party(identifiers=[Identifier(scheme="BUYER", value="INV-7")]),
        lines=[
            OrderLine(
                line_number="10",
                gtin="4006381333931",
                buyer_item_id="B-1",
                seller_item_id="S-1",
                item_identifiers=[
                    Identifier(scheme="GTIN", value="4006381333931"),
                    Identifier(scheme="UPC", value="012345678905"),
                    Identifier(scheme="ISBN", value="0764569104"),
                    Identifier(scheme="EDIFACT:ZZ", value="Z-1"),
                    Identifier(scheme="EDIFACT:MF", value="M-1"),
                ],
                description="Blue widget",
                quantity=Decimal("1.250"),
                unit="KGM",
                unit_price=Decimal("-0.5"),
                price_basis_quantity=Decimal("100"),
                requested_delivery_date=date(2024, 12, 2),
                notes=["fragile"],
            )
        ],
    )
    data = render_orders([order], **ENVELOPE)  # type: ignore[arg-type]
    _, (outcome,) = read(data)
    back = outcome.order
    assert back is not None
    line = back.lines[0]
    assert {(i.scheme, i.value) for i in line.item_identifiers} == {
        (i.scheme, i.value)
        for i in [*order.lines[0].item_identifiers, Identifier(scheme="BUYER", value="B-1")]
    } | {("SELLER", "S-1")}
    assert line.model_dump(exclude={"item_identifiers"}) == order.lines[0].model_dump(
        exclude={"item_identifiers"}
    )
    assert back.model_dump(exclude={"lines", "source"}) == order.model_dump(exclude={"lines", "source"})


def test_text_with_line_breaks_is_flattened() -> None:
    data = render_orders([make_order(notes=["two\r\nlines\nhere"])], **ENVELOPE)  # type: ignore[arg-type]
    _, (outcome,) = read(data)
    assert outcome.order is not None and outcome.order.notes == ["two lines here"]


def test_text_the_character_set_cannot_carry_is_refused() -> None:
    with pytest.raises(ValueError, match="UNOA"):
        render_orders([make_order(notes=["Zürich"])], syntax="UNOA:3", **ENVELOPE)  # type: ignore[arg-type]
    data = render_orders([make_order(notes=["Zürich €"])], syntax="UNOY:4", **ENVELOPE)  # type: ignore[arg-type]
    _, (outcome,) = read(data)
    assert outcome.order is not None and outcome.order.notes == ["Zürich €"]
    assert not [w for w in outcome.warnings if w.code == codes.CHARSET]


def test_unusable_separators_are_refused() -> None:
    with pytest.raises(ValueError):
        render_orders([], separators=Separators(component="+"), **ENVELOPE)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        render_orders([], separators=Separators(release=" "), **ENVELOPE)  # type: ignore[arg-type]


def test_rendering_streams_message_by_message() -> None:
    produced = 0

    def orders() -> Iterator[Order]:
        nonlocal produced
        for i in range(1000):
            produced += 1
            yield make_order(f"PO-{i}")

    pieces = iter_render(orders(), **ENVELOPE)  # type: ignore[arg-type]
    assert next(pieces).startswith(b"UNB+")
    assert produced == 0
    assert next(pieces).startswith(b"UNH+1+")
    assert produced == 1
    rest = b"".join(pieces)
    assert produced == 1000 and rest.endswith(b"UNZ+1000+ICR42'")


def test_empty_interchange() -> None:
    data = render_orders([], **ENVELOPE)  # type: ignore[arg-type]
    assert [s[0] for s in segments(data)] == ["UNB", "UNZ"]
    assert data.endswith(b"UNZ+0+ICR42'")


def test_default_is_the_iso_default() -> None:
    assert DEFAULT.una == "UNA:+.? '"
