"""Property tests: render → read round trips with random separators and text, and hostile input.

Round trips compare every field the format carries; the normalisation below spells out, in one place,
what the format cannot carry (see the `render` module docstring) so that nothing else may differ.
"""

from __future__ import annotations

import io
import os
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

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
from gateway.core.errors import ParseError
from mappings.edifact import FORMAT, Separators, codes, render_orders

from .support import read

EXAMPLES = int(os.environ.get("ORDERGATE_EDIFACT_EXAMPLES", "150"))  # raise it for a deeper local run
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
ALPHABETS = {
    "UNOA": st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    "UNOC": st.characters(codec="latin-1", exclude_categories=["Cc"]),
    "UNOY": st.characters(exclude_categories=["Cc", "Cs"]),
}
ALPHABETS["UNOW"] = ALPHABETS["UNOY"]
dates = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))
qualifiers = st.sampled_from(["CT", "PD", "ON", "AAN", "ZZZ"]).map("EDIFACT:{}".format)


@st.composite
def separators(draw: st.DrawFn, syntax_version: int) -> Separators:
    chars = draw(st.lists(st.sampled_from(PUNCTUATION), min_size=5, max_size=5, unique=True))
    terminator = draw(st.sampled_from([chars[3], "\n"]))
    repetition = chars[4] if syntax_version >= 4 and draw(st.booleans()) else " "
    decimal = draw(st.sampled_from(".,"))
    assume(decimal not in (chars[0], chars[1], chars[2], terminator, repetition))
    return Separators(chars[0], chars[1], decimal, chars[2], repetition, terminator)


def texts(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Non-empty text as the canonical model keeps it (stripped), without line breaks."""
    return (
        st.text(alphabet, min_size=1, max_size=20).map(str.strip).filter(lambda s: bool(s) and "\n" not in s)
    )


@st.composite
def parties(draw: st.DrawFn, text: st.SearchStrategy[str]) -> Party:
    identifiers = []
    if draw(st.booleans()):
        scheme = draw(st.sampled_from(["GLN", "DUNS", "BUYER", "SELLER", "PARTNER"]))
        identifiers.append(Identifier(scheme=scheme, value=draw(text)))
    for qualifier in draw(st.lists(st.sampled_from(["VA", "GN", "API", "IT"]), max_size=2)):
        identifiers.append(Identifier(scheme=f"EDIFACT:{qualifier}", value=draw(text)))
    optional = st.none() | text
    address = draw(
        st.none()
        | st.builds(
            Address,
            street=st.lists(text, max_size=4),
            city=optional,
            region=optional,
            postal_code=optional,
            country=optional,
        )
    )
    contact = draw(st.none() | st.builds(Contact, name=optional, phone=optional, email=optional))
    return Party(name=draw(optional), identifiers=identifiers, address=address, contact=contact)


@st.composite
def lines(draw: st.DrawFn, text: st.SearchStrategy[str]) -> OrderLine:
    schemes = st.sampled_from(
        ["GTIN", "UPC", "ISBN", "BUYER", "SELLER", "EDIFACT:MF", "EDIFACT:ZZ", "EDIFACT:VN"]
    )
    identifiers = draw(st.lists(st.builds(Identifier, scheme=schemes, value=text), max_size=4))
    first: dict[str, str] = {}
    for identifier in identifiers:
        first.setdefault(identifier.scheme, identifier.value)
    amounts = st.decimals(
        min_value=-(10**9), max_value=10**9, places=3, allow_nan=False, allow_infinity=False
    )
    return OrderLine(
        line_number=draw(text),
        gtin=first.get("GTIN"),
        buyer_item_id=first.get("BUYER"),
        seller_item_id=first.get("SELLER", first.get("EDIFACT:MF")),
        item_identifiers=identifiers,
        description=draw(st.none() | text),
        quantity=draw(amounts),
        unit=draw(st.none() | st.sampled_from(["PCE", "EA", "KGM", "C62"])),
        unit_price=draw(st.none() | amounts),
        price_basis_quantity=draw(st.none() | amounts),
        requested_delivery_date=draw(st.none() | dates),
        notes=draw(st.lists(text, max_size=2)),
    )


@st.composite
def interchanges(draw: st.DrawFn) -> tuple[list[Order], Separators, str]:
    syntax = draw(st.sampled_from(["UNOA:3", "UNOC:3", "UNOC:4", "UNOY:4", "UNOW:4"]))
    text = texts(ALPHABETS[syntax[:4]])
    orders = [
        Order(
            order_number=draw(text),
            order_date=draw(st.none() | dates),
            requested_delivery_date=draw(st.none() | dates),
            requested_ship_date=draw(st.none() | dates),
            purpose=draw(
                st.sampled_from(
                    ["original", "replace", "cancel", "change", "confirmation", "duplicate", "other"]
                )
            ),
            currency=draw(st.none() | st.sampled_from(["EUR", "USD", "SEK"])),
            buyer=draw(st.none() | parties(text)),
            seller=draw(st.none() | parties(text)),
            ship_to=draw(st.none() | parties(text)),
            bill_to=draw(st.none() | parties(text)),
            lines=draw(st.lists(lines(text), max_size=3)),
            notes=draw(st.lists(text, max_size=2)),
            references=draw(st.lists(st.builds(Reference, qualifier=qualifiers, value=text), max_size=3)),
            source=OrderSource(format="edifact", message_type="ORDERS"),
        )
        for _ in range(draw(st.integers(min_value=1, max_value=3)))
    ]
    return orders, draw(separators(int(syntax[-1]))), syntax


def carried(order: Order) -> dict[str, Any]:
    """The fields of an order the EDIFACT rendering carries, in a comparable shape."""
    data = order.model_dump(exclude={"source"})
    for role in ("buyer", "seller", "ship_to", "bill_to"):
        party = data[role]
        if party is None:
            continue
        coded = [i for i in party["identifiers"] if not i["scheme"].startswith("EDIFACT:")][:1]
        party["identifiers"] = coded + [i for i in party["identifiers"] if i["scheme"].startswith("EDIFACT:")]
        address = party["address"]
        if address is not None and not any(address.values()):
            party["address"] = None
        if party["contact"] is not None and not any(party["contact"].values()):
            party["contact"] = None
    for line in data["lines"]:
        line["item_identifiers"] = sorted({(i["scheme"], i["value"]) for i in line["item_identifiers"]})
        if line["unit_price"] is None or line["price_basis_quantity"] == 1:
            line["price_basis_quantity"] = None
    return data


@given(interchanges(), st.sampled_from([None, 1, 3, 16, 1000]))
@SETTINGS
def test_render_then_read_gives_the_same_orders(
    case: tuple[list[Order], Separators, str], chunk_size: int | None
) -> None:
    orders, seps, syntax = case
    data = render_orders(
        orders,
        sender_id="S?+:'*",
        sender_qualifier="ZZ",
        receiver_id="R",
        receiver_qualifier=None,
        control_ref="IC1",
        separators=seps,
        syntax=syntax,
        prepared_at=datetime(2024, 1, 2, 3, 4),
    )
    header, messages = read(data, chunk_size)
    assert (header.sender_id, header.sender_qualifier, header.receiver_id, header.control_ref) == (
        "S?+:'*",
        "ZZ",
        "R",
        "IC1",
    )
    assert header.syntax == syntax
    assert len(messages) == len(orders)
    for outcome, order in zip(messages, orders, strict=True):
        assert not [e for e in outcome.errors if e.code.startswith("EDIFACT_")], outcome.errors
        assert not [w for w in outcome.warnings if w.code.startswith("EDIFACT_")], outcome.warnings
        assert outcome.order is not None
        assert carried(outcome.order) == carried(order)


# -- hostile input: only ParseError may escape, and never the internal-error safety net ----------------------


def only_parse_errors(data: bytes, chunk_size: int | None = None) -> None:
    try:
        for _ in (
            FORMAT.read(data) if chunk_size is None else FORMAT.read(_stream(data), chunk_size=chunk_size)
        ):
            pass
    except ParseError as error:
        assert error.code.startswith("EDIFACT_")
        assert error.code != codes.INTERNAL, error


def _stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


@given(st.binary(max_size=400))
@SETTINGS
def test_random_bytes(data: bytes) -> None:
    only_parse_errors(data)


@given(st.binary(max_size=400), st.sampled_from([b"", b"UNA:+.? '", b"UNA=*,# ~", b"UNA:+.?*'"]))
@SETTINGS
def test_random_bytes_after_an_envelope_start(noise: bytes, una: bytes) -> None:
    only_parse_errors(una + b"UNB+UNOC:4+S+R+20240101:1200+1'UNH+1+ORDERS:D:96A:UN'" + noise)


VALID = render_orders(
    [
        Order(
            order_number="PO'1",
            order_date=date(2024, 1, 1),
            buyer=Party(name="B+B", identifiers=[Identifier(scheme="GLN", value="5412345000013")]),
            lines=[
                OrderLine(
                    line_number="1", gtin="4006381333931", quantity=Decimal("1.5"), unit_price=Decimal(2)
                )
            ],
            source=OrderSource(format="edifact", message_type="ORDERS"),
        )
    ]
    * 2,
    sender_id="S",
    receiver_id="R",
    control_ref="1",
    version="D:96A:UN:EAN008",
)


@given(st.data())
@SETTINGS
def test_mutated_interchanges(data: st.DataObject) -> None:
    document = bytearray(VALID)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        at = data.draw(st.integers(min_value=0, max_value=len(document)))
        action = data.draw(st.sampled_from(["cut", "insert", "replace", "delete"]))
        if action == "cut":
            del document[at:]
        elif action == "insert":
            document[at:at] = data.draw(
                st.sampled_from([b"'", b"+", b":", b"?", b"\n", b"UNH+9+ORDERS:D:96A:UN'", b"\xff"])
            )
        elif action == "replace" and at < len(document):
            document[at] = data.draw(st.integers(min_value=0, max_value=255))
        elif action == "delete" and at < len(document):
            del document[at]
    only_parse_errors(bytes(document), chunk_size=data.draw(st.sampled_from([None, 1, 5, 64])))
