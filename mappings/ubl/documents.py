"""Which UBL 2 documents ordergate reads as orders, the plain names of the others, and who sends each.

A UBL 2.x document is recognised by its root namespace alone, urn:oasis:names:specification:ubl:
schema:xsd:<Document>-2, which UBL 2.0 to 2.4 share.
"""

from __future__ import annotations

import re

from gateway.core.canonical import OrderPurpose

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NAMESPACES = {"cbc": CBC, "cac": CAC}

_DOCUMENT_NAMESPACE = re.compile(r"urn:oasis:names:specification:ubl:schema:xsd:(?P<document>[A-Za-z]+)-2")

ORDER_PURPOSES: dict[str, OrderPurpose] = {
    "Order": "original",
    "OrderChange": "change",
    "OrderCancellation": "cancel",
}
"""The documents translated into a canonical order, and what each does to the order."""

NAMES = {
    "Order": "order",
    "OrderChange": "order change",
    "OrderCancellation": "order cancellation",
    "OrderResponse": "order response",
    "OrderResponseSimple": "simple order response",
    "DespatchAdvice": "despatch advice",
    "ReceiptAdvice": "receipt advice",
    "Invoice": "invoice",
    "CreditNote": "credit note",
    "DebitNote": "debit note",
    "SelfBilledInvoice": "self-billed invoice",
    "SelfBilledCreditNote": "self-billed credit note",
    "ApplicationResponse": "application response",
    "Catalogue": "catalogue",
    "CatalogueRequest": "catalogue request",
    "CataloguePricingUpdate": "catalogue pricing update",
    "Quotation": "quotation",
    "RequestForQuotation": "request for quotation",
    "Reminder": "payment reminder",
    "Statement": "statement of account",
    "RemittanceAdvice": "remittance advice",
    "TransportationStatus": "transportation status",
    "Waybill": "waybill",
    "ForwardingInstructions": "forwarding instructions",
    "InventoryReport": "inventory report",
    "ProductActivity": "product activity report",
    "Forecast": "forecast",
}

SENDER_RECEIVER = {
    "Order": ("cac:BuyerCustomerParty", "cac:SellerSupplierParty"),
    "OrderChange": ("cac:BuyerCustomerParty", "cac:SellerSupplierParty"),
    "OrderCancellation": ("cac:BuyerCustomerParty", "cac:SellerSupplierParty"),
    "OrderResponse": ("cac:SellerSupplierParty", "cac:BuyerCustomerParty"),
    "OrderResponseSimple": ("cac:SellerSupplierParty", "cac:BuyerCustomerParty"),
    "DespatchAdvice": ("cac:DespatchSupplierParty", "cac:DeliveryCustomerParty"),
    "ReceiptAdvice": ("cac:DeliveryCustomerParty", "cac:DespatchSupplierParty"),
    "Invoice": ("cac:AccountingSupplierParty", "cac:AccountingCustomerParty"),
    "CreditNote": ("cac:AccountingSupplierParty", "cac:AccountingCustomerParty"),
}
"""The roles whose endpoints address the document: (sender, receiver) party elements under the root."""


def document_of(namespace: str | None) -> str | None:
    """ "Order" for urn:oasis:names:specification:ubl:schema:xsd:Order-2; None outside UBL 2."""
    found = _DOCUMENT_NAMESPACE.fullmatch(namespace or "")
    return found.group("document") if found else None


def unsupported_message(document: str) -> str:
    """e.g. "UBL DespatchAdvice (despatch advice) is not an order; ordergate does not take it in yet"."""
    name = NAMES.get(document, "a UBL document ordergate does not know")
    return f"UBL {document} ({name}) is not an order; ordergate does not take it in yet"
