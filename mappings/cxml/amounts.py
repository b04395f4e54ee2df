"""cXML Money, Tax, Shipping and Discount → canonical amounts, taxes, charges and allowances.

Tax: each TaxDetail is one tax (category as type, percentageRate as rate, TaxAmount and TaxableAmount);
a Tax without details is one tax of the Tax's own Money. Shipping is a charge with reason "shipping",
a Discount's DiscountAmount an allowance with reason "discount"; both as stated, even when zero.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from gateway.core.canonical import AllowanceCharge, Tax
from mappings.xml import Fields


def money(fields: Fields, parent: etree._Element | None, path: str) -> Decimal | None:
    element = fields.find(parent, path)
    if element is None:
        return None
    return fields.number(fields.text(element), f"{path} amount", element)


def currency(fields: Fields, parent: etree._Element | None, path: str) -> str | None:
    element = fields.find(parent, path)
    value = (element.get("currency") or "").strip() if element is not None else ""
    return value or None


def taxes_of(fields: Fields, parent: etree._Element) -> list[Tax]:
    tax = fields.find(parent, "Tax")
    if tax is None:
        return []
    details = fields.findall(tax, "TaxDetail")
    if not details:
        return [Tax(amount=money(fields, tax, "Money"))]
    return [
        Tax(
            type=(detail.get("category") or "").strip() or None,
            rate=fields.number(
                detail.get("percentageRate"), "TaxDetail/@percentageRate", detail, "@percentageRate"
            ),
            amount=money(fields, detail, "TaxAmount/Money"),
            taxable_amount=money(fields, detail, "TaxableAmount/Money"),
        )
        for detail in details
    ]


def charges_of(fields: Fields, parent: etree._Element) -> list[AllowanceCharge]:
    found: list[AllowanceCharge] = []
    shipping = money(fields, parent, "Shipping/Money")
    if shipping is not None:
        found.append(AllowanceCharge(kind="charge", reason="shipping", amount=shipping))
    discount = money(fields, parent, "Discount/DiscountAmount/Money")
    if discount is not None:
        found.append(AllowanceCharge(kind="allowance", reason="discount", amount=abs(discount)))
    return found
