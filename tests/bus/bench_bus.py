"""Bus throughput, measured against a baseline in the same run (not a test: `python -m tests.bus.bench_bus`).

- RabbitBus.publish, batches of 1,000 messages of 2 KB, vs raw aio-pika publishing the same batches
  pipelined (all confirms in flight, gathered) on a channel with the same settings, to the same queue;
- RabbitBus consume (prefetch 50, handler does nothing);
- EmbeddedBus publish (batches of 1,000) and consume (prefetch 50) on SQLite and on PostgreSQL.

Medians of `--runs` runs. Needs RabbitMQ and PostgreSQL on 127.0.0.1 (each part skips when absent).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable

import aio_pika
import asyncpg

from gateway.bus.base import BusMessage, BusSettings
from gateway.bus.embedded import EmbeddedBus
from gateway.bus.rabbitmq import RabbitBus
from gateway.storage.database import Database
from tests.conftest import POSTGRES_ADMIN_DSN, _reachable

BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"
BODY = b"x" * 2048
BATCH = 1000


def batch() -> list[BusMessage]:
    return [BusMessage("translate.acme.edi", BODY, headers={"partner": "acme"}) for _ in range(BATCH)]


async def consume_all(bus: RabbitBus | EmbeddedBus, count: int) -> float:
    """Seconds to consume `count` messages already waiting in translate."""
    done = asyncio.Event()
    seen = 0

    async def handler(_: BusMessage) -> None:
        nonlocal seen
        seen += 1
        if seen == count:
            done.set()

    start = time.perf_counter()
    subscription = await bus.subscribe("translate", handler, prefetch=50)
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.perf_counter() - start
    await subscription.stop()
    return elapsed


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await action()
    return time.perf_counter() - start


async def rabbit(runs: int, batches: int) -> None:
    if not _reachable("127.0.0.1", 5672):
        print("RabbitMQ absent: skipped")
        return
    bus = RabbitBus(BROKER_URL, namespace=f"bench-{uuid.uuid4().hex[:8]}", settings=BusSettings())
    await bus.connect()
    raw_connection = await aio_pika.connect(BROKER_URL)
    try:
        raw_channel = await raw_connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await raw_channel.get_exchange(bus.name("work"))

        async def raw_batch(messages: list[BusMessage]) -> None:
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            m.body,
                            headers={"partner": "acme", "x-og-attempt": 1},
                            message_id=m.message_id,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        m.routing_key,
                        mandatory=True,
                    )
                    for m in messages
                )
            )

        bus_rates: list[float] = []
        raw_rates: list[float] = []
        consume_rates: list[float] = []
        cpu: dict[str, float] = {"raw": 0.0, "bus": 0.0}
        publishers: dict[str, tuple[list[float], Callable[[list[BusMessage]], Awaitable[None]]]] = {
            "raw": (raw_rates, raw_batch),
            "bus": (bus_rates, bus.publish),
        }
        for run in range(runs):
            # Alternate the order and drain the queue after each: a longer queue publishes slower.
            for name in ("raw", "bus") if run % 2 == 0 else ("bus", "raw"):
                rates, publish = publishers[name]
                work = [batch() for _ in range(batches)]
                started = time.process_time()
                seconds = sum([await timed(lambda b=b, p=publish: p(b)) for b in work])  # type: ignore[misc]
                cpu[name] += time.process_time() - started
                rates.append(BATCH * batches / seconds)
                consume_rates.append(BATCH * batches / await consume_all(bus, BATCH * batches))
        bus_rate, raw_rate = statistics.median(bus_rates), statistics.median(raw_rates)
        print(f"RabbitMQ publish, batches of {BATCH} x 2 KB, quorum queue, confirms gathered:")
        total = runs * batches * BATCH
        for label, name, rate, rates in (
            ("raw aio-pika pipelined", "raw", raw_rate, raw_rates),
            ("RabbitBus.publish", "bus", bus_rate, bus_rates),
        ):
            print(
                f"  {label:23s} {rate:8.0f} msg/s  ({rate / raw_rate:.2f} x raw; runs {[round(r) for r in rates]}; "
                f"client CPU {cpu[name] / total * 1e6:.0f} us/msg)"
            )
        print(f"RabbitBus consume, prefetch 50    {statistics.median(consume_rates):8.0f} msg/s")
    finally:
        await raw_connection.close()
        await bus.delete_topology()
        await bus.close()


async def embedded(name: str, url: str, runs: int, batches: int) -> None:
    database = Database(url)
    await database.migrate()
    bus = EmbeddedBus(database, poll_interval=0.05)
    await bus.connect()
    try:
        publish_rates, consume_rates = [], []
        for _ in range(runs):
            work = [batch() for _ in range(batches)]
            seconds = sum([await timed(lambda b=b: bus.publish(b)) for b in work])  # type: ignore[misc]
            publish_rates.append(BATCH * batches / seconds)
            consume_rates.append(BATCH * batches / await consume_all(bus, BATCH * batches))
        print(
            f"EmbeddedBus on {name:10s} publish {statistics.median(publish_rates):8.0f} msg/s, "
            f"consume (prefetch 50) {statistics.median(consume_rates):8.0f} msg/s"
        )
    finally:
        await bus.close()
        await database.close()


async def postgres(runs: int, batches: int) -> None:
    if not _reachable("127.0.0.1", 5432):
        print("PostgreSQL absent: skipped")
        return
    name = f"ordergate_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        await embedded("PostgreSQL", f"{base}/{name}", runs, batches)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batches", type=int, default=10)
    args = parser.parse_args()
    await rabbit(args.runs, args.batches)
    with tempfile.TemporaryDirectory() as folder:
        await embedded("SQLite", f"sqlite+aiosqlite:///{folder}/bench.db", args.runs, args.batches)
    await postgres(args.runs, args.batches)


if __name__ == "__main__":
    asyncio.run(main())
