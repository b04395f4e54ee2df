"""The application factory: one process serving the API and watching the inbox folders."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.core.errors import GatewayError
from gateway.service import GatewayService
from gateway.settings import Settings, get_settings
from partner_portal.routes import as2 as as2_routes
from partner_portal.routes import audit, documents, failures, health, home, inbound, metrics, orders, partners

log = logging.getLogger("ordergate.api")


def create_app(settings: Settings | None = None, *, watch_inbox: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = GatewayService.for_serve(settings) if watch_inbox else GatewayService(settings)
        await service.start()
        app.state.settings = settings
        app.state.database = service.database
        app.state.service = service
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title="ordergate",
        version="0.1.0",
        summary="Order integration gateway: documents in, canonical orders out.",
        lifespan=lifespan,
    )

    @app.exception_handler(GatewayError)
    async def gateway_error(_: Request, error: GatewayError) -> JSONResponse:
        return JSONResponse(
            status_code=422, content={"error": error.to_issue().model_dump(exclude_none=True)}
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(
            status_code=500,
            content={"error": {"code": "INTERNAL", "message": "internal error; see server log"}},
        )

    for module in (documents, orders, failures, audit, partners, health, metrics, home):
        app.include_router(module.router)
    app.include_router(inbound.router)
    app.include_router(as2_routes.router)
    return app
