"""X12 code lists the 850 reader and writer share, in both directions, so they cannot drift apart."""

from __future__ import annotations

from decimal import Decimal

from gateway.core.canonical import OrderPurpose

PURPOSES: dict[str, OrderPurpose] = {
    "00": "original",
    "01": "cancel",
    "04": "change",
    "05": "replace",
    "06": "confirmation",
    "07": "duplicate",
}
"""BEG01 transaction set purpose code (353)."""
PURPOSE_CODES = {purpose: code for code, purpose in PURPOSES.items()}

PARTY_ROLES = {
    "BY": "buyer",
    "ST": "ship_to",
    "BT": "bill_to",
    "SE": "seller",
    "VN": "seller",
    "SU": "seller",
}
"""N101 entity identifier codes (98) that have a place in the canonical order."""
ROLE_CODES = {"buyer": "BY", "seller": "SE", "ship_to": "ST", "bill_to": "BT"}

PARTY_SCHEMES = {"1": "DUNS", "9": "DUNS+4", "UL": "GLN", "92": "BUYER", "91": "SELLER", "ZZ": "PARTNER"}
"""N103 identification code qualifiers (66) with a canonical scheme; others stay as "X12:<code>"."""
PARTY_QUALIFIERS = {scheme: code for code, scheme in PARTY_SCHEMES.items()}

ITEM_SCHEMES = {
    "UP": "UPC",
    "IB": "ISBN",
    "EN": "GTIN",
    "UK": "GTIN",
    "IN": "BUYER",
    "BP": "BUYER",
    "CB": "BUYER",
    "VN": "SELLER",
    "VP": "SELLER",
    "VC": "SELLER",
    "SK": "SELLER",
}
"""PO106/PO107 … product/service id qualifiers (235) with a canonical scheme."""
ITEM_QUALIFIERS = {"UPC": "UP", "ISBN": "IB", "BUYER": "IN", "SELLER": "VN"}  # GTIN: by length

PRICE_BASIS = {
    "PN": Decimal(10),
    "PD": Decimal(12),
    "LD": Decimal(12),
    "RD": Decimal(12),
    "TD": Decimal(12),
    "WD": Decimal(12),
    "HP": Decimal(100),
    "LC": Decimal(100),
    "QH": Decimal(100),
    "RC": Decimal(100),
    "TC": Decimal(100),
    "WC": Decimal(100),
    "TP": Decimal(1000),
    "LM": Decimal(1000),
    "QS": Decimal(1000),
    "RM": Decimal(1000),
    "TM": Decimal(1000),
    "WM": Decimal(1000),
    "TT": Decimal(10000),
    "HT": Decimal(100000),
}
"""PO105 basis of unit price codes (639) that price a number of units other than one."""
PRICE_BASIS_CODES = {
    Decimal(10): "PN",
    Decimal(12): "PD",
    Decimal(100): "HP",
    Decimal(1000): "TP",
    Decimal(10000): "TT",
    Decimal(100000): "HT",
}

DELIVERY_DATES = ("002", "106")
"""DTM01 qualifiers (374) read as the requested delivery date: delivery requested, then required by."""
ORDER_DATE = "004"  # purchase order date, when BEG05 is empty
