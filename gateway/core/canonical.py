"""The canonical order: the one shape every inbound format is translated into.

Values are kept as the partner sent them (codes, identifiers, units) next to their scheme, so that
nothing is lost in translation and outbound documents can answer in the partner's own terms. Check
digits of GTINs and GLNs are verified by `gateway.core.checks`, which reports problems as issues
rather than refusing to build the model: the model describes an order, the checks judge it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal["1"] = "1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Identifier(_Model):
    """An identifier with the scheme that gives it meaning.

    `scheme` is normalised where the standard says which scheme it is: "GLN" (EDIFACT agency 9,
    X12 qualifier UL), "DUNS" (agency 16, qualifier 1), "DUNS+4" (qualifier 9), "GTIN", "UPC",
    "ISBN", "BUYER" (assigned by the buyer: EDIFACT agency 92, X12 92), "SELLER" (assigned by the
    supplier: agency 91, X12 91), "PARTNER" (mutually defined: X12 ZZ, EDIFACT ZZZ or no agency). Otherwise it is the raw qualifier as sent, prefixed with
    the standard ("X12:CB", "EDIFACT:SA") so it stays unambiguous.
    """

    scheme: str
    value: str


class Reference(_Model):
    """A document reference (EDIFACT RFF, X12 REF): contract, promotion, department, customer order …

    `qualifier` is the standard's code prefixed with the standard ("EDIFACT:CT", "X12:DP")."""

    qualifier: str
    value: str


class Address(_Model):
    street: list[str] = Field(default_factory=list)
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 where the sender gave one")


class Contact(_Model):
    name: str | None = None
    phone: str | None = None
    email: str | None = None


class Party(_Model):
    name: str | None = None
    identifiers: list[Identifier] = Field(default_factory=list)
    address: Address | None = None
    contact: Contact | None = None

    def identifier(self, scheme: str) -> str | None:
        return next((i.value for i in self.identifiers if i.scheme == scheme), None)


class Tax(_Model):
    """A tax as the sender stated it. Amounts are kept as sent, never recomputed: a sender's totals
    that do not add up are the sender's to explain, and a check may flag them."""

    type: str | None = Field(default=None, description="VAT, GST, sales tax … as the sender named it")
    rate: Decimal | None = Field(default=None, description="Percent: 25 for 25 %")
    amount: Decimal | None = None
    taxable_amount: Decimal | None = None


class AllowanceCharge(_Model):
    """A charge (shipping, handling, a fee) or an allowance (a discount) on the order or on a line."""

    kind: Literal["charge", "allowance"]
    reason: str | None = Field(
        default=None, description='"shipping", "discount", or the sender\'s own words for it'
    )
    code: str | None = Field(
        default=None, description="The sender's code (a discount code, a carrier service, UNCL 5189/7161)"
    )
    amount: Decimal
    taxes: list[Tax] = Field(default_factory=list)


class OrderTotals(_Model):
    """The order's totals as the sender stated them (UBL LegalMonetaryTotal, marketplace totals, X12 AMT)."""

    line_total: Decimal | None = None
    allowance_total: Decimal | None = None
    charge_total: Decimal | None = None
    tax_total: Decimal | None = None
    total: Decimal | None = Field(default=None, description="What the buyer pays")


class OrderLine(_Model):
    line_number: str = Field(
        description="As sent; the line's position (1, 2, …) when the sender left it empty"
    )
    gtin: str | None = None
    buyer_item_id: str | None = None
    seller_item_id: str | None = None
    item_identifiers: list[Identifier] = Field(
        default_factory=list, description="Every item identifier the sender gave, including the three above"
    )
    description: str | None = None
    quantity: Decimal
    unit: str | None = Field(default=None, description="Unit code as sent (EA, PCE, C62, KGM …)")
    unit_price: Decimal | None = None
    price_basis_quantity: Decimal | None = Field(
        default=None, description="Quantity the unit price refers to, when not 1 (EDIFACT PRI 5284)"
    )
    requested_delivery_date: date | None = None
    line_amount: Decimal | None = Field(default=None, description="The line's net amount as sent")
    taxes: list[Tax] = Field(default_factory=list)
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class OrderSource(_Model):
    """Where the order came from, down to the control references needed to acknowledge it."""

    channel: str | None = Field(default=None, description="folder, api, sftp, as2, email, … (set on ingest)")
    format: str = Field(description="edifact, x12, ubl, cxml, csv, shopify, woocommerce, amazon …")
    standard_version: str | None = Field(default=None, description="D96A, D01B:EAN010, 004010, 005010 …")
    message_type: str = Field(description="ORDERS, 850, Order, OrderRequest, orders/create …")
    sender_id: str | None = None
    sender_qualifier: str | None = None
    receiver_id: str | None = None
    receiver_qualifier: str | None = None
    interchange_control_ref: str | None = None
    group_control_ref: str | None = None
    message_control_ref: str | None = None
    test: bool = False
    raw_document_id: str | None = Field(
        default=None, description="Archive id of the raw bytes (set on ingest)"
    )


OrderPurpose = Literal["original", "replace", "cancel", "change", "confirmation", "duplicate", "other"]


class Order(_Model):
    schema_version: Literal["1"] = SCHEMA_VERSION
    order_number: str
    order_date: date | None = None
    requested_delivery_date: date | None = None
    requested_ship_date: date | None = None
    purpose: OrderPurpose = "original"
    currency: str | None = Field(default=None, description="ISO 4217")
    buyer: Party | None = None
    seller: Party | None = None
    ship_to: Party | None = None
    bill_to: Party | None = None
    lines: list[OrderLine] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    allowances_charges: list[AllowanceCharge] = Field(
        default_factory=list, description="Order-level shipping, fees and discounts"
    )
    taxes: list[Tax] = Field(default_factory=list, description="Order-level taxes as stated")
    totals: OrderTotals | None = None
    notes: list[str] = Field(default_factory=list)
    source: OrderSource


__all__ = [
    "SCHEMA_VERSION",
    "Address",
    "AllowanceCharge",
    "Contact",
    "Identifier",
    "Order",
    "OrderLine",
    "OrderPurpose",
    "OrderSource",
    "OrderTotals",
    "Party",
    "Reference",
    "Tax",
]
