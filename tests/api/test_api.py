"""The API and the inbox watcher in one process, as `ordergate serve` runs them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.settings import Settings
from partner_portal.app import create_app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EDIFACT = (FIXTURES / "orders_d96a_basic.edi").read_bytes()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    fast = settings.model_copy(update={"inbox_poll_seconds": 0.05})
    with TestClient(create_app(fast)) as test_client:
        response = test_client.post(
            "/api/partners",
            json={
                "id": "hexa",
                "name": "Hexa",
                "identifiers": [{"standard": "edifact", "qualifier": "14", "value": "5412345000013"}],
            },
        )
        assert response.status_code == 201, response.text
        yield test_client


def test_upload_returns_document_and_orders(client: TestClient) -> None:
    response = client.post("/api/documents?filename=po.edi", content=EDIFACT)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "accepted" and body["partner"] == "hexa"
    [order_id] = body["orders"]

    document = client.get(f"/api/documents/{body['document_id']}").json()
    assert (
        document["status"] == "accepted"
        and document["orders"] == [order_id]
        and document["filename"] == "po.edi"
    )
    raw = client.get(f"/api/documents/{body['document_id']}/raw")
    assert raw.content == EDIFACT
    order = client.get(f"/api/orders/{order_id}").json()
    assert order["order_number"] == "PO-4711"
    assert order["canonical"]["buyer"]["name"] == "Hexa Retail NV"
    assert [o["id"] for o in client.get("/api/orders").json()["orders"]] == [order_id]


def test_refused_upload_is_422_with_the_reason_and_kept(client: TestClient) -> None:
    response = client.post("/api/documents", content=EDIFACT.replace(b"UNT+22+1", b"UNT+22+9"))
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "failed"
    assert body["errors"][0]["segment"] == "UNT"
    failures = client.get("/api/failures").json()["failures"]
    assert [f["document_id"] for f in failures] == [body["document_id"]]
    assert client.get(f"/api/failures/{failures[0]['id']}").json()["code"] == body["errors"][0]["code"]


def test_unknown_ids_are_404(client: TestClient) -> None:
    assert client.get("/api/orders/nope").status_code == 404
    assert client.get("/api/documents/nope").status_code == 404
    assert client.get("/api/failures/999").status_code == 404


def test_openapi_and_health(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/documents", "/api/documents/{document_id}", "/api/orders", "/api/orders/{order_id}"} <= set(
        spec["paths"]
    )
    assert client.get("/docs").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["database"] == "ok"
    assert "ordergate" in client.get("/").text


def _wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_inbox_file_is_ingested_and_moved(client: TestClient, settings: Settings) -> None:
    inbox = settings.inbox_root / "hexa"
    (inbox / "po.edi").write_bytes(EDIFACT)
    (inbox / "junk.txt").write_bytes(b"hello, not EDI")
    _wait_for(
        lambda: (
            len(list((inbox / "processed").glob("*po.edi"))) == 1 if (inbox / "processed").is_dir() else False
        )
    )
    _wait_for(
        lambda: len(list((inbox / "failed").glob("*junk.txt"))) == 1 if (inbox / "failed").is_dir() else False
    )
    assert not (inbox / "po.edi").exists()
    orders = client.get("/api/orders").json()["orders"]
    assert [o["order_number"] for o in orders] == ["PO-4711"]
    documents = {d["filename"]: d for d in client.get("/api/documents").json()["documents"]}
    assert documents["po.edi"]["channel"] == "folder" and documents["po.edi"]["status"] == "accepted"
    assert documents["junk.txt"]["status"] == "failed"
    moved = next((inbox / "processed").glob("*po.edi"))
    assert moved.name.startswith(documents["po.edi"]["id"])
