"""The bodies the stages pass to each other: small JSON references to stored records, never the
records themselves, so a replay always works from the current stored state."""

from __future__ import annotations

import json

from gateway.bus.base import BusMessage, route


def document_message(stage: str, document_id: str, *, partner: str | None, channel: str | None) -> BusMessage:
    return BusMessage(
        routing_key=route(stage, partner, channel),
        body=json.dumps({"document_id": document_id}).encode(),
        headers={"document_id": document_id},
    )


def order_message(
    stage: str, order_id: str, *, partner: str | None, channel: str | None, document_id: str | None = None
) -> BusMessage:
    """`document_id` (the order's source document) rides in the headers only, for logs and parking."""
    return BusMessage(
        routing_key=route(stage, partner, channel),
        body=json.dumps({"order_id": order_id}).encode(),
        headers={"order_id": order_id, **({"document_id": document_id} if document_id else {})},
    )
