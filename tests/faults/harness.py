"""The rig the fault tests run the gateway on, and the invariants they check after every fault.

One `Rig` is one deployment: a private PostgreSQL database, a private RabbitMQ namespace, a webhook 3PL
(`webhook.py`), an "API" process role played by the test itself (a `GatewayService` without stages: it
archives documents and its outbox relay announces them, as `ordergate serve` does with a broker), and
`ordergate worker` processes started with `python -m gateway.cli.app worker`. The rig can act as the
workers' supervisor: a worker that exits on its own is restarted and the exit is written to the timeline.

`Rig.verify()` checks what RELIABILITY.md asks after each fault, from the database, the broker and the
3PL's own records; see its docstring.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
from sqlalchemy import func, select

from gateway.bus.base import PARKED_QUEUE, STAGES
from gateway.bus.rabbitmq import RabbitBus
from gateway.service import GatewayService
from gateway.settings import Settings
from gateway.storage import repository as repo
from gateway.storage.models import (
    Destination,
    Dispatch,
    Document,
    Failure,
    OrderEvent,
    OrderRecord,
    OutboxMessage,
    ParkedMessage,
    PartnerRoute,
    ProcessedMessage,
)
from gateway.storage.repository import IdentifierSpec
from tests.faults.webhook import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
BROKER_URL = os.environ.get("ORDERGATE_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
SECRET_ENV = "ORDERGATE_FAULTS_3PL_SECRET"
SECRET = "fault-injection-secret"
RETRY_DELAYS = "[0.2, 0.5, 1]"
TEMPLATE = (FIXTURES / "orders_d96a_basic.edi").read_bytes()
TEMPLATE_SENDER = "5412345000013"
DISPATCHED_EVENTS = ["received", "approved", "routed", "dispatched"]


def edifact_order(index: int, *, sender: str = TEMPLATE_SENDER) -> bytes:
    """One EDIFACT ORDERS interchange with one order, unique per index: interchange reference (UNB and UNZ
    0020) `F<index>`, order number `PO-F<index>`, from `sender` (qualifier 14)."""
    raw = TEMPLATE.replace(b"+ICR0001", f"+F{index:07d}".encode())
    raw = raw.replace(b"PO-4711", f"PO-F{index:06d}".encode())
    raw = raw.replace(f"+{TEMPLATE_SENDER}:14+".encode(), f"+{sender}:14+".encode())
    assert raw.count(f"F{index:07d}".encode()) == 2 and raw.count(f"+{sender}:14+".encode()) == 1
    return raw


def dispatched_at_least(count: int) -> Callable[[dict[str, Any]], bool]:
    """A `Rig.wait_for` check: at least `count` orders dispatched."""
    return lambda counts: counts["orders"].get("dispatched", 0) >= count


class Worker:
    """One `ordergate worker` process (restartable); its output goes to a log file per run."""

    def __init__(
        self, rig: Rig, name: str, stages: Sequence[str], env: Mapping[str, str], supervised: bool
    ) -> None:
        self.rig = rig
        self.name = name
        self.stages = tuple(stages)
        self.env = dict(env)
        self.supervised = supervised
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.logs: list[Path] = []
        self.exits: list[int] = []  # every exit, planned or not, in order
        self.stopping = False
        self.started_at = 0.0

    def start(self, **env: str) -> None:
        """Start a new run; `env` applies to this run only (a failpoint, say)."""
        assert self.process is None or self.process.poll() is not None, f"{self.name} is running"
        self.runs += 1
        log = self.rig.workdir / f"{self.name}.{self.runs}.log"
        argv = [sys.executable, "-m", "gateway.cli.app", "worker"]
        for stage in self.stages:
            argv += ["--stage", stage]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                argv,
                env={**self.rig.worker_env, **self.env, **env},
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.logs.append(log)
        self.stopping = False
        self.started_at = time.monotonic()
        self.rig.note(
            f"{self.name} run {self.runs} started (pid {self.process.pid}){' ' + str(env) if env else ''}"
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self, run: int | None = None) -> str:
        path = self.logs[(run or self.runs) - 1]
        return path.read_text(errors="replace") if path.exists() else ""

    async def ready(self, timeout: float = 30.0) -> None:
        """Wait until this run consumes (its log says so)."""
        deadline = time.monotonic() + timeout
        while "worker consuming" not in self.log():
            if not self.running:
                raise AssertionError(f"{self.name} exited before consuming:\n{_tail(self.log())}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} not consuming after {timeout:g} s:\n{_tail(self.log())}")
            await asyncio.sleep(0.05)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.process is not None
        self.stopping = sig != signal.SIGKILL or not self.supervised
        self.process.send_signal(sig)
        self.rig.note(f"{self.name} sent {signal.Signals(sig).name}")

    async def wait(self, timeout: float) -> int:
        """Wait for this run to exit; its exit code."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} still running after {timeout:g} s:\n{_tail(self.log())}")
            await asyncio.sleep(0.05)
        return self.process.returncode

    async def stop(self, timeout: float = 45.0) -> int:
        """Graceful stop: wait until this run consumes (a SIGTERM before the worker has installed its
        handler just kills it, -15, with nothing in flight), SIGTERM (drain), wait; SIGKILL if it does
        not finish in time. The exit code."""
        assert self.process is not None
        if self.running:
            self.stopping = True  # the supervisor leaves it alone from here
            with contextlib.suppress(AssertionError):
                await self.ready()
        if not self.running:
            return self.process.returncode
        self.kill(signal.SIGTERM)
        try:
            code = await self.wait(timeout)
        except AssertionError:
            self.kill(signal.SIGKILL)
            code = await self.wait(10.0)
        self.exits.append(code)
        self.rig.note(f"{self.name} stopped with {code}")
        return code


@dataclass
class Rig:
    workdir: Path
    database_url: str
    namespace: str
    max_attempts: int = 50
    prefetch: int = 10
    latency: float = 0.01
    started: float = field(default_factory=time.monotonic)
    timeline: list[str] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    documents: dict[str, tuple[int, str]] = field(default_factory=dict)  # document id → (index, partner)
    supervisor_restarts: list[tuple[str, int]] = field(default_factory=list)  # (worker, exit code)

    def __post_init__(self) -> None:
        self.settings = Settings(
            home=self.workdir / "home",
            database_url=self.database_url,
            broker_url=BROKER_URL,
            bus_namespace=self.namespace,
            retry_delays=(0.2, 0.5, 1.0),
            max_attempts=self.max_attempts,
            prefetch=self.prefetch,
        )
        self.worker_env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERGATE_")} | {
            "ORDERGATE_HOME": str(self.workdir / "home"),
            "ORDERGATE_DATABASE_URL": self.database_url,
            "ORDERGATE_BROKER_URL": BROKER_URL,
            "ORDERGATE_BUS_NAMESPACE": self.namespace,
            "ORDERGATE_RETRY_DELAYS": RETRY_DELAYS,
            "ORDERGATE_MAX_ATTEMPTS": str(self.max_attempts),
            "ORDERGATE_PREFETCH": str(self.prefetch),
            SECRET_ENV: SECRET,
            "PYTHONUNBUFFERED": "1",
        }
        self.api = GatewayService(self.settings, stages=())
        self.receiver = WebhookReceiver(SECRET, latency=self.latency)
        self._supervisor: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        self.receiver.__enter__()
        await self.api.start()  # migrates first, so the workers never race each other's migration

    async def close(self) -> None:
        await self.stop_supervising()
        for worker in self.workers:
            if worker.running:
                worker.kill(signal.SIGKILL)
                with contextlib.suppress(AssertionError):
                    await worker.wait(10.0)
        try:
            if isinstance(self.api.bus, RabbitBus) and self.api.bus._connection is not None:
                await asyncio.wait_for(self.api.bus.delete_topology(), 15.0)
        finally:
            await asyncio.wait_for(self.api.stop(), 60.0)
            self.receiver.__exit__()

    @property
    def database(self):  # type: ignore[no-untyped-def]
        return self.api.database

    @property
    def bus(self) -> RabbitBus:
        assert isinstance(self.api.bus, RabbitBus)
        return self.api.bus

    def note(self, text: str) -> None:
        self.timeline.append(f"{time.monotonic() - self.started:6.1f}s  {text}")

    def report(self) -> str:
        return "\n".join(self.timeline)

    # -- set-up -------------------------------------------------------------------------------------

    async def add_partner(
        self, partner_id: str, sender: str, destination_id: str, url: str, *, timeout: float = 2.0
    ) -> None:
        async with self.database.transaction() as session:
            await repo.upsert_partner(
                session, partner_id, name=partner_id, identifiers=[IdentifierSpec("edifact", "14", sender)]
            )
            if await session.get(Destination, destination_id) is None:
                session.add(
                    Destination(
                        id=destination_id,
                        kind="webhook",
                        url=url,
                        secret_env=SECRET_ENV,
                        timeout_seconds=timeout,
                        created_at=repo.utcnow(),
                    )
                )
            await session.flush()
            session.add(PartnerRoute(partner_id=partner_id, destination_id=destination_id))

    def add_worker(
        self, name: str, *, stages: Sequence[str] = (), supervised: bool = True, **env: str
    ) -> Worker:
        worker = Worker(self, name, stages, env, supervised)
        self.workers.append(worker)
        return worker

    async def start_workers(self, *workers: Worker) -> None:
        for worker in workers or tuple(self.workers):
            worker.start()
        await asyncio.gather(*(w.ready() for w in workers or self.workers))

    async def stop_workers(self) -> None:
        """Stop the supervisor, then every worker gracefully; each must drain and exit 0."""
        await self.stop_supervising()
        for worker in self.workers:
            code = await worker.stop()
            assert code == 0, f"{worker.name} exited {code} on SIGTERM:\n{_tail(worker.log(), 60)}"

    # -- supervision --------------------------------------------------------------------------------

    def supervise(self) -> None:
        """Restart any supervised worker that exits without being asked to (as systemd or compose do)."""
        self._supervisor = asyncio.create_task(self._supervise(), name="fault-supervisor")

    async def stop_supervising(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None

    async def _supervise(self) -> None:
        """Restart at once after a first exit, then back off (0.5 s, 1 s, 2 s … at most 4 s) while a
        worker keeps exiting within 10 s of its start, as systemd's restart limits would."""
        pending: dict[str, float] = {}  # worker → when to restart it
        quick_exits: Counter[str] = Counter()
        while True:
            await asyncio.sleep(0.1)
            now = time.monotonic()
            for worker in self.workers:
                if not worker.supervised or worker.stopping or worker.process is None:
                    continue
                code = worker.process.poll()
                if code is None:
                    continue
                if worker.name not in pending:
                    worker.exits.append(code)
                    self.supervisor_restarts.append((worker.name, code))
                    lived = now - worker.started_at
                    quick_exits[worker.name] = quick_exits[worker.name] + 1 if lived < 10 else 0
                    delay = (
                        min(0.25 * 2 ** quick_exits[worker.name], 4.0) if quick_exits[worker.name] else 0.0
                    )
                    pending[worker.name] = now + delay
                    self.note(
                        f"supervisor: {worker.name} exited with {code} after {lived:.1f} s; restart in {delay:g} s"
                    )
                if now >= pending[worker.name]:
                    del pending[worker.name]
                    worker.start()

    # -- traffic ------------------------------------------------------------------------------------

    async def submit(
        self,
        indices: Iterable[int],
        *,
        partner: str = "hexa",
        sender: str = TEMPLATE_SENDER,
        pace: float = 0.0,
    ) -> list[str]:
        """Archive and announce one document per index (as the API does), `pace` seconds apart."""
        ids = []
        for index in indices:
            document_id = await self.api.submit(
                edifact_order(index, sender=sender),
                channel="api",
                filename=f"f{index}.edi",
                partner_id=partner,
            )
            self.documents[document_id] = (index, partner)
            ids.append(document_id)
            if pace:
                await asyncio.sleep(pace)
        if len(ids) > 1:
            self.note(f"submitted {len(ids)} documents for {partner}")
        return ids

    async def counts(self) -> dict[str, Any]:
        async with self.database.session() as session:
            orders = dict(
                (
                    await session.execute(
                        select(OrderRecord.status, func.count()).group_by(OrderRecord.status)
                    )
                ).all()
            )
            documents = dict(
                (await session.execute(select(Document.status, func.count()).group_by(Document.status))).all()
            )
            parked = await session.scalar(select(func.count()).select_from(ParkedMessage))
        return {"orders": orders, "documents": documents, "parked": parked or 0}

    async def dispatched(self) -> int:
        return int((await self.counts())["orders"].get("dispatched", 0))

    async def wait_for(
        self,
        what: str,
        check: Callable[[dict[str, Any]], bool],
        timeout: float,
        *,
        tolerate_errors: bool = False,
    ) -> dict[str, Any]:
        """Poll the counts until `check` holds; fail with a diagnosis after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | str = {}
        while True:
            try:
                last = await self.counts()
                if check(last):
                    self.note(f"reached: {what} {last}")
                    return last
            except Exception as error:
                if not tolerate_errors:
                    raise
                last = f"{type(error).__name__}: {error}"
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not reached within {timeout:g} s: {what}; last {last}\n{await self.diagnose()}"
                )
            await asyncio.sleep(0.2)

    async def diagnose(self) -> str:
        lines = ["timeline:", self.report()]
        with contextlib.suppress(Exception):
            async with self.database.session() as session:
                states = (
                    await session.execute(select(Dispatch.state, func.count()).group_by(Dispatch.state))
                ).all()
                lines.append(f"dispatch states: {dict(states)}")  # type: ignore[arg-type]
                unpublished = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.published_at.is_(None))
                )
                lines.append(f"outbox unpublished: {unpublished}")
        with contextlib.suppress(Exception):
            lines.append(f"queues: {await self.queue_depths()}")
        lines.append(f"3PL statuses: {dict(self.receiver.statuses())}, applied {len(self.receiver.applied)}")
        for worker in self.workers:
            for run in range(1, worker.runs + 1):
                lines.append(f"--- {worker.name} run {run} (tail) ---\n{_tail(worker.log(run), 25)}")
        return "\n".join(lines)

    async def queue_depths(self) -> dict[str, int]:
        """Ready messages in every queue of the namespace (stage queues through `bus.depth`)."""
        depths = {q: await self.bus.depth(q) for q in (*STAGES, "events", PARKED_QUEUE)}
        _, queues = self.bus.topology()
        connection = await aio_pika.connect(BROKER_URL)
        try:
            channel = await connection.channel()
            for name in queues:
                short = name.removeprefix(self.namespace + ".")
                if short not in depths:
                    declared = await channel.declare_queue(name, passive=True)
                    depths[short] = int(declared.declaration_result.message_count or 0)
        finally:
            await connection.close()
        return depths

    # -- the invariants -----------------------------------------------------------------------------

    async def verify(self, *, parked_partners: Iterable[str] = (), parked_reason: str = "") -> dict[str, Any]:
        """After a fault, with every worker stopped (drained), check:

        - every submitted document has exactly one terminal state (here: accepted, one order each) and no
          failure; no other document exists;
        - every order of a dispatching partner is `dispatched`, with exactly the events received →
          approved → routed → dispatched; every order of a `parked_partners` partner stayed `routed`, its
          dispatch FAILED, and exactly one parked message with a reason containing `parked_reason`;
        - one dispatch row per order, key `<order>:1`, SENT; the 3PL applied exactly those keys, each
          once, and saw one body per key whatever the resends; no bad signature;
        - each consumer recorded exactly one processed message per unit of work, and the outbox holds
          exactly the messages one pass of the pipeline causes, all published (so nothing ran twice);
        - every parked message has a reason and a stage, and nothing else was parked;
        - stage, parked, retry and dead queues are empty; `events` (no consumer yet) holds at least one
          message per dispatched order.
        """
        parked_partners = set(parked_partners)
        async with self.database.session() as session:
            documents = {d.id: d for d in (await session.scalars(select(Document))).all()}
            orders = {o.id: o for o in (await session.scalars(select(OrderRecord))).all()}
            events: dict[str, list[str]] = {}
            for order_id, status in (
                await session.execute(select(OrderEvent.order_id, OrderEvent.status).order_by(OrderEvent.id))
            ).all():
                events.setdefault(order_id, []).append(status)
            dispatches = (await session.scalars(select(Dispatch))).all()
            failures = (await session.scalars(select(Failure))).all()
            parked = (await session.scalars(select(ParkedMessage))).all()
            processed = Counter(
                dict(
                    (
                        await session.execute(
                            select(ProcessedMessage.consumer, func.count()).group_by(
                                ProcessedMessage.consumer
                            )
                        )
                    ).all()
                )  # type: ignore[arg-type]
            )
            outbox_total = await session.scalar(select(func.count()).select_from(OutboxMessage))
            outbox_unpublished = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
            )

        # Documents: exactly the submitted ones, each with one terminal state.
        assert set(documents) == set(self.documents), "documents appeared or vanished"
        states = Counter(d.status for d in documents.values())
        assert set(states) <= {"accepted", "failed"}, f"documents not in a terminal state: {states}"
        assert states == {"accepted": len(self.documents)}, f"document states {states}"
        assert not failures, f"unexpected failures: {[(f.document_id, f.code) for f in failures][:5]}"
        by_document = Counter(o.document_id for o in orders.values())
        assert by_document == Counter(set(documents)), "not exactly one order per document"
        for order in orders.values():
            index, partner = self.documents[order.document_id]
            assert order.order_number == f"PO-F{index:06d}" and order.partner_id == partner

        # Orders, dispatches, the 3PL.
        to_park = {o.id for o in orders.values() if o.partner_id in parked_partners}
        to_send = set(orders) - to_park
        wrong = {
            o.id: (o.status, events.get(o.id))
            for o in orders.values()
            if (o.id in to_send and (o.status != "dispatched" or events.get(o.id) != DISPATCHED_EVENTS))
            or (o.id in to_park and (o.status != "routed" or events.get(o.id) != DISPATCHED_EVENTS[:3]))
        }
        assert not wrong, (
            f"{len(wrong)} orders with the wrong status or events, e.g. {list(wrong.items())[:3]}"
        )
        assert Counter(d.order_id for d in dispatches) == Counter(set(orders)), "not one dispatch per order"
        for dispatch in dispatches:
            assert dispatch.idempotency_key == f"{dispatch.order_id}:1" and dispatch.version == 1
            expected = "FAILED" if dispatch.order_id in to_park else "SENT"
            assert dispatch.state == expected, f"dispatch {dispatch.order_id} is {dispatch.state}"
        keys = {f"{o}:1" for o in to_send}
        receiver = self.receiver
        assert set(receiver.applied) == keys, (
            f"3PL applied {len(receiver.applied)} keys, expected {len(keys)}; "
            f"missing {sorted(keys - set(receiver.applied))[:3]}, extra {sorted(set(receiver.applied) - keys)[:3]}"
        )
        assert set(receiver.applications.values()) == {1}, "a key was applied twice"
        assert all(len(b) == 1 for b in receiver.bodies.values()), "a key was resent with a different body"
        assert receiver.bad_signatures == 0
        for key, body in receiver.applied.items():
            assert f"{body['order_id']}:{body['dispatch_version']}" == key

        # Nothing ran twice: one processed message per unit of work, and the outbox is exactly one pass.
        expected_processed = {
            "intake": len(documents),
            "translate": len(documents),
            "review": len(orders),
            "route": len(orders),
            "dispatch": len(to_send),
        }
        assert dict(processed) == {k: v for k, v in expected_processed.items() if v}, f"processed {processed}"
        assert outbox_unpublished == 0, f"{outbox_unpublished} outbox rows never published"
        assert outbox_total == 2 * len(documents) + 3 * len(orders) + len(to_send), (
            f"outbox rows {outbox_total}"
        )

        # Parking.
        for row in parked:
            assert row.reason and row.reason != "parked" and row.stage, f"parked without a reason: {row.id}"
            assert parked_reason in row.reason, row.reason
        parked_orders = Counter(row.order_id for row in parked)
        assert parked_orders == Counter(to_park), f"parked {len(parked)} messages, expected {len(to_park)}"
        assert all(row.stage == "dispatch" for row in parked)

        # Queues.
        depths = await self.queue_depths()
        leftover = {q: n for q, n in depths.items() if q != "events" and n}
        assert not leftover, f"messages left in queues: {leftover}"
        assert depths["events"] >= len(to_send), f"events queue {depths['events']} < {len(to_send)}"

        seen = receiver.keys_seen()
        summary = {
            "documents": len(documents),
            "dispatched": len(to_send),
            "parked": len(parked),
            "3pl_requests": sum(seen.values()),
            "3pl_keys_seen_more_than_once": sum(1 for n in seen.values() if n > 1),
            "3pl_statuses": dict(receiver.statuses()),
            "3pl_requests_cut_off": receiver.incomplete,
            "dispatch_rows_with_bus_retries": sum(1 for d in dispatches if d.attempts > 1),
            "events_queue": depths["events"],
            "supervisor_restarts": self.supervisor_restarts,
        }
        self.note(f"verified: {summary}")
        return summary


async def run_command(*argv: str, timeout: float = 60.0) -> str:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    text = out.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {process.returncode}: {text}")
    return text


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if await check():
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(0.2)


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])
