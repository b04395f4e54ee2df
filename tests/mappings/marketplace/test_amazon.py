"""Amazon SP-API Orders v0: the sandbox examples of the official model (corpus), and an order of our own."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from mappings.translate import translate
from tests.corpus import require_corpus
from tests.mappings.marketplace.support import (
    FIXTURES,
    ORDER_PATH,
    amazon_model_entry,
    amazon_sandbox_document,
    read,
    sandbox_response,
)


def _own() -> dict[str, Any]:
    return json.loads((FIXTURES / "amazon_order_two_items.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _fact(pattern: str) -> str:
    found = re.search(pattern, amazon_model_entry().expected)
    assert found, pattern
    return found.group(1)


@pytest.mark.corpus
def test_sandbox_examples_translate_to_the_recorded_order() -> None:
    require_corpus()
    translation = translate(json.dumps(amazon_sandbox_document()).encode())
    assert translation.status == "accepted", [e.describe() for e in translation.errors]
    [order] = translation.orders
    [interchange] = translation.interchanges
    assert order.order_number == _fact(r"AmazonOrderId=([^\s;\]]+)")
    assert interchange.header.sender_id == _fact(r"MarketplaceId=([^\s;\]]+)")
    assert interchange.header.control_ref == order.order_number
    status, channel = _fact(r"OrderStatus=([^\s;\]]+)"), _fact(r"FulfillmentChannel=([^\s;\]]+)")
    assert order.notes == [f"Amazon order status: {status} (FulfillmentChannel {channel})"]
    assert order.purpose == "original"
    currency, total = _fact(r"OrderTotal=(\w+ [\d.]+)").split()
    assert order.currency == currency
    assert order.totals is not None and order.totals.total == Decimal(total)
    assert (order.source.format, order.source.message_type, order.source.standard_version) == (
        "amazon",
        "Order",
        "v0",
    )

    [line] = order.lines
    items = _fact(r"OrderItems=(\d+)")
    assert len(order.lines) == int(items)
    assert line.line_number == _fact(r"OrderItemId ([^\s;\]]+)")
    assert line.seller_item_id == _fact(r"SellerSKU ([^\s;\]]+)")
    assert {i.scheme: i.value for i in line.item_identifiers} == {
        "ASIN": _fact(r"ASIN ([^\s;\]]+)"),
        "SELLER": _fact(r"SellerSKU ([^\s;\]]+)"),
    }
    assert line.quantity == Decimal(_fact(r"QuantityOrdered=(\d+)"))
    assert line.line_amount == Decimal(_fact(r"ItemPrice=\w+ ([\d.]+)"))
    assert line.unit_price == line.line_amount  # quantity 1
    assert [t.amount for t in line.taxes] == [Decimal(_fact(r"ItemTax=\w+ ([\d.]+)"))]
    assert line.allowances_charges == []  # the sandbox's PromotionDiscount is 0.00


@pytest.mark.corpus
def test_sandbox_warnings_name_restricted_address_and_buyer_cancel_request() -> None:
    require_corpus()
    translation = translate(json.dumps(amazon_sandbox_document()).encode())
    codes = {w.code: w.element for w in translation.warnings}
    assert codes["AMAZON_ADDRESS_MISSING"] == "getOrder.payload.ShippingAddress"
    assert (
        codes["AMAZON_BUYER_REQUESTED_CANCEL"] == "getOrderItems.payload.OrderItems[0].BuyerRequestedCancel"
    )


@pytest.mark.corpus
def test_sandbox_getorder_alone_is_refused_for_missing_items() -> None:
    require_corpus()
    translation = translate(json.dumps(sandbox_response(ORDER_PATH)).encode())
    assert translation.status == "rejected"
    assert [e.code for e in translation.errors] == ["AMAZON_ITEMS_MISSING"]
    assert "getOrderItems" in translation.errors[0].message


@pytest.mark.corpus
def test_sandbox_amazon_fulfilled_order_is_flagged() -> None:
    require_corpus()
    document = amazon_sandbox_document()
    document["getOrder"] = sandbox_response(ORDER_PATH, "TEST_CASE_IBA_200")
    document["getOrderItems"]["payload"]["AmazonOrderId"] = document["getOrder"]["payload"]["AmazonOrderId"]
    [outcome] = read(document)[1]
    assert outcome.errors == []
    assert "AMAZON_FULFILLED_BY_AMAZON" in {w.code for w in outcome.warnings}


def test_own_order_lines_prices_and_item_money() -> None:
    [header], [outcome] = read(_own())
    assert outcome.errors == [], outcome.errors
    assert header.sender_id == "A1PA6795UKMFR9" and header.prepared_at == "2024-05-02T21:46:37Z"
    order = outcome.order
    assert order is not None
    mug, spork = order.lines
    # ItemPrice is for the whole quantity: the unit price is derived, the line amount kept
    assert (mug.quantity, mug.line_amount, mug.unit_price) == (Decimal(3), Decimal("29.97"), Decimal("9.99"))
    assert (spork.quantity, spork.line_amount, spork.unit_price) == (
        Decimal(2),
        Decimal("15.00"),
        Decimal("7.50"),
    )
    assert [
        (c.kind, c.reason, c.code, c.amount, [t.amount for t in c.taxes]) for c in mug.allowances_charges
    ] == [
        ("charge", "shipping", None, Decimal("4.99"), [Decimal("0.80")]),
        ("allowance", "promotion", "SPRING-3OFF", Decimal("3.00"), [Decimal("0.48")]),
    ]
    assert spork.allowances_charges == []
    assert spork.notes == ["gift", "condition: Used (Opened, never used)"]


def test_own_order_parties_dates_and_references() -> None:
    order = read(_own())[1][0].order
    assert order is not None
    assert order.ship_to is not None and order.ship_to.address is not None
    assert order.ship_to.name == "Weber Outdoor KG"
    assert order.ship_to.address.model_dump() == {
        "street": ["Am Kanal 7", "Hinterhaus"],
        "city": "Leipzig",
        "postal_code": "04109",
        "region": "Sachsen",
        "country": "DE",
    }
    assert order.buyer is not None and order.buyer.contact is not None
    assert order.buyer.contact.email == "7x2kq4mzz1r9vbd@marketplace.amazon.de"
    refs = {r.qualifier: r.value for r in order.references}
    assert refs["AMAZON:PurchaseOrderNumber"] == "WO-2024-118"
    assert [
        d.isoformat()
        for d in (order.order_date, order.requested_ship_date, order.requested_delivery_date)
        if d
    ] == [
        "2024-05-02",
        "2024-05-06",
        "2024-05-09",
    ]


def test_canceled_order_is_a_cancel() -> None:
    document = _own()
    document["getOrder"]["payload"]["OrderStatus"] = "Canceled"
    [outcome] = read(document)[1]
    assert outcome.errors == []
    assert outcome.order is not None and outcome.order.purpose == "cancel"


@pytest.mark.parametrize("status", ["Pending", "PendingAvailability"])
def test_pending_order_is_refused_until_paid(status: str) -> None:
    document = _own()
    document["getOrder"]["payload"]["OrderStatus"] = status
    translation = translate(json.dumps(document).encode())
    assert translation.status == "rejected"
    [error] = translation.errors
    assert (error.code, error.element) == ("AMAZON_ORDER_PENDING", "getOrder.payload.OrderStatus")
    assert status in error.message and "Unshipped" in error.message


def test_items_paged_over_several_responses() -> None:
    document = _own()
    first = document["getOrderItems"]
    items = first["payload"]["OrderItems"]
    second = {"payload": {"AmazonOrderId": first["payload"]["AmazonOrderId"], "OrderItems": items[1:]}}
    first["payload"].update(OrderItems=items[:1], NextToken="page-2")
    document["getOrderItems"] = [first, second]
    [outcome] = read(document)[1]
    assert outcome.errors == []
    assert outcome.order is not None and [line.seller_item_id for line in outcome.order.lines] == [
        "MUG-ENAMEL-WHT",
        "SPORK-TI",
    ]
    document["getOrderItems"] = [first]  # the last page archived still promises more
    [outcome] = read(document)[1]
    assert [(e.code, e.element) for e in outcome.errors] == [
        ("AMAZON_ITEMS_INCOMPLETE", "getOrderItems[0].payload.NextToken")
    ]


def test_items_of_another_order_are_refused() -> None:
    document = _own()
    document["getOrderItems"]["payload"]["AmazonOrderId"] = "302-0000000-0000000"
    [outcome] = read(document)[1]
    assert [e.code for e in outcome.errors] == ["AMAZON_ITEMS_MISMATCH"]


def test_error_response_is_reported() -> None:
    document = _own()
    document["getOrderItems"] = {"errors": [{"code": "InvalidInput", "message": "Invalid order id"}]}
    [outcome] = read(document)[1]
    codes = [(e.code, e.element) for e in outcome.errors]
    assert ("AMAZON_API_ERROR", "getOrderItems.errors[0]") in codes
    assert "InvalidInput" in outcome.errors[0].message
    assert outcome.order is None


def test_uneven_item_price_is_rounded_with_a_warning() -> None:
    document = _own()
    document["getOrderItems"]["payload"]["OrderItems"][1]["ItemPrice"]["Amount"] = "10.00"
    document["getOrderItems"]["payload"]["OrderItems"][1]["QuantityOrdered"] = 3
    [outcome] = read(document)[1]
    assert outcome.order is not None
    spork = outcome.order.lines[1]
    assert spork.line_amount == Decimal("10.00") and spork.unit_price == Decimal("3.333333")
    [warning] = [w for w in outcome.warnings if w.code == "AMAZON_UNIT_PRICE_ROUNDED"]
    assert warning.element == "getOrderItems.payload.OrderItems[1].ItemPrice"


def test_a_list_of_archived_documents_gives_one_order_each() -> None:
    second = _own()
    second["getOrder"]["payload"]["AmazonOrderId"] = "302-1111111-2222222"
    second["getOrderItems"]["payload"]["AmazonOrderId"] = "302-1111111-2222222"
    headers, outcomes = read([_own(), second])
    assert [h.control_ref for h in headers] == ["302-4927301-8265012", "302-1111111-2222222"]
    assert [(o.message_ref, o.position, o.errors) for o in outcomes] == [
        ("302-4927301-8265012", 1, []),
        ("302-1111111-2222222", 2, []),
    ]
