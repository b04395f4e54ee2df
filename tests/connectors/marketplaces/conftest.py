"""Fixtures for the marketplace connectors: a recording clock, an in-memory cursor store, and fakes
that are started on 127.0.0.1 and stopped after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from connectors.marketplaces.cursor import MemoryStateStore
from tests.connectors.marketplaces.fakes import Fake
from tests.connectors.marketplaces.support import FakeClock

F = TypeVar("F", bound=Fake)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> MemoryStateStore:
    return MemoryStateStore()


@pytest.fixture
def serve() -> Iterator[Callable[[F], F]]:
    started: list[Fake] = []

    def start(fake: F) -> F:
        fake.start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()
