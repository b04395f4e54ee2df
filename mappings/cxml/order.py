"""A cXML OrderRequest → canonical `Order`.

OrderRequestHeader: orderID is the order number, orderDate the order date (the calendar date as
written; the time and zone are not converted), type new/update/delete the purpose original/change/
cancel, Total/Money the total and its currency the order's currency, requestedDeliveryDate and
pickUpDate the requested delivery and ship dates. ShipTo, BillTo, the buyer and the seller: see
parties.py. Comments are notes. References: each non-empty Extrinsic ("CXML:<name>"), IdReference
("CXML:<domain>"), orderVersion, SupplierOrderInfo/@orderID and, for update and delete, the
DocumentReference/@payloadID of the order they replace.
"""

from __future__ import annotations

from lxml import etree

from gateway.core.canonical import Order, OrderLine, OrderPurpose, OrderSource, OrderTotals, Party, Reference
from mappings.cxml.amounts import charges_of, currency, money, taxes_of
from mappings.cxml.documents import PURPOSES
from mappings.cxml.lines import comments, order_line_of
from mappings.cxml.parties import address_party, buyer_contact, credentials_party
from mappings.xml import Fields


def order_of(fields: Fields, root: etree._Element, request: etree._Element, source: OrderSource) -> Order:
    header = fields.find(request, "OrderRequestHeader")
    if header is None:
        fields.issue(
            "REQUIRED_MISSING", "the OrderRequest has no OrderRequestHeader", request, "OrderRequestHeader"
        )
        header = request
    number = (header.get("orderID") or "").strip()
    if not number:
        fields.issue(
            "REQUIRED_MISSING", "the order number is missing: @orderID is absent or empty", header, "@orderID"
        )
    buyer = credentials_party(fields, fields.find(root, "Header/From"))
    contact = buyer_contact(fields, header)
    if contact is not None:
        buyer = (buyer or Party()).model_copy(update={"contact": contact})
    total = money(fields, header, "Total/Money")
    tax_total = money(fields, header, "Tax/Money")
    return Order(
        order_number=number,
        order_date=fields.date(header.get("orderDate"), "orderDate", header, "@orderDate"),
        requested_delivery_date=fields.date(
            header.get("requestedDeliveryDate"), "requestedDeliveryDate", header, "@requestedDeliveryDate"
        ),
        requested_ship_date=fields.date(header.get("pickUpDate"), "pickUpDate", header, "@pickUpDate"),
        purpose=_purpose(fields, header),
        currency=currency(fields, header, "Total/Money")
        or currency(fields, request, "ItemOut/ItemDetail/UnitPrice/Money"),
        buyer=buyer,
        seller=credentials_party(fields, fields.find(root, "Header/To")),
        ship_to=address_party(fields, fields.find(header, "ShipTo/Address")),
        bill_to=address_party(fields, fields.find(header, "BillTo/Address")),
        lines=_lines(fields, request),
        references=_references(fields, header),
        allowances_charges=charges_of(fields, header),
        taxes=taxes_of(fields, header),
        totals=OrderTotals(total=total, tax_total=tax_total)
        if total is not None or tax_total is not None
        else None,
        notes=comments(fields, header),
        source=source,
    )


def _purpose(fields: Fields, header: etree._Element) -> OrderPurpose:
    kind = (header.get("type") or "new").strip()
    purpose = PURPOSES.get(kind)
    if purpose is None:
        fields.issue(
            "PURPOSE",
            f"type {kind!r} is not an OrderRequest type (new, update, delete); read as other",
            header,
            "@type",
            severity="warning",
        )
        return "other"
    return purpose


def _lines(fields: Fields, request: etree._Element) -> list[OrderLine]:
    return [
        order_line_of(fields, item, position)
        for position, item in enumerate(fields.findall(request, "ItemOut"), 1)
    ]


def _references(fields: Fields, header: etree._Element) -> list[Reference]:
    found: list[tuple[str, str | None]] = [
        ("CXML:orderVersion", header.get("orderVersion")),
        ("CXML:SupplierOrderInfo", _attribute(fields, header, "SupplierOrderInfo", "orderID")),
        ("CXML:DocumentReference", _attribute(fields, header, "DocumentReference", "payloadID")),
    ]
    found += [
        (f"CXML:{e.get('domain') or 'IdReference'}", e.get("identifier"))
        for e in fields.findall(header, "IdReference")
    ]
    found += [
        (f"CXML:{e.get('name') or 'Extrinsic'}", fields.text(e)) for e in fields.findall(header, "Extrinsic")
    ]
    references: list[Reference] = []
    for qualifier, value in found:
        value = (value or "").strip()
        if value and Reference(qualifier=qualifier, value=value) not in references:
            references.append(Reference(qualifier=qualifier, value=value))
    return references


def _attribute(fields: Fields, parent: etree._Element, path: str, name: str) -> str | None:
    element = fields.find(parent, path)
    return element.get(name) if element is not None else None
