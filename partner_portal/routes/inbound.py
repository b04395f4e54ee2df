"""Pushed channels' HTTP address: `POST /inbound/{partner}/{channel}` (Shopify and WooCommerce webhooks).

Only HTTP lives here: the channel is looked up before the body is read, the body is read up to the size
limit and no further, and `gateway.push.PushReceiver` does the rest. The answer comes after the archive
commit; no request gets a traceback, and a request that fails verification learns nothing but 401.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from gateway.observability.metrics import default_metrics
from gateway.push import PushReceiver, Reply, push_metrics
from partner_portal.deps import ServiceDep, SettingsDep

router = APIRouter(prefix="/inbound", tags=["inbound"])


async def read_limited(request: Request, limit: int) -> bytes | int | None:
    """The body, or its size (None: unknown) once it is known to exceed `limit`; nothing beyond the
    limit is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return int(declared)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


@router.post(
    "/{partner}/{channel}",
    summary="Receive a pushed delivery (webhook) on a partner's channel",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    },
    responses={
        200: {"description": "Committed to the archive (or a repeat of a committed delivery, or a ping)"},
        400: {"description": "Authentic but not a delivery this channel takes (a header is missing)"},
        401: {"description": "Not verified (signature, shop); not archived"},
        404: {"description": "No enabled push channel at this address"},
        409: {"description": "The same delivery is being taken in by another request; retry"},
        413: {"description": "Larger than ORDERGATE_MAX_DOCUMENT_BYTES; recorded as a refused document"},
        503: {"description": "Not stored (database, channel set-up); retry later"},
    },
)
async def receive_push(
    partner: str, channel: str, request: Request, service: ServiceDep, settings: SettingsDep
) -> Response:
    pipeline = getattr(service, "pipeline", None)
    metrics = getattr(pipeline, "metrics", None) or default_metrics()
    receiver = PushReceiver(
        service,
        max_document_bytes=settings.max_document_bytes,
        keep_days=settings.duplicate_window_days,
        metrics=push_metrics(metrics.registry),
    )
    peer = request.client.host if request.client else None
    row = await receiver.find(partner, channel)
    if isinstance(row, Reply):
        reply = row
    else:
        body = await read_limited(request, settings.max_document_bytes)
        if isinstance(body, bytes):
            reply = await receiver.handle(row, body, request.headers, peer=peer)
        else:
            reply = await receiver.too_large(row, body, peer=peer)
    return Response(content=reply.body, status_code=reply.status, headers=dict(reply.headers))
