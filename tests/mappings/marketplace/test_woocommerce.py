"""WooCommerce REST v3 orders: a realistic order written after the REST API documentation's example."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mappings.translate import translate
from tests.mappings.marketplace.support import FIXTURES, read, woocommerce_order


def test_order_header_and_source() -> None:
    [header], [outcome] = read((FIXTURES / "woocommerce_order_v3.json").read_bytes())
    assert (header.format, header.sender_id, header.control_ref) == ("marketplace", "woocommerce", "727")
    assert header.prepared_at == "2024-03-18T14:06:02"
    assert (outcome.message_ref, outcome.position, outcome.errors, outcome.warnings) == ("727", 1, [], [])
    order = outcome.order
    assert order is not None
    assert order.order_number == "WC-2024-0727"  # `number`, not the id
    assert order.references[0].model_dump() == {"qualifier": "WOOCOMMERCE:id", "value": "727"}
    assert (order.source.format, order.source.message_type) == ("woocommerce", "order")
    assert order.order_date is not None and order.order_date.isoformat() == "2024-03-18"
    assert order.currency == "EUR" and order.purpose == "original"
    assert "WooCommerce status: processing" in order.notes
    assert "Please leave the parcel with the neighbour if nobody is home." in order.notes


def test_parties_from_billing_and_shipping() -> None:
    [outcome] = read(woocommerce_order())[1]
    order = outcome.order
    assert order is not None and order.buyer is not None and order.buyer.contact is not None
    assert order.buyer.name == "Anna Schmidt"
    assert order.buyer.contact.email == "anna.schmidt@example.de"
    assert order.buyer.contact.phone == "+49 40 1234567"
    assert order.buyer.identifier("WOOCOMMERCE:customer_id") == "57"
    assert order.bill_to is not None and order.bill_to.address is not None
    assert order.bill_to.address.street == ["Lindenstraße 12"]
    ship_to = order.ship_to
    assert ship_to is not None and ship_to.address is not None and ship_to.contact is not None
    assert ship_to.name == "Schmidt Design GmbH" and ship_to.contact.name == "Anna Schmidt"
    assert ship_to.address.model_dump() == {
        "street": ["Hafenstraße 3", "3. OG"],
        "city": "Hamburg",
        "postal_code": "20359",
        "region": "HH",
        "country": "DE",
    }


def test_lines_with_sku_ids_prices_and_named_taxes() -> None:
    order = read(woocommerce_order())[1][0].order
    assert order is not None
    socks, cap = order.lines
    assert (socks.line_number, socks.seller_item_id, socks.quantity) == (
        "1201",
        "SOCK-MER-GRY-4346",
        Decimal(3),
    )
    assert socks.unit_price == Decimal("10.8") and socks.line_amount == Decimal("32.40")
    assert {i.scheme: i.value for i in socks.item_identifiers} == {
        "SELLER": "SOCK-MER-GRY-4346",
        "WOOCOMMERCE:product_id": "301",
        "WOOCOMMERCE:variation_id": "305",
    }
    [tax] = socks.taxes
    assert (tax.type, tax.rate, tax.amount) == ("MwSt.", Decimal(19), Decimal("6.156"))
    assert socks.notes == ["Size: 43-46"]  # the hidden _reduced_stock entry is not a note
    # a simple product has variation_id 0: no variation identifier
    assert [i.scheme for i in cap.item_identifiers] == ["SELLER", "WOOCOMMERCE:product_id"]
    assert cap.description == "Trail Running Cap"


def test_shipping_fee_coupon_tax_lines_and_totals_as_stated() -> None:
    order = read(woocommerce_order())[1][0].order
    assert order is not None
    shipping, fee, coupon = order.allowances_charges
    assert (shipping.kind, shipping.reason, shipping.code, shipping.amount) == (
        "charge",
        "shipping",
        "flat_rate",
        Decimal("4.90"),
    )
    assert [t.amount for t in shipping.taxes] == [Decimal("0.931")]
    assert (fee.kind, fee.reason, fee.amount) == ("charge", "Gift wrapping", Decimal("2.50"))
    assert (coupon.kind, coupon.code, coupon.amount) == ("allowance", "spring10", Decimal("6.10"))
    assert [t.amount for t in coupon.taxes] == [Decimal("1.16")]
    assert [(t.type, t.amount) for t in order.taxes] == [
        ("MwSt.", Decimal("10.91")),
        ("MwSt. on shipping", Decimal("0.93")),
    ]
    assert order.totals is not None
    assert order.totals.model_dump() == {
        "line_total": None,
        "allowance_total": Decimal("6.10"),
        "charge_total": Decimal("4.90"),
        "tax_total": Decimal("11.84"),
        "total": Decimal("74.14"),
    }


def test_rest_list_page_gives_one_order_each() -> None:
    first, second = woocommerce_order(), woocommerce_order()
    second.update(id=728, number="WC-2024-0728")
    headers, outcomes = read([first, second])
    assert [h.control_ref for h in headers] == ["727", "728"]
    assert [(o.message_ref, o.position) for o in outcomes] == [("727", 1), ("728", 2)]


def test_cancelled_status_is_a_cancel() -> None:
    body = woocommerce_order()
    body["status"] = "cancelled"
    order = read(body)[1][0].order
    assert order is not None and order.purpose == "cancel"


@pytest.mark.parametrize("status", ["pending", "on-hold", "failed"])
def test_unpaid_statuses_are_read_with_a_warning(status: str) -> None:
    body = woocommerce_order()
    body["status"] = status
    [outcome] = read(body)[1]
    assert outcome.errors == [] and outcome.order is not None
    [warning] = outcome.warnings
    assert (warning.code, warning.element) == ("ORDER_STATUS", "status")
    assert status in warning.message


def test_negative_fee_stays_as_sent() -> None:
    body = woocommerce_order()
    body["fee_lines"][0].update(name="Loyalty discount", total="-5.00", total_tax="-0.95", taxes=[])
    order = read(body)[1][0].order
    assert order is not None
    fee = order.allowances_charges[1]
    assert (fee.kind, fee.reason, fee.amount) == ("charge", "Loyalty discount", Decimal("-5.00"))


def test_translate_accepts_the_fixture() -> None:
    translation = translate((FIXTURES / "woocommerce_order_v3.json").read_bytes())
    assert translation.status == "accepted", translation.errors
    assert translation.format == "marketplace"
    assert [o.order_number for o in translation.orders] == ["WC-2024-0727"]
