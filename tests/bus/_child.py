"""A consumer in a process of its own, for crash tests: it takes messages and never settles them.

    python -m tests.bus._child embedded <database url> <queue> <lease seconds>
    python -m tests.bus._child rabbitmq <amqp url> <queue> <namespace>

Prints `ready` once subscribed, then the message id of every message it takes, and waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys

from gateway.bus.base import Bus, BusMessage
from tests.bus.contract import SETTINGS


async def main(kind: str, url: str, queue: str, extra: str) -> None:
    bus: Bus
    if kind == "embedded":
        from gateway.bus.embedded import EmbeddedBus
        from gateway.storage.database import Database

        bus = EmbeddedBus(Database(url), settings=SETTINGS, lease_seconds=float(extra), poll_interval=0.02)
    else:
        from gateway.bus.rabbitmq import RabbitBus

        bus = RabbitBus(url, namespace=extra, settings=SETTINGS)
    await bus.connect()

    async def hold(message: BusMessage) -> None:
        print(message.message_id, flush=True)
        await asyncio.Event().wait()

    await bus.subscribe(queue, hold)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
