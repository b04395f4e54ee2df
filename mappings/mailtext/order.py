"""A read template → one canonical order, every bad value an issue naming its line and field/column.

The order number is the interchange's control reference (the same order mailed twice is recognised as
the same interchange); the buyer id is its sender, matched against the partner's identifiers like any
envelope sender (a valid GLN as a GLN).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from gateway.core.canonical import Address, Identifier, Order, OrderLine, OrderSource, Party
from gateway.core.checks import check_order, is_valid_gln, is_valid_gtin
from gateway.core.errors import Issue, ParseError
from mappings.base import InterchangeHeader, MessageOutcome
from mappings.mailtext.lines import Field, Row, Template

FORMAT_NAME = "mailtext"
VERSION = "1"
MESSAGE_TYPE = "ORDER"

_NUMBER = re.compile(r"^\d{1,12}(?:[.,]\d{1,6})?$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


def envelope(template: Template) -> InterchangeHeader:
    """The interchange header; `ParseError` when the fields that identify the order are missing."""
    order, buyer = template.value("order"), template.value("buyer")
    missing = [name for name, found in (("Order", order), ("Buyer", buyer)) if found is None]
    if order is None or buyer is None:
        keys = {name.lower() for name in missing}
        empty = next(
            (i for i in template.issues if i.code == "MAILTEXT_EMPTY_FIELD" and i.element in keys), None
        )
        if empty is not None:
            raise ParseError(empty.message, code=empty.code, position=empty.position, element=empty.element)
        raise ParseError(
            f"the order lacks the field{'s' if len(missing) > 1 else ''} {' and '.join(missing)} "
            f"(`Order: <your order number>` and `Buyer: <your buyer id or GLN>` below the line "
            f"ORDERGATE ORDER on line {template.marker_line})",
            code="MAILTEXT_MISSING_FIELD",
            position=template.marker_line,
            element=missing[0].lower(),
        )
    supplier = template.value("supplier")
    return InterchangeHeader(
        format=FORMAT_NAME,
        sender_id=buyer.value,
        sender_qualifier="GLN" if is_valid_gln(buyer.value) else None,
        receiver_id=supplier.value if supplier else "",
        receiver_qualifier="GLN" if supplier and is_valid_gln(supplier.value) else None,
        control_ref=order.value,
        syntax=f"{FORMAT_NAME}/{VERSION}",
    )


def outcome(template: Template, header: InterchangeHeader) -> MessageOutcome:
    reader = _Reader(template)
    lines = [line for line in (reader.line(n, row) for n, row in enumerate(template.rows, 1)) if line]
    if template.header_line is None:
        reader.issue(
            "NO_TABLE", template.marker_line, "the order has no table of lines (`SKU | Qty | Price`)"
        )
    elif not template.rows:
        reader.issue("NO_TABLE", template.header_line, "the table has a header but no lines")
    order_date = reader.date(template.value("date"))
    delivery = reader.date(template.value("delivery_date"))
    currency = reader.currency(template.value("currency"))
    errors = sorted([*template.issues, *reader.issues], key=lambda issue: issue.position or 0)
    order = None
    if not errors:
        order = Order(
            order_number=header.control_ref,
            order_date=order_date,
            requested_delivery_date=delivery,
            currency=currency,
            buyer=_party(template.value("buyer"), template.value("buyer_name")),
            seller=_party(template.value("supplier"), None),
            ship_to=_ship_to(template.value("ship_to"), template.value("ship_to_id")),
            lines=lines,
            notes=[note.value for note in template.fields.get("note", [])],
            source=OrderSource(
                format=FORMAT_NAME,
                standard_version=VERSION,
                message_type=MESSAGE_TYPE,
                sender_id=header.sender_id,
                sender_qualifier=header.sender_qualifier,
                receiver_id=header.receiver_id or None,
                receiver_qualifier=header.receiver_qualifier,
                interchange_control_ref=header.control_ref,
                message_control_ref=header.control_ref,
            ),
        )
    warnings: list[Issue] = []
    if order is not None:
        for found in check_order(order):
            located = found.model_copy(update={"position": template.marker_line})
            (errors if found.severity == "error" else warnings).append(located)
    return MessageOutcome(
        message_type=MESSAGE_TYPE,
        message_ref=header.control_ref,
        version=VERSION,
        position=template.marker_line,
        order=order if not errors else None,
        errors=errors,
        warnings=warnings,
    )


class _Reader:
    """Typed reads of field and cell values; each bad one becomes an issue and reads as None."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.issues: list[Issue] = []

    def issue(self, code: str, line: int, message: str, element: str | None = None) -> None:
        self.issues.append(
            Issue(code=f"MAILTEXT_{code}", message=f"line {line}: {message}", position=line, element=element)
        )

    def date(self, found: Field | None) -> date | None:
        if found is None:
            return None
        try:
            return date.fromisoformat(found.value)
        except ValueError:
            self.issue("BAD_DATE", found.line, f"{found.value!r} is not a date as YYYY-MM-DD", found.key)
            return None

    def currency(self, found: Field | None) -> str | None:
        if found is None:
            return None
        if not _CURRENCY.match(found.value):
            self.issue(
                "BAD_CURRENCY", found.line, f"{found.value!r} is not a currency code such as EUR", "currency"
            )
            return None
        return found.value.upper()

    def number(self, row: Row, column: str, *, positive: bool) -> Decimal | None:
        text = row.cells.get(column, "")
        if not text:
            return None
        if not _NUMBER.match(text):
            what = "quantity" if column == "qty" else "price"
            self.issue(
                f"BAD_{what.upper()}",
                row.line,
                f"{what} {text!r} is not a number (digits, at most one '.' or ',' for decimals)",
                column,
            )
            return None
        value = Decimal(text.replace(",", "."))
        if positive and value <= 0:
            self.issue("BAD_QUANTITY", row.line, f"quantity {text} must be more than 0", column)
            return None
        return value

    def line(self, number: int, row: Row) -> OrderLine | None:
        sku, gtin = row.cells.get("sku", ""), row.cells.get("gtin", "")
        quantity = self.number(row, "qty", positive=True)
        price = self.number(row, "price", positive=False)
        good = True
        if not row.cells.get("qty"):
            self.issue("BAD_QUANTITY", row.line, "the quantity is missing", "qty")
            good = False
        if not sku and not gtin:
            self.issue("MISSING_ITEM", row.line, "the line names no article (SKU or GTIN)", "sku")
            good = False
        if gtin and not is_valid_gtin(gtin):
            self.issue("BAD_GTIN", row.line, f"GTIN {gtin} has a wrong check digit or length", "gtin")
            good = False
        if quantity is None or not good:
            return None
        identifiers = [Identifier(scheme="GTIN", value=gtin)] if gtin else []
        identifiers += [Identifier(scheme="SELLER", value=sku)] if sku else []
        return OrderLine(
            line_number=str(number),
            gtin=gtin or None,
            seller_item_id=sku or None,
            item_identifiers=identifiers,
            description=row.cells.get("description") or None,
            quantity=quantity,
            unit=row.cells.get("unit") or None,
            unit_price=price,
        )


def _identifier(value: str) -> Identifier:
    return Identifier(scheme="GLN" if is_valid_gln(value) else "PARTNER", value=value)


def _party(identifier: Field | None, name: Field | None) -> Party | None:
    if identifier is None and name is None:
        return None
    return Party(
        name=name.value if name else None,
        identifiers=[_identifier(identifier.value)] if identifier else [],
    )


def _ship_to(text: Field | None, identifier: Field | None) -> Party | None:
    """`Ship to: name, street, postcode city, country`: the first part is the name, the rest address
    lines as written (no guessing which part is the city)."""
    if text is None and identifier is None:
        return None
    parts = [part.strip() for part in text.value.split(",") if part.strip()] if text else []
    return Party(
        name=parts[0] if parts else None,
        identifiers=[_identifier(identifier.value)] if identifier else [],
        address=Address(street=parts[1:]) if len(parts) > 1 else None,
    )


__all__ = ["FORMAT_NAME", "MESSAGE_TYPE", "VERSION", "envelope", "outcome"]
