"""Shopify orders (REST Admin API `Order`; the body of the `orders/*` webhooks) → canonical orders.

Read as sent: bare (a webhook), `{"order": {…}}` or `{"orders": […]}` (REST). Choices:
- order number = `name` ("#1001": what the merchant and the customer see and quote); the numeric `id`
  (the control reference) and `order_number` are kept as references SHOPIFY:id, SHOPIFY:order_number.
- line number = the line item's `id` (what a fulfillment names); SKU → seller_item_id and scheme
  SELLER; product and variant ids as SHOPIFY:product_id, SHOPIFY:variant_id; description = `name`
  (title and variant: "IPod Nano - 8gb - green"), else `title`; `price` is the unit price.
- tax lines: `rate` is a fraction (0.06), the canonical rate a percent (6.00).
- discounts are stated where Shopify allocated them: `discount_allocations` on a line or a shipping line
  (coded from `discount_applications`). Payloads without allocations (API versions before 2018) state
  only `discount_codes`, which then become order-level allowances — never both, so no discount counts twice.
- totals as stated: line_total = total_line_items_price (before discounts), allowance_total =
  total_discounts, charge_total = total_shipping_price_set (shop money) when sent, tax_total, total =
  total_price. `subtotal_price` is by Shopify's definition line_total - discounts and is not kept apart.
  Totals that do not add up are flagged (TOTALS_MISMATCH), never corrected.
- `cancelled_at` → purpose cancel; `test` → a test order; note, note attributes, financial and
  fulfillment status, line properties → notes (status is the marketplace's, for people to read).
A Shopify fulfillment is recognised only to be refused by name.
"""

from __future__ import annotations

from decimal import Decimal

from gateway.core.canonical import (
    AllowanceCharge,
    Identifier,
    Order,
    OrderLine,
    OrderTotals,
    Party,
    Reference,
    Tax,
)
from mappings.base import InterchangeHeader, MessageOutcome
from mappings.marketplace.base import Record
from mappings.marketplace.build import (
    Envelope,
    finish,
    line_total_warning,
    not_an_order,
    party,
    person,
)
from mappings.marketplace.fields import Node, Sink, join_path

NAME = "shopify"
_ORDER_KEYS = frozenset(
    {"admin_graphql_api_id", "total_line_items_price", "subtotal_price", "total_price", "financial_status"}
)
_FULFILLMENT_KEYS = frozenset({"tracking_number", "tracking_numbers", "tracking_company"})


class ShopifyOrder:
    name = NAME
    label = "a Shopify order"
    is_order = True

    def matches(self, record: Record) -> bool:
        if record.wrapper in ("order", "orders"):
            return True
        return record.wrapper is None and not _ORDER_KEYS.isdisjoint(record.value)

    def read(self, record: Record) -> tuple[InterchangeHeader, MessageOutcome]:
        sink = Sink(record.position)
        o = Node(record.value, record.path, sink)
        order_id = o.text("id", required="the order id")
        envelope = Envelope(
            marketplace=NAME,
            message_type="order",
            version=None,
            sender_id=NAME,
            control_ref=order_id or "",
            prepared_at=o.text("updated_at") or o.text("created_at"),
            test=o.flag("test"),
        )
        applications = [a.text("code") or a.text("title") for a in o.objects("discount_applications")]
        items = o.objects("line_items", required="the line items")
        lines = [line for index, n in enumerate(items) if (line := _line(n, index, applications))]
        shipping = o.objects("shipping_lines")
        charges = [c for s in shipping for c in _shipping(s, applications)]
        allocated = any(n.has("discount_allocations") for n in (*items, *shipping))
        if not allocated:
            charges += [_discount_code(d) for d in o.objects("discount_codes")]
        totals = OrderTotals(
            line_total=o.number("total_line_items_price"),
            allowance_total=o.number("total_discounts"),
            charge_total=_shop_money(o, "total_shipping_price_set"),
            tax_total=o.number("total_tax"),
            total=o.number("total_price"),
        )
        line_total_warning(lines, totals.line_total, join_path(o.path, "total_line_items_price"), sink)
        if order_id is None or not lines:
            return finish(record, envelope, sink, None)
        customer = o.obj("customer")

        def build() -> Order:
            return Order(
                order_number=o.text("name") or o.text("order_number") or order_id,
                order_date=o.date("created_at"),
                purpose="cancel" if o.has("cancelled_at") else "original",
                currency=o.text("currency"),
                buyer=_buyer(o, customer),
                bill_to=_address(o.obj("billing_address")),
                ship_to=_address(o.obj("shipping_address")),
                lines=lines,
                references=_references(o, order_id),
                allowances_charges=[c for c in charges if c is not None],
                taxes=_taxes(o),
                totals=totals,
                notes=_notes(o),
                source=envelope.source(),
            )

        return finish(record, envelope, sink, build)


class ShopifyFulfillment:
    name = NAME
    label = "a Shopify fulfillment"
    is_order = False

    def matches(self, record: Record) -> bool:
        if record.wrapper in ("fulfillment", "fulfillments"):
            return True
        value = record.value
        return record.wrapper is None and "order_id" in value and not _FULFILLMENT_KEYS.isdisjoint(value)

    def read(self, record: Record) -> tuple[InterchangeHeader, MessageOutcome]:
        f = Node(record.value, record.path, Sink(record.position))
        fulfillment_id = f.text("id") or ""
        envelope = Envelope(NAME, "fulfillment", None, NAME, fulfillment_id, f.text("updated_at"))
        order_id = f.text("order_id")
        what = f"{self.label} (a shipment notice{f' for order {order_id}' if order_id else ''})"
        return not_an_order(record, envelope, what)


def _shop_money(node: Node, key: str) -> Decimal | None:
    money_set = node.obj(key)
    shop = money_set.obj("shop_money") if money_set else None
    return shop.number("amount") if shop else None


def _line(n: Node, index: int, applications: list[str | None]) -> OrderLine | None:
    quantity = n.number("quantity", required="the line's quantity")
    sku = n.text("sku")
    identifiers = [Identifier(scheme="SELLER", value=sku)] if sku else []
    for key in ("product_id", "variant_id"):
        if value := n.text(key):
            identifiers.append(Identifier(scheme=f"SHOPIFY:{key}", value=value))
    unit_price = n.number("price")
    taxes = _taxes(n)
    allowances = [_allocation(a, applications, "discount") for a in n.objects("discount_allocations")]
    notes = [f"{p.text('name')}: {p.text('value') or ''}" for p in n.objects("properties") if p.has("name")]
    if quantity is None:
        return None
    return OrderLine(
        line_number=n.text("id") or str(index + 1),
        seller_item_id=sku,
        item_identifiers=identifiers,
        description=n.text("name") or n.text("title"),
        quantity=quantity,
        unit_price=unit_price,
        taxes=taxes,
        allowances_charges=[a for a in allowances if a is not None],
        notes=notes,
    )


def _taxes(node: Node) -> list[Tax]:
    found = []
    for t in node.objects("tax_lines"):
        rate = t.number("rate")
        found.append(
            Tax(type=t.text("title"), rate=None if rate is None else rate * 100, amount=t.number("price"))
        )
    return found


def _allocation(a: Node, applications: list[str | None], reason: str) -> AllowanceCharge | None:
    amount = a.number("amount", required="the discount's amount")
    index = a.number("discount_application_index")
    code = None
    if index is not None and index == index.to_integral_value() and 0 <= index < len(applications):
        code = applications[int(index)]
    if amount is None:
        return None
    return AllowanceCharge(kind="allowance", reason=reason, code=code, amount=amount)


def _shipping(s: Node, applications: list[str | None]) -> list[AllowanceCharge | None]:
    price = s.number("price", required="the shipping line's price")
    found: list[AllowanceCharge | None] = []
    if price is not None:
        found.append(
            AllowanceCharge(
                kind="charge",
                reason="shipping",
                code=s.text("code") or s.text("title"),
                amount=price,
                taxes=_taxes(s),
            )
        )
    found += [_allocation(a, applications, "shipping discount") for a in s.objects("discount_allocations")]
    return found


def _discount_code(d: Node) -> AllowanceCharge | None:
    amount = d.number("amount", required="the discount code's amount")
    if amount is None:
        return None
    return AllowanceCharge(kind="allowance", reason="discount", code=d.text("code"), amount=amount)


def _buyer(o: Node, customer: Node | None) -> Party | None:
    billing = o.obj("billing_address")
    name = None
    if customer is not None:
        name = person(customer.text("first_name"), customer.text("last_name"))
    if name is None and billing is not None:
        name = billing.text("name") or person(billing.text("first_name"), billing.text("last_name"))
    customer_id = customer.text("id") if customer else None
    return party(
        name=name,
        email=o.text("email") or o.text("contact_email") or (customer.text("email") if customer else None),
        phone=o.text("phone")
        or (customer.text("phone") if customer else None)
        or (billing.text("phone") if billing else None),
        identifiers=[Identifier(scheme="SHOPIFY:customer_id", value=customer_id)] if customer_id else [],
    )


def _address(a: Node | None) -> Party | None:
    if a is None:
        return None
    return party(
        name=a.text("name") or person(a.text("first_name"), a.text("last_name")),
        company=a.text("company"),
        street=[a.text("address1"), a.text("address2")],
        city=a.text("city"),
        postal_code=a.text("zip"),
        region=a.text("province_code") or a.text("province"),
        country_code=a.text("country_code") or a.text("country"),
        phone=a.text("phone"),
    )


def _references(o: Node, order_id: str) -> list[Reference]:
    found = [Reference(qualifier="SHOPIFY:id", value=order_id)]
    for key in ("order_number", "po_number"):
        if value := o.text(key):
            found.append(Reference(qualifier=f"SHOPIFY:{key}", value=value))
    return found


def _notes(o: Node) -> list[str]:
    notes = [note] if (note := o.text("note")) else []
    notes += [
        f"{a.text('name')}: {a.text('value') or ''}" for a in o.objects("note_attributes") if a.has("name")
    ]
    if o.flag("taxes_included"):
        notes.append("prices include taxes (taxes_included)")
    for key in ("financial_status", "fulfillment_status"):
        if status := o.text(key):
            notes.append(f"Shopify {key.replace('_', ' ')}: {status}")
    return notes


SHOPIFY_ORDER = ShopifyOrder()
SHOPIFY_FULFILLMENT = ShopifyFulfillment()

__all__ = ["SHOPIFY_FULFILLMENT", "SHOPIFY_ORDER", "ShopifyFulfillment", "ShopifyOrder"]
