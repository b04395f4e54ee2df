"""The workers' metrics server: the same families on a port of its own, the backlog measured on the
worker's event loop while the scrape runs in the server's thread."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway.bus.base import BusSettings
from gateway.bus.embedded import EmbeddedBus
from gateway.observability.metrics import (
    BACKLOG_QUEUES,
    BacklogProbe,
    Metrics,
    _ThreadedBacklog,
    start_metrics_server,
)
from gateway.storage.database import Database


async def test_the_metrics_server_serves_counters_and_backlog(database: Database, metrics: Metrics) -> None:
    bus = EmbeddedBus(database, settings=BusSettings())
    await bus.connect()
    metrics.prepare_stage("translate")
    metrics.observe_message("translate", "ok", 0.01)
    server = start_metrics_server(metrics, BacklogProbe(bus, database, max_age=0), port=0)
    try:
        url = f"http://127.0.0.1:{server.port}/metrics"
        response = await asyncio.to_thread(httpx.get, url, timeout=10)
    finally:
        server.close()
        await bus.close()
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    [ok] = [
        s
        for s in families["ordergate_messages_handled"].samples
        if s.name.endswith("_total") and s.labels == {"stage": "translate", "outcome": "ok"}
    ]
    assert ok.value == 1
    assert {s.labels["queue"] for s in families["ordergate_queue_depth"].samples} == set(BACKLOG_QUEUES)
    assert [s.value for s in families["ordergate_backlog_up"].samples] == [1, 1]


async def test_a_slow_bus_does_not_hang_the_workers_scrape(database: Database, metrics: Metrics) -> None:
    class _Unreachable:
        async def depth(self, queue: str) -> int:
            await asyncio.sleep(30)
            return 0

    probe = BacklogProbe(_Unreachable(), database, timeout=0.2, max_age=0)
    server = start_metrics_server(metrics, probe, port=0)
    try:
        response = await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{server.port}/metrics", timeout=10)
    finally:
        server.close()
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert [s.value for s in families["ordergate_backlog_up"].samples] == [0, 1]


def test_a_closed_loop_reports_the_backlog_as_down() -> None:
    loop = asyncio.new_event_loop()
    loop.close()
    families = list(_ThreadedBacklog(BacklogProbe(object(), object()), loop).collect())
    [up] = [f for f in families if f.name == "ordergate_backlog_up"]
    assert [s.value for s in up.samples] == [0, 0]
