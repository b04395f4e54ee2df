"""Canonical orders → one X12 850 interchange (ISA, GS, an ST…SE per order, GE, IEA).

X12 has no release (escape) character, so a separator inside a value cannot be sent. Free text (names,
streets, cities, descriptions, notes, contact names) has separators and control characters replaced by
a space: the text stays readable and nothing else is affected. Codes and references (order and line
numbers, identifiers, units, currency, qualifiers, phone, e-mail) raise `ValidationError` with code
`X12_RENDER_SEPARATOR` instead, because a changed reference would point at a different thing.

What the canonical order holds and an 850 cannot carry is refused, not dropped silently, where it changes
meaning (purpose "other", a price basis with no 639 code, more than 10 item identifiers on a line); party
identifiers beyond the first one X12 can qualify, and identifiers of schemes X12 has no qualifier for,
are left out (N1 carries one identifier).

`iter_render_850` streams (one chunk per order, so 10,000 orders never sit in memory as text);
`render_850` joins it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from gateway.core.canonical import Order, OrderLine, Party
from gateway.core.errors import ValidationError
from mappings.x12.codes import (
    ITEM_QUALIFIERS,
    PARTY_QUALIFIERS,
    PRICE_BASIS_CODES,
    PURPOSE_CODES,
    ROLE_CODES,
)
from mappings.x12.isa import REPETITION_FROM, Separators
from mappings.x12.values import format_date, format_decimal, long_dates

DEFAULT_SEPARATORS = Separators(element="*", component=">", segment="~", repetition="^")
"""`*` elements, `>` components, `^` repetitions (ISA11 "U" before version 00402), `~` terminator."""

MAX_ITEM_PAIRS = 10  # PO106 … PO125


class _Writer:
    def __init__(self, separators: Separators, version: str) -> None:
        self.separators = separators
        self.long_dates = bool(long_dates(version))
        special = [separators.element, separators.component, separators.segment]
        if separators.repetition:
            special.append(separators.repetition)
        controls = [chr(c) for c in range(32)] + ["\x7f"]
        self._free = str.maketrans(dict.fromkeys(special + controls, " "))
        self._forbidden = re.compile("[" + re.escape("".join(special + controls)) + "]")
        self._end = separators.segment + separators.suffix

    # -- values ----------------------------------------------------------------------------------------

    def text(self, value: str | None) -> str:
        return value.translate(self._free) if value else ""

    def code(self, value: str | None, what: str) -> str:
        if not value:
            return ""
        if found := self._forbidden.search(value):
            raise ValidationError(
                f"{what} {value!r} contains {found.group()!r}, a separator or control character of this "
                "interchange; X12 cannot escape it (choose other separators or change the value)",
                code="X12_RENDER_SEPARATOR",
            )
        return value

    def date(self, value: date | None) -> str:
        return format_date(value, long=self.long_dates) if value is not None else ""

    def segment(self, *elements: str) -> str:
        element = self.separators.element
        return element.join(elements).rstrip(element) + self._end

    # -- one order -------------------------------------------------------------------------------------

    def order(self, order: Order, control_ref: str) -> str:
        """The ST … SE text of one order."""
        purpose = PURPOSE_CODES.get(order.purpose)
        if purpose is None:
            raise ValidationError(
                f"order {order.order_number}: purpose {order.purpose!r} has no BEG01 code in X12",
                code="X12_RENDER_PURPOSE",
            )
        s = self.segment
        out = [
            s("ST", "850", control_ref),
            s(
                "BEG",
                purpose,
                "SA",
                self.code(order.order_number, "order number"),
                "",
                self.date(order.order_date),
            ),
        ]
        if order.currency:
            out.append(s("CUR", "BY", self.code(order.currency, "currency")))
        if order.requested_delivery_date:
            out.append(s("DTM", "002", self.date(order.requested_delivery_date)))
        if order.notes:
            out.append(s("N9", "L1", "NOTES"))
            out.extend(s("MSG", self.text(note)) for note in order.notes)
        for role, code in ROLE_CODES.items():
            party: Party | None = getattr(order, role)
            if party is not None:
                out.extend(self.party(code, party))
        for line in order.lines:
            out.extend(self.line(line))
        total = sum((line.quantity for line in order.lines), Decimal(0))
        out.append(s("CTT", str(len(order.lines)), format_decimal(total)))
        out.append(s("SE", str(len(out) + 1), control_ref))
        return "".join(out)

    def party(self, code: str, party: Party) -> list[str]:
        s = self.segment
        qualifier, value = "", ""
        for identifier in party.identifiers:
            scheme = identifier.scheme
            found = PARTY_QUALIFIERS.get(scheme) or (scheme[4:] if scheme.startswith("X12:") else "")
            if found:
                qualifier = self.code(found, "party identifier qualifier")
                value = self.code(identifier.value, "party identifier")
                break
        out = [s("N1", code, self.text(party.name), qualifier, value)]
        address = party.address
        if address is not None:
            streets = [self.text(street) for street in address.street]
            out.extend(s("N3", *streets[i : i + 2]) for i in range(0, len(streets), 2))
            if address.city or address.region or address.postal_code or address.country:
                out.append(
                    s(
                        "N4",
                        self.text(address.city),
                        self.code(address.region, "region"),
                        self.code(address.postal_code, "postal code"),
                        self.code(address.country, "country"),
                    )
                )
        contact = party.contact
        if contact is not None and (contact.name or contact.phone or contact.email):
            channels: list[str] = []
            if contact.phone:
                channels += ["TE", self.code(contact.phone, "phone")]
            if contact.email:
                channels += ["EM", self.code(contact.email, "e-mail")]
            out.append(s("PER", "IC", self.text(contact.name), *channels))
        return out

    def line(self, line: OrderLine) -> list[str]:
        s = self.segment
        number = line.line_number
        basis = ""
        if line.price_basis_quantity is not None and line.price_basis_quantity != 1:
            basis = PRICE_BASIS_CODES.get(line.price_basis_quantity, "")
            if not basis:
                raise ValidationError(
                    f"line {number}: a price per {line.price_basis_quantity} units has no PO105 code",
                    code="X12_RENDER_PRICE_BASIS",
                )
        pairs: list[str] = []
        for qualifier, value in _item_pairs(line):
            pairs += [
                self.code(qualifier, f"line {number} identifier qualifier"),
                self.code(value, f"line {number} item identifier"),
            ]
        if len(pairs) > 2 * MAX_ITEM_PAIRS:
            raise ValidationError(
                f"line {number} has {len(pairs) // 2} item identifiers; PO1 carries at most {MAX_ITEM_PAIRS}",
                code="X12_RENDER_TOO_MANY_IDS",
            )
        out = [
            s(
                "PO1",
                self.code(number, "line number"),
                format_decimal(line.quantity),
                self.code(line.unit, f"line {number} unit"),
                format_decimal(line.unit_price) if line.unit_price is not None else "",
                basis,
                *pairs,
            )
        ]
        if line.description:
            out.append(s("PID", "F", "", "", "", self.text(line.description)))
        if line.requested_delivery_date:
            out.append(s("DTM", "002", self.date(line.requested_delivery_date)))
        out.extend(s("MSG", self.text(note)) for note in line.notes)
        return out


def _gtin_qualifier(value: str) -> str:
    return {14: "UK", 12: "UP"}.get(len(value), "EN")


def _item_pairs(line: OrderLine) -> list[tuple[str, str]]:
    """Every identifier X12 can qualify, in the line's order; gtin/buyer/seller ids added if missing."""
    pairs: list[tuple[str, str]] = []
    carried: set[tuple[str, str]] = set()
    for identifier in line.item_identifiers:
        scheme, value = identifier.scheme, identifier.value
        if scheme == "GTIN":
            qualifier = _gtin_qualifier(value)
        elif scheme.startswith("X12:"):
            qualifier = scheme[4:]
        else:
            qualifier = ITEM_QUALIFIERS.get(scheme, "")
        if qualifier:
            pairs.append((qualifier, value))
            carried.add(("GTIN" if scheme == "UPC" else scheme, value))
    for scheme, wanted, qualifier in (
        ("GTIN", line.gtin, _gtin_qualifier(line.gtin or "")),
        ("BUYER", line.buyer_item_id, "IN"),
        ("SELLER", line.seller_item_id, "VN"),
    ):
        if wanted and (scheme, wanted) not in carried:
            pairs.append((qualifier, wanted))
    return pairs


def _check_arguments(separators: Separators, version: str, control_number: int) -> None:
    chosen = [separators.element, separators.component, separators.segment]
    if separators.repetition:
        chosen.append(separators.repetition)
    if any(len(c) != 1 or c.isalnum() or c == " " for c in chosen) or len(set(chosen)) != len(chosen):
        raise ValueError(f"separators must be distinct single special characters, not {chosen!r}")
    if any(c.isspace() for c in chosen[:2] + chosen[3:]):
        raise ValueError("only the segment terminator may be white space")
    if len(version) < 6 or not (version[:6].isascii() and version[:6].isdigit()):
        raise ValueError(f"version must start with six digits, such as 004010 or 005010, not {version!r}")
    if not 0 < control_number <= 999_999_999:
        raise ValueError(f"control number must be 1 … 999999999 (ISA13 has 9 digits), not {control_number}")


def iter_render_850(
    orders: Iterable[Order],
    *,
    sender_id: str,
    sender_qualifier: str,
    receiver_id: str,
    receiver_qualifier: str,
    control_number: int,
    separators: Separators = DEFAULT_SEPARATORS,
    version: str = "004010",
    prepared_at: datetime | None = None,
    test: bool = False,
) -> Iterator[bytes]:
    """Stream an 850 interchange as UTF-8: envelope header, one chunk per order, then trailers."""
    _check_arguments(separators, version, control_number)
    writer = _Writer(separators, version)
    for name, value, width in (
        ("sender id", sender_id, 15),
        ("receiver id", receiver_id, 15),
        ("sender qualifier", sender_qualifier, 2),
        ("receiver qualifier", receiver_qualifier, 2),
    ):
        if not value or len(value) > width:
            raise ValueError(f"{name} must have 1 to {width} characters, not {value!r}")
        writer.code(value, name)
    moment = prepared_at or datetime.now(UTC)
    isa12 = version[:5]
    repetition = separators.repetition if int(isa12) >= REPETITION_FROM and separators.repetition else "U"
    control = str(control_number)
    s = writer.segment
    isa = s(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        f"{sender_qualifier:<2}",
        f"{sender_id:<15}",
        f"{receiver_qualifier:<2}",
        f"{receiver_id:<15}",
        moment.strftime("%y%m%d"),
        moment.strftime("%H%M"),
        repetition,
        isa12,
        f"{control_number:09d}",
        "0",
        "T" if test else "P",
        separators.component,
    )
    gs_date = format_date(moment.date(), long=writer.long_dates)
    gs = s("GS", "PO", sender_id, receiver_id, gs_date, moment.strftime("%H%M"), control, "X", version)
    yield (isa + gs).encode("utf-8")
    count = 0
    for count, order in enumerate(orders, start=1):
        yield writer.order(order, f"{count:04d}").encode("utf-8")
    yield (s("GE", str(count), control) + s("IEA", "1", f"{control_number:09d}")).encode("utf-8")


def render_850(
    orders: Sequence[Order],
    *,
    sender_id: str,
    sender_qualifier: str,
    receiver_id: str,
    receiver_qualifier: str,
    control_number: int,
    separators: Separators = DEFAULT_SEPARATORS,
    version: str = "004010",
    prepared_at: datetime | None = None,
    test: bool = False,
) -> bytes:
    """A whole 850 interchange for `orders` (see `iter_render_850`)."""
    return b"".join(
        iter_render_850(
            orders,
            sender_id=sender_id,
            sender_qualifier=sender_qualifier,
            receiver_id=receiver_id,
            receiver_qualifier=receiver_qualifier,
            control_number=control_number,
            separators=separators,
            version=version,
            prepared_at=prepared_at,
            test=test,
        )
    )


__all__ = ["DEFAULT_SEPARATORS", "Separators", "iter_render_850", "render_850"]
