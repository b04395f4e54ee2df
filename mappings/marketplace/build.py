"""What every marketplace shape shares: the envelope facts, parties, and turning a read into events.

A marketplace order is its own interchange: its order id is the control reference, so the same order
received twice (a webhook retried, a REST page polled again) is recognised as the same interchange.
Shopify and WooCommerce payloads do not name the shop, so their sender id is the marketplace's name
and the partner is decided by the connector that received it (its inbox folder or `--partner`);
Amazon's sender id is the order's MarketplaceId.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import ValidationError

from gateway.core.canonical import Address, Contact, Identifier, Order, OrderLine, OrderSource, Party
from gateway.core.checks import check_order
from gateway.core.errors import Issue
from mappings.base import InterchangeHeader, MessageOutcome
from mappings.marketplace.base import Record
from mappings.marketplace.fields import Sink

FORMAT_NAME = "marketplace"
UNSUPPORTED_MESSAGE = "UNSUPPORTED_MESSAGE"  # the code `mappings.translate` turns into NOT_AN_ORDER


@dataclass(frozen=True, slots=True)
class Envelope:
    """The facts of one record that go into its `InterchangeHeader` and `OrderSource`."""

    marketplace: str  # "shopify", "woocommerce", "amazon"
    message_type: str  # "order", "Order", "fulfillment"
    version: str | None
    sender_id: str
    control_ref: str
    prepared_at: str | None = None
    test: bool = False

    def header(self) -> InterchangeHeader:
        return InterchangeHeader(
            format=FORMAT_NAME,
            sender_id=self.sender_id,
            sender_qualifier=None,
            receiver_id="",
            receiver_qualifier=None,
            control_ref=self.control_ref,
            syntax="json",
            prepared_at=self.prepared_at,
            test=self.test,
        )

    def source(self) -> OrderSource:
        return OrderSource(
            format=self.marketplace,
            standard_version=self.version,
            message_type=self.message_type,
            sender_id=self.sender_id,
            interchange_control_ref=self.control_ref,
            message_control_ref=self.control_ref,
            test=self.test,
        )


def finish(
    record: Record, envelope: Envelope, sink: Sink, build: Callable[[], Order] | None
) -> tuple[InterchangeHeader, MessageOutcome]:
    """The events of one order record; `build` is None when a required part (id, lines) is missing."""
    order = None
    if build is not None:
        try:
            order = build()
        except ValidationError as refused:  # the readers build typed values; this is a safety net
            first = refused.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            sink.error("JSON_CONTENT", f"the order cannot be built: {where}: {first['msg']}", record.path)
    if order is not None:
        for found in check_order(order):
            located = found.model_copy(update={"position": record.position, "element": record.path or "$"})
            (sink.errors if found.severity == "error" else sink.warnings).append(located)
    return envelope.header(), MessageOutcome(
        message_type=envelope.message_type,
        message_ref=envelope.control_ref,
        version=envelope.version,
        position=record.position,
        order=order,
        errors=sink.errors,
        warnings=sink.warnings,
    )


def not_an_order(record: Record, envelope: Envelope, what: str) -> tuple[InterchangeHeader, MessageOutcome]:
    """A record ordergate recognises but does not take in, named in words (`what`: "a Shopify fulfillment …")."""
    path = record.path or "$"
    # `segment` carries the path too: `mappings.translate` names it in the NOT_AN_ORDER it derives.
    named = Issue(
        code=UNSUPPORTED_MESSAGE,
        message=f"the JSON at {path} is {what}, not an order",
        segment=path,
        position=record.position,
        element=path,
        severity="warning",
    )
    return envelope.header(), MessageOutcome(
        message_type=envelope.message_type,
        message_ref=envelope.control_ref,
        version=envelope.version,
        position=record.position,
        supported=False,
        warnings=[named],
    )


def person(first: str | None, last: str | None) -> str | None:
    return " ".join(part for part in (first, last) if part) or None


def country(code: str | None) -> str | None:
    """ISO 3166-1 alpha-2 when the sender gave a two-letter code; a country's name is not guessed at."""
    return code.upper() if code and len(code) == 2 and code.isascii() and code.isalpha() else None


def party(
    *,
    name: str | None = None,
    company: str | None = None,
    street: Sequence[str | None] = (),
    city: str | None = None,
    postal_code: str | None = None,
    region: str | None = None,
    country_code: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    identifiers: Sequence[Identifier] = (),
) -> Party | None:
    """A party named by its company when it has one (the person is then its contact), else by the person."""
    lines = [line for line in street if line]
    address = None
    if lines or city or postal_code or region or country_code:
        address = Address(
            street=lines, city=city, postal_code=postal_code, region=region, country=country(country_code)
        )
    contact = Contact(name=name, phone=phone, email=email) if name or phone or email else None
    if address is None and contact is None and not company and not identifiers:
        return None
    return Party(name=company or name, identifiers=list(identifiers), address=address, contact=contact)


def line_total_warning(lines: Sequence[OrderLine], stated: Decimal | None, path: str, sink: Sink) -> None:
    """Flag (never correct) a stated line total that quantity x unit price over the lines does not give."""
    if stated is None or not lines or any(line.unit_price is None for line in lines):
        return
    computed = sum((line.quantity * (line.unit_price or 0) for line in lines), Decimal(0))
    if computed != stated:
        sink.warn(
            "TOTALS_MISMATCH",
            f"the lines add up to {computed} (quantity x unit price over {len(lines)} line(s)) but "
            f"{path} states {stated}; kept as sent",
            path,
        )


__all__ = [
    "FORMAT_NAME",
    "Envelope",
    "country",
    "finish",
    "line_total_warning",
    "not_an_order",
    "party",
    "person",
]
