"""`/api/failures` and `/api/audit` on the app as `ordergate serve` runs it (pipeline in-process on the
embedded bus, SQLite): the unified listing, detail, replay and discard with 404/409/422, and the audit
log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.settings import Settings
from partner_portal.app import create_app
from tests.ops.helpers import EDIFACT, audit_rows, outbox, park, parked_status

BROKEN = EDIFACT.read_bytes().replace(b"UNT+22+1", b"UNT+25+1")
HEXA = {
    "id": "hexa",
    "name": "Hexa",
    "identifiers": [{"standard": "edifact", "qualifier": "14", "value": "5412345000013"}],
}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"inbox_poll_seconds": 0.05}))
    with TestClient(app) as test_client:
        yield test_client


def _upload(client: TestClient, raw: bytes) -> dict[str, Any]:
    response = client.post("/api/documents", content=raw)
    assert response.status_code == 422, response.text
    [failure] = [
        f
        for f in client.get("/api/failures?kind=documents").json()["failures"]
        if f["document_id"] == response.json()["document_id"]
    ]
    return failure  # type: ignore[no-any-return]


def test_listing_detail_replay_and_discard(client: TestClient) -> None:
    failure = _upload(client, BROKEN)
    # A parked intake message about that document: replaying it is a no-op for the running pipeline
    # (the document is no longer `received`), so its status stays what the replay made it.
    parked_id, message_id = park(
        stage="intake", routing_key="intake._.api", order_id=None, document_id=failure["document_id"]
    )

    listed = client.get("/api/failures").json()["failures"]
    assert [(i["kind"], i["id"]) for i in listed] == [("message", parked_id), ("document", failure["id"])]
    assert listed[1]["code"] == "EDIFACT_UNT_COUNT" and listed[1]["where"].startswith("UNT #")
    assert listed[0]["where"] == f"document {failure['document_id']}" and listed[0]["attempts"] == 3
    assert [i["id"] for i in client.get("/api/failures?kind=messages").json()["failures"]] == [parked_id]
    assert client.get("/api/failures?kind=nonsense").status_code == 422

    message = client.get(f"/api/failures/{parked_id}").json()
    assert message["body"] == {"document_id": failure["document_id"]} and message["body_format"] == "json"
    assert (message["message_id"], message["routing_key"]) == (message_id, "intake._.api")
    assert len(message["history"]) == 3 and message["headers"]["trace"] == "t-1"
    document = client.get(f"/api/failures/{failure['id']}").json()
    assert document["issues"][0]["code"] == "EDIFACT_UNT_COUNT"
    assert document["document"]["id"] == failure["document_id"] and document["document"]["channel"] == "api"

    response = client.post(f"/api/failures/{parked_id}/replay", json={"reason": "database was down"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["status"], result["queued"], result["message_id"]) == ("replayed", True, message_id)
    assert [r.routing_key for r in outbox(message_id)] == ["intake._.api"]
    assert parked_status(parked_id) == "replayed"
    response = client.post(f"/api/failures/{parked_id}/replay")
    assert response.status_code == 409 and "already replayed" in response.json()["detail"]

    assert client.post(f"/api/failures/{failure['id']}/discard", json={}).status_code == 422
    assert client.post(f"/api/failures/{failure['id']}/discard", json={"reason": "  "}).status_code == 422
    response = client.post(
        f"/api/failures/{failure['id']}/discard", json={"reason": "test upload", "actor": "dave"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "discarded" and response.json()["queued"] is False
    assert client.post(f"/api/failures/{failure['id']}/replay", json={}).status_code == 409
    assert client.get("/api/failures").json()["failures"] == []
    assert {i["status"] for i in client.get("/api/failures?status=all").json()["failures"]} == {
        "replayed",
        "discarded",
    }

    entries = client.get("/api/audit").json()["entries"]
    assert [(e["actor"], e["action"], e["target"], e["reason"]) for e in entries] == [
        ("dave", "discard", f"failure:{failure['id'][1:]}", "test upload"),
        ("api", "replay", f"parked:{parked_id[1:]}", "database was down"),
    ]
    assert len(client.get("/api/audit?limit=1").json()["entries"]) == 1
    assert client.get("/api/audit?limit=0").status_code == 422
    detail = client.get(f"/api/failures/{failure['id']}").json()
    assert [(a["actor"], a["action"]) for a in detail["audit"]] == [("dave", "discard")]


def test_unknown_ids_are_404(client: TestClient) -> None:
    for path in ("f999", "p999", "999", "x"):
        assert client.get(f"/api/failures/{path}").status_code == 404
        assert client.post(f"/api/failures/{path}/replay").status_code == 404
        assert client.post(f"/api/failures/{path}/discard", json={"reason": "r"}).status_code == 404
    assert audit_rows() == []


def test_a_replayed_document_failure_is_processed_by_the_running_pipeline(client: TestClient) -> None:
    response = client.post("/api/documents", content=EDIFACT.read_bytes())
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "UNKNOWN_SENDER"
    document_id = response.json()["document_id"]
    [failure] = client.get("/api/failures").json()["failures"]
    assert client.post("/api/partners", json=HEXA).status_code == 201

    response = client.post(f"/api/failures/{failure['id']}/replay", json={"reason": "hexa registered"})
    assert response.status_code == 200, response.text
    assert response.json()["document_id"] == document_id and response.json()["queued"] is True
    deadline = time.monotonic() + 15
    while client.get(f"/api/documents/{document_id}").json()["status"] != "accepted":
        assert time.monotonic() < deadline, "the pipeline did not process the replayed document"
        time.sleep(0.05)
    [order_id] = client.get(f"/api/documents/{document_id}").json()["orders"]
    assert client.get(f"/api/orders/{order_id}").json()["order_number"] == "PO-4711"


def test_openapi_documents_the_shapes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert {
        "/api/failures",
        "/api/failures/{failed_id}",
        "/api/failures/{failed_id}/replay",
        "/api/failures/{failed_id}/discard",
        "/api/audit",
    } <= set(paths)
    ok = paths["/api/failures/{failed_id}/replay"]["post"]["responses"]
    assert ok["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ActionResult")
    assert {"404", "409"} <= set(ok)
    schemas = spec["components"]["schemas"]
    assert {"FailedList", "FailedItem", "FailedDetail", "ActionResult", "AuditList", "AuditView"} <= set(
        schemas
    )
    assert "reason" in schemas["DiscardRequest"]["required"]
    replay_doc = paths["/api/failures/{failed_id}/replay"]["post"]["description"]
    assert '"api"' in replay_doc and "authentication" in replay_doc
