"""WooCommerce orders (REST API v2/v3 `wp-json/wc/v3/orders`; the `order.*` webhook body) → canonical.

Read as sent: a bare order (webhook, `GET /orders/<id>`) or a list of orders (`GET /orders`). The legacy
`wc-api` (before WooCommerce 2.6, wrapped in `{"order": …}`) is not read. Choices:
- order number = `number` (what the customer sees; plugins may make it differ from the id), else `id`;
  `id` is the control reference and reference WOOCOMMERCE:id.
- status `cancelled` → purpose cancel; an order not paid or not to be shipped (pending, on-hold, failed,
  checkout-draft, refunded, trash) is read with a warning naming the status: whether to fulfil it is a
  business rule, not the translator's. The status is kept as a note.
- billing → buyer (name, email, phone, WOOCOMMERCE:customer_id unless 0, a guest) and bill_to;
  shipping → ship_to. `date_created` (the site's time zone) → order date.
- line: `id` → line number; SKU → seller_item_id and scheme SELLER; product and variation ids as
  WOOCOMMERCE:product_id / WOOCOMMERCE:variation_id; `price` (unit, a JSON number; after discounts, as WooCommerce computes it) → unit price; `total`
  (after discounts, before tax) → line amount; line `taxes` get their label and rate from `tax_lines`
  (matched on rate id). WooCommerce does not state a line's discount, only subtotal and total: it is
  not computed here; `coupon_lines` state the discounts, as order-level allowances.
- shipping lines → charges "shipping" (code = method id); fee lines → charges named as sent, amounts
  and taxes as sent even when negative (how WooCommerce records a manual discount); tax lines → taxes,
  the shipping part of a rate as its own entry.
- totals as stated: allowance_total = discount_total, charge_total = shipping_total, tax_total =
  total_tax, total = total (WooCommerce states no line total).
"""

from __future__ import annotations

from decimal import Decimal

from gateway.core.canonical import (
    AllowanceCharge,
    Identifier,
    Order,
    OrderLine,
    OrderPurpose,
    OrderTotals,
    Party,
    Reference,
    Tax,
)
from mappings.base import InterchangeHeader, MessageOutcome
from mappings.marketplace.base import Record
from mappings.marketplace.build import Envelope, finish, party, person
from mappings.marketplace.fields import Node, Sink, join_path

NAME = "woocommerce"
_KEYS = frozenset({"order_key", "date_created", "date_created_gmt", "prices_include_tax", "cart_hash"})
_NOT_READY = {
    "pending": "pending payment",
    "on-hold": "on hold, awaiting payment",
    "failed": "failed: the payment failed",
    "checkout-draft": "a checkout draft, not placed yet",
    "refunded": "refunded",
    "trash": "in the trash",
}
Rates = dict[str, tuple[str | None, Decimal | None]]


class WooCommerceOrder:
    name = NAME
    label = "a WooCommerce order"
    is_order = True

    def matches(self, record: Record) -> bool:
        return record.wrapper is None and not _KEYS.isdisjoint(record.value)

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
            prepared_at=o.text("date_modified") or o.text("date_created"),
        )
        purpose = _purpose(o)
        rates: Rates = {}
        for t in o.objects("tax_lines"):
            if rate_id := t.text("rate_id"):
                rates[rate_id] = (t.text("label") or t.text("rate_code"), t.number("rate_percent"))
        items = o.objects("line_items", required="the line items")
        lines = [line for index, n in enumerate(items) if (line := _line(n, index, rates))]
        if order_id is None or not lines:
            return finish(record, envelope, sink, None)

        def build() -> Order:
            return Order(
                order_number=o.text("number") or order_id,
                order_date=o.date("date_created"),
                purpose=purpose,
                currency=o.text("currency"),
                buyer=_buyer(o),
                bill_to=_address(o.obj("billing")),
                ship_to=_address(o.obj("shipping")),
                lines=lines,
                references=[Reference(qualifier="WOOCOMMERCE:id", value=order_id)],
                allowances_charges=_charges(o, rates),
                taxes=_order_taxes(o),
                totals=OrderTotals(
                    allowance_total=o.number("discount_total"),
                    charge_total=o.number("shipping_total"),
                    tax_total=o.number("total_tax"),
                    total=o.number("total"),
                ),
                notes=_notes(o),
                source=envelope.source(),
            )

        return finish(record, envelope, sink, build)


def _purpose(o: Node) -> OrderPurpose:
    status = o.text("status")
    if status == "cancelled":
        return "cancel"
    if status in _NOT_READY:
        message = f"the WooCommerce order is {_NOT_READY[status]} (status {status})"
        o.sink.warn("ORDER_STATUS", message, join_path(o.path, "status"))
    return "original"


def _line(n: Node, index: int, rates: Rates) -> OrderLine | None:
    quantity = n.number("quantity", required="the line's quantity")
    sku = n.text("sku")
    identifiers = [Identifier(scheme="SELLER", value=sku)] if sku else []
    for key in ("product_id", "variation_id"):
        if (value := n.text(key)) and value != "0":
            identifiers.append(Identifier(scheme=f"WOOCOMMERCE:{key}", value=value))
    unit_price, line_amount, taxes = n.number("price"), n.number("total"), _taxes(n, rates)
    notes = [
        f"{m.text('display_key')}: {m.text('display_value') or ''}"
        for m in n.objects("meta_data")
        if m.has("display_key") and not (m.text("key") or "").startswith("_")
    ]
    if quantity is None:
        return None
    return OrderLine(
        line_number=n.text("id") or str(index + 1),
        seller_item_id=sku,
        item_identifiers=identifiers,
        description=n.text("name"),
        quantity=quantity,
        unit_price=unit_price,
        line_amount=line_amount,
        taxes=taxes,
        notes=notes,
    )


def _taxes(node: Node, rates: Rates) -> list[Tax]:
    """A line's (or shipping or fee line's) `taxes`: amounts per rate id, named from the tax lines."""
    found = []
    for t in node.objects("taxes"):
        amount = t.number("total")
        if amount is None:
            continue
        label, rate = rates.get(t.text("id") or "", (None, None))
        found.append(Tax(type=label, rate=rate, amount=amount))
    return found


def _charges(o: Node, rates: Rates) -> list[AllowanceCharge]:
    found = []
    for s in o.objects("shipping_lines"):
        if (total := s.number("total", required="the shipping line's total")) is not None:
            code = s.text("method_id")
            found.append(
                AllowanceCharge(
                    kind="charge", reason="shipping", code=code, amount=total, taxes=_taxes(s, rates)
                )
            )
    for f in o.objects("fee_lines"):
        if (total := f.number("total", required="the fee's total")) is not None:
            found.append(
                AllowanceCharge(
                    kind="charge", reason=f.text("name") or "fee", amount=total, taxes=_taxes(f, rates)
                )
            )
    for c in o.objects("coupon_lines"):
        if (discount := c.number("discount", required="the coupon's discount")) is not None:
            tax = c.number("discount_tax")
            taxes = [Tax(amount=tax)] if tax else []
            found.append(
                AllowanceCharge(
                    kind="allowance", reason="discount", code=c.text("code"), amount=discount, taxes=taxes
                )
            )
    return found


def _order_taxes(o: Node) -> list[Tax]:
    found = []
    for t in o.objects("tax_lines"):
        label, rate = t.text("label") or t.text("rate_code"), t.number("rate_percent")
        found.append(Tax(type=label, rate=rate, amount=t.number("tax_total")))
        if shipping := t.number("shipping_tax_total"):
            found.append(Tax(type=f"{label or 'tax'} on shipping", rate=rate, amount=shipping))
    return found


def _buyer(o: Node) -> Party | None:
    billing = o.obj("billing")
    customer_id = o.text("customer_id")
    identifiers = []
    if customer_id and customer_id != "0":  # 0 is a guest
        identifiers.append(Identifier(scheme="WOOCOMMERCE:customer_id", value=customer_id))
    if billing is None:
        return party(identifiers=identifiers)
    return party(
        name=person(billing.text("first_name"), billing.text("last_name")),
        company=billing.text("company"),
        email=billing.text("email"),
        phone=billing.text("phone"),
        identifiers=identifiers,
    )


def _address(a: Node | None) -> Party | None:
    if a is None:
        return None
    return party(
        name=person(a.text("first_name"), a.text("last_name")),
        company=a.text("company"),
        street=[a.text("address_1"), a.text("address_2")],
        city=a.text("city"),
        postal_code=a.text("postcode"),
        region=a.text("state"),
        country_code=a.text("country"),
        phone=a.text("phone"),
        email=a.text("email"),
    )


def _notes(o: Node) -> list[str]:
    notes = [note] if (note := o.text("customer_note")) else []
    if status := o.text("status"):
        notes.append(f"WooCommerce status: {status}")
    if o.flag("prices_include_tax"):
        notes.append("prices include taxes (prices_include_tax)")
    return notes


WOOCOMMERCE_ORDER = WooCommerceOrder()

__all__ = ["WOOCOMMERCE_ORDER", "WooCommerceOrder"]
