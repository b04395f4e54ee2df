"""The bus contract (`gateway.bus.base`) as one suite that every implementation runs.

A subclass provides two fixtures:
- `bus_factory`: an async callable `make(settings=None) -> Bus` returning a *connected* bus on the
  subclass's storage (same database / same broker namespace on every call, like separate processes),
  closing everything it made at teardown; buses use `SETTINGS` unless told otherwise and a short
  close timeout (`CLOSE_TIMEOUT`);
- `child_argv`: the arguments for `python -m tests.bus._child` so that a separate process consumes the
  same queues (crash tests).

Every wait has a deadline: a broken bus fails the test in seconds, it never hangs it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import pytest

from gateway.bus.base import (
    HEADER_PARKED_STAGE,
    HEADER_REASON,
    Bus,
    BusMessage,
    BusSettings,
    Park,
    Retry,
    route,
)
from gateway.core.errors import RoutingError, TransportError, ValidationError

SETTINGS = BusSettings(retry_delays=(0.05, 0.1, 0.2), max_attempts=3, prefetch=10)
CLOSE_TIMEOUT = 1.0
ROOT = Path(__file__).resolve().parents[2]


class BusFactory(Protocol):
    def __call__(self, settings: BusSettings | None = None) -> Awaitable[Bus]: ...


class Inbox:
    """A handler that records what it receives, and waits for it with a deadline."""

    def __init__(self) -> None:
        self.messages: list[BusMessage] = []
        self._changed = asyncio.Event()

    async def __call__(self, message: BusMessage) -> None:
        self.messages.append(message)
        self._changed.set()

    async def wait(self, count: int, timeout: float = 5.0) -> list[BusMessage]:
        async def until() -> None:
            while len(self.messages) < count:
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            pytest.fail(f"expected {count} message(s) within {timeout} s, got {len(self.messages)}")
        return self.messages

    @property
    def ids(self) -> list[str]:
        return [m.message_id for m in self.messages]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {timeout} s: {what}")
        await asyncio.sleep(0.05)


def message(stage: str = "translate", body: bytes = b'{"n": 1}', **headers: Any) -> BusMessage:
    return BusMessage(routing_key=route(stage, "acme", "edi"), body=body, headers=headers)


class BusContract:
    @pytest.fixture
    async def bus_factory(self) -> BusFactory:
        raise NotImplementedError("a bus implementation's test class provides bus_factory")

    @pytest.fixture
    def child_argv(self) -> list[str]:
        raise NotImplementedError("a bus implementation's test class provides child_argv")

    @pytest.fixture
    async def bus(self, bus_factory: BusFactory) -> Bus:
        return await bus_factory()

    # -- publishing and routing ---------------------------------------------------------------------

    async def test_round_trip_keeps_body_message_id_and_headers(self, bus: Bus) -> None:
        sent = message(body=b"\x00\xffbinary body", partner="acme", count=3, test=True)
        inbox = Inbox()
        await bus.subscribe("translate", inbox)
        await bus.publish([sent])
        (got,) = await inbox.wait(1)
        assert got.body == sent.body
        assert got.message_id == sent.message_id
        assert got.routing_key == sent.routing_key
        assert got.queue == "translate"
        assert dict(got.headers) == {"partner": "acme", "count": 3, "test": True}
        assert got.attempt == 1
        assert got.history == ()

    async def test_routes_by_stage(self, bus: Bus) -> None:
        translate, review = Inbox(), Inbox()
        await bus.subscribe("translate", translate)
        await bus.subscribe("review", review)
        to_review, to_translate = message("review"), message("translate")
        await bus.publish([to_review, to_translate])
        await review.wait(1)
        await translate.wait(1)
        await asyncio.sleep(0.3)
        assert review.ids == [to_review.message_id]
        assert translate.ids == [to_translate.message_id]

    async def test_a_batch_with_an_unroutable_key_is_refused_whole(self, bus: Bus) -> None:
        with pytest.raises(RoutingError):
            await bus.publish([message("translate"), BusMessage("nowhere.acme.edi", b"{}")])
        await asyncio.sleep(0.2)
        assert await bus.depth("translate") == 0

    async def test_unknown_queue_cannot_be_subscribed_or_measured(self, bus: Bus) -> None:
        with pytest.raises(RoutingError):
            await bus.subscribe("nowhere", Inbox())
        with pytest.raises(RoutingError):
            await bus.depth("nowhere")

    async def test_a_batch_of_1000_is_delivered_once_each(self, bus: Bus) -> None:
        batch = [message(body=b"x" * 2048) for _ in range(1000)]
        await bus.publish(batch)
        inbox = Inbox()
        await bus.subscribe("translate", inbox, prefetch=100)
        await inbox.wait(1000, timeout=8.0)
        await asyncio.sleep(0.3)
        assert len(inbox.messages) == 1000
        assert set(inbox.ids) == {m.message_id for m in batch}

    async def test_competing_consumers_split_the_work(self, bus_factory: BusFactory) -> None:
        first, second = await bus_factory(), await bus_factory()
        handled: dict[str, list[str]] = {"first": [], "second": []}

        def worker(name: str) -> Callable[[BusMessage], Awaitable[None]]:
            async def handle(m: BusMessage) -> None:
                handled[name].append(m.message_id)
                await asyncio.sleep(0.005)

            return handle

        await first.subscribe("translate", worker("first"), prefetch=5)
        await second.subscribe("translate", worker("second"), prefetch=5)
        batch = [message() for _ in range(200)]
        await first.publish(batch)

        async def all_handled() -> bool:
            return len(handled["first"]) + len(handled["second"]) >= 200

        await eventually(all_handled, timeout=8.0, what="200 messages handled")
        await asyncio.sleep(0.3)
        everything = handled["first"] + handled["second"]
        assert len(everything) == 200, "a message was handled twice"
        assert set(everything) == {m.message_id for m in batch}
        assert handled["first"] and handled["second"], "one consumer got all the work"

    async def test_prefetch_bounds_the_handlers_in_flight(self, bus: Bus) -> None:
        in_flight = peak = done = 0

        async def slow(_: BusMessage) -> None:
            nonlocal in_flight, peak, done
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.05)
            in_flight -= 1
            done += 1

        await bus.subscribe("translate", slow, prefetch=3)
        await bus.publish([message() for _ in range(20)])

        async def all_done() -> bool:
            return done == 20

        await eventually(all_done, timeout=8.0, what="20 messages handled")
        assert peak == 3

    # -- handler outcomes ---------------------------------------------------------------------------

    async def test_retry_comes_back_with_attempts_and_history_then_parks(self, bus: Bus) -> None:
        seen: list[BusMessage] = []

        async def always_retry(m: BusMessage) -> None:
            seen.append(m)
            raise Retry("partner API busy")

        parked = Inbox()
        await bus.subscribe("translate", always_retry)
        await bus.subscribe("parked", parked)
        sent = message(partner="acme")
        await bus.publish([sent])
        (got,) = await parked.wait(1)

        assert [m.attempt for m in seen] == [1, 2, 3]
        assert [len(m.history) for m in seen] == [0, 1, 2]
        assert {m.message_id for m in seen} == {sent.message_id}
        assert all(m.routing_key == sent.routing_key for m in seen)
        assert seen[2].history[:1] == seen[1].history  # the history grows, it is never rewritten

        assert got.message_id == sent.message_id
        assert got.body == sent.body
        assert got.queue == "parked"
        assert got.routing_key == "parked." + sent.routing_key
        assert got.headers[HEADER_PARKED_STAGE] == "translate"
        assert "3 attempts" in got.headers[HEADER_REASON]
        assert "partner API busy" in got.headers[HEADER_REASON]
        assert got.headers["partner"] == "acme"
        assert got.attempt == 3
        assert len(got.history) == 3
        assert all(a.queue == "translate" and "Retry: partner API busy" in a.error for a in got.history)
        assert [a.at for a in got.history] == sorted(a.at for a in got.history)
        await asyncio.sleep(0.3)
        assert len(seen) == 3 and len(parked.messages) == 1

    async def test_retry_waits_for_the_delay_and_is_not_counted_as_ready(
        self, bus_factory: BusFactory
    ) -> None:
        bus = await bus_factory(BusSettings(retry_delays=(1.0,), max_attempts=3))
        times: list[float] = []

        async def fail_once(m: BusMessage) -> None:
            times.append(time.monotonic())
            if m.attempt == 1:
                raise Retry("later")

        await bus.subscribe("translate", fail_once)
        await bus.publish([message()])

        async def two() -> bool:
            return len(times) >= 2

        async def one() -> bool:
            return len(times) >= 1

        await eventually(one, what="first delivery")
        await asyncio.sleep(0.3)
        assert await bus.depth("translate") == 0  # waiting for its retry delay, not ready
        await eventually(two, timeout=5.0, what="the retry")
        assert times[1] - times[0] >= 0.8

    async def test_park_parks_at_once(self, bus: Bus) -> None:
        calls = 0

        async def refuse(_: BusMessage) -> None:
            nonlocal calls
            calls += 1
            raise Park("order number missing")

        parked = Inbox()
        await bus.subscribe("review", refuse)
        await bus.subscribe("parked", parked)
        sent = message("review")
        await bus.publish([sent])
        (got,) = await parked.wait(1)
        assert calls == 1
        assert got.message_id == sent.message_id
        assert got.headers[HEADER_REASON] == "order number missing"
        assert got.headers[HEADER_PARKED_STAGE] == "review"
        assert got.attempt == 1
        assert len(got.history) == 1 and got.history[0].queue == "review"

    async def test_a_non_retryable_gateway_error_parks_at_once(self, bus: Bus) -> None:
        calls = 0

        async def invalid(_: BusMessage) -> None:
            nonlocal calls
            calls += 1
            raise ValidationError("GTIN check digit wrong", code="BAD_GTIN")

        parked = Inbox()
        await bus.subscribe("translate", invalid)
        await bus.subscribe("parked", parked)
        await bus.publish([message()])
        (got,) = await parked.wait(1)
        assert calls == 1
        assert "BAD_GTIN" in got.headers[HEADER_REASON]
        assert got.headers[HEADER_PARKED_STAGE] == "translate"

    @pytest.mark.parametrize(
        "error",
        [TransportError("3PL timed out"), ValueError("bug in a mapping")],
        ids=["retryable-gateway-error", "plain-exception"],
    )
    async def test_retryable_failures_are_retried(self, bus: Bus, error: Exception) -> None:
        seen: list[BusMessage] = []

        async def fail_first(m: BusMessage) -> None:
            seen.append(m)
            if m.attempt == 1:
                raise error

        parked = Inbox()
        await bus.subscribe("dispatch", fail_first)
        await bus.subscribe("parked", parked)
        await bus.publish([message("dispatch")])

        async def twice() -> bool:
            return len(seen) >= 2

        await eventually(twice, what="a second attempt")
        await asyncio.sleep(0.3)
        assert [m.attempt for m in seen] == [1, 2]
        assert type(error).__name__ in seen[1].history[0].error
        assert parked.messages == []

    async def test_a_failure_in_the_parked_queue_is_retried_there_not_parked_again(self, bus: Bus) -> None:
        seen: list[BusMessage] = []

        async def recorder_down_once(m: BusMessage) -> None:
            seen.append(m)
            if len(seen) == 1:
                raise RuntimeError("failure table locked")

        async def refuse(_: BusMessage) -> None:
            raise Park("no partner")

        await bus.subscribe("translate", refuse)
        await bus.subscribe("parked", recorder_down_once)
        sent = message()
        await bus.publish([sent])

        async def twice() -> bool:
            return len(seen) >= 2

        await eventually(twice, what="the parked message again")
        await asyncio.sleep(0.3)
        assert len(seen) == 2
        assert seen[1].routing_key == "parked." + sent.routing_key
        assert seen[1].attempt == seen[0].attempt + 1
        assert seen[1].headers[HEADER_REASON] == "no partner"

    # -- stopping, crashing, persistence ------------------------------------------------------------

    async def test_stop_waits_for_the_running_handler_and_settles_it(self, bus: Bus) -> None:
        started = asyncio.Event()
        finished: list[str] = []

        async def slow(m: BusMessage) -> None:
            started.set()
            await asyncio.sleep(0.5)
            finished.append(m.message_id)

        subscription = await bus.subscribe("translate", slow)
        sent = message()
        await bus.publish([sent])
        await asyncio.wait_for(started.wait(), 5.0)
        await asyncio.wait_for(subscription.stop(), 5.0)
        assert finished == [sent.message_id]

        again = Inbox()
        await bus.subscribe("translate", again)
        await asyncio.sleep(0.5)
        assert again.messages == [], "a message settled before stop() returned came back"
        assert await bus.depth("translate") == 0

    async def test_stop_takes_no_new_messages(self, bus: Bus) -> None:
        inbox = Inbox()
        subscription = await bus.subscribe("translate", inbox)
        await asyncio.wait_for(subscription.stop(), 5.0)
        await bus.publish([message()])
        await asyncio.sleep(0.3)
        assert inbox.messages == []

        async def one_ready() -> bool:
            return await bus.depth("translate") == 1

        await eventually(one_ready, what="the message stays ready")

    async def test_an_unsettled_message_comes_back_after_the_bus_is_closed(
        self, bus_factory: BusFactory
    ) -> None:
        first = await bus_factory()
        taken = Inbox()

        async def stuck(m: BusMessage) -> None:
            await taken(m)
            await asyncio.Event().wait()  # never settles

        await first.subscribe("translate", stuck)
        sent = message()
        await first.publish([sent])
        await taken.wait(1)
        await asyncio.wait_for(first.close(), CLOSE_TIMEOUT + 8.0)

        second = await bus_factory()
        inbox = Inbox()
        await second.subscribe("translate", inbox)
        (got,) = await inbox.wait(1, timeout=8.0)
        assert got.message_id == sent.message_id
        assert got.attempt == 1  # an interrupted delivery is not a failed attempt

    async def test_an_unsettled_message_comes_back_after_its_consumer_is_killed(
        self, bus_factory: BusFactory, child_argv: list[str]
    ) -> None:
        bus = await bus_factory()
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bus._child",
            *child_argv,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            assert child.stdout is not None
            line = await asyncio.wait_for(child.stdout.readline(), 8.0)
            assert line.strip() == b"ready", line
            sent = message()
            await bus.publish([sent])
            line = await asyncio.wait_for(child.stdout.readline(), 5.0)
            assert line.strip().decode() == sent.message_id
            child.send_signal(signal.SIGKILL)
            await asyncio.wait_for(child.wait(), 5.0)

            inbox = Inbox()
            await bus.subscribe("translate", inbox)
            (got,) = await inbox.wait(1, timeout=6.0)
            assert got.message_id == sent.message_id
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()

    async def test_messages_survive_a_new_bus_instance(self, bus_factory: BusFactory) -> None:
        first = await bus_factory()
        batch = [message() for _ in range(3)]
        await first.publish(batch)
        await first.close()

        second = await bus_factory()
        inbox = Inbox()
        await second.subscribe("translate", inbox)
        await inbox.wait(3)
        assert sorted(inbox.ids) == sorted(m.message_id for m in batch)

    # -- inspection ---------------------------------------------------------------------------------

    async def test_depth_counts_ready_messages(self, bus: Bus) -> None:
        await bus.publish([message("route") for _ in range(5)] + [message("events") for _ in range(2)])

        async def counted() -> bool:
            return (await bus.depth("route"), await bus.depth("events")) == (5, 2)

        await eventually(counted, what="depth route=5, events=2")
        assert await bus.depth("outbound") == 0
        inbox = Inbox()
        await bus.subscribe("route", inbox)
        await inbox.wait(5)

        async def drained() -> bool:
            return await bus.depth("route") == 0

        await eventually(drained, what="route drained")

    async def test_ping(self, bus: Bus) -> None:
        await bus.ping()
