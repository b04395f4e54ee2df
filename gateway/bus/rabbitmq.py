"""The bus on RabbitMQ (aio-pika), built so that no default can lose a message.

Topology, declared idempotently by `connect()`; every name starts with the namespace (default `og`):

    exchange <ns>.work    topic    published to; queue <ns>.<q> bound `<q>.#` for every q in QUEUES,
                                   <ns>.parked bound `parked.#`
    exchange <ns>.retry   headers  <ns>.retry.<ms> bound on `og-retry-delay-ms=<ms>`, one queue per delay tier
                                   (a per-queue TTL only expires at the head, so tiers cannot share a queue)
    exchange <ns>.dlx     fanout   → <ns>.parked: where the stage queues dead-letter (delivery limit)
    exchange <ns>.dead    fanout   → <ns>.dead: where the parking queue dead-letters; never consumed

Every queue is a durable quorum queue with an explicit `x-delivery-limit` (RabbitMQ 3.10 has no default),
a dead-letter exchange and `x-dead-letter-strategy=at-least-once` with `x-overflow=reject-publish`
(both from 3.10): the broker dead-letters with its own confirms, so neither the poison-message path nor
the TTL hop of a retry queue can drop a message (classic dead-lettering republishes without confirms).
A retry tier has `x-message-ttl=<ms>` and dead-letters to <ns>.work without a dead-letter routing key,
so the message comes back on its original routing key, to its own stage.

Publishing: persistent, `message_id` set, mandatory, on a channel with publisher confirms and
`on_return_raises=True`; a batch is written at once and its confirms gathered (never one round trip per
message). A return, a nack or a timeout raises, and then none of the batch may be assumed sent.

Consuming: one channel per subscription, manual acks, per-consumer prefetch (quorum queues have no
global QoS). Each delivery runs in its own task; the outcome is settled the contract's way: return → ack;
retry → publish the copy (attempt + 1, history) to its tier, wait for the confirm, then ack; park →
publish to parked with reason, stage and history, confirm, then ack. If that publish fails the original
is nacked back to its queue after a pause, where the delivery limit bounds the loop. `message.process()`
is never used (it rejects without requeue).

Robustness: `connect_robust` restores channels, queues and consumers after a connection loss, but has
known gaps (consumers not restored, #231/#626/#563); the bus keeps strong references to its channels and
subscriptions, and a watchdog checks every second that the connection is up and every consumer is
registered on an open channel. Unhealthy for `fatal_after` seconds → `fatal_reason` is set,
`fatal_event` fires and `on_fatal(reason)` is called once: the worker should exit and let its
supervisor restart it. A handler still running when its channel is lost finishes; its settlement then
fails (the broker has already requeued the message), so it is delivered again: consumers are idempotent.
Handlers must finish well inside RabbitMQ's 30-minute consumer ack timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

import aio_pika
from aio_pika import DeliveryMode, ExchangeType
from aio_pika.abc import (
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from aio_pika.exceptions import DeliveryError, PublishError

from gateway.bus.base import (
    HEADER_ATTEMPT,
    HEADER_HISTORY,
    HEADER_PARKED_STAGE,
    HEADER_REASON,
    PARKED_QUEUE,
    QUEUES,
    BusMessage,
    BusSettings,
    Handler,
    decode_history,
    encode_history,
)
from gateway.bus.factory import check_queue, check_routable, parked_routing_key, plan_failure
from gateway.core.errors import RoutingError, TransportError
from gateway.storage.ids import new_id

log = logging.getLogger(__name__)

# Not `x-…`: a headers exchange ignores headers starting with `x-` when matching.
DELAY_HEADER = "og-retry-delay-ms"
DEAD_QUEUE = "dead"
PUBLISH_WINDOW = 1000  # confirms in flight per batch chunk
_BROKER_HEADERS = frozenset({"x-death", "x-delivery-count", DELAY_HEADER})


def _delay_ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class RabbitSubscription:
    """A consumer on its own channel. Holds strong references to everything it needs."""

    def __init__(
        self,
        bus: RabbitBus,
        queue: str,
        handler: Handler,
        prefetch: int,
        channel: AbstractRobustChannel,
    ) -> None:
        self.queue = queue
        self.prefetch = prefetch
        self._bus = bus
        self._handler = handler
        self._channel = channel
        self._amqp_queue: AbstractQueue | None = None
        self.consumer_tag = f"og-{queue}-{secrets.token_hex(6)}"
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._shutdown_task: asyncio.Task[None] | None = None

    async def _start(self) -> None:
        await self._channel.set_qos(prefetch_count=self.prefetch)
        self._amqp_queue = await self._bus._declare_queue(self._channel, self.queue)
        await self._amqp_queue.consume(self._on_message, no_ack=False, consumer_tag=self.consumer_tag)

    async def _on_message(self, incoming: AbstractIncomingMessage) -> None:
        if self._stopping:
            return  # left unacked: the broker takes it back when this channel closes
        task = asyncio.create_task(self._bus._handle(self.queue, self._handler, incoming))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def consuming(self) -> bool:
        """Is this consumer registered on an open channel right now?"""
        try:
            underlay = await asyncio.wait_for(self._channel.get_underlay_channel(), 1.0)
        except Exception:
            return False
        consumers = getattr(underlay, "consumers", {})  # aiormq.Channel's registered consumers
        return not underlay.is_closed and self.consumer_tag in consumers

    async def stop(self) -> None:
        """Cancel the consumer, let the running handlers finish and settle them, close the channel."""
        await self._shutdown(None)

    async def _shutdown(self, grace: float | None) -> None:
        if self._shutdown_task is None:
            self._shutdown_task = asyncio.create_task(self._do_shutdown())
        try:
            await asyncio.wait_for(asyncio.shield(self._shutdown_task), grace)
        except TimeoutError:
            # Past the grace period: cancel; their messages go back to the queue with the channel.
            for task in list(self._tasks):
                task.cancel()
            await asyncio.shield(self._shutdown_task)

    async def _do_shutdown(self) -> None:
        self._stopping = True
        connected = self._bus._connected()
        if self._amqp_queue is not None and connected:
            try:
                await asyncio.wait_for(self._amqp_queue.cancel(self.consumer_tag), 5.0)
            except Exception as exc:
                log.warning("rabbitmq bus: cancelling consumer %s failed: %s", self.consumer_tag, exc)
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        try:
            await asyncio.wait_for(self._channel.close(), 5.0 if connected else 0.5)
        except Exception as exc:
            log.warning("rabbitmq bus: closing the %s channel failed: %s", self.queue, exc)
        self._bus._subscriptions.discard(self)


class RabbitBus:
    """The `Bus` contract on RabbitMQ. See the module docstring for the topology and the guarantees."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "og",
        settings: BusSettings = BusSettings(),
        delivery_limit: int = 20,
        publish_timeout: float = 30.0,
        close_timeout: float = 30.0,
        reconnect_interval: float = 2.0,
        fatal_after: float = 60.0,
        on_fatal: Callable[[str], object] | None = None,
    ) -> None:
        self.url = url
        self.namespace = namespace
        self.settings = settings
        self.delivery_limit = delivery_limit
        self.publish_timeout = publish_timeout
        self.close_timeout = close_timeout
        self.reconnect_interval = reconnect_interval
        self.fatal_after = fatal_after
        self.on_fatal = on_fatal
        self.fatal_reason: str | None = None
        self.fatal_event = asyncio.Event()
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None  # publishing (confirms, returns raise)
        self._admin: AbstractRobustChannel | None = None  # depth and ping: a 404 there harms no one
        self._work: AbstractExchange | None = None
        self._retry: AbstractExchange | None = None
        self._subscriptions: set[RabbitSubscription] = set()
        self._watchdog: asyncio.Task[None] | None = None
        self._closing = False

    # -- names and topology -------------------------------------------------------------------------

    def name(self, *parts: str) -> str:
        return ".".join((self.namespace, *parts))

    def _tiers(self) -> list[int]:
        return sorted({_delay_ms(d) for d in self.settings.retry_delays})

    def _quorum(self, dead_letter_exchange: str, **extra: Any) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": dead_letter_exchange,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
            **extra,
        }

    def _queue_arguments(self, queue: str) -> dict[str, Any]:
        # Stage queues dead-letter to parked; parked to dead; dead (if someone keeps failing it) to parked.
        return self._quorum(self.name("dead" if queue == PARKED_QUEUE else "dlx"))

    async def _declare_queue(self, channel: AbstractRobustChannel, queue: str) -> AbstractQueue:
        return await channel.declare_queue(
            self.name(queue), durable=True, arguments=self._queue_arguments(queue)
        )

    async def _declare(self, channel: AbstractRobustChannel) -> None:
        work = await channel.declare_exchange(self.name("work"), ExchangeType.TOPIC, durable=True)
        retry = await channel.declare_exchange(self.name("retry"), ExchangeType.HEADERS, durable=True)
        dlx = await channel.declare_exchange(self.name("dlx"), ExchangeType.FANOUT, durable=True)
        dead = await channel.declare_exchange(self.name("dead"), ExchangeType.FANOUT, durable=True)
        for queue in QUEUES:
            declared = await self._declare_queue(channel, queue)
            await declared.bind(work, f"{queue}.#")
        parked = await self._declare_queue(channel, PARKED_QUEUE)
        await parked.bind(work, f"{PARKED_QUEUE}.#")
        await parked.bind(dlx, "")
        dead_queue = await self._declare_queue(channel, DEAD_QUEUE)
        await dead_queue.bind(dead, "")
        for ms in self._tiers():
            tier = await channel.declare_queue(
                self.name("retry", str(ms)),
                durable=True,
                arguments=self._quorum(self.name("work"), **{"x-message-ttl": ms}),
            )
            await tier.bind(retry, "", arguments={"x-match": "all", DELAY_HEADER: str(ms)})
        self._work, self._retry = work, retry

    def topology(self) -> tuple[list[str], list[str]]:
        """(exchanges, queues) this bus declares, for operators and test clean-up."""
        exchanges = [self.name(x) for x in ("work", "retry", "dlx", "dead")]
        queues = [self.name(q) for q in (*QUEUES, PARKED_QUEUE, DEAD_QUEUE)]
        queues += [self.name("retry", str(ms)) for ms in self._tiers()]
        return exchanges, queues

    async def delete_topology(self) -> None:
        """Delete every queue and exchange of this namespace (tests, decommissioning). Loses messages."""
        if self._connection is None:
            raise RuntimeError("RabbitBus.delete_topology() needs a connected bus: call connect() first")
        exchanges, queues = self.topology()
        channel = await self._connection.channel()
        try:
            for queue in queues:
                await channel.queue_delete(queue)
            for exchange in exchanges:
                await channel.exchange_delete(exchange)
        finally:
            await channel.close()

    # -- lifecycle ----------------------------------------------------------------------------------

    async def connect(self) -> None:
        if self._connection is not None:
            return
        self._closing = False
        try:
            connection = await aio_pika.connect_robust(
                self.url,
                reconnect_interval=self.reconnect_interval,
                client_properties={"connection_name": f"ordergate {self.namespace}"},
                timeout=30,
            )
        except Exception as exc:
            raise TransportError(f"cannot connect to RabbitMQ: {exc}") from exc
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            await self._declare(channel)
            admin = await connection.channel(publisher_confirms=False)
        except BaseException:
            await connection.close()
            raise
        connection.reconnect_callbacks.add(self._on_reconnect)
        self._connection = connection
        self._channel = channel
        self._admin = admin
        self._watchdog = asyncio.create_task(self._watch(), name=f"rabbitmq-bus-watchdog:{self.namespace}")

    async def close(self) -> None:
        """Stop every subscription (handlers get `close_timeout` to finish, then are cancelled and their
        messages go back to their queues), then close the connection."""
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        await asyncio.gather(*(s._shutdown(self.close_timeout) for s in list(self._subscriptions)))
        if self._connection is not None:
            try:
                await asyncio.wait_for(self._connection.close(), 10.0)
            except Exception as exc:
                log.warning("rabbitmq bus: closing the connection failed: %s", exc)
        self._connection = self._channel = self._admin = None
        self._work = self._retry = None

    def _ready(self) -> tuple[AbstractRobustConnection, AbstractRobustChannel]:
        if self._connection is None or self._channel is None:
            raise RuntimeError("RabbitBus is not connected: call connect() first")
        return self._connection, self._channel

    # -- publishing ---------------------------------------------------------------------------------

    async def publish(self, messages: Sequence[BusMessage]) -> None:
        if not messages:
            return
        check_routable(messages)
        self._ready()
        assert self._work is not None
        await self._send(self._work, messages)

    async def _send(
        self, exchange: AbstractExchange, messages: Sequence[BusMessage], extra: dict[str, Any] | None = None
    ) -> None:
        for start in range(0, len(messages), PUBLISH_WINDOW):
            chunk = messages[start : start + PUBLISH_WINDOW]
            try:
                # The deadline covers waiting for a reconnection too (a robust channel waits for it).
                async with asyncio.timeout(self.publish_timeout):
                    results = await asyncio.gather(
                        *(
                            exchange.publish(self._encode(m, extra), m.routing_key, mandatory=True)
                            for m in chunk
                        ),
                        return_exceptions=True,
                    )
            except TimeoutError as exc:
                raise _translate(exc, len(messages)) from exc
            for result in results:
                if isinstance(result, BaseException):
                    raise _translate(result, len(messages)) from result

    @staticmethod
    def _encode(message: BusMessage, extra: dict[str, Any] | None) -> aio_pika.Message:
        headers: dict[str, Any] = {
            k: v for k, v in message.headers.items() if k not in (HEADER_ATTEMPT, HEADER_HISTORY)
        }
        headers[HEADER_ATTEMPT] = message.attempt
        if message.history:
            headers[HEADER_HISTORY] = encode_history(message.history)
        if extra:
            headers.update(extra)
        return aio_pika.Message(
            message.body,
            headers=headers,
            message_id=message.message_id,
            delivery_mode=DeliveryMode.PERSISTENT,
        )

    # -- consuming ----------------------------------------------------------------------------------

    async def subscribe(
        self, queue: str, handler: Handler, *, prefetch: int | None = None
    ) -> RabbitSubscription:
        check_queue(queue)
        connection, _ = self._ready()
        count = prefetch or self.settings.prefetch
        if count < 1:
            raise ValueError("prefetch must be at least 1")
        channel = await connection.channel(publisher_confirms=False)
        subscription = RabbitSubscription(self, queue, handler, count, channel)
        try:
            await subscription._start()
        except BaseException:
            await channel.close()
            raise
        self._subscriptions.add(subscription)
        return subscription

    async def _handle(self, queue: str, handler: Handler, incoming: AbstractIncomingMessage) -> None:
        # A CancelledError (forced close) leaves the delivery unsettled: it goes back with the channel.
        try:
            message = self._decode(incoming, queue)
            try:
                await handler(message)
            except Exception as error:
                await self._after_failure(queue, incoming, message, error)
            else:
                await self._settle(incoming, ack=True)
        except Exception:
            log.exception("rabbitmq bus: delivery %s on %s failed in the bus", incoming.message_id, queue)
            await asyncio.sleep(1.0)
            await self._settle(incoming, ack=False)

    async def _after_failure(
        self, queue: str, incoming: AbstractIncomingMessage, message: BusMessage, error: Exception
    ) -> None:
        plan = plan_failure(message, queue, error, self.settings)
        assert self._work is not None and self._retry is not None
        try:
            if plan.park:
                await self._send(self._work, [plan.message])
            else:
                await self._send(self._retry, [plan.message], {DELAY_HEADER: str(_delay_ms(plan.delay))})
        except Exception as exc:
            log.warning(
                "rabbitmq bus: could not %s message %s (%s); returning it to %s",
                "park" if plan.park else "schedule a retry of",
                message.message_id,
                exc,
                queue,
            )
            await asyncio.sleep(min(max(plan.delay, 0.5), 5.0))
            await self._settle(incoming, ack=False)
            return
        await self._settle(incoming, ack=True)

    @staticmethod
    async def _settle(incoming: AbstractIncomingMessage, *, ack: bool) -> None:
        try:
            if ack:
                await incoming.ack()
            else:
                await incoming.nack(requeue=True)
        except Exception as exc:
            # The channel went away: the broker has requeued the message, it will be delivered again.
            log.warning("rabbitmq bus: settling %s failed: %s", incoming.message_id, exc)

    @staticmethod
    def _decode(incoming: AbstractIncomingMessage, queue: str) -> BusMessage:
        headers: dict[str, Any] = dict(incoming.headers or {})
        attempt_raw = headers.pop(HEADER_ATTEMPT, 1)
        attempt = attempt_raw if isinstance(attempt_raw, int) and attempt_raw >= 1 else 1
        try:
            history = decode_history(_text(headers.pop(HEADER_HISTORY, None)))
        except (TypeError, ValueError):
            log.warning("rabbitmq bus: unreadable history on %s", incoming.message_id)
            history = ()
        death_reason = _text(headers.get("x-first-death-reason"))
        death_queue = _text(headers.get("x-first-death-queue"))
        for key in list(headers):
            if key in _BROKER_HEADERS or key.startswith(("x-first-death-", "x-last-death-")):
                del headers[key]
        routing_key = incoming.routing_key or ""
        if queue == PARKED_QUEUE and not routing_key.startswith(PARKED_QUEUE + "."):
            # Dead-lettered by the broker (delivery limit), not parked by a handler.
            headers.setdefault(
                HEADER_REASON, f"dead-lettered by RabbitMQ ({death_reason}) from {death_queue}"
            )
            headers.setdefault(HEADER_PARKED_STAGE, routing_key.split(".", 1)[0])
            routing_key = parked_routing_key(routing_key)
        return BusMessage(
            routing_key=routing_key,
            body=bytes(incoming.body),
            message_id=incoming.message_id or new_id(),
            headers=headers,
            attempt=attempt,
            history=history,
        )

    # -- inspection ---------------------------------------------------------------------------------

    async def depth(self, queue: str) -> int:
        check_queue(queue)
        self._ready()
        assert self._admin is not None
        declared = await self._admin.declare_queue(self.name(queue), passive=True, robust=False)
        result = declared.declaration_result
        return int(result.message_count or 0)

    async def ping(self) -> None:
        connection, _ = self._ready()
        if connection.is_closed or self.fatal_reason:
            raise TransportError(
                f"RabbitMQ connection is down{': ' + self.fatal_reason if self.fatal_reason else ''}"
            )
        assert self._admin is not None
        try:
            await asyncio.wait_for(
                self._admin.declare_exchange(self.name("work"), passive=True, robust=False), 5.0
            )
        except Exception as exc:
            raise TransportError(f"RabbitMQ does not answer: {exc}") from exc

    # -- watchdog -----------------------------------------------------------------------------------

    def _connected(self) -> bool:
        connection = self._connection
        if connection is None or connection.is_closed:
            return False
        transport = connection.transport
        return transport is not None and not transport.connection.is_closed

    async def healthy(self) -> bool:
        """Connection up and every running subscription's consumer registered on an open channel."""
        if not self._connected():
            return False
        for subscription in list(self._subscriptions):
            if not subscription._stopping and not await subscription.consuming():
                return False
        return True

    async def _watch(self) -> None:
        interval = min(1.0, self.fatal_after / 4)
        unhealthy_since: float | None = None
        while not self._closing:
            await asyncio.sleep(interval)
            try:
                healthy = await self.healthy()
            except Exception:
                healthy = False
            if healthy:
                if unhealthy_since is not None:
                    log.info("rabbitmq bus: connection and consumers restored")
                unhealthy_since = None
                continue
            now = time.monotonic()
            if unhealthy_since is None:
                unhealthy_since = now
                log.warning("rabbitmq bus: connection or consumers lost; waiting for recovery")
            elif now - unhealthy_since >= self.fatal_after:
                self._declare_fatal(
                    f"connection or consumers not restored within {self.fatal_after:g} s; restart the worker"
                )
                return

    def _declare_fatal(self, reason: str) -> None:
        if self.fatal_reason is not None:
            return
        self.fatal_reason = reason
        log.critical("rabbitmq bus: %s", reason)
        self.fatal_event.set()
        if self.on_fatal is not None:
            try:
                self.on_fatal(reason)
            except Exception:
                log.exception("rabbitmq bus: on_fatal callback failed")

    def _on_reconnect(self, *_: Any) -> None:
        log.info("rabbitmq bus: reconnected to the broker")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return str(value)


def _translate(error: BaseException, count: int) -> Exception:
    if isinstance(error, PublishError):
        return RoutingError(f"RabbitMQ returned a message as unroutable: {error}", code="UNROUTABLE")
    if isinstance(error, DeliveryError):
        return TransportError(f"RabbitMQ refused a message (nack) in a batch of {count}")
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return TransportError(f"no publisher confirm in time for a batch of {count}")
    return TransportError(f"publishing a batch of {count} failed: {type(error).__name__}: {error}")


__all__ = ["RabbitBus", "RabbitSubscription"]
