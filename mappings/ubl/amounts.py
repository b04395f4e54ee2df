"""UBL allowances and charges, taxes and monetary totals → their canonical counterparts, as stated.

Totals come from AnticipatedMonetaryTotal (what an Order and an OrderChange carry) or, from senders
that borrow the invoice element, LegalMonetaryTotal. A cac:Price's own AllowanceCharge is left out on
purpose: it explains how the net unit price was reached from a gross one, and adding it to the line's
allowances would count the discount twice.
"""

from __future__ import annotations

from lxml import etree

from gateway.core.canonical import AllowanceCharge, OrderTotals, Tax
from mappings.xml import Fields

_TOTALS = ("cac:AnticipatedMonetaryTotal", "cac:LegalMonetaryTotal")


def allowance_charge_of(fields: Fields, element: etree._Element) -> AllowanceCharge | None:
    indicator = (fields.text(element, "cbc:ChargeIndicator") or "").lower()
    if indicator not in ("true", "false", "1", "0"):
        fields.issue(
            "CHARGE_INDICATOR",
            f"cbc:ChargeIndicator must be true or false, not {indicator!r}",
            element,
            "cbc:ChargeIndicator",
        )
        return None
    amount_element = fields.find(element, "cbc:Amount")
    if amount_element is None:
        fields.issue("REQUIRED_MISSING", "the allowance or charge has no cbc:Amount", element, "cbc:Amount")
        return None
    amount = fields.number(fields.text(amount_element), "cbc:Amount", amount_element)
    if amount is None:
        return None
    return AllowanceCharge(
        kind="charge" if indicator in ("true", "1") else "allowance",
        reason=fields.text(element, "cbc:AllowanceChargeReason"),
        code=fields.text(element, "cbc:AllowanceChargeReasonCode"),
        amount=amount,
        taxes=[tax_category_of(fields, c) for c in fields.findall(element, "cac:TaxCategory")],
    )


def allowances_charges_of(fields: Fields, parent: etree._Element) -> list[AllowanceCharge]:
    found = (allowance_charge_of(fields, e) for e in fields.findall(parent, "cac:AllowanceCharge"))
    return [a for a in found if a is not None]


def tax_category_of(fields: Fields, category: etree._Element, amount: etree._Element | None = None) -> Tax:
    """A tax named by a tax category (cac:TaxCategory, cac:ClassifiedTaxCategory): "VAT" at 25 %."""
    return Tax(
        type=fields.text(category, "cac:TaxScheme/cbc:ID")
        or fields.text(category, "cac:TaxScheme/cbc:TaxTypeCode"),
        rate=fields.number_at(category, "cbc:Percent", "tax percent"),
        amount=fields.number(fields.text(amount), "tax amount", amount) if amount is not None else None,
    )


def taxes_of(fields: Fields, parent: etree._Element) -> list[Tax]:
    """Each TaxSubtotal of each cac:TaxTotal, or the TaxTotal's amount alone when it has none."""
    taxes: list[Tax] = []
    for total in fields.findall(parent, "cac:TaxTotal"):
        subtotals = fields.findall(total, "cac:TaxSubtotal")
        if not subtotals:
            taxes.append(Tax(amount=fields.number_at(total, "cbc:TaxAmount", "cbc:TaxAmount")))
        for subtotal in subtotals:
            category = fields.find(subtotal, "cac:TaxCategory")
            tax = tax_category_of(fields, category) if category is not None else Tax()
            tax.amount = fields.number_at(subtotal, "cbc:TaxAmount", "cbc:TaxAmount")
            tax.taxable_amount = fields.number_at(subtotal, "cbc:TaxableAmount", "cbc:TaxableAmount")
            if tax.rate is None:
                tax.rate = fields.number_at(subtotal, "cbc:Percent", "tax percent")
            taxes.append(tax)
    return taxes


def totals_of(fields: Fields, root: etree._Element) -> OrderTotals | None:
    monetary = next((t for path in _TOTALS if (t := fields.find(root, path)) is not None), None)
    tax_total = fields.number_at(root, "cac:TaxTotal/cbc:TaxAmount", "cbc:TaxAmount")
    if monetary is None and tax_total is None:
        return None
    return OrderTotals(
        line_total=fields.number_at(monetary, "cbc:LineExtensionAmount", "cbc:LineExtensionAmount"),
        allowance_total=fields.number_at(monetary, "cbc:AllowanceTotalAmount", "cbc:AllowanceTotalAmount"),
        charge_total=fields.number_at(monetary, "cbc:ChargeTotalAmount", "cbc:ChargeTotalAmount"),
        tax_total=tax_total,
        total=fields.number_at(monetary, "cbc:PayableAmount", "cbc:PayableAmount"),
    )


def currency_of(fields: Fields, root: etree._Element) -> str | None:
    """DocumentCurrencyCode, else the currency of the payable amount (UBL 2.0 orders often omit the code)."""
    code = fields.text(root, "cbc:DocumentCurrencyCode")
    if code is not None:
        return code
    for path in _TOTALS:
        for amount in ("cbc:PayableAmount", "cbc:LineExtensionAmount"):
            found = fields.find(root, f"{path}/{amount}")
            if found is not None and found.get("currencyID"):
                return str(found.get("currencyID")).strip() or None
    return None
