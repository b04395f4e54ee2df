"""Canonical orders → an ORDERS interchange, one message per order, streamed message by message.

Built on pydifact: segments are `pydifact.segments.Segment`, and `pydifact.serializer.Serializer` with
the interchange's `Characters` does the escaping and the joining, which is exactly its job. Two things
pydifact does not do are added here: the syntax 4 repetition separator is released too (pydifact's
serializer only knows four service characters), and trailing empty data elements are dropped before a
segment is built (pydifact keeps them, which would write `NAD+BY+'`).

What the format cannot carry is dropped or flattened, deliberately: CR/LF inside text become spaces
(readers ignore line breaks), a party keeps one coded identifier in NAD C082 (GLN, DUNS, BUYER,
SELLER or PARTNER; further "EDIFACT:<qualifier>" identifiers become RFF segments), and identifiers and
references of other standards ("X12:…") are left out. Element lengths are not enforced: a long name stays in one component.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime

from pydifact.control.characters import Characters
from pydifact.segments import Segment
from pydifact.serializer import Serializer

from gateway.core.canonical import Identifier, Order, OrderLine, Party
from mappings.edifact.charsets import for_syntax
from mappings.edifact.separators import DEFAULT, Separators
from mappings.edifact.values import format_number

FUNCTION_CODES = {
    "original": "9",
    "replace": "5",
    "cancel": "1",
    "change": "4",
    "confirmation": "6",
    "duplicate": "7",
    "other": "ZZZ",  # no 1225 code says "other"; a reader maps any unknown code back to "other"
}
PARTY_AGENCIES = {"GLN": "9", "DUNS": "16", "SELLER": "91", "BUYER": "92", "PARTNER": "ZZZ"}
ITEM_TYPES = {"GTIN": "EN", "UPC": "UP", "ISBN": "IB", "BUYER": "IN", "SELLER": "SA"}
ROLES = (("buyer", "BY"), ("seller", "SU"), ("ship_to", "DP"), ("bill_to", "IV"))
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")

ElementValue = str | list[str]


class _Serializer(Serializer):
    """pydifact's serializer, also releasing the repetition separator when there is one (syntax 4)."""

    def __init__(self, characters: Characters, repetition: str | None) -> None:
        super().__init__(characters)
        if repetition:
            self.replace_map = {**self.replace_map, repetition: characters.escape_character + repetition}
            ordered = sorted(self.replace_map, key=len, reverse=True)
            self.regexp = re.compile("|".join(map(re.escape, ordered)))


def render_orders(
    orders: Sequence[Order],
    *,
    sender_id: str,
    sender_qualifier: str | None = None,
    receiver_id: str,
    receiver_qualifier: str | None = None,
    control_ref: str,
    separators: Separators = DEFAULT,
    syntax: str = "UNOC:3",
    version: str = "D:96A:UN",
    prepared_at: datetime | None = None,
    test: bool = False,
) -> bytes:
    """A complete interchange: UNA when the separators are not the defaults, UNB, the messages, UNZ."""
    return b"".join(
        iter_render(
            orders,
            sender_id=sender_id,
            sender_qualifier=sender_qualifier,
            receiver_id=receiver_id,
            receiver_qualifier=receiver_qualifier,
            control_ref=control_ref,
            separators=separators,
            syntax=syntax,
            version=version,
            prepared_at=prepared_at,
            test=test,
        )
    )


def iter_render(
    orders: Iterable[Order],
    *,
    sender_id: str,
    sender_qualifier: str | None = None,
    receiver_id: str,
    receiver_qualifier: str | None = None,
    control_ref: str,
    separators: Separators = DEFAULT,
    syntax: str = "UNOC:3",
    version: str = "D:96A:UN",
    prepared_at: datetime | None = None,
    test: bool = False,
) -> Iterator[bytes]:
    """The same interchange as `render_orders`, in pieces (envelope header, one per message, UNZ)."""
    separators.validate()
    if separators.release_char is None:
        raise ValueError("the renderer needs a release character to escape separators inside values")
    syntax_id, _, syntax_version_text = syntax.partition(":")
    syntax_version = int(syntax_version_text) if syntax_version_text.isdigit() else 3
    charset = for_syntax(syntax_id)
    una = not separators.is_default(syntax_version)
    characters = Characters(
        component_separator=separators.component,
        data_separator=separators.element,
        decimal_point=separators.decimal,
        escape_character=separators.release,
        reserved=separators.repetition,
        segment_terminator=separators.terminator,
    )
    serializer = _Serializer(characters, separators.effective_repetition(syntax_version, una))

    def encode(segments: list[Segment]) -> bytes:
        return charset.encode(serializer.serialize(segments, with_una_header=False))

    when = prepared_at or datetime.now(UTC)
    stamp = when.strftime("%Y%m%d" if syntax_version >= 4 else "%y%m%d")
    unb = _segment(
        "UNB",
        [syntax_id, syntax_version_text],
        _composite(sender_id, sender_qualifier or ""),
        _composite(receiver_id, receiver_qualifier or ""),
        [stamp, when.strftime("%H%M")],
        control_ref,
        *(["", "", "", "", "", "1"] if test else []),
    )
    head = encode([unb])
    yield (charset.encode(characters.service_string_advice) + head) if una else head

    message_id = ["ORDERS", *version.split(":")]
    count = 0
    for count, order in enumerate(orders, start=1):
        yield encode(_message(order, str(count), message_id, separators.decimal))
    yield encode([_segment("UNZ", str(count), control_ref)])


def _message(order: Order, ref: str, message_id: list[str], decimal: str) -> list[Segment]:
    segments = [
        _segment("UNH", ref, message_id),
        _segment("BGM", "220", _text(order.order_number), FUNCTION_CODES[order.purpose]),
    ]
    if order.order_date is not None:
        segments.append(_dtm("137", order.order_date))
    if order.requested_delivery_date is not None:
        segments.append(_dtm("2", order.requested_delivery_date))
    if order.requested_ship_date is not None:
        segments.append(_dtm("10", order.requested_ship_date))
    segments.extend(_segment("FTX", "AAI", "", "", _text(note)) for note in order.notes)
    for reference in order.references:
        if reference.qualifier.startswith("EDIFACT:"):
            segments.append(
                _segment("RFF", [reference.qualifier.removeprefix("EDIFACT:"), _text(reference.value)])
            )
    for role, qualifier in ROLES:
        party: Party | None = getattr(order, role)
        if party is not None:
            segments.extend(_party(qualifier, party))
    if order.currency:
        segments.append(_segment("CUX", ["2", order.currency, "9"]))
    for line in order.lines:
        segments.extend(_line(line, decimal))
    segments.append(_segment("UNS", "S"))
    segments.append(_segment("CNT", ["2", str(len(order.lines))]))
    segments.append(_segment("UNT", str(len(segments) + 1), ref))
    return segments


def _party(qualifier: str, party: Party) -> Iterator[Segment]:
    coded = next((i for i in party.identifiers if i.scheme in PARTY_AGENCIES), None)
    c082 = ["", "", ""] if coded is None else [coded.value, "", PARTY_AGENCIES[coded.scheme]]
    address = party.address
    yield _segment(
        "NAD",
        qualifier,
        c082,
        "",
        _text(party.name or ""),
        [_text(s) for s in address.street] if address else "",
        _text(address.city or "") if address else "",
        _text(address.region or "") if address else "",
        _text(address.postal_code or "") if address else "",
        _text(address.country or "") if address else "",
    )
    for identifier in party.identifiers:
        if identifier.scheme.startswith("EDIFACT:"):
            yield _segment("RFF", [identifier.scheme.removeprefix("EDIFACT:"), _text(identifier.value)])
    contact = party.contact
    if contact is not None and (contact.name or contact.phone or contact.email):
        yield _segment("CTA", "IC", ["", _text(contact.name or "")])
        if contact.phone:
            yield _segment("COM", [_text(contact.phone), "TE"])
        if contact.email:
            yield _segment("COM", [_text(contact.email), "EM"])


def _line(line: OrderLine, decimal: str) -> Iterator[Segment]:
    identifiers = list(line.item_identifiers)
    for schemes, value in (
        (("GTIN",), line.gtin),
        (("BUYER",), line.buyer_item_id),
        (("SELLER", "EDIFACT:MF"), line.seller_item_id),  # a manufacturer's number may be the seller's id
    ):
        if value and not any(i.scheme in schemes and i.value == value for i in identifiers):
            identifiers.append(Identifier(scheme=schemes[0], value=value))
    main = None
    if line.gtin:
        main = next(i for i in identifiers if i.scheme == "GTIN" and i.value == line.gtin)
        identifiers.remove(main)
    yield _segment("LIN", _text(line.line_number), "", [_text(main.value), "EN"] if main else "")
    coded = [[_text(i.value), _item_type(i)] for i in identifiers if _item_type(i)]
    for start in range(0, len(coded), 5):  # PIA carries at most five item numbers
        yield _segment("PIA", "1", *coded[start : start + 5])
    if line.description:
        yield _segment("IMD", "F", "", ["", "", "", _text(line.description)])
    yield _segment("QTY", ["21", format_number(line.quantity, decimal), _text(line.unit or "")])
    if line.requested_delivery_date is not None:
        yield _dtm("2", line.requested_delivery_date)
    yield from (_segment("FTX", "AAI", "", "", _text(note)) for note in line.notes)
    if line.unit_price is not None:
        basis = line.price_basis_quantity
        price = ["AAA", format_number(line.unit_price, decimal)]
        if basis is not None:
            price += ["", "", format_number(basis, decimal)]
        yield _segment("PRI", price)


def _item_type(identifier: Identifier) -> str:
    if identifier.scheme.startswith("EDIFACT:"):
        return identifier.scheme.removeprefix("EDIFACT:")
    return ITEM_TYPES.get(identifier.scheme, "")


def _dtm(qualifier: str, value: date) -> Segment:
    return _segment("DTM", [qualifier, f"{value.year:04d}{value.month:02d}{value.day:02d}", "102"])


def _text(value: str) -> str:
    return _LINE_BREAKS.sub(" ", value) if ("\n" in value or "\r" in value) else value


def _composite(*components: str) -> ElementValue:
    return list(components) if any(components[1:]) else components[0]


def _segment(tag: str, *elements: ElementValue) -> Segment:
    """A pydifact segment without trailing empty data elements."""
    values = list(elements)
    while values and not any(values[-1]):
        values.pop()
    return Segment(tag, *(values or [""]))
