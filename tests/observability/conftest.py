"""Fixtures: metrics on a private registry per test, a webhook 3PL, a pipeline on the embedded bus."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from prometheus_client import CollectorRegistry

from gateway.bus.base import BusSettings
from gateway.bus.embedded import EmbeddedBus
from gateway.observability.metrics import Metrics
from gateway.pipeline.runtime import Pipeline
from gateway.storage.database import Database
from tests.observability.support import SECRET_ENV
from tests.pipeline.fake_3pl import Fake3PL


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


@pytest.fixture
def fake_3pl(monkeypatch: pytest.MonkeyPatch) -> Iterator[Fake3PL]:
    monkeypatch.setenv(SECRET_ENV, "s3cret")
    with Fake3PL(secret="s3cret") as server:
        yield server


@pytest.fixture
async def pipeline(database: Database, metrics: Metrics) -> AsyncIterator[Pipeline]:
    bus = EmbeddedBus(
        database, settings=BusSettings(retry_delays=(0.05, 0.1, 0.2), max_attempts=3), poll_interval=0.02
    )
    await bus.connect()
    running = Pipeline(database, bus, metrics=metrics)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        await bus.close()
        await running.dispatcher.client.aclose()
