"""Plain-dict views of stored records, shared by the CLI's --json output and the REST API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.storage.models import Document, Failure, OrderRecord, Partner


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def order_summary(order: OrderRecord) -> dict[str, Any]:
    return {
        "id": order.id,
        "order_number": order.order_number,
        "partner": order.partner_id,
        "status": order.status,
        "order_date": _iso(order.order_date),
        "requested_delivery_date": _iso(order.requested_delivery_date),
        "currency": order.currency,
        "buyer": order.buyer_name,
        "lines": order.line_count,
        "message_type": order.message_type,
        "document_id": order.document_id,
        "created_at": _iso(order.created_at),
    }


def order_detail(order: OrderRecord) -> dict[str, Any]:
    return order_summary(order) | {
        "canonical": order.canonical,
        "warnings": order.warnings,
        "events": [{"status": e.status, "at": _iso(e.at), "detail": e.detail} for e in order.events],
    }


def failure_json(failure: Failure) -> dict[str, Any]:
    return {
        "id": failure.id,
        "document_id": failure.document_id,
        "stage": failure.stage,
        "code": failure.code,
        "reason": failure.reason,
        "segment": failure.segment,
        "position": failure.position,
        "element": failure.element,
        "status": failure.status,
        "created_at": _iso(failure.created_at),
        "issues": failure.issues,
    }


def document_json(
    document: Document, *, order_ids: Sequence[str] = (), failures: Sequence[Failure] = ()
) -> dict[str, Any]:
    return {
        "id": document.id,
        "status": document.status,
        "sha256": document.sha256,
        "size": document.size,
        "channel": document.channel,
        "filename": document.filename,
        "content_type": document.content_type,
        "partner": document.partner_id,
        "claimed_partner": document.claimed_partner,
        "format": document.format,
        "message_types": document.message_types.split(",") if document.message_types else [],
        "interchange_ref": document.interchange_ref,
        "received_at": _iso(document.received_at),
        "processed_at": _iso(document.processed_at),
        "orders": list(order_ids),
        "failures": [failure_json(f) for f in failures],
    }


def partner_json(partner: Partner) -> dict[str, Any]:
    return {
        "id": partner.id,
        "name": partner.name,
        "active": partner.active,
        "created_at": partner.created_at.isoformat(),
        "identifiers": [
            {"standard": i.standard, "qualifier": i.qualifier or None, "value": i.value}
            for i in partner.identifiers
        ],
    }
