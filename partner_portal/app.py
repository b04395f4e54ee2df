"""The application factory: one process serving the API and watching the inbox folders."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from connectors.folder import FolderConnector
from gateway.core.errors import GatewayError
from gateway.inbox import watch
from gateway.ingest import Ingestor
from gateway.settings import Settings, get_settings
from gateway.storage.database import Database
from partner_portal.routes import documents, failures, health, home, orders, partners

log = logging.getLogger("ordergate.api")


def create_app(settings: Settings | None = None, *, watch_inbox: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.resolved_database_url)
        await database.migrate()
        app.state.settings = settings
        app.state.database = database
        app.state.ingestor = Ingestor(database)
        settings.inbox_root.mkdir(parents=True, exist_ok=True)
        watcher = None
        if watch_inbox:
            connector = FolderConnector(settings.inbox_root, max_bytes=settings.max_document_bytes)
            watcher = asyncio.create_task(
                watch(connector, app.state.ingestor, interval=settings.inbox_poll_seconds), name="inbox"
            )
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            await database.close()

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

    for module in (documents, orders, failures, partners, health, home):
        app.include_router(module.router)
    return app
