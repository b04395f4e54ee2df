"""Prometheus metrics of this process, with queue depths and the outbox backlog measured on scrape."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from gateway.observability.metrics import CONTENT_TYPE, default_metrics, render

router = APIRouter(tags=["observability"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}},
)
async def metrics(request: Request) -> Response:
    pipeline = getattr(getattr(request.app.state, "service", None), "pipeline", None)
    if pipeline is None:  # not started (or an app without the gateway service): counters only
        return Response(render(default_metrics()), media_type=CONTENT_TYPE)
    backlog = await pipeline.backlog.measure()
    return Response(render(pipeline.metrics, backlog), media_type=CONTENT_TYPE)
