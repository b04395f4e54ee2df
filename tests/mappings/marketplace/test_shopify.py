"""Shopify orders: the public REST fixture with the facts the corpus manifest records, and a modern
webhook body (discount allocations, shipping totals, cancellation) written here."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from mappings.translate import translate
from tests.corpus import require_corpus
from tests.mappings.marketplace.support import corpus_entry, read

ORDER_FILE = "shopify_order_rest_fixture_shopify_python_api.json"
FULFILLMENT_FILE = "shopify_fulfillment_fixture_shopify_python_api.json"


@pytest.mark.corpus
def test_rest_order_fixture_yields_the_recorded_facts() -> None:
    require_corpus()
    entry = corpus_entry(ORDER_FILE)
    translation = translate(entry.path.read_bytes())
    assert translation.status == "accepted", [e.describe() for e in translation.errors]
    assert translation.format == "marketplace"
    [order] = translation.orders
    fact = entry.fact
    assert order.order_number == fact("name")
    assert order.source.format == "shopify"
    assert order.source.message_control_ref == fact("order.id")
    refs = {r.qualifier: r.value for r in order.references}
    assert refs["SHOPIFY:id"] == fact("order.id")
    assert refs["SHOPIFY:order_number"] == fact("order_number")
    assert order.currency == fact("currency")
    assert order.order_date is not None
    assert order.order_date.isoformat() == (fact("created_at") or "")[:10]
    assert order.buyer is not None and order.buyer.contact is not None
    assert order.buyer.contact.email == fact("email")
    assert f"Shopify financial status: {fact('financial_status')}" in order.notes

    count, listed = re.fullmatch(r"(\d+) \[(.*)\]", fact("lines") or "").groups()  # type: ignore[union-attr]
    expected = [re.fullmatch(r"(\S+) x(\d+) @([\d.]+)", part).groups() for part in listed.split(", ")]  # type: ignore[union-attr]
    assert len(order.lines) == int(count)
    assert [(line.seller_item_id, line.quantity, line.unit_price) for line in order.lines] == [
        (sku, Decimal(qty), Decimal(price)) for sku, qty, price in expected
    ]

    assert order.totals is not None
    # subtotal_price = total_line_items_price - total_discounts by Shopify's definition; both stated 398.00
    assert order.totals.line_total == Decimal(fact("subtotal_price") or "")
    assert order.totals.tax_total == Decimal(fact("total_tax") or "")
    assert order.totals.total == Decimal(fact("total_price") or "")

    code, amount = re.search(r"discount code (\S+) ([\d.]+)", entry.expected).groups()  # type: ignore[union-attr]
    [discount] = [c for c in order.allowances_charges if c.kind == "allowance"]
    assert (discount.code, discount.amount, discount.reason) == (code, Decimal(amount), "discount")
    shipping_price = re.search(r"shipping_line price ([\d.]+)", entry.expected).group(1)  # type: ignore[union-attr]
    [shipping] = [c for c in order.allowances_charges if c.kind == "charge"]
    assert (shipping.reason, shipping.amount) == ("shipping", Decimal(shipping_price))
    city, country = re.search(r"shipping_address (\w+) (\w\w)", entry.expected).groups()  # type: ignore[union-attr]
    assert order.ship_to is not None and order.ship_to.address is not None
    assert (order.ship_to.address.city, order.ship_to.address.country) == (city, country)
    assert order.ship_to.address.postal_code == "40202"
    assert order.ship_to.address.region == "KY"


@pytest.mark.corpus
def test_inconsistent_fixture_totals_are_kept_and_flagged_not_recomputed() -> None:
    require_corpus()
    translation = translate(corpus_entry(ORDER_FILE).path.read_bytes())
    [order] = translation.orders
    computed = sum(line.quantity * (line.unit_price or 0) for line in order.lines)
    assert order.totals is not None and order.totals.line_total != computed  # 398.00 as sent, not 597.00
    [warning] = [w for w in translation.warnings if w.code == "TOTALS_MISMATCH"]
    assert warning.element == "order.total_line_items_price"
    assert str(computed) in warning.message and str(order.totals.line_total) in warning.message


@pytest.mark.corpus
def test_rest_order_fixture_lines_taxes_and_identifiers() -> None:
    require_corpus()
    [order] = translate(corpus_entry(ORDER_FILE).path.read_bytes()).orders
    first = order.lines[0]
    assert first.line_number == "466157049"
    assert first.description == "IPod Nano - 8gb - green"
    schemes = {i.scheme: i.value for i in first.item_identifiers}
    assert schemes == {
        "SELLER": "IPOD2008GREEN",
        "SHOPIFY:product_id": "632910392",
        "SHOPIFY:variant_id": "39072856",
    }
    assert first.notes == ["Custom Engraving: Happy Birthday"]
    [tax] = order.taxes
    assert (tax.type, tax.rate, tax.amount) == ("State Tax", Decimal("6"), Decimal("11.94"))
    assert "custom engraving: Happy Birthday" in order.notes


@pytest.mark.corpus
def test_fulfillment_fixture_is_refused_as_not_an_order() -> None:
    require_corpus()
    entry = corpus_entry(FULFILLMENT_FILE)
    translation = translate(entry.path.read_bytes())
    assert translation.status == "rejected"
    assert translation.orders == []
    [error] = translation.errors
    assert error.code == "NOT_AN_ORDER"
    assert "a Shopify fulfillment" in error.message
    assert f"order {entry.fact('order_id')}" in error.message
    assert error.segment == "fulfillment" and error.position == 1


def _modern_webhook() -> dict[str, Any]:
    """An orders/create body in the shape of a current API version (bare, with allocations)."""
    return {
        "id": 5823104567,
        "admin_graphql_api_id": "gid://shopify/Order/5823104567",
        "name": "#2042",
        "order_number": 2042,
        "created_at": "2024-11-30T23:30:00+01:00",
        "updated_at": "2024-11-30T23:31:10+01:00",
        "currency": "EUR",
        "email": "mia@example.org",
        "phone": "+4930111222",
        "test": True,
        "cancelled_at": None,
        "po_number": "PO-77",
        "total_line_items_price": "60.00",
        "total_discounts": "9.00",
        "total_tax": "8.15",
        "total_price": "64.05",
        "total_shipping_price_set": {
            "shop_money": {"amount": "5.00", "currency_code": "EUR"},
            "presentment_money": {"amount": "5.00", "currency_code": "EUR"},
        },
        "discount_codes": [{"code": "WINTER15", "amount": "9.00", "type": "percentage"}],
        "discount_applications": [
            {"type": "discount_code", "code": "WINTER15", "value": "15.0", "target_type": "line_item"},
            {
                "type": "manual",
                "title": "Free shipping over 50",
                "value": "100.0",
                "target_type": "shipping_line",
            },
        ],
        "line_items": [
            {
                "id": 111,
                "sku": "TEE-BLU-M",
                "title": "Tee",
                "name": "Tee - Blue / M",
                "product_id": 9001,
                "variant_id": 9101,
                "quantity": 2,
                "price": "30.00",
                "tax_lines": [{"title": "MwSt", "rate": 0.19, "price": "9.69"}],
                "discount_allocations": [{"amount": "9.00", "discount_application_index": 0}],
            }
        ],
        "shipping_lines": [
            {
                "code": "DHL Paket",
                "title": "DHL",
                "price": "5.00",
                "tax_lines": [],
                "discount_allocations": [{"amount": "5.00", "discount_application_index": 1}],
            }
        ],
        "customer": {"id": 77, "first_name": "Mia", "last_name": "Klein", "email": "mia@example.org"},
        "shipping_address": {
            "first_name": "Mia",
            "last_name": "Klein",
            "company": "Klein & Co",
            "address1": "Torstraße 1",
            "city": "Berlin",
            "zip": "10119",
            "province": "Berlin",
            "country": "Germany",
            "country_code": "de",
        },
    }


def test_webhook_body_discounts_are_stated_where_allocated_and_never_twice() -> None:
    _, [outcome] = read(_modern_webhook())
    assert outcome.errors == []
    order = outcome.order
    assert order is not None
    [line] = order.lines
    [line_discount] = line.allowances_charges
    assert (line_discount.kind, line_discount.code, line_discount.amount) == (
        "allowance",
        "WINTER15",
        Decimal("9.00"),
    )
    assert [t.rate for t in line.taxes] == [Decimal("19.00")]
    kinds = [(c.kind, c.reason, c.code, c.amount) for c in order.allowances_charges]
    # discount_codes are not repeated at order level when allocations state them
    assert kinds == [
        ("charge", "shipping", "DHL Paket", Decimal("5.00")),
        ("allowance", "shipping discount", "Free shipping over 50", Decimal("5.00")),
    ]
    assert order.totals is not None and order.totals.charge_total == Decimal("5.00")
    assert order.totals.allowance_total == Decimal("9.00")


def test_webhook_body_header_source_and_parties() -> None:
    [header], [outcome] = read(_modern_webhook())
    assert (header.format, header.sender_id, header.control_ref) == ("marketplace", "shopify", "5823104567")
    assert header.test is True and header.prepared_at == "2024-11-30T23:31:10+01:00"
    assert (outcome.message_ref, outcome.position, outcome.message_type) == ("5823104567", 1, "order")
    order = outcome.order
    assert order is not None
    assert order.source.test is True
    # the date as the shop wrote it (its own offset), not converted to UTC (which would be the 30th, 22:30)
    assert order.order_date is not None and order.order_date.isoformat() == "2024-11-30"
    assert order.ship_to is not None and order.ship_to.address is not None
    assert order.ship_to.name == "Klein & Co"
    assert order.ship_to.contact is not None and order.ship_to.contact.name == "Mia Klein"
    assert order.ship_to.address.country == "DE" and order.ship_to.address.region == "Berlin"
    assert order.buyer is not None and order.buyer.identifier("SHOPIFY:customer_id") == "77"
    assert order.buyer.contact is not None and order.buyer.contact.phone == "+4930111222"
    assert {"qualifier": "SHOPIFY:po_number", "value": "PO-77"} in [r.model_dump() for r in order.references]


def test_cancelled_order_has_purpose_cancel() -> None:
    body = _modern_webhook()
    body["cancelled_at"] = "2024-12-01T09:00:00+01:00"
    [outcome] = read(body)[1]
    assert outcome.order is not None and outcome.order.purpose == "cancel"


def test_rest_list_page_yields_one_interchange_per_order() -> None:
    first, second = _modern_webhook(), _modern_webhook()
    second.update(id=5823104999, name="#2043")
    headers, outcomes = read({"orders": [first, second]})
    assert [h.control_ref for h in headers] == ["5823104567", "5823104999"]
    assert [(o.message_ref, o.position) for o in outcomes] == [("5823104567", 1), ("5823104999", 2)]
    assert [o.order.order_number for o in outcomes if o.order] == ["#2042", "#2043"]


def test_order_number_falls_back_to_order_number_then_id() -> None:
    body = _modern_webhook()
    del body["name"]
    assert read(body)[1][0].order.order_number == "2042"  # type: ignore[union-attr]
    del body["order_number"]
    assert read(body)[1][0].order.order_number == "5823104567"  # type: ignore[union-attr]
