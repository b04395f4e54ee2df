"""Plain names of common X12 transaction sets, so a refusal says what a partner sent in words."""

from __future__ import annotations

NAMES: dict[str, str] = {
    "180": "return merchandise authorization",
    "204": "motor carrier load tender",
    "210": "motor carrier freight invoice",
    "214": "shipment status message",
    "270": "eligibility inquiry",
    "271": "eligibility response",
    "276": "claim status request",
    "277": "claim status response",
    "820": "payment order/remittance advice",
    "810": "invoice",
    "812": "credit/debit adjustment",
    "816": "organizational relationships",
    "824": "application advice",
    "830": "planning schedule",
    "832": "price/sales catalog",
    "834": "benefit enrollment",
    "835": "health care claim payment",
    "837": "health care claim",
    "846": "inventory inquiry/advice",
    "850": "purchase order",
    "852": "product activity data",
    "855": "purchase order acknowledgment",
    "856": "ship notice/manifest",
    "860": "purchase order change request",
    "861": "receiving advice",
    "862": "shipping schedule",
    "864": "text message",
    "865": "purchase order change acknowledgment",
    "869": "order status inquiry",
    "870": "order status report",
    "875": "grocery products purchase order",
    "876": "grocery products purchase order change",
    "880": "grocery products invoice",
    "888": "item maintenance",
    "940": "warehouse shipping order",
    "943": "warehouse stock transfer shipment advice",
    "944": "warehouse stock transfer receipt advice",
    "945": "warehouse shipping advice",
    "947": "warehouse inventory adjustment advice",
    "990": "response to a load tender",
    "997": "functional acknowledgment",
    "999": "implementation acknowledgment",
    "TA1": "interchange acknowledgment",
}

ORDER_LIKE = frozenset({"860", "875", "876"})
"""Orders or order changes that ordergate does not translate (yet): refused in other words."""


def name(code: str) -> str:
    return NAMES.get(code, "a transaction set ordergate does not know")


def unsupported_message(code: str) -> str:
    """Why a set yields no order, e.g. "810 (invoice) is not an order; ordergate does not take it in yet"."""
    shown = code or "(empty ST01)"
    if code in ORDER_LIKE:
        return f"{shown} ({name(code)}) is an order message ordergate does not take in yet; send an 850"
    return f"{shown} ({name(code)}) is not an order; ordergate does not take it in yet"
