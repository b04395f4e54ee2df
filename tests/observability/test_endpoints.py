"""`/metrics`, `/healthz` and `/readyz` in the API app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway.core.errors import TransportError
from gateway.observability import probes
from gateway.observability.metrics import BACKLOG_QUEUES, Metrics
from gateway.settings import Settings
from partner_portal.app import create_app
from partner_portal.routes import health
from partner_portal.routes import metrics as metrics_route
from tests.observability.support import EDIFACT


@pytest.fixture
def client(settings: Settings, metrics: Metrics, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # The service's pipeline takes the process-wide metrics: give it this test's private registry.
    monkeypatch.setattr("gateway.pipeline.runtime.default_metrics", lambda: metrics)
    app = create_app(settings.model_copy(update={"inbox_poll_seconds": 0.05}))
    if not any(getattr(route, "path", None) == "/metrics" for route in app.routes):
        app.include_router(metrics_route.router)  # until partner_portal/app.py registers it
    with TestClient(app) as test_client:
        yield test_client


def _families(text: str) -> dict[str, Any]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_metrics_exposes_every_family_after_an_upload(client: TestClient) -> None:
    created = client.post(
        "/api/partners",
        json={
            "id": "hexa",
            "name": "Hexa",
            "identifiers": [{"standard": "edifact", "qualifier": "14", "value": "5412345000013"}],
        },
    )
    assert created.status_code == 201, created.text
    assert client.post("/api/documents", content=EDIFACT).status_code == 201
    refused = client.post("/api/documents", content=EDIFACT.replace(b"UNT+22+1", b"UNT+22+9"))
    assert refused.status_code == 422
    code = refused.json()["errors"][0]["code"]

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = _families(response.text)
    assert {
        "ordergate_messages_handled",
        "ordergate_stage_handler_seconds",
        "ordergate_messages_parked",
        "ordergate_documents_received",
        "ordergate_document_failures",
        "ordergate_queue_depth",
        "ordergate_outbox_backlog",
        "ordergate_backlog_up",
    } <= set(families)

    def samples(name: str, sample: str | None = None) -> dict[tuple[tuple[str, str], ...], float]:
        wanted = sample or name
        return {tuple(sorted(s.labels.items())): s.value for s in families[name].samples if s.name == wanted}

    documents = samples("ordergate_documents_received", "ordergate_documents_received_total")
    assert documents[(("channel", "api"), ("verdict", "accepted"))] == 1
    assert documents[(("channel", "api"), ("verdict", "failed"))] == 1
    failures = samples("ordergate_document_failures", "ordergate_document_failures_total")
    assert failures == {(("code", code),): 1}
    handled = samples("ordergate_messages_handled", "ordergate_messages_handled_total")
    assert handled[(("outcome", "ok"), ("stage", "translate"))] == 2
    assert {q for ((_, q),) in samples("ordergate_queue_depth")} == set(BACKLOG_QUEUES)
    assert samples("ordergate_backlog_up") == {(("source", "bus"),): 1, (("source", "outbox"),): 1}


def test_healthz_and_readyz_when_everything_answers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "bus": "ok"}


# -- readiness with stand-ins for the outside world ------------------------------------------------


class _Answers:
    async def ping(self) -> None:
        return None


class _Refuses:
    async def ping(self) -> None:
        raise TransportError("RabbitMQ does not answer: amqp://user:secret@broker")


class _Hangs:
    async def ping(self) -> None:
        await asyncio.sleep(30)


def _probe_app(database: object, bus: object | None) -> TestClient:
    app = FastAPI()
    app.include_router(health.router)
    app.state.database = database
    if bus is not None:
        app.state.service = SimpleNamespace(bus=bus)
    return TestClient(app)


def test_readyz_names_the_bus_when_its_ping_fails() -> None:
    response = _probe_app(_Answers(), _Refuses()).get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "bus": "TransportError",
        "failed": ["bus"],
    }
    assert "secret" not in response.text  # the detail goes to the log, not to the caller


def test_readyz_does_not_wait_for_a_hanging_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probes, "READY_TIMEOUT", 0.2)
    started = time.monotonic()
    response = _probe_app(_Answers(), _Hangs()).get("/readyz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.json()["bus"] == "timeout after 0.2s"
    assert response.json()["failed"] == ["bus"]


def test_readyz_names_both_when_both_fail() -> None:
    response = _probe_app(_Refuses(), _Refuses()).get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database", "bus"]


def test_readyz_before_the_service_started_is_503_not_an_error() -> None:
    response = _probe_app(_Answers(), None).get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "bus": "not started",
        "failed": ["bus"],
    }
