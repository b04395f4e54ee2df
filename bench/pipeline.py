"""`ordergate bench pipeline`: end-to-end orders/s and latency, beside raw RabbitMQ publishing.

What is measured, all in one run on this machine:

- **baseline**: raw aio-pika publishing with publisher confirms pipelined (`window` confirms in flight,
  never awaited one by one), persistent 2 KB messages, into a quorum queue of a temporary namespace that
  is deleted afterwards; in a fresh (spawned) interpreter, median of `baseline_runs` runs.
- **runs**: for each bus — `embedded` (queues as rows of one SQLite file) and `rabbitmq` (RabbitMQ, with
  a private PostgreSQL database created and dropped here) — and each worker count, fresh processes
  running `ordergate worker` (every stage, default concurrency) against a fresh database:

  (a) throughput with a backlog: `orders` one-order EDIFACT documents are archived and announced
      first (the announcements published), then the workers start; orders/s is counted from the first
      worker's start to the arrival of the last order at the local 3PL;
  (b) latency at a steady offered load: `rate` documents per second for `seconds`, submitted the way
      the API does (`GatewayService.submit`, whose relay publishes the announcement at once); the latency
      of an order runs from the start of its document's submit to its arrival at the 3PL.

The 3PL is an asyncio HTTP/1.1 server in this process (keep-alive, HMAC signature checked, first arrival
per order id recorded with `time.perf_counter`); submits happen in this process too, so both ends of a
latency share one clock. For the embedded bus the workers are separate processes on the same SQLite file,
as they would be deployed (WAL mode, one writer at a time; each process finds the others' rows by polling).

Everything is bounded: every wait has a deadline, a run whose dispatches stall is cut short and reported
incomplete, worker processes are stopped (SIGTERM, then SIGKILL) and databases and namespaces removed
whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import math
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_POSTGRES_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
BUSES = ("embedded", "rabbitmq")
PARTNER = "benchbuyer"
SENDER_GLN = "5412345000013"
RECEIVER_GLN = "5790000274017"
DESTINATION = "bench3pl"
SECRET_ENV = "ORDERGATE_BENCH_3PL_SECRET"
SECRET = "bench-secret"
STALL_SECONDS = 45.0  # no new dispatch for this long: the run is cut short
WORKER_STOP_GRACE = 20.0

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# -- the local 3PL ------------------------------------------------------------------------------------

_RESPONSES = {
    200: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    400: b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    401: b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
    411: b"HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
}


class Fast3PL:
    """A webhook receiver on 127.0.0.1: a minimal HTTP/1.1 server on an asyncio protocol (keep-alive,
    Content-Length bodies). Checks the HMAC signature, answers 200 at once and records the first arrival
    time of each order id (from the `Idempotency-Key`, `<order id>:<version>`)."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret.encode()
        self.arrivals: dict[str, float] = {}
        self.earlier: set[str] = set()  # orders of earlier phases: a late copy is a duplicate, not news
        self.requests = 0
        self.rejected = 0
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.BaseTransport] = set()
        self._target = 0
        self._reached = asyncio.Event()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/orders"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Receiver(self), "127.0.0.1", 0, backlog=512)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for transport in list(self._connections):
                transport.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5.0)
            self._server = None

    def reset(self) -> None:
        """Start a new phase: count arrivals afresh (orders seen before count only as duplicates)."""
        self.earlier.update(self.arrivals)
        self.arrivals = {}
        self.requests = self.rejected = 0

    @property
    def duplicates(self) -> int:
        return self.requests - self.rejected - len(self.arrivals)

    def receive(self, now: float, headers: dict[str, str], body: bytes) -> int:
        self.requests += 1
        key = headers.get("idempotency-key", "")
        if self.secret:
            timestamp = headers.get("x-ordergate-timestamp", "")
            expected = (
                "sha256="
                + hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            )
            if not hmac.compare_digest(expected, headers.get("x-ordergate-signature", "")):
                self.rejected += 1
                return 401
        order_id = key.rsplit(":", 1)[0]
        if not order_id:
            self.rejected += 1
            return 400
        if order_id not in self.earlier:
            self.arrivals.setdefault(order_id, now)
        if self._target and len(self.arrivals) >= self._target:
            self._reached.set()
        return 200

    async def wait_for(
        self,
        count: int,
        *,
        timeout: float,
        stall: float = STALL_SECONDS,
        alive: Callable[[], str | None] = lambda: None,
    ) -> str | None:
        """Wait until `count` distinct orders have arrived. Returns None, or why it stopped waiting:
        the deadline, no progress for `stall` seconds, or `alive()` reporting a dead worker."""
        self._target = count
        self._reached.clear()
        if len(self.arrivals) >= count:
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen, last_progress = len(self.arrivals), loop.time()
        try:
            while len(self.arrivals) < count:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._reached.wait(), 0.5)
                now = loop.time()
                if len(self.arrivals) != seen:
                    seen, last_progress = len(self.arrivals), now
                if len(self.arrivals) >= count:
                    break
                problem = alive()
                if problem:
                    return problem
                if now >= deadline:
                    return f"timed out after {timeout:.0f} s with {seen} of {count} orders dispatched"
                if now - last_progress >= stall:
                    return f"no dispatch for {stall:.0f} s; {seen} of {count} orders dispatched"
            return None
        finally:
            self._target = 0


class _Receiver(asyncio.Protocol):
    def __init__(self, owner: Fast3PL) -> None:
        self.owner = owner
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None  # None once closing
        self.connection: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connection = transport
        self.owner._connections.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._connections.discard(self.connection)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "content-length" not in headers:
                self._reply(411, close=True)
                return
            total = end + 4 + int(headers["content-length"])
            if len(self.buffer) < total:
                return
            body = bytes(self.buffer[end + 4 : total])
            del self.buffer[:total]
            status = self.owner.receive(now, headers, body) if lines[0].startswith("POST ") else 400
            self._reply(status, close=status == 400 or headers.get("connection", "").lower() == "close")

    def _reply(self, status: int, *, close: bool) -> None:
        assert self.transport is not None
        self.transport.write(_RESPONSES[status])
        if close:
            self.transport.close()
            self.transport = None


# -- baseline: raw aio-pika -----------------------------------------------------------------------------


def _measure_baseline(url: str, messages: int, window: int, runs: int) -> list[float]:
    """Publish rates (msg/s) of `runs` runs; in a fresh interpreter."""
    return asyncio.run(_baseline(url, messages, window, runs))


async def _baseline(url: str, messages: int, window: int, runs: int) -> list[float]:
    import aio_pika

    namespace = f"ogbench-{uuid.uuid4().hex[:10]}"
    body = os.urandom(1024).hex().encode()  # 2 KB
    connection = await aio_pika.connect(url, timeout=15)
    rates: list[float] = []
    try:
        channel = await connection.channel(publisher_confirms=True)
        for run in range(runs):
            name = f"{namespace}.baseline.{run}"
            await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
            try:
                async with asyncio.timeout(max(60.0, messages / 200)):
                    elapsed = await _publish_pipelined(channel.default_exchange, name, body, messages, window)
                rates.append(messages / elapsed)
            finally:
                cleanup = await connection.channel()
                try:
                    await cleanup.queue_delete(name)
                finally:
                    await cleanup.close()
    finally:
        await connection.close()
    return rates


async def _publish_pipelined(
    exchange: Any, routing_key: str, body: bytes, messages: int, window: int
) -> float:
    """Publish `messages` persistent messages keeping `window` confirms in flight; the seconds taken."""
    import aio_pika

    in_flight = asyncio.Semaphore(window)
    pending: set[asyncio.Future[Any]] = set()
    failures: list[BaseException] = []

    def settled(future: asyncio.Future[Any]) -> None:
        pending.discard(future)
        in_flight.release()
        if not future.cancelled() and future.exception() is not None:
            failures.append(future.exception())  # type: ignore[arg-type]

    start = time.perf_counter()
    for n in range(messages):
        await in_flight.acquire()
        future = asyncio.ensure_future(
            exchange.publish(
                aio_pika.Message(body, message_id=str(n), delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=routing_key,
            )
        )
        pending.add(future)
        future.add_done_callback(settled)
    while pending:
        await asyncio.wait(set(pending))
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"baseline: {len(failures)} publishes failed: {failures[0]!r}")
    return elapsed


def _in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result(timeout=600)


# -- documents ------------------------------------------------------------------------------------------


class DocumentMaker:
    """Distinct one-order EDIFACT ORDERS interchanges from partner PARTNER (distinct order numbers and
    interchange control references across the whole benchmark)."""

    def __init__(self, lines: int = 10) -> None:
        self.lines = lines
        self.next = 0
        self.tag = uuid.uuid4().hex[:6].upper()

    def make(self, count: int) -> list[bytes]:
        from bench.orders import make_order
        from mappings.edifact.render import render_orders

        documents = []
        for _ in range(count):
            index = self.next
            self.next += 1
            documents.append(
                render_orders(
                    [make_order(index, lines=self.lines, format="edifact")],
                    sender_id=SENDER_GLN,
                    sender_qualifier="14",
                    receiver_id=RECEIVER_GLN,
                    receiver_qualifier="14",
                    control_ref=f"{self.tag}{index:07d}",
                )
            )
        return documents


# -- environments: a database (and a namespace) of their own ------------------------------------------


@dataclass
class _Environment:
    bus: str
    folder: Path
    database_url: str
    broker_url: str | None
    namespace: str

    def settings(self) -> Any:
        from gateway.settings import Settings

        return Settings(
            home=self.folder,
            database_url=self.database_url,
            broker_url=self.broker_url,
            bus_namespace=self.namespace,
        )

    def worker_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERGATE_")}
        env |= {
            "ORDERGATE_HOME": str(self.folder),
            "ORDERGATE_DATABASE_URL": self.database_url,
            "ORDERGATE_BUS_NAMESPACE": self.namespace,
            SECRET_ENV: SECRET,
            "PYTHONUNBUFFERED": "1",
        }
        if self.broker_url:
            env["ORDERGATE_BROKER_URL"] = self.broker_url
        return env


async def _admin_sql(dsn: str, sql: str, *, retry_for: float = 0.0) -> None:
    """One statement on the maintenance database; retried for `retry_for` seconds (a clean-up must
    survive a server that is restarting)."""
    import asyncpg  # type: ignore[import-untyped]

    deadline = time.monotonic() + retry_for
    while True:
        try:
            connection = await asyncpg.connect(dsn, timeout=10)
            try:
                await connection.execute(sql, timeout=60)
            finally:
                await connection.close()
            return
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(1.0)


@contextlib.asynccontextmanager
async def _environment(
    bus: str, folder: Path, *, broker_url: str, admin_dsn: str, progress: Progress
) -> AsyncIterator[_Environment]:
    namespace = f"ogbench-{uuid.uuid4().hex[:10]}"
    if bus == "embedded":
        yield _Environment(bus, folder, f"sqlite+aiosqlite:///{folder / 'ordergate.db'}", None, namespace)
        return
    name = f"ordergate_bench_{uuid.uuid4().hex[:12]}"
    await _admin_sql(admin_dsn, f'CREATE DATABASE "{name}"')
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield _Environment(bus, folder, f"{base}/{name}", broker_url, namespace)
    finally:
        try:
            await _delete_namespace(broker_url, namespace)
        except Exception as error:  # report, and still drop the database
            progress(f"  could not delete RabbitMQ namespace {namespace}: {error}")
        await _admin_sql(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', retry_for=60.0)


async def _delete_namespace(broker_url: str, namespace: str) -> None:
    from gateway.bus.rabbitmq import RabbitBus

    bus = RabbitBus(broker_url, namespace=namespace)
    await asyncio.wait_for(bus.connect(), 30)
    try:
        await asyncio.wait_for(bus.delete_topology(), 30)
    finally:
        await bus.close()


async def _configure(database: Any, url: str) -> None:
    """Partner PARTNER (sender GLN), a webhook destination at the 3PL, and the route between them."""
    from gateway.storage import repository as repo
    from gateway.storage.models import Destination, PartnerRoute
    from gateway.storage.repository import IdentifierSpec

    async with database.transaction() as session:
        await repo.upsert_partner(
            session, PARTNER, name="Bench Buyer", identifiers=[IdentifierSpec("edifact", "14", SENDER_GLN)]
        )
        session.add(
            Destination(
                id=DESTINATION,
                kind="webhook",
                url=url,
                secret_env=SECRET_ENV,
                timeout_seconds=10,
                created_at=repo.utcnow(),
            )
        )
        await session.flush()
        session.add(PartnerRoute(partner_id=PARTNER, destination_id=DESTINATION))


# -- worker processes ---------------------------------------------------------------------------------


def _proc_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _proc_peak_rss_mb(pid: int) -> float:
    """VmHWM of a live process (its own peak, not inherited over exec like ru_maxrss)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


class _Workers:
    """`ordergate worker` processes (every stage), logs in the run's folder."""

    def __init__(self, count: int, env: dict[str, str], folder: Path, concurrency: int | None = None) -> None:
        self.count = count
        self.concurrency = concurrency
        self.env = env
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def start(self) -> None:
        for n in range(self.count):
            log = self.folder / f"worker-{n}.log"
            self.logs.append(log)
            with open(log, "wb") as output:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "gateway.cli.app", "worker"]
                        + ([f"--concurrency={self.concurrency}"] if self.concurrency else []),
                        env=self.env,
                        cwd=self.folder,
                        stdin=subprocess.DEVNULL,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                )

    def problem(self) -> str | None:
        for n, process in enumerate(self.processes):
            if process.poll() is not None:
                return f"worker {n} exited with code {process.returncode}: {self.tail(n)}"
        return None

    def tail(self, n: int, lines: int = 5) -> str:
        try:
            text = self.logs[n].read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def log_errors(self) -> int:
        """Lines logged at ERROR or above (or tracebacks) by the workers: a run with any deserves a look."""
        count = 0
        for log in self.logs:
            with contextlib.suppress(OSError):
                for line in log.read_text(errors="replace").splitlines():
                    count += " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
        return count

    def keep_logs(self, folder: Path, label: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for n, log in enumerate(self.logs):
            with contextlib.suppress(OSError):
                shutil.copyfile(log, folder / f"{label}-worker-{n}.log")

    def cpu_seconds(self) -> float:
        return sum(_proc_cpu_seconds(p.pid) for p in self.processes if p.poll() is None)

    def peak_rss_mb(self) -> float:
        return max((_proc_peak_rss_mb(p.pid) for p in self.processes if p.poll() is None), default=0.0)

    async def stop(self, grace: float = WORKER_STOP_GRACE) -> None:
        """SIGTERM (the worker drains and exits), then SIGKILL whatever is left after `grace` seconds."""
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while any(p.poll() is None for p in self.processes) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=5)


# -- one run ------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def _submitter(environment: _Environment) -> Any:
    """A gateway process's intake side, as `serve` runs it with a broker: no stage, only the relay."""
    from gateway.service import GatewayService

    service = GatewayService(environment.settings(), stages=())
    await asyncio.wait_for(service.start(), 60)
    return service


async def _unpublished(database: Any) -> int:
    from sqlalchemy import func, select

    from gateway.storage.models import OutboxMessage

    async with database.session() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
            )
            or 0
        )


async def _submit_all(service: Any, documents: Sequence[bytes], *, parallel: int) -> dict[str, float]:
    """Submit every document, `parallel` at a time; the start time of each document's submit."""
    started: dict[str, float] = {}
    queue = iter(documents)

    async def submitter() -> None:
        for raw in queue:
            at = time.perf_counter()
            started[await service.submit(raw, channel="api", partner_id=PARTNER)] = at

    await asyncio.gather(*(submitter() for _ in range(parallel)))
    return started


async def _submit_steadily(
    service: Any, documents: Sequence[bytes], rate: float, *, max_in_flight: int = 200
) -> tuple[dict[str, float], float, list[str]]:
    """Submit one document every 1/rate seconds (each in its own task, so a slow commit does not delay
    the schedule); the start time of each accepted submit, the offered rate achieved, and the errors of
    the submits that failed (as an API call would have answered 500: the load goes on)."""
    started: dict[str, float] = {}
    errors: list[str] = []
    in_flight = asyncio.Semaphore(max_in_flight)
    tasks: list[asyncio.Task[None]] = []

    async def one(raw: bytes) -> None:
        try:
            at = time.perf_counter()
            started[await service.submit(raw, channel="api", partner_id=PARTNER)] = at
        except Exception as error:
            errors.append(f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
        finally:
            in_flight.release()

    begin = time.perf_counter() + 0.05
    for n, raw in enumerate(documents):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await asyncio.wait_for(in_flight.acquire(), 60)
        tasks.append(asyncio.create_task(one(raw)))
    await asyncio.wait_for(asyncio.gather(*tasks), 120)
    span = max(started.values()) - min(started.values()) if len(started) > 1 else 0.0
    offered = (len(started) - 1) / span if span > 0 else float(len(started))
    return started, offered, errors


async def _order_documents(database: Any) -> dict[str, str]:
    from sqlalchemy import select

    from gateway.storage.models import OrderRecord

    async with database.session() as session:
        return {
            row.id: row.document_id
            for row in await session.execute(select(OrderRecord.id, OrderRecord.document_id))
        }


def _new_result(bus: str, workers: int, orders: int) -> dict[str, Any]:
    return {
        "bus": bus,
        "workers": workers,
        "orders_per_s": None,
        "p50_ms": None,
        "p99_ms": None,
        "orders": orders,
        "dispatched": 0,
        "steady_orders": 0,
        "steady_dispatched": 0,
        "duplicates": 0,
        "problems": [],
    }


async def _run_one(
    result: dict[str, Any],
    *,
    rate: float,
    seconds: float,
    maker: DocumentMaker,
    three_pl: Fast3PL,
    broker_url: str,
    admin_dsn: str,
    progress: Progress,
    logs: Path | None = None,
    concurrency: int | None = None,
) -> None:
    """One bus and worker count; fills `result` as it goes, so a failure keeps what was measured."""
    bus, workers, orders = result["bus"], result["workers"], result["orders"]
    problems: list[str] = result["problems"]
    backlog = maker.make(orders)
    steady = maker.make(max(1, round(rate * seconds)))
    with tempfile.TemporaryDirectory(prefix=f"ordergate-bench-{bus}-") as temp:
        folder = Path(temp)
        async with _environment(
            bus, folder, broker_url=broker_url, admin_dsn=admin_dsn, progress=progress
        ) as env:
            pool = _Workers(workers, env.worker_env(), folder, concurrency)
            service = None
            try:
                # (a) the backlog: archived and announced, the announcements published, no worker yet.
                service = await _submitter(env)
                await _configure(service.database, three_pl.url)
                submit_start = time.perf_counter()
                await asyncio.wait_for(_submit_all(service, backlog, parallel=4), max(120.0, orders / 10))
                deadline = time.monotonic() + 120
                while await _unpublished(service.database):
                    if time.monotonic() > deadline:
                        raise TimeoutError("the submitter's relay did not publish the backlog in 120 s")
                    await asyncio.sleep(0.05)
                result["submit_per_s"] = round(orders / (time.perf_counter() - submit_start), 1)
                await service.stop()
                service = None
                progress(f"  {bus}, {workers} worker(s): backlog of {orders} submitted; starting the workers")

                three_pl.reset()
                busy_before = _busy_jiffies()
                start = time.perf_counter()
                pool.start()
                stopped = await three_pl.wait_for(orders, timeout=max(180.0, orders / 5), alive=pool.problem)
                busy_after = _busy_jiffies()
                result["dispatched"] = len(three_pl.arrivals)
                result["duplicates"] += three_pl.duplicates
                if stopped:
                    problems.append(f"throughput: {stopped}")
                if three_pl.arrivals:
                    first, last = min(three_pl.arrivals.values()), max(three_pl.arrivals.values())
                    if not stopped:
                        result["orders_per_s"] = round(orders / (last - start), 1)
                    result["first_dispatch_s"] = round(first - start, 2)
                busy, total = busy_after[0] - busy_before[0], busy_after[1] - busy_before[1]
                result["machine_cpu_busy"] = round(busy / total, 2) if total else None
                progress(
                    f"  {bus}, {workers} worker(s): {result['dispatched']}/{orders} dispatched"
                    + (f", {result['orders_per_s']} orders/s" if result["orders_per_s"] else f" ({stopped})")
                )

                # (b) a steady offered load, the workers already running (if they got through (a)).
                if not stopped and not pool.problem():
                    service = await _submitter(env)
                    three_pl.reset()
                    cpu_before, busy_before = pool.cpu_seconds(), _busy_jiffies()
                    started, offered, errors = await _submit_steadily(service, steady, rate)
                    if errors:
                        result["submit_errors"] = len(errors)
                        problems.append(
                            f"latency: {len(errors)} of {len(steady)} submits failed: {errors[0]}"
                        )
                    stopped = await three_pl.wait_for(
                        len(started), timeout=max(60.0, len(steady) / 5), alive=pool.problem
                    )
                    # Warm workers, every order of the phase: CPU per order without start-up costs.
                    cpu = pool.cpu_seconds() - cpu_before
                    result["worker_cpu_ms_per_order"] = round(cpu * 1000 / max(1, len(three_pl.arrivals)), 1)
                    busy_after = _busy_jiffies()
                    busy, total = busy_after[0] - busy_before[0], busy_after[1] - busy_before[1]
                    result["steady_machine_cpu_busy"] = round(busy / total, 2) if total else None
                    result["steady_orders"] = len(steady)
                    result["steady_dispatched"] = len(three_pl.arrivals)
                    result["offered_per_s"] = round(offered, 1)
                    result["duplicates"] += three_pl.duplicates
                    if stopped:
                        problems.append(f"latency: {stopped}")
                    documents = await _order_documents(service.database)
                    latencies = [
                        (arrived - started[documents[order_id]]) * 1000
                        for order_id, arrived in three_pl.arrivals.items()
                        if documents.get(order_id) in started
                    ]
                    if latencies and not stopped:
                        result["p50_ms"] = round(percentile(latencies, 0.50), 1)
                        result["p99_ms"] = round(percentile(latencies, 0.99), 1)
                        result["max_ms"] = round(max(latencies), 1)
                    progress(
                        f"  {bus}, {workers} worker(s): steady {offered:.0f}/s, "
                        f"{result['steady_dispatched']}/{len(steady)} dispatched, "
                        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
                    )
                result["worker_peak_rss_mb"] = round(pool.peak_rss_mb(), 1)
                problem = pool.problem()
                if problem:
                    problems.append(problem)
            finally:
                if service is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(service.stop(), 30)
                await pool.stop()
                result["worker_log_errors"] = pool.log_errors()
                if logs is not None:
                    pool.keep_logs(logs, f"{bus}-{workers}w")


# -- the whole benchmark ------------------------------------------------------------------------------


class _LogCounter(logging.Handler):
    """While the benchmark runs, what the gateway code in this process (the submitters' relays) logs
    goes to `<logs>/bench.log` (or nowhere) instead of the terminal, and warnings are counted."""

    def __init__(self, logs: Path | None) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.file: logging.Handler | None = None
        root = logging.getLogger()
        self._saved = root.handlers[:], root.level
        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
            self.file = logging.FileHandler(logs / "bench.log")
            self.file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.handlers = [self] + ([self.file] if self.file else [])
        root.setLevel(logging.INFO if self.file else logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1

    def close(self) -> None:
        root = logging.getLogger()
        root.handlers, level = self._saved
        root.setLevel(level)
        if self.file is not None:
            self.file.close()
        super().close()


def run_pipeline_bench(
    *,
    orders: int = 2_000,
    rate: float = 100.0,
    seconds: float = 10.0,
    buses: Sequence[str] = BUSES,
    worker_counts: Sequence[int] = (1, 2),
    baseline_messages: int = 10_000,
    baseline_window: int = 100,
    baseline_runs: int = 3,
    broker_url: str | None = None,
    postgres_admin_dsn: str | None = None,
    progress: Progress = _quiet,
    logs: Path | None = None,
    concurrency: int | None = None,
) -> dict[str, Any]:
    unknown = sorted(set(buses) - set(BUSES))
    if unknown:
        raise ValueError(f"unknown bus(es) {', '.join(unknown)}; choose from {', '.join(BUSES)}")
    if orders < 1 or rate <= 0 or seconds <= 0 or any(n < 1 for n in worker_counts):
        raise ValueError("orders, rate, seconds and worker counts must be positive")
    if concurrency is not None and concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    broker = broker_url or os.environ.get("ORDERGATE_BROKER_URL") or DEFAULT_BROKER_URL
    admin = postgres_admin_dsn or os.environ.get("ORDERGATE_BENCH_POSTGRES_DSN") or DEFAULT_POSTGRES_ADMIN_DSN

    load = [round(x, 2) for x in os.getloadavg()]
    log_counter = _LogCounter(logs)
    progress(
        f"baseline: raw aio-pika, {baseline_messages} x 2 KB persistent, {baseline_window} confirms in flight"
    )
    baseline_rates = _in_fresh_process(
        _measure_baseline, broker, baseline_messages, baseline_window, baseline_runs
    )
    baseline = statistics.median(baseline_rates)
    progress(f"baseline: {baseline:,.0f} msg/s (runs {[round(r) for r in baseline_rates]})")

    try:
        runs = asyncio.run(
            _run_all(
                orders=orders,
                rate=rate,
                seconds=seconds,
                buses=buses,
                worker_counts=worker_counts,
                broker_url=broker,
                admin_dsn=admin,
                progress=progress,
                logs=logs,
                concurrency=concurrency,
            )
        )
    finally:
        log_counter.close()
    for run in runs:
        run["ratio_to_baseline"] = round(run["orders_per_s"] / baseline, 5) if run["orders_per_s"] else None
    return {
        "baseline_msgs_per_s": round(baseline, 1),
        "runs": runs,
        "baseline": {
            "messages": baseline_messages,
            "confirms_in_flight": baseline_window,
            "runs_msgs_per_s": [round(r, 1) for r in baseline_rates],
        },
        "orders": orders,
        "steady_rate": rate,
        "steady_seconds": seconds,
        "worker_concurrency": concurrency,
        "cpu_count": os.cpu_count(),
        "load_average_at_start": load,
        "bench_log_warnings": log_counter.count,
    }


async def _run_all(
    *,
    orders: int,
    rate: float,
    seconds: float,
    buses: Sequence[str],
    worker_counts: Sequence[int],
    broker_url: str,
    admin_dsn: str,
    progress: Progress,
    logs: Path | None,
    concurrency: int | None,
) -> list[dict[str, Any]]:
    maker = DocumentMaker()
    three_pl = Fast3PL()
    await three_pl.start()
    runs = []
    try:
        for bus in buses:
            for workers in worker_counts:
                result = _new_result(bus, workers, orders)
                runs.append(result)
                try:
                    await _run_one(
                        result,
                        rate=rate,
                        seconds=seconds,
                        maker=maker,
                        three_pl=three_pl,
                        broker_url=broker_url,
                        admin_dsn=admin_dsn,
                        progress=progress,
                        logs=logs,
                        concurrency=concurrency,
                    )
                except Exception as error:  # a service restarted under us, say: report it, run the rest
                    result["problems"].append(f"{type(error).__name__}: {error}")
                    progress(f"  {bus}, {workers} worker(s): failed: {type(error).__name__}: {error}")
    finally:
        await three_pl.close()
    return runs


def _fraction(ratio: float | None) -> str:
    if not ratio:
        return "-"
    return f"1/{1 / ratio:,.0f}" if ratio < 1 else f"{ratio:.2f}x"


def format_report(report: dict[str, Any]) -> str:
    baseline = report["baseline_msgs_per_s"]
    lines = [
        f"pipeline end to end: backlog of {report['orders']} one-order EDIFACT documents; "
        f"steady load {report['steady_rate']:g} orders/s for {report['steady_seconds']:g} s; "
        f"{report['cpu_count']} cores (load average at start {report['load_average_at_start'][0]})",
        f"baseline: raw aio-pika publish, 2 KB persistent, quorum queue, "
        f"{report['baseline']['confirms_in_flight']} confirms in flight: {baseline:,.0f} msg/s",
        "",
        f"{'bus':<9} {'workers':>7} {'orders/s':>9} {'vs baseline':>12} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'dispatched':>11} {'steady':>9} {'cpu ms/order':>13} {'peak RSS':>9}",
    ]
    for run in report["runs"]:

        def show(value: Any) -> str:
            return "-" if value is None else f"{value:,}" if isinstance(value, int | float) else str(value)

        lines.append(
            f"{run['bus']:<9} {run['workers']:>7} {show(run['orders_per_s']):>9} "
            f"{_fraction(run.get('ratio_to_baseline')):>12} {show(run['p50_ms']):>8} {show(run['p99_ms']):>8} "
            f"{run['dispatched']:>5}/{run['orders']:<5} {run['steady_dispatched']:>4}/{run['steady_orders']:<4} "
            f"{show(run.get('worker_cpu_ms_per_order')):>13} {show(run.get('worker_peak_rss_mb')):>6} MB"
        )
    problems = [(run, p) for run in report["runs"] for p in run["problems"]]
    if problems:
        lines.append("")
        lines += [f"INCOMPLETE {run['bus']}, {run['workers']} worker(s): {p}" for run, p in problems]
    duplicates = sum(run["duplicates"] for run in report["runs"])
    if duplicates:
        lines.append(f"note: {duplicates} duplicate deliveries reached the 3PL (same idempotency key)")
    return "\n".join(lines)


__all__ = ["Fast3PL", "format_report", "percentile", "run_pipeline_bench"]
