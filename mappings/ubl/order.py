"""A UBL Order, OrderChange or OrderCancellation → canonical `Order`.

The order number is the Order's cbc:ID. An OrderChange or OrderCancellation has an id of its own
("Change-1") and names the order it acts on in cac:OrderReference/cbc:ID ("Order-1"): that is the
order number, so the change or cancel meets the order it concerns; its own id is kept as a reference
("UBL:OrderChange") and is the message's control reference. An Order with CopyIndicator true is a
"duplicate".

Header dates: IssueDate is the order date; the requested delivery date is the first cac:Delivery's
RequestedDeliveryPeriod start (else its end, else LatestDeliveryDate); the requested ship date is its
Despatch/RequestedDespatchDate. Parties: BuyerCustomerParty → buyer, SellerSupplierParty → seller,
AccountingCustomerParty → bill_to, the first cac:Delivery → ship_to (see parties.py).

References are qualified by the UBL element they come from ("UBL:CustomerReference", "UBL:Contract",
"UBL:ProjectReference", "UBL:QuotationDocumentReference" …). Notes are cbc:Note, and an
OrderCancellation's cbc:CancellationNote.
"""

from __future__ import annotations

from lxml import etree

from gateway.core.canonical import Order, OrderLine, OrderSource, Reference
from mappings.ubl.amounts import allowances_charges_of, currency_of, taxes_of, totals_of
from mappings.ubl.documents import ORDER_PURPOSES
from mappings.ubl.lines import order_line_of
from mappings.ubl.parties import party_of, ship_to_of
from mappings.xml import Fields

REFERENCES = (
    "cbc:CustomerReference",
    "cbc:SalesOrderID",
    "cbc:AccountingCost",
    "cbc:SequenceNumberID",
    "cac:OrderReference/cbc:ID",
    "cac:QuotationDocumentReference/cbc:ID",
    "cac:OrderDocumentReference/cbc:ID",
    "cac:OriginatorDocumentReference/cbc:ID",
    "cac:CatalogueReference/cbc:ID",
    "cac:AdditionalDocumentReference/cbc:ID",
    "cac:Contract/cbc:ID",
    "cac:ProjectReference/cbc:ID",
)


def order_of(fields: Fields, root: etree._Element, document: str, source: OrderSource) -> Order:
    purpose = ORDER_PURPOSES[document]
    own_id = fields.require(root, "cbc:ID", f"the {document}'s identifier")
    if document == "Order":
        number = own_id
        if (fields.text(root, "cbc:CopyIndicator") or "").lower() == "true":
            purpose = "duplicate"
    else:
        number = fields.require(root, "cac:OrderReference/cbc:ID", f"the order the {document} concerns")
    delivery = fields.find(root, "cac:Delivery")
    period = fields.find(delivery, "cac:RequestedDeliveryPeriod")
    order = Order(
        order_number=number or "",
        order_date=fields.date_at(root, "cbc:IssueDate", "cbc:IssueDate"),
        requested_delivery_date=fields.date_at(period, "cbc:StartDate", "cbc:StartDate")
        or fields.date_at(period, "cbc:EndDate", "cbc:EndDate")
        or fields.date_at(delivery, "cbc:LatestDeliveryDate", "cbc:LatestDeliveryDate"),
        requested_ship_date=fields.date_at(
            delivery, "cac:Despatch/cbc:RequestedDespatchDate", "cbc:RequestedDespatchDate"
        ),
        purpose=purpose,
        currency=currency_of(fields, root),
        buyer=party_of(fields, fields.find(root, "cac:BuyerCustomerParty")),
        seller=party_of(fields, fields.find(root, "cac:SellerSupplierParty")),
        ship_to=ship_to_of(fields, delivery),
        bill_to=party_of(fields, fields.find(root, "cac:AccountingCustomerParty")),
        lines=_lines(fields, root, document),
        references=_references(fields, root, document, own_id),
        allowances_charges=allowances_charges_of(fields, root),
        taxes=taxes_of(fields, root),
        totals=totals_of(fields, root),
        notes=[n for path in ("cbc:Note", "cbc:CancellationNote") for n in _texts(fields, root, path)],
        source=source,
    )
    return order


def _lines(fields: Fields, root: etree._Element, document: str) -> list[OrderLine]:
    elements = fields.findall(root, "cac:OrderLine")
    if not elements and document == "Order":
        fields.issue("REQUIRED_MISSING", "the Order has no cac:OrderLine", root, "cac:OrderLine")
    found = (order_line_of(fields, element, position) for position, element in enumerate(elements, start=1))
    return [line for line in found if line is not None]


def _references(fields: Fields, root: etree._Element, document: str, own_id: str | None) -> list[Reference]:
    references: list[Reference] = []
    if document != "Order" and own_id is not None:
        references.append(Reference(qualifier=f"UBL:{document}", value=own_id))
    for path in REFERENCES:
        qualifier = "UBL:" + path.split("/")[0].split(":")[1]
        for value in _texts(fields, root, path):
            found = Reference(qualifier=qualifier, value=value)
            if found not in references:
                references.append(found)
    return references


def _texts(fields: Fields, parent: etree._Element, path: str) -> list[str]:
    return [text for text in (fields.text(e) for e in fields.findall(parent, path)) if text]
