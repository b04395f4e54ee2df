"""One cac:OrderLine (its cac:LineItem) → canonical `OrderLine`.

Item numbers: SellersItemIdentification → seller_item_id ("SELLER"), BuyersItemIdentification →
buyer_item_id ("BUYER"), StandardItemIdentification with scheme 0160 (or GTIN, or GS1 agency 9) → gtin;
a standard identification in another scheme, and the manufacturer's number
("UBL:ManufacturersItemIdentification"), are kept in item_identifiers only. The description is the
item's cbc:Description, else its cbc:Name. The requested delivery date is the start of the line's
RequestedDeliveryPeriod (else its end). In an OrderChange each line's LineStatusCode (UNCL 1229: added,
deleted, changed …) is kept as a line note, since the canonical line has no status of its own.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from gateway.core.canonical import Identifier, OrderLine, Tax
from mappings.ubl.amounts import allowances_charges_of, tax_category_of
from mappings.ubl.parties import scheme_of
from mappings.xml import Fields

_ITEM_IDS = (
    ("cac:SellersItemIdentification/cbc:ID", "SELLER"),
    ("cac:BuyersItemIdentification/cbc:ID", "BUYER"),
    ("cac:StandardItemIdentification/cbc:ID", "UBL:StandardItemIdentification"),
    ("cac:ManufacturersItemIdentification/cbc:ID", "UBL:ManufacturersItemIdentification"),
)
_GS1_ITEMS = {"9": "GTIN"}  # an item number issued under GS1 (agency 9) is a GTIN
LINE_STATUS = {
    "1": "added",
    "2": "deleted",
    "3": "changed",
    "4": "no action",
    "5": "accepted without amendment",
    "6": "accepted with amendment",
    "7": "not accepted",
}


def order_line_of(fields: Fields, order_line: etree._Element, position: int) -> OrderLine | None:
    item = fields.find(order_line, "cac:LineItem")
    if item is None:
        fields.issue(
            "REQUIRED_MISSING", f"order line {position} has no cac:LineItem", order_line, "cac:LineItem"
        )
        return None
    number = fields.text(item, "cbc:ID")
    if number is None:
        fields.issue(
            "LINE_NUMBER_MISSING",
            f"order line {position} has no cbc:ID; its position {position} is used as line number",
            item,
            "cbc:ID",
            severity="warning",
        )
    number = number or str(position)
    line = OrderLine(line_number=number, quantity=_quantity(fields, item, number))
    quantity = fields.find(item, "cbc:Quantity")
    if quantity is not None:
        line.unit = (quantity.get("unitCode") or "").strip() or None
    _item(fields, fields.find(item, "cac:Item"), line)
    price = fields.find(item, "cac:Price")
    line.unit_price = fields.number_at(price, "cbc:PriceAmount", "cbc:PriceAmount")
    basis = fields.number_at(price, "cbc:BaseQuantity", "cbc:BaseQuantity")
    line.price_basis_quantity = basis if basis is not None and basis != 1 else None
    line.line_amount = fields.number_at(item, "cbc:LineExtensionAmount", "cbc:LineExtensionAmount")
    period = fields.find(item, "cac:Delivery/cac:RequestedDeliveryPeriod")
    line.requested_delivery_date = fields.date_at(period, "cbc:StartDate", "cbc:StartDate") or fields.date_at(
        period, "cbc:EndDate", "cbc:EndDate"
    )
    line.allowances_charges = allowances_charges_of(fields, item)
    line.taxes = _taxes(fields, item)
    line.notes = [n for n in (fields.text(e) for e in fields.findall(order_line, "cbc:Note")) if n]
    line.notes += [n for n in (fields.text(e) for e in fields.findall(item, "cbc:Note")) if n]
    status = fields.text(item, "cbc:LineStatusCode")
    if status is not None and status in LINE_STATUS:
        line.notes.append(f"line status {status} ({LINE_STATUS[status]})")
    return line


def _quantity(fields: Fields, item: etree._Element, number: str) -> Decimal:
    """The ordered quantity; 0 (an error, so the order is refused) when absent or unreadable."""
    element = fields.find(item, "cbc:Quantity")
    if element is None or fields.text(element) is None:
        fields.issue("QUANTITY_MISSING", f"line {number} has no cbc:Quantity", item, "cbc:Quantity")
        return Decimal(0)
    value = fields.number(fields.text(element), f"line {number} quantity", element)
    return Decimal(0) if value is None else value


def _item(fields: Fields, item: etree._Element | None, line: OrderLine) -> None:
    if item is None:
        return
    line.description = fields.text(item, "cbc:Description") or fields.text(item, "cbc:Name")
    for path, default in _ITEM_IDS:
        for element in fields.findall(item, path):
            value = fields.text(element)
            if value is None:
                continue
            scheme = default if default in ("SELLER", "BUYER") else scheme_of(element, default, _GS1_ITEMS)
            found = Identifier(scheme=scheme, value=value)
            if found not in line.item_identifiers:
                line.item_identifiers.append(found)
    first = {i.scheme: i.value for i in reversed(line.item_identifiers)}
    line.seller_item_id = first.get("SELLER")
    line.buyer_item_id = first.get("BUYER")
    line.gtin = first.get("GTIN")


def _taxes(fields: Fields, item: etree._Element) -> list[Tax]:
    """The item's tax categories; a line's TotalTaxAmount is their amount when there is one category
    (or the only tax fact when there is none)."""
    categories = fields.findall(item, "cac:Item/cac:ClassifiedTaxCategory")
    amount = fields.find(item, "cbc:TotalTaxAmount")
    if not categories:
        return (
            [Tax(amount=fields.number(fields.text(amount), "cbc:TotalTaxAmount", amount))]
            if amount is not None
            else []
        )
    return [tax_category_of(fields, c, amount if len(categories) == 1 else None) for c in categories]
