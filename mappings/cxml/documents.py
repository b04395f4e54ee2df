"""Which cXML payloads ordergate reads as orders, and the plain names of the others.

A cXML document carries one payload: the first element of its Request, Message or Response.
"""

from __future__ import annotations

from gateway.core.canonical import OrderPurpose

ORDER_PAYLOADS = frozenset({"OrderRequest"})

PURPOSES: dict[str, OrderPurpose] = {"new": "original", "update": "change", "delete": "cancel"}
"""OrderRequestHeader/@type."""

NAMES = {
    "OrderRequest": "purchase order",
    "PunchOutOrderMessage": "punch-out shopping cart returned to the buyer's system; the buyer sends "
    "an OrderRequest once it is approved",
    "PunchOutSetupRequest": "punch-out session request",
    "ShipNoticeRequest": "advance ship notice",
    "ConfirmationRequest": "order confirmation",
    "InvoiceDetailRequest": "invoice",
    "StatusUpdateRequest": "status update",
    "ReceiptRequest": "goods receipt",
    "CopyRequest": "copy of another cXML document",
    "ProfileRequest": "profile request",
    "GetPendingRequest": "request for pending messages",
    "SubscriptionListRequest": "catalog subscription list request",
    "QuoteRequest": "request for quotation",
    "QuoteMessage": "quotation",
    "PaymentRemittanceRequest": "payment remittance advice",
    "ProductActivityMessage": "product activity message",
    "Response": "response to an earlier request",
}


def unsupported_message(payload: str) -> str:
    """e.g. "cXML ShipNoticeRequest (advance ship notice) is not an order; ordergate does not take it in yet"."""
    name = NAMES.get(payload, "a cXML payload ordergate does not know")
    return f"cXML {payload} ({name}) is not an order; ordergate does not take it in yet"
