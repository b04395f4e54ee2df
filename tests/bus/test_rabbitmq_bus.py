"""The bus contract on RabbitMQ; plus returns, the broker's delivery limit, reconnection and the watchdog.

Every test declares its own namespace and deletes its queues and exchanges afterwards. Connection loss
is produced by a TCP proxy between the bus and the broker (`tcp_proxy.py`), so no test restarts the
broker that others share.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
from yarl import URL

from gateway.bus.base import HEADER_PARKED_STAGE, HEADER_REASON, Bus, BusSettings
from gateway.bus.rabbitmq import RabbitBus
from gateway.core.errors import RoutingError
from tests.bus.contract import CLOSE_TIMEOUT, SETTINGS, BusContract, Inbox, eventually, message
from tests.bus.tcp_proxy import TcpProxy
from tests.conftest import need_service

pytestmark = pytest.mark.rabbitmq

BROKER_URL = os.environ.get("ORDERGATE_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")


class RabbitFactory:
    """Makes connected buses in one namespace; closes them and deletes the namespace afterwards."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.made: list[RabbitBus] = []

    async def __call__(
        self, settings: BusSettings | None = None, url: str = BROKER_URL, **options: Any
    ) -> Bus:
        return await self.make(settings, url, **options)

    async def make(
        self, settings: BusSettings | None = None, url: str = BROKER_URL, **options: Any
    ) -> RabbitBus:
        options.setdefault("close_timeout", CLOSE_TIMEOUT)
        options.setdefault("publish_timeout", 10.0)
        bus = RabbitBus(url, namespace=self.namespace, settings=settings or SETTINGS, **options)
        self.made.append(bus)
        await asyncio.wait_for(bus.connect(), 10.0)
        return bus

    async def cleanup(self) -> None:
        for bus in self.made:
            await asyncio.wait_for(bus.close(), CLOSE_TIMEOUT + 15.0)
        exchanges: set[str] = set()
        queues: set[str] = set()
        for bus in self.made:
            names = bus.topology()
            exchanges.update(names[0])
            queues.update(names[1])
        connection = await aio_pika.connect(BROKER_URL)
        try:
            channel = await connection.channel()
            for queue in sorted(queues):
                await channel.queue_delete(queue)
            for exchange in sorted(exchanges):
                await channel.exchange_delete(exchange)
        finally:
            await connection.close()


@pytest.fixture
async def rabbit() -> AsyncIterator[RabbitFactory]:
    url = URL(BROKER_URL)
    need_service("RabbitMQ", url.host or "127.0.0.1", url.port or 5672)
    factory = RabbitFactory(f"test-{uuid.uuid4().hex[:12]}")
    try:
        yield factory
    finally:
        await factory.cleanup()


class TestRabbitBus(BusContract):
    @pytest.fixture
    async def bus_factory(self, rabbit: RabbitFactory) -> RabbitFactory:
        return rabbit

    @pytest.fixture
    def child_argv(self, rabbit: RabbitFactory) -> list[str]:
        return ["rabbitmq", BROKER_URL, "translate", rabbit.namespace]


async def test_a_returned_message_raises(rabbit: RabbitFactory) -> None:
    """If a stage queue lost its binding, mandatory publishing turns the return into an error."""
    bus = await rabbit.make()
    connection = await aio_pika.connect(BROKER_URL)
    try:
        channel = await connection.channel()
        queue = await channel.get_queue(bus.name("review"))
        await queue.unbind(bus.name("work"), "review.#")
    finally:
        await connection.close()
    with pytest.raises(RoutingError, match="unroutable"):
        await bus.publish([message("review")])


async def test_the_broker_parks_a_message_past_its_delivery_limit(rabbit: RabbitFactory) -> None:
    """A message that keeps coming back unsettled (crashing consumers) is dead-lettered to parked."""
    bus = await rabbit.make(delivery_limit=2)
    parked = Inbox()
    await bus.subscribe("parked", parked)
    sent = message()
    await bus.publish([sent])
    connection = await aio_pika.connect(BROKER_URL)
    deliveries = 0
    try:
        channel = await connection.channel()
        queue = await channel.get_queue(bus.name("translate"))

        async def crash(incoming: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal deliveries
            deliveries += 1
            await incoming.nack(requeue=True)

        await queue.consume(crash)
        (got,) = await parked.wait(1, timeout=8.0)
    finally:
        await connection.close()
    assert deliveries == 3
    assert got.message_id == sent.message_id
    assert got.routing_key == "parked." + sent.routing_key
    assert "dead-lettered by RabbitMQ" in got.headers[HEADER_REASON]
    assert got.headers[HEADER_PARKED_STAGE] == "translate"


async def test_consumers_come_back_after_the_connection_is_cut(rabbit: RabbitFactory) -> None:
    proxy = TcpProxy("127.0.0.1", URL(BROKER_URL).port or 5672)
    port = await proxy.start()
    fatal: list[str] = []
    try:
        bus = await rabbit.make(
            url=str(URL(BROKER_URL).with_port(port)),
            reconnect_interval=0.2,
            fatal_after=30.0,
            on_fatal=fatal.append,
        )
        inbox = Inbox()
        await bus.subscribe("translate", inbox)
        await bus.publish([message()])
        await inbox.wait(1)

        proxy.cut()

        async def recovered() -> bool:
            return await bus.healthy()

        await asyncio.sleep(0.3)
        await eventually(recovered, timeout=10.0, what="connection and consumer restored")
        after = message()
        deadline = time.monotonic() + 10.0
        while True:  # a publish racing the reconnection may fail: the caller retries it
            try:
                await asyncio.wait_for(bus.publish([after]), 3.0)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

        # At least once: the first message may come again if its ack was lost in the cut; what
        # matters is that the consumer is back and the new message arrives.
        async def arrived() -> bool:
            return after.message_id in {m.message_id for m in inbox.messages}

        await eventually(arrived, timeout=5.0, what="the message published after the cut")
        assert fatal == [] and bus.fatal_reason is None
    finally:
        await proxy.close()


async def test_the_watchdog_gives_up_when_the_broker_stays_away(rabbit: RabbitFactory) -> None:
    await rabbit.make()  # declares the namespace through a direct connection, for clean-up
    proxy = TcpProxy("127.0.0.1", URL(BROKER_URL).port or 5672)
    port = await proxy.start()
    fatal: list[str] = []
    try:
        bus = await rabbit.make(
            url=str(URL(BROKER_URL).with_port(port)),
            reconnect_interval=0.2,
            fatal_after=1.0,
            on_fatal=fatal.append,
        )
        await bus.subscribe("translate", Inbox())
        assert await bus.healthy()
        proxy.refusing = True
        proxy.cut()
        await asyncio.wait_for(bus.fatal_event.wait(), 6.0)
        assert fatal and "not restored within 1 s" in fatal[0]
        assert bus.fatal_reason == fatal[0]
    finally:
        await proxy.close()
