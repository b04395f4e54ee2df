"""Amazon SP-API Orders v0 → canonical orders.

Amazon gives an order in two calls, so the connector archives both responses, each exactly as
received, side by side in one JSON object (a REST page may be a list of these):

    {"getOrder": {"payload": {<Order>}},
     "getOrderItems": {"payload": {"AmazonOrderId": …, "OrderItems": [<OrderItem>, …]}}}

`getOrderItems` may also be a list of responses, one per page, when Amazon paged the items
(NextToken). A response that carries `errors` is reported as such. A getOrder response alone (or its
bare payload) is recognised and refused: it has no items.

Choices:
- order number = AmazonOrderId (also the control reference); sender id = MarketplaceId.
- OrderStatus Canceled → purpose cancel. Pending / PendingAvailability → an error: payment is not
  authorised and Amazon withholds the address and may change the items until it is; read the order
  again once it is Unshipped. FulfillmentChannel AFN (Amazon ships) → a warning.
- ShippingAddress and BuyerInfo are restricted data, present only when the connector used a
  Restricted Data Token; a seller-fulfilled order without an address gets a warning.
- ItemPrice is the price of the whole quantity (Orders v0 model), so it is the line amount and the
  unit price is ItemPrice ÷ QuantityOrdered (exact where the division is; else rounded, with a warning).
- Per item, ItemTax → a tax; ShippingPrice (with ShippingTax) → a charge "shipping"; ShippingDiscount,
  PromotionDiscount (coded with its PromotionIds) → allowances; CODFee / CODFeeDiscount likewise.
  Amazon states every one of these on every item, mostly as 0.00: zero amounts are left out.
- LatestShipDate / LatestDeliveryDate (the dates the seller committed to) → requested ship / delivery
  dates; OrderTotal → totals.total (Amazon states no other order total).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from typing import Any

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
from mappings.marketplace.build import Envelope, finish, party
from mappings.marketplace.fields import Node, Sink, join_path

NAME = "amazon"
VERSION = "v0"
_PENDING = {"Pending", "PendingAvailability"}
_PRICE_PLACES = 4  # how far beyond the amount's own decimals a unit price may go before it is rounded
# (field, kind, reason, tax field): the per-item money that becomes line charges and allowances
_ITEM_MONEY = (
    ("ShippingPrice", "charge", "shipping", "ShippingTax"),
    ("ShippingDiscount", "allowance", "shipping discount", "ShippingDiscountTax"),
    ("PromotionDiscount", "allowance", "promotion", "PromotionDiscountTax"),
    ("CODFee", "charge", "cash on delivery fee", None),
    ("CODFeeDiscount", "allowance", "cash on delivery discount", None),
)


class AmazonOrder:
    name = NAME
    label = "an Amazon SP-API order (getOrder and getOrderItems responses)"
    is_order = True

    def matches(self, record: Record) -> bool:
        value = record.value
        return "getOrder" in value or ("AmazonOrderId" in value and "OrderStatus" in value)

    def read(self, record: Record) -> tuple[InterchangeHeader, MessageOutcome]:
        sink = Sink(record.position)
        root = Node(record.value, record.path, sink)
        if "getOrder" in record.value:
            response = root.obj("getOrder", required="the getOrder response")
            o = _payload(response) if response else None
        else:
            o = root
            sink.error(
                "AMAZON_ITEMS_MISSING",
                "the document is a getOrder payload alone; Amazon sends the items in a second call: archive "
                'both responses as {"getOrder": …, "getOrderItems": …}',
                record.path,
            )
        order_id = o.text("AmazonOrderId", required="the Amazon order id") if o else None
        envelope = Envelope(
            marketplace=NAME,
            message_type="Order",
            version=VERSION,
            sender_id=(o.text("MarketplaceId") if o else None) or NAME,
            control_ref=order_id or "",
            prepared_at=o.text("LastUpdateDate") if o else None,
        )
        status = _status(o) if o else None
        items = _items(root, order_id) if "getOrder" in record.value else []
        lines = [line for index, n in enumerate(items) if (line := _line(n, index))]
        if o is None or order_id is None or not lines:
            return finish(record, envelope, sink, None)
        total = _money(o, "OrderTotal")
        currency = _currency(o, "OrderTotal") or next(
            (c for n in items if (c := _currency(n, "ItemPrice"))), None
        )

        def build() -> Order:
            return Order(
                order_number=order_id,
                order_date=o.date("PurchaseDate"),
                requested_ship_date=o.date("LatestShipDate"),
                requested_delivery_date=o.date("LatestDeliveryDate"),
                purpose="cancel" if status == "Canceled" else "original",
                currency=currency,
                buyer=_buyer(o),
                ship_to=_ship_to(o),
                lines=lines,
                references=_references(o),
                totals=OrderTotals(total=total) if total is not None else None,
                notes=_notes(o, status),
                source=envelope.source(),
            )

        return finish(record, envelope, sink, build)


def _payload(response: Node) -> Node | None:
    for index, error in enumerate(response.objects("errors")):
        path = join_path(join_path(response.path, "errors"), index)
        response.sink.error(
            "AMAZON_API_ERROR",
            f"Amazon answered with an error: {error.text('code') or '?'}: {error.text('message') or ''}".rstrip(
                ": "
            ),
            path,
        )
    return response.obj("payload", required="the response's payload")


def _items(root: Node, order_id: str | None) -> list[Node]:
    sink = root.sink
    raw: Any = root.value.get("getOrderItems")
    if isinstance(raw, list):
        pages = root.objects("getOrderItems", required="the getOrderItems responses")
    else:
        page = root.obj("getOrderItems", required="the getOrderItems response")
        pages = [page] if page else []
    items: list[Node] = []
    payload = None
    for page in pages:
        payload = _payload(page)
        if payload is None:
            continue
        items_of = payload.text("AmazonOrderId")
        if order_id and items_of and items_of != order_id:
            sink.error(
                "AMAZON_ITEMS_MISMATCH",
                f"the getOrderItems response is for order {items_of}, not {order_id}",
                join_path(payload.path, "AmazonOrderId"),
            )
        items += payload.objects("OrderItems", required="the order items")
    if payload is not None and payload.has("NextToken"):
        sink.error(
            "AMAZON_ITEMS_INCOMPLETE",
            "the last getOrderItems page has a NextToken: Amazon has more items for this order; archive "
            "every page (a list of getOrderItems responses)",
            join_path(payload.path, "NextToken"),
        )
    return items


def _status(o: Node) -> str | None:
    status = o.text("OrderStatus", required="the order status")
    path = join_path(o.path, "OrderStatus")
    if status in _PENDING:
        o.sink.error(
            "AMAZON_ORDER_PENDING",
            f"the Amazon order is {status}: payment is not authorised, and Amazon withholds the shipping "
            "address until it is; read the order again once it is Unshipped",
            path,
        )
    if o.text("FulfillmentChannel") == "AFN":
        o.sink.warn(
            "AMAZON_FULFILLED_BY_AMAZON",
            "FulfillmentChannel AFN: Amazon ships this order from its own stock, not the seller",
            join_path(o.path, "FulfillmentChannel"),
        )
    elif status not in _PENDING and status != "Canceled" and not o.has("ShippingAddress"):
        o.sink.warn(
            "AMAZON_ADDRESS_MISSING",
            "the order has no ShippingAddress: Amazon shares it only with a Restricted Data Token",
            join_path(o.path, "ShippingAddress"),
        )
    return status


def _money(node: Node, key: str) -> Decimal | None:
    money = node.obj(key)
    return money.number("Amount") if money else None


def _currency(node: Node, key: str) -> str | None:
    money = node.obj(key)
    return money.text("CurrencyCode") if money else None


def _line(n: Node, index: int) -> OrderLine | None:
    quantity = n.number("QuantityOrdered", required="the quantity ordered")
    asin = n.text("ASIN", required="the ASIN")
    sku = n.text("SellerSKU")
    identifiers = [Identifier(scheme="ASIN", value=asin)] if asin else []
    if sku:
        identifiers.append(Identifier(scheme="SELLER", value=sku))
    amount = _money(n, "ItemPrice")
    tax = _money(n, "ItemTax")
    promotions = ",".join(p for p in n.value.get("PromotionIds") or [] if isinstance(p, str)) or None
    charges = []
    for key, kind, reason, tax_key in _ITEM_MONEY:
        value = _money(n, key)
        if value:
            charge_tax = _money(n, tax_key) if tax_key else None
            charges.append(
                AllowanceCharge(
                    kind="charge" if kind == "charge" else "allowance",
                    reason=reason,
                    code=promotions if key == "PromotionDiscount" else None,
                    amount=value,
                    taxes=[Tax(amount=charge_tax)] if charge_tax else [],
                )
            )
    notes = ["gift"] if n.flag("IsGift") else []
    if (condition := n.text("ConditionId")) and condition != "New":
        notes.append(f"condition: {condition}" + (f" ({note})" if (note := n.text("ConditionNote")) else ""))
    cancel = n.obj("BuyerRequestedCancel")
    if cancel is not None and cancel.flag("IsBuyerRequestedCancel"):
        n.sink.warn(
            "AMAZON_BUYER_REQUESTED_CANCEL",
            "the buyer asked to cancel this item"
            + (f": {r}" if (r := cancel.text("BuyerCancelReason")) else ""),
            cancel.path,
        )
    if quantity is None:
        return None
    return OrderLine(
        line_number=n.text("OrderItemId") or str(index + 1),
        seller_item_id=sku,
        item_identifiers=identifiers,
        description=n.text("Title"),
        quantity=quantity,
        unit_price=_unit_price(amount, quantity, n),
        line_amount=amount,
        taxes=[Tax(amount=tax)] if tax is not None else [],
        allowances_charges=charges,
        notes=notes,
    )


def _unit_price(amount: Decimal | None, quantity: Decimal, n: Node) -> Decimal | None:
    """ItemPrice ÷ QuantityOrdered, exact where it terminates within four more decimals than the amount."""
    if amount is None or quantity <= 0:
        return None
    places = max(-int(amount.as_tuple().exponent), 0)
    with localcontext() as context:
        context.prec = 60
        try:
            for extra in range(_PRICE_PLACES + 1):
                unit = (amount / quantity).quantize(Decimal(1).scaleb(-(places + extra)), ROUND_HALF_EVEN)
                if unit * quantity == amount:
                    return unit
        except InvalidOperation:
            return None
    n.sink.warn(
        "AMAZON_UNIT_PRICE_ROUNDED",
        f"ItemPrice {amount} for {quantity} does not divide evenly; the unit price is {unit} (rounded), "
        "the line amount stays as sent",
        join_path(n.path, "ItemPrice"),
    )
    return unit


def _buyer(o: Node) -> Party | None:
    info = o.obj("BuyerInfo")
    if info is None:
        return None
    return party(name=info.text("BuyerName"), email=info.text("BuyerEmail"))


def _ship_to(o: Node) -> Party | None:
    a = o.obj("ShippingAddress")
    if a is None:
        return None
    return party(
        name=a.text("Name"),
        company=a.text("CompanyName"),
        street=[a.text("AddressLine1"), a.text("AddressLine2"), a.text("AddressLine3")],
        city=a.text("City"),
        postal_code=a.text("PostalCode"),
        region=a.text("StateOrRegion"),
        country_code=a.text("CountryCode"),
        phone=a.text("Phone"),
    )


def _notes(o: Node, status: str | None) -> list[str]:
    channel = o.text("FulfillmentChannel")
    if status is None:
        return []
    return [f"Amazon order status: {status}" + (f" (FulfillmentChannel {channel})" if channel else "")]


def _references(o: Node) -> list[Reference]:
    found = []
    for key in ("SellerOrderId", "ReplacedOrderId"):
        if value := o.text(key):
            found.append(Reference(qualifier=f"AMAZON:{key}", value=value))
    info = o.obj("BuyerInfo")
    if info is not None and (po := info.text("PurchaseOrderNumber")):
        found.append(Reference(qualifier="AMAZON:PurchaseOrderNumber", value=po))
    return found


AMAZON_ORDER = AmazonOrder()

__all__ = ["AMAZON_ORDER", "AmazonOrder"]
