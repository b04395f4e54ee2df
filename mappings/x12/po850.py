"""850 purchase order → canonical `Order` (003xxx, 004010, 005010 and the VICS/UCS conventions).

One pass over the set's segments with a handler per tag; state says which N1 loop or PO1 line the
next N2/N3/N4/PER, PID, DTM or MSG belongs to. The order is built as plain dicts and validated once
(the fast path in pydantic), then judged by `check_order`. Content that cannot be read (a quantity that
is not a number, a date that is not a date) becomes an error Issue naming segment, position and element;
it never raises. Header REF becomes an order reference, DTM 010 the requested ship date; segments
the canonical order has no place for (TD5, SAC …) are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from gateway.core.canonical import Order
from gateway.core.checks import check_order, is_valid_gtin
from gateway.core.errors import Issue
from mappings.base import MessageOutcome
from mappings.x12.codes import (
    DELIVERY_DATES,
    ITEM_SCHEMES,
    ORDER_DATE,
    PARTY_ROLES,
    PARTY_SCHEMES,
    PRICE_BASIS,
    PURPOSES,
)
from mappings.x12.context import SetContext, issue
from mappings.x12.totals import check_totals
from mappings.x12.values import decimal, long_dates, parse_date

SHIP_DATE = "010"  # DTM01 010: requested ship

_N1_LOOP = frozenset(
    {"N1", "N2", "N3", "N4", "NX2", "REF", "PER", "SI", "FOB", "TD1", "TD3", "TD4", "TD5", "PKG"}
)
"""Segments of an N1 loop: any other segment ends the loop, so a later N3 cannot land on the wrong party."""
_TOTALS = ("TT", "1")  # AMT01: total transaction amount, line item total
_NO_RANK = len(DELIVERY_DATES)
_PAD = [""] * 6


def _el(fields: list[str], index: int) -> str:
    return fields[index].strip() if index < len(fields) else ""


class _Reader:
    """Translation state of one 850."""

    def __init__(self, context: SetContext) -> None:
        self.context = context
        self.long_dates = long_dates(context.version)
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.beg_position: int | None = None
        self.order: dict[str, Any] = {"purpose": "original", "notes": []}
        self.dates: dict[str, date] = {}
        self.parties: dict[str, dict[str, Any]] = {}
        self.party: dict[str, Any] | None = None  # the N1 loop being read
        self.header_contact: dict[str, Any] | None = None
        self.n1_seen = False
        self.lines: list[dict[str, Any]] = []
        self.line: dict[str, Any] | None = None  # the PO1 loop being read
        self.line_date_rank = _NO_RANK
        self.po1_count = 0
        self.summary = False
        self.ctt: tuple[int, str, str] | None = None
        self.amt: tuple[int, str] | None = None

    # -- helpers ---------------------------------------------------------------------------------------

    def error(self, code: str, message: str, segment: str, position: int, element: str | None = None) -> None:
        self.errors.append(issue(code, message, segment, position, element))

    def warn(self, code: str, message: str, segment: str, position: int, element: str | None = None) -> None:
        self.warnings.append(issue(code, message, segment, position, element, warning=True))

    def number(self, text: str, segment: str, position: int, element: str, what: str) -> Decimal | None:
        value = decimal(text)
        if value is None:
            self.error(
                "X12_NUMERIC", f"{element} ({what}) is {text!r}, not a number", segment, position, element
            )
        return value

    def date(self, text: str, segment: str, position: int, element: str) -> date | None:
        value = parse_date(text)
        if value is None:
            self.error(
                "X12_DATE",
                f"{element} is {text!r}, not a date (CCYYMMDD, or YYMMDD before version 004010)",
                segment,
                position,
                element,
            )
        elif self.long_dates is not None and (len(text) == 8) != self.long_dates:
            expected = "CCYYMMDD" if self.long_dates else "YYMMDD"
            self.warn(
                "X12_DATE_FORMAT",
                f"{element} {text!r} has {len(text)} digits but version {self.context.version} writes dates as "
                f"{expected}; read as {value.isoformat()}",
                segment,
                position,
                element,
            )
        return value

    # -- result ----------------------------------------------------------------------------------------

    def outcome(self) -> MessageOutcome:
        context = self.context
        order = self._order() if self.beg_position is not None else None
        if self.beg_position is None:
            self.error(
                "X12_SEGMENT_MISSING",
                f"transaction set {context.control_ref} has no BEG segment, so no purchase order number",
                "ST",
                context.position,
            )
        if order is not None:
            for found in check_order(order):
                (self.errors if found.severity == "error" else self.warnings).append(found)
        return MessageOutcome(
            message_type="850",
            message_ref=context.control_ref,
            version=context.version,
            position=context.position,
            order=order,
            errors=self.errors,
            warnings=self.warnings,
            group_ref=context.group_ref,
        )

    def _order(self) -> Order | None:
        self.warnings.extend(check_totals(self.lines, self.po1_count, self.ctt, self.amt))
        if self.header_contact is not None:
            buyer = self.parties.setdefault("buyer", {"identifiers": []})
            buyer.setdefault("contact", self.header_contact)
        order = self.order
        order.update(self.parties)
        order["lines"] = self.lines
        order.setdefault("order_date", self.dates.get(ORDER_DATE))
        order["requested_ship_date"] = self.dates.get(SHIP_DATE)
        order["requested_delivery_date"] = next(
            (self.dates[q] for q in DELIVERY_DATES if q in self.dates), None
        )
        header, context = self.context.header, self.context
        order["source"] = {
            "format": "x12",
            "standard_version": context.version,
            "message_type": "850",
            "sender_id": header.sender_id,
            "sender_qualifier": header.sender_qualifier,
            "receiver_id": header.receiver_id,
            "receiver_qualifier": header.receiver_qualifier,
            "interchange_control_ref": header.control_ref,
            "group_control_ref": context.group_ref,
            "message_control_ref": context.control_ref,
            "test": header.test,
        }
        try:
            return Order.model_validate(order)
        except ValidationError as refused:
            first = refused.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            self.error(
                "X12_CONTENT", f"the order cannot be built: {where}: {first['msg']}", "ST", context.position
            )
            return None


# -- segment handlers -----------------------------------------------------------------------------------


def _beg(r: _Reader, f: list[str], position: int) -> None:
    if r.beg_position is not None:
        r.warn("X12_SEGMENT_REPEATED", f"a second BEG at segment {position} is ignored", "BEG", position)
        return
    r.beg_position = position
    code = _el(f, 1)
    purpose = PURPOSES.get(code)
    if purpose is None:
        purpose = "other"
        r.warn(
            "X12_PURPOSE",
            f"BEG01 {code!r} is not a purpose ordergate distinguishes (00 original, 01 cancel, 04 change, "
            "05 replace, 06 confirmation, 07 duplicate); read as other",
            "BEG",
            position,
            "BEG01",
        )
    r.order["purpose"] = purpose
    r.order["order_number"] = _el(f, 3)
    sent = _el(f, 5)
    if sent:
        r.order["order_date"] = r.date(sent, "BEG", position, "BEG05")


def _cur(r: _Reader, f: list[str], position: int) -> None:
    if r.po1_count == 0 and "currency" not in r.order:
        r.order["currency"] = _el(f, 2) or None


def _dtm(r: _Reader, f: list[str], position: int) -> None:
    qualifier, sent = _el(f, 1), _el(f, 2)
    if r.line is not None:
        if qualifier in DELIVERY_DATES and sent:
            rank = DELIVERY_DATES.index(qualifier)
            if rank < r.line_date_rank and (value := r.date(sent, "DTM", position, "DTM02")) is not None:
                r.line["requested_delivery_date"] = value
                r.line_date_rank = rank
    elif (
        r.po1_count == 0
        and sent
        and (qualifier in DELIVERY_DATES or qualifier in (ORDER_DATE, SHIP_DATE))
        and qualifier not in r.dates
        and (value := r.date(sent, "DTM", position, "DTM02")) is not None
    ):
        r.dates[qualifier] = value


def _n1(r: _Reader, f: list[str], position: int) -> None:
    r.party = None
    r.n1_seen = True
    if r.po1_count:
        return  # a line-level party: the canonical line has no place for it
    code = _el(f, 1)
    role = PARTY_ROLES.get(code)
    if role is None:
        return
    if role in r.parties:
        r.warn(
            "X12_PARTY_REPEATED",
            f"a second {role.replace('_', ' ')} (N1*{code}) at segment {position} is ignored; the first is kept",
            "N1",
            position,
            "N101",
        )
        return
    party: dict[str, Any] = {"name": _el(f, 2) or None, "identifiers": []}
    qualifier, value = _el(f, 3), _el(f, 4)
    if qualifier and value:
        party["identifiers"].append(
            {"scheme": PARTY_SCHEMES.get(qualifier, f"X12:{qualifier}"), "value": value}
        )
    elif qualifier or value:
        r.warn(
            "X12_ID_PAIR",
            f"N103 {qualifier!r} and N104 {value!r} go together; the {role.replace('_', ' ')} has no identifier",
            "N1",
            position,
            "N104" if qualifier else "N103",
        )
    r.parties[role] = party
    r.party = party


def _n2(r: _Reader, f: list[str], position: int) -> None:
    """N2 continues the name: the canonical party has one name, so it is appended after ", "."""
    if r.party is not None:
        extra = " ".join(v for v in (_el(f, 1), _el(f, 2)) if v)
        if extra:
            r.party["name"] = f"{r.party['name']}, {extra}" if r.party.get("name") else extra


def _address(party: dict[str, Any]) -> dict[str, Any]:
    address: dict[str, Any] | None = party.get("address")
    if address is None:
        address = party["address"] = {"street": []}
    return address


def _n3(r: _Reader, f: list[str], position: int) -> None:
    if r.party is not None:
        _address(r.party)["street"].extend(v for v in (_el(f, 1), _el(f, 2)) if v)


def _n4(r: _Reader, f: list[str], position: int) -> None:
    if r.party is not None:
        address = _address(r.party)
        for key, index in (("city", 1), ("region", 2), ("postal_code", 3), ("country", 4)):
            if value := _el(f, index):
                address[key] = value


def _per(r: _Reader, f: list[str], position: int) -> None:
    if r.party is not None:
        target = r.party
    elif r.po1_count == 0 and not r.n1_seen and r.header_contact is None:
        target = None  # administrative contact before any N1: the buyer's
    else:
        return
    contact: dict[str, Any] = {"name": _el(f, 2) or None}
    for index in (3, 5, 7):
        qualifier, value = _el(f, index), _el(f, index + 1)
        if value and qualifier == "TE":
            contact.setdefault("phone", value)
        elif value and qualifier == "EM":
            contact.setdefault("email", value)
    if not any(contact.values()):
        return
    if target is None:
        r.header_contact = contact
    else:
        target.setdefault("contact", contact)


def _po1(r: _Reader, f: list[str], position: int) -> None:
    r.po1_count += 1
    r.party = None
    r.line_date_rank = _NO_RANK
    size = len(f)
    if size < 6:
        f = f + _PAD[size:]
    number = f[1].strip()
    if not number:
        number = str(r.po1_count)
        r.warn(
            "X12_LINE_NUMBER_MISSING",
            f"PO101 is empty: the line is numbered {number} by its position",
            "PO1",
            position,
            "PO101",
        )
    sent = f[2].strip()
    if sent.isdigit() and sent.isascii():
        quantity: Decimal | None = Decimal(sent)
    elif sent:
        quantity = r.number(sent, "PO1", position, "PO102", f"quantity of line {number}")
    else:
        quantity = None
        r.error(
            "X12_ELEMENT_MISSING", f"PO102 (quantity) of line {number} is empty", "PO1", position, "PO102"
        )
    sent = f[4].strip()
    price = r.number(sent, "PO1", position, "PO104", f"unit price of line {number}") if sent else None
    identifiers: list[dict[str, str]] = []
    found: dict[str, str] = {}
    for index in range(6, size, 2):
        qualifier = f[index].strip()
        value = f[index + 1].strip() if index + 1 < size else ""
        if qualifier and value:
            scheme = ITEM_SCHEMES.get(qualifier) or f"X12:{qualifier}"
            identifiers.append({"scheme": scheme, "value": value})
            if scheme not in found:
                found[scheme] = value
        elif qualifier or value:
            r.warn(
                "X12_ID_PAIR",
                f"PO1{index:02d} {qualifier!r} and PO1{index + 1:02d} {value!r} go together; the pair is ignored",
                "PO1",
                position,
                f"PO1{index:02d}",
            )
    gtin = found.get("GTIN")
    if gtin is None and (upc := found.get("UPC")) is not None:
        if len(upc) == 12 and is_valid_gtin(upc):
            gtin = upc
        else:
            r.warn(
                "X12_UPC_INVALID",
                f"UPC {upc!r} of line {number} is not a valid GTIN-12; it is kept as a UPC identifier only",
                "PO1",
                position,
            )
    line = {
        "line_number": number,
        "gtin": gtin,
        "buyer_item_id": found.get("BUYER"),
        "seller_item_id": found.get("SELLER"),
        "item_identifiers": identifiers,
        "quantity": quantity,
        "unit": f[3].strip() or None,
        "unit_price": price,
        "price_basis_quantity": PRICE_BASIS.get(f[5].strip()) if f[5] else None,
        "notes": [],
    }
    r.line = line
    if quantity is not None:
        r.lines.append(line)


def _pid(r: _Reader, f: list[str], position: int) -> None:
    if r.line is not None and len(f) > 5 and (text := f[5].strip()):
        described = r.line.get("description")
        r.line["description"] = f"{described} {text}" if described else text


def _note(index: int) -> Callable[[_Reader, list[str], int], None]:
    def handle(r: _Reader, f: list[str], position: int) -> None:
        if text := _el(f, index):
            (r.line["notes"] if r.line is not None else r.order["notes"]).append(text)

    return handle


def _ref(r: _Reader, f: list[str], position: int) -> None:
    """Header REF (outside any N1 loop and before the lines) becomes an order reference."""
    if not r.n1_seen and r.po1_count == 0:
        qualifier, value = _el(f, 1), _el(f, 2) or _el(f, 3)
        if qualifier and value:
            r.order.setdefault("references", []).append({"qualifier": f"X12:{qualifier}", "value": value})


def _ctt(r: _Reader, f: list[str], position: int) -> None:
    r.summary = True
    r.line = None
    if r.ctt is None:
        r.ctt = (position, _el(f, 1), _el(f, 2))


def _amt(r: _Reader, f: list[str], position: int) -> None:
    if r.summary and r.amt is None and _el(f, 1) in _TOTALS:
        r.amt = (position, _el(f, 2))


_HANDLERS: dict[str, Callable[[_Reader, list[str], int], None]] = {
    "BEG": _beg,
    "CUR": _cur,
    "REF": _ref,
    "DTM": _dtm,
    "N1": _n1,
    "N2": _n2,
    "N3": _n3,
    "N4": _n4,
    "PER": _per,
    "PO1": _po1,
    "PID": _pid,
    "MSG": _note(1),
    "NTE": _note(2),
    "CTT": _ctt,
    "AMT": _amt,
}


def translate(body: list[list[str]], context: SetContext) -> MessageOutcome:
    """Translate the segments of one 850 (between ST and SE) into an outcome with its order."""
    reader = _Reader(context)
    handlers = _HANDLERS
    position = context.position
    for fields in body:
        position += 1
        tag = fields[0]
        if tag not in _N1_LOOP:
            reader.party = None
        handler = handlers.get(tag)
        if handler is not None:
            handler(reader, fields, position)
    return reader.outcome()
