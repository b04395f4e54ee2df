"""Deterministic canonical orders for benchmarks: realistic sizes, valid check digits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from stdnum import ean

from gateway.core.canonical import Address, Identifier, Order, OrderLine, OrderSource, Party


def gtin(seed: int) -> str:
    body = f"400638{seed % 1_000_000:06d}"
    return body + ean.calc_check_digit(body)


def gln(seed: int) -> str:
    body = f"541234{seed % 1_000_000:06d}"
    return body + ean.calc_check_digit(body)


def make_order(index: int, *, lines: int = 10, format: str = "edifact") -> Order:
    day = date(2024, 1, 1) + timedelta(days=index % 365)
    return Order(
        order_number=f"PO{index:08d}",
        order_date=day,
        requested_delivery_date=day + timedelta(days=7),
        currency="EUR" if format == "edifact" else "USD",
        buyer=Party(
            name="Hexa Retail NV",
            identifiers=[Identifier(scheme="GLN", value=gln(1))],
            address=Address(street=["Kerkstraat 1"], city="Gent", postal_code="9000", country="BE"),
        ),
        seller=Party(name="Nordic Supply", identifiers=[Identifier(scheme="GLN", value=gln(2))]),
        ship_to=Party(
            name="Hexa DC Gent",
            identifiers=[Identifier(scheme="GLN", value=gln(3 + index % 5))],
            address=Address(street=["Havenlaan 10"], city="Gent", postal_code="9000", country="BE"),
        ),
        lines=[
            OrderLine(
                line_number=str(n),
                gtin=gtin(index * lines + n),
                buyer_item_id=f"ART-{n:04d}",
                description=f"Article {n} blue",
                quantity=Decimal(1 + (index + n) % 48),
                unit="PCE" if format == "edifact" else "EA",
                unit_price=Decimal(f"{1 + n}.{(index + n) % 100:02d}"),
            )
            for n in range(1, lines + 1)
        ],
        source=OrderSource(format=format, message_type="ORDERS" if format == "edifact" else "850"),
    )


def make_orders(count: int, *, lines: int = 10, format: str = "edifact") -> Iterator[Order]:
    for index in range(count):
        yield make_order(index, lines=lines, format=format)
