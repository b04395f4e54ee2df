"""One cXML ItemOut → canonical `OrderLine`.

ItemID/SupplierPartID → seller_item_id ("SELLER"), BuyerPartID → buyer_item_id ("BUYER"),
ItemDetailRetail/EANID → gtin; SupplierPartAuxiliaryID and ManufacturerPartID are kept in
item_identifiers ("CXML:SupplierPartAuxiliaryID", "CXML:ManufacturerPartID"). The description is the
text of ItemDetail/Description, else its ShortName. PriceBasisQuantity/@quantity is the price basis.
The line's Shipping, Discount and Tax are its charges, allowances and taxes; its Comments its notes.
cXML states no line amount (Distribution/Charge splits cost over accounts), so none is set.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from gateway.core.canonical import Identifier, OrderLine
from mappings.cxml.amounts import charges_of, money, taxes_of
from mappings.xml import Fields

_ITEM_IDS = (
    ("ItemID/SupplierPartID", "SELLER"),
    ("ItemID/BuyerPartID", "BUYER"),
    ("ItemDetail/ItemDetailIndustry/ItemDetailRetail/EANID", "GTIN"),
    ("ItemID/SupplierPartAuxiliaryID", "CXML:SupplierPartAuxiliaryID"),
    ("ItemDetail/ManufacturerPartID", "CXML:ManufacturerPartID"),
)


def order_line_of(fields: Fields, item: etree._Element, position: int) -> OrderLine:
    number = (item.get("lineNumber") or "").strip()
    if not number:
        number = str(position)
        fields.issue(
            "LINE_NUMBER_MISSING",
            f"ItemOut {position} has no lineNumber; its position {position} is used",
            item,
            "@lineNumber",
            severity="warning",
        )
    detail = fields.find(item, "ItemDetail")
    identifiers: list[Identifier] = []
    for path, scheme in _ITEM_IDS:
        value = fields.text(item, path)
        if value is not None and Identifier(scheme=scheme, value=value) not in identifiers:
            identifiers.append(Identifier(scheme=scheme, value=value))
    first = {i.scheme: i.value for i in reversed(identifiers)}
    basis = fields.find(detail, "PriceBasisQuantity")
    basis_quantity = (
        fields.number(basis.get("quantity"), "PriceBasisQuantity/@quantity", basis, "@quantity")
        if basis is not None
        else None
    )
    return OrderLine(
        line_number=number,
        gtin=first.get("GTIN"),
        buyer_item_id=first.get("BUYER"),
        seller_item_id=first.get("SELLER"),
        item_identifiers=identifiers,
        description=_description(fields, fields.find(detail, "Description")),
        quantity=_quantity(fields, item, number),
        unit=fields.text(detail, "UnitOfMeasure"),
        unit_price=money(fields, detail, "UnitPrice/Money"),
        price_basis_quantity=basis_quantity if basis_quantity != 1 else None,
        requested_delivery_date=fields.date(
            item.get("requestedDeliveryDate"), "requestedDeliveryDate", item, "@requestedDeliveryDate"
        ),
        taxes=taxes_of(fields, item),
        allowances_charges=charges_of(fields, item),
        notes=comments(fields, item),
    )


def _quantity(fields: Fields, item: etree._Element, number: str) -> Decimal:
    """The ordered quantity; 0 (an error, so the order is refused) when absent or unreadable."""
    raw = item.get("quantity")
    if raw is None or not raw.strip():
        fields.issue("QUANTITY_MISSING", f"line {number} has no quantity", item, "@quantity")
        return Decimal(0)
    value = fields.number(raw, f"line {number} quantity", item, "@quantity")
    return Decimal(0) if value is None else value


def _description(fields: Fields, description: etree._Element | None) -> str | None:
    if description is None:
        return None
    return own_text(description) or fields.text(description, "ShortName")


def own_text(element: etree._Element) -> str | None:
    """The element's own text (its tails between children), without the children's text."""
    parts = [element.text or ""] + [child.tail or "" for child in element]
    text = " ".join(" ".join(parts).split())
    return text or None


def comments(fields: Fields, parent: etree._Element) -> list[str]:
    """Text of each Comments child; an Attachment inside is a reference to a MIME part, not text."""
    found = (own_text(c) for c in fields.findall(parent, "Comments"))
    return [text for text in found if text]
