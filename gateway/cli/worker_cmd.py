"""`ordergate worker`: consume pipeline stages until SIGTERM, then drain and exit."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Annotated

import typer

from gateway.cli.output import fail
from gateway.observability import configure_logging, start_metrics_server
from gateway.pipeline.runtime import ALL_STAGES
from gateway.service import GatewayService
from gateway.settings import get_settings

log = logging.getLogger("ordergate.worker")


def worker_command(
    stage: Annotated[
        list[str] | None,
        typer.Option(help=f"Stage to consume (repeatable): {', '.join(ALL_STAGES)}. Default: all."),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Messages in flight per stage (default ORDERGATE_PREFETCH).")
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port (any path, e.g. /metrics).")
    ] = None,
    metrics_host: Annotated[
        str, typer.Option(help="Address for --metrics-port (0.0.0.0 for a scraper on another host).")
    ] = "127.0.0.1",
) -> None:
    """Consume pipeline stages. SIGTERM or Ctrl-C stops taking messages, finishes and acknowledges the
    ones in flight, and exits; a worker whose broker connection cannot be restored exits with code 75
    so its supervisor restarts it."""
    stages = tuple(stage or ALL_STAGES)
    unknown = sorted(set(stages) - set(ALL_STAGES))
    if unknown:
        fail(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(ALL_STAGES)}", code=2)
    settings = get_settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"prefetch": concurrency})
    configure_logging()  # ORDERGATE_LOG_FORMAT=json for JSON lines; ORDERGATE_LOG_LEVEL
    service = GatewayService(settings, stages=stages)
    raise typer.Exit(asyncio.run(_run(service, metrics_port=metrics_port, metrics_host=metrics_host)))


async def _run(
    service: GatewayService, *, metrics_port: int | None = None, metrics_host: str = "127.0.0.1"
) -> int:
    stop = asyncio.Event()
    exit_code = 0
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def fatal(reason: str) -> None:
        nonlocal exit_code
        log.error("bus connection lost for good (%s): exiting for a restart", reason)
        exit_code = 75
        stop.set()

    if hasattr(service.bus, "on_fatal"):
        service.bus.on_fatal = fatal
    # Before start(): a port already taken fails at once; metrics stay up while draining.
    exporter = (
        start_metrics_server(
            service.pipeline.metrics, service.pipeline.backlog, port=metrics_port, host=metrics_host
        )
        if metrics_port is not None
        else None
    )
    try:
        await service.start()
        log.info("worker consuming %s", ", ".join(service.stages))
        try:
            await stop.wait()
        finally:
            log.info("stopping: draining in-flight messages")
            await service.stop()
    finally:
        if exporter is not None:
            exporter.close()
    return exit_code
