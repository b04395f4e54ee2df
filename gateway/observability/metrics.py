"""Prometheus metrics: what the pipeline counts, the backlog measured on scrape, and how to expose both.

- `Metrics` holds the counters and histograms on one `CollectorRegistry`. A process uses
  `default_metrics()` (on prometheus_client's global registry, beside its process and GC collectors);
  tests give a `Pipeline` a `Metrics(CollectorRegistry())` of their own.
- `BacklogProbe` measures queue depths (`bus.depth`) and the outbox backlog (unpublished rows) when a
  scrape asks, each source bounded by a timeout and the result reused for `max_age` seconds, so neither
  a slow broker nor a burst of scrapes can hang `/metrics` or load the database.
- `render(...)` is the API's `/metrics` body; `start_metrics_server(...)` serves the same on a port for
  workers, which have no HTTP server of their own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import start_http_server
from prometheus_client.metrics_core import Metric
from sqlalchemy import func, select

from gateway.bus.base import PARKED_QUEUE, QUEUES
from gateway.observability.probes import bounded
from gateway.storage.models import OutboxMessage

log = logging.getLogger("ordergate.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The classic text exposition format, which every Prometheus version reads."""

OUTCOMES = ("ok", "retry", "parked")
VERDICTS = ("accepted", "failed")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BACKLOG_QUEUES = (*QUEUES, PARKED_QUEUE)


class Metrics:
    """The pipeline's counters and histograms, registered on `registry`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.messages = Counter(
            "ordergate_messages_handled",
            "Messages handled by a stage consumer, by outcome: ok (acknowledged), retry (back after a "
            "delay), parked (given up on).",
            ["stage", "outcome"],
            registry=self.registry,
        )
        self.handler_seconds = Histogram(
            "ordergate_stage_handler_seconds",
            "Time a stage handler took for one message, whatever its outcome.",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.parked = Counter(
            "ordergate_messages_parked",
            "Parked messages recorded for operations, by the stage that gave up on them (includes "
            "messages parked by the bus for exceeding the delivery limit).",
            ["stage"],
            registry=self.registry,
        )
        self.documents = Counter(
            "ordergate_documents_received",
            "Documents given a verdict by the translate stage, by channel and verdict (accepted, failed).",
            ["channel", "verdict"],
            registry=self.registry,
        )
        self.document_failures = Counter(
            "ordergate_document_failures",
            "Failed documents by failure code (the first issue's code; one per failed document).",
            ["code"],
            registry=self.registry,
        )

    def prepare_stage(self, stage: str) -> None:
        """Create a stage's series at zero, so rates and alerts work from the first scrape."""
        for outcome in OUTCOMES:
            self.messages.labels(stage=stage, outcome=outcome)
        self.handler_seconds.labels(stage=stage)

    def observe_message(self, stage: str, outcome: str, seconds: float) -> None:
        self.messages.labels(stage=stage, outcome=outcome).inc()
        self.handler_seconds.labels(stage=stage).observe(seconds)

    def observe_parked(self, stage: str) -> None:
        self.parked.labels(stage=stage).inc()

    def observe_document(self, channel: str, verdict: str, code: str | None = None) -> None:
        self.documents.labels(channel=channel, verdict=verdict).inc()
        if verdict == "failed":
            self.document_failures.labels(code=code or "UNKNOWN").inc()


_default: Metrics | None = None
_default_lock = threading.Lock()


def default_metrics() -> Metrics:
    """The process's metrics, on prometheus_client's global registry (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Metrics(REGISTRY)
        return _default


# -- backlog, measured on scrape -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backlog:
    """One measurement. A source that failed or timed out has `*_ok` false and reports what it had."""

    depths: Mapping[str, int] = field(default_factory=dict)
    outbox: int | None = None
    bus_ok: bool = False
    outbox_ok: bool = False
    measured_at: float = 0.0

    def families(self) -> list[Metric]:
        depth = GaugeMetricFamily(
            "ordergate_queue_depth",
            "Messages ready in a queue (not counting ones waiting for a retry delay), measured on scrape.",
            labels=["queue"],
        )
        for queue, count in self.depths.items():
            depth.add_metric([queue], count)
        up = GaugeMetricFamily(
            "ordergate_backlog_up",
            "1 if the last backlog measurement of a source (bus, outbox) succeeded in time, else 0.",
            labels=["source"],
        )
        up.add_metric(["bus"], 1 if self.bus_ok else 0)
        up.add_metric(["outbox"], 1 if self.outbox_ok else 0)
        families: list[Metric] = [depth, up]
        if self.outbox is not None:
            families.append(
                GaugeMetricFamily(
                    "ordergate_outbox_backlog",
                    "Outbox rows committed but not yet published to the bus, measured on scrape.",
                    value=self.outbox,
                )
            )
        return families


class BacklogProbe:
    """Measures queue depths and the outbox backlog; bounded by `timeout` per source, cached `max_age`."""

    def __init__(
        self,
        bus: Any,
        database: Any,
        *,
        queues: Sequence[str] = BACKLOG_QUEUES,
        timeout: float = 1.0,
        max_age: float = 5.0,
    ) -> None:
        self.bus = bus
        self.database = database
        self.queues = tuple(queues)
        self.timeout = timeout
        self.max_age = max_age
        self._last: Backlog | None = None
        self._lock: asyncio.Lock | None = None
        self._failing: set[str] = set()

    def _fresh(self) -> Backlog | None:
        last = self._last
        if last is not None and time.monotonic() - last.measured_at < self.max_age:
            return last
        return None

    async def measure(self) -> Backlog:
        """A recent measurement, or a new one. Never raises; takes at most about `timeout` seconds
        (plus the wait for a measurement already under way)."""
        cached = self._fresh()
        if cached is not None:
            return cached
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            cached = self._fresh()
            if cached is not None:
                return cached
            depths: dict[str, int] = {}
            (bus_ok, _), (outbox_ok, outbox) = await asyncio.gather(
                self._run("bus", self._depths(depths)), self._run("outbox", self._outbox())
            )
            self._last = Backlog(
                depths=dict(depths),
                outbox=outbox if outbox_ok else None,
                bus_ok=bus_ok,
                outbox_ok=outbox_ok,
                measured_at=time.monotonic(),
            )
            return self._last

    async def _depths(self, into: dict[str, int]) -> None:
        # One queue after the other: a scrape holds at most one connection; what was measured before a
        # timeout is still reported.
        for queue in self.queues:
            into[queue] = int(await self.bus.depth(queue))

    async def _outbox(self) -> int:
        async with self.database.session() as session:
            count = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
            )
        return int(count or 0)

    async def _run(self, source: str, work: Any) -> tuple[bool, Any]:
        try:
            result = await bounded(work, self.timeout)
        except Exception as error:
            if source not in self._failing:  # log the change, not every scrape
                log.warning("backlog: measuring the %s failed: %s: %s", source, type(error).__name__, error)
            self._failing.add(source)
            return False, None
        if source in self._failing:
            log.info("backlog: measuring the %s works again", source)
            self._failing.discard(source)
        return True, result


# -- exposition -----------------------------------------------------------------------------------


class _Joined:
    """Collectors (a registry, a backlog snapshot, …) presented as one."""

    def __init__(self, parts: Iterable[Any]) -> None:
        self.parts = list(parts)

    def collect(self) -> Iterable[Metric]:
        for part in self.parts:
            yield from part.collect()

    def describe(self) -> list[Metric]:
        return []  # no up-front name checks: the parts are registered elsewhere


class _Snapshot:
    def __init__(self, backlog: Backlog) -> None:
        self.backlog = backlog

    def collect(self) -> Iterable[Metric]:
        return self.backlog.families()


def render(metrics: Metrics, backlog: Backlog | None = None) -> bytes:
    """The text exposition of `metrics` (its whole registry) plus the backlog gauges."""
    parts: list[Any] = [metrics.registry]
    if backlog is not None:
        parts.append(_Snapshot(backlog))
    return generate_latest(_Joined(parts))  # type: ignore[arg-type]


class _ThreadedBacklog:
    """The backlog for a scrape served from another thread: measured on the owner's event loop."""

    def __init__(self, probe: BacklogProbe, loop: asyncio.AbstractEventLoop) -> None:
        self.probe = probe
        self.loop = loop

    def collect(self) -> Iterable[Metric]:
        measurement = self.probe.measure()
        try:
            future = asyncio.run_coroutine_threadsafe(measurement, self.loop)
        except RuntimeError:  # the loop is closed: the worker is stopping
            measurement.close()
            return Backlog().families()
        try:
            return future.result(timeout=2 * self.probe.timeout + 0.5).families()
        except Exception:
            future.cancel()
            return Backlog().families()

    def describe(self) -> list[Metric]:
        return []


class MetricsServer:
    """A running `/metrics` HTTP server (prometheus_client's, in a daemon thread)."""

    def __init__(self, server: Any, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)


def start_metrics_server(
    metrics: Metrics, backlog: BacklogProbe | None, *, port: int, host: str = "127.0.0.1"
) -> MetricsServer:
    """Serve `metrics` and the backlog on http://host:port/metrics. Call it from the event loop that owns
    the bus and the database (the backlog is measured there); port 0 picks a free port."""
    exposed = CollectorRegistry()
    exposed.register(_Joined([metrics.registry]))
    if backlog is not None:
        exposed.register(_ThreadedBacklog(backlog, asyncio.get_running_loop()))
    server, thread = start_http_server(port, addr=host, registry=exposed)
    log.info("metrics on http://%s:%d/metrics", host, server.server_address[1])
    return MetricsServer(server, thread)


__all__ = [
    "BACKLOG_QUEUES",
    "CONTENT_TYPE",
    "OUTCOMES",
    "Backlog",
    "BacklogProbe",
    "Metrics",
    "MetricsServer",
    "default_metrics",
    "render",
    "start_metrics_server",
]
