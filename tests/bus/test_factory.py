"""Choosing the bus, and the outcome rules both buses share (no service needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.bus.base import HEADER_PARKED_STAGE, HEADER_REASON, BusMessage, BusSettings, Park, Retry
from gateway.bus.embedded import EmbeddedBus
from gateway.bus.factory import open_bus, plan_failure
from gateway.bus.rabbitmq import RabbitBus
from gateway.core.errors import TransportError, ValidationError
from gateway.settings import Settings
from gateway.storage.database import Database

SETTINGS = BusSettings(retry_delays=(1.0, 5.0), max_attempts=3)


async def test_open_bus_is_embedded_without_a_broker_url(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'og.db'}")
    try:
        assert isinstance(open_bus(Settings(home=tmp_path, broker_url=None), database), EmbeddedBus)
        bus = open_bus(Settings(home=tmp_path, broker_url="amqp://u:p@broker:5672/"), database, namespace="x")
        assert isinstance(bus, RabbitBus) and bus.namespace == "x"
    finally:
        await database.close()


def test_a_retry_grows_the_attempt_and_history_and_picks_the_tier() -> None:
    first = BusMessage("translate.acme.edi", b"{}", headers={"k": "v"})
    plan = plan_failure(first, "translate", Retry("busy"), SETTINGS)
    assert not plan.park and plan.delay == 1.0
    assert plan.message.attempt == 2 and plan.message.routing_key == first.routing_key
    assert [a.error for a in plan.message.history] == ["Retry: busy"]
    again = plan_failure(plan.message, "translate", TransportError("down"), SETTINGS)
    assert not again.park and again.delay == 5.0 and again.message.attempt == 3


@pytest.mark.parametrize(
    ("error", "reason"),
    [(Park("no partner"), "no partner"), (ValidationError("bad", code="BAD"), "ValidationError: BAD: bad")],
)
def test_park_and_non_retryable_errors_park_at_once(error: Exception, reason: str) -> None:
    plan = plan_failure(BusMessage("review.a.b", b"{}"), "review", error, SETTINGS)
    assert plan.park
    assert plan.message.routing_key == "parked.review.a.b"
    assert plan.message.headers == {HEADER_REASON: reason, HEADER_PARKED_STAGE: "review"}
    assert plan.message.attempt == 1 and len(plan.message.history) == 1


def test_the_last_attempt_parks() -> None:
    plan = plan_failure(BusMessage("route.a.b", b"{}", attempt=3), "route", ValueError("x"), SETTINGS)
    assert plan.park and plan.message.attempt == 3
    assert plan.message.headers[HEADER_REASON] == "gave up after 3 attempts; last error ValueError: x"


def test_a_failure_in_parked_is_retried_at_the_longest_delay_never_parked_again() -> None:
    parked = BusMessage("parked.route.a.b", b"{}", attempt=3, headers={HEADER_REASON: "r"})
    for error in (Park("again"), ValueError("db down")):
        plan = plan_failure(parked, "parked", error, SETTINGS)
        assert not plan.park and plan.delay == 5.0
        assert plan.message.routing_key == "parked.route.a.b" and plan.message.attempt == 4
