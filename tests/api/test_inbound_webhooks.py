"""`POST /inbound/{partner}/{channel}` against the real app on SQLite, channels set up with the CLI as
ops would: signed Shopify and WooCommerce orders become canonical orders of the channel's partner;
everything else gets a clear answer, and a 2xx only once the raw body is committed."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from gateway.push import claim_delivery
from gateway.settings import Settings
from partner_portal.app import create_app
from tests.connectors.webhooks.support import (
    SHOP,
    SHOPIFY_KEY,
    STORE,
    WOO_KEY,
    ago,
    shopify_body,
    shopify_headers,
    shopify_order,
    woocommerce_body,
    woocommerce_headers,
)
from tests.corpus import entries
from tests.ops.helpers import cli, cli_json, with_database

LIMIT = 200_000
SHOPIFY_URL = "/inbound/hexa/shopify"
WOO_URL = "/inbound/hexa/woo"


@pytest.fixture
def client(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv("ORDERGATE_SECRETS_FILE", raising=False)
    monkeypatch.setenv("ORDERGATE_SECRET_HEXA_SHOPIFY_HMAC", SHOPIFY_KEY)
    monkeypatch.setenv("ORDERGATE_SECRET_HEXA_WOO_HMAC", WOO_KEY)
    for args in (
        ("partners", "add", "hexa", "--name", "Koffie Hexa"),
        ("partners", "add", "other"),
        ("channels", "add", "hexa", "shopify", "--kind", "shopify-webhook", "--set", f"shop_domain={SHOP}",
         "--set", "hmac_secret=HEXA_SHOPIFY_HMAC"),
        ("channels", "add", "hexa", "woo", "--kind", "woocommerce-webhook", "--set", f"store_url={STORE}",
         "--set", "hmac_secret=HEXA_WOO_HMAC"),
    ):  # fmt: skip
        code, output = cli(*args)
        assert code == 0, output
    app_settings = settings.model_copy(update={"max_document_bytes": LIMIT, "inbox_poll_seconds": 0.05})
    with TestClient(create_app(app_settings)) as test_client:
        yield test_client


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def documents(client: TestClient) -> list[dict[str, Any]]:
    return client.get("/api/documents").json()["documents"]  # type: ignore[no-any-return]


def orders(client: TestClient) -> list[dict[str, Any]]:
    return client.get("/api/orders").json()["orders"]  # type: ignore[no-any-return]


def routed(client: TestClient, count: int = 1) -> None:
    """Wait until the pipeline has done with the new orders (no destination is set up, so the route
    stage parks them), so the app never stops with a handler half-way."""
    wait_for(
        lambda: len(client.get("/api/failures", params={"kind": "messages"}).json()["failures"]) >= count
    )


def document_failures(client: TestClient) -> list[dict[str, Any]]:
    return client.get("/api/failures", params={"kind": "documents"}).json()["failures"]  # type: ignore[no-any-return]


def counted(client: TestClient, kind: str, outcome: str) -> float:
    text = client.get("/metrics").text
    line = f'ordergate_push_requests_total{{kind="{kind}",outcome="{outcome}"}} '
    found = re.search(re.escape(line) + r"([0-9.e+]+)", text)
    return float(found.group(1)) if found else 0.0


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert "Traceback" not in response.text


@pytest.mark.corpus
def test_a_signed_shopify_order_becomes_a_canonical_order_of_the_channels_partner(client: TestClient) -> None:
    [entry] = entries(lambda e: e.file == "json/shopify_order_rest_fixture_shopify_python_api.json")
    body = shopify_body()
    response = client.post(SHOPIFY_URL, content=body, headers=shopify_headers(body))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "received"
    [document_id] = answer["documents"]
    assert client.get(f"/api/documents/{document_id}/raw").content == body  # archived as signed

    [order] = wait_for(lambda: orders(client))
    assert order["order_number"] == entry.fact("name") and order["partner"] == "hexa"
    detail = client.get(f"/api/orders/{order['id']}").json()
    assert detail["canonical"]["source"]["format"] == "shopify"
    assert detail["canonical"]["source"]["channel"] == "shopify"
    assert detail["canonical"]["source"]["raw_document_id"] == document_id
    document = client.get(f"/api/documents/{document_id}").json()
    assert document["status"] == "accepted" and document["partner"] == "hexa"
    listed = cli_json("orders", "list")["orders"]
    assert [(o["order_number"], o["partner"]) for o in listed] == [(entry.fact("name"), "hexa")]
    routed(client)


@pytest.mark.corpus
def test_a_repeated_delivery_is_acknowledged_without_a_second_document(client: TestClient) -> None:
    body = shopify_body()
    headers = shopify_headers(body, webhook_id="5e3a1a5c-6f0b-4a51-9d3b-0f7c2e1e2a01")
    first = client.post(SHOPIFY_URL, content=body, headers=headers)
    again = client.post(SHOPIFY_URL, content=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == {"status": "duplicate", "documents": first.json()["documents"]}
    assert len(documents(client)) == 1
    wait_for(lambda: orders(client))
    routed(client)
    assert len(orders(client)) == 1


def test_a_bad_signature_is_401_not_archived_but_logged_and_counted(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"id": 1, "total_price": "1.00"}'
    before = counted(client, "shopify-webhook", "unauthenticated")
    with caplog.at_level(logging.WARNING, logger="ordergate.push"):
        response = client.post(SHOPIFY_URL, content=body, headers=shopify_headers(body, key="guessed"))
    refused(response, 401, "UNAUTHENTICATED")
    assert "match" not in response.text and "secret" not in response.text  # nothing leaks
    assert documents(client) == []
    assert counted(client, "shopify-webhook", "unauthenticated") == before + 1
    assert "does not match the body" in caplog.text and "inbound hexa/shopify" in caplog.text


def test_a_tampered_body_or_a_missing_signature_is_401(client: TestClient) -> None:
    body = b'{"id": 2, "total_price": "100.00"}'
    headers = shopify_headers(body)
    refused(
        client.post(SHOPIFY_URL, content=body.replace(b"100", b"1"), headers=headers), 401, "UNAUTHENTICATED"
    )
    del headers["X-Shopify-Hmac-Sha256"]
    refused(client.post(SHOPIFY_URL, content=body, headers=headers), 401, "UNAUTHENTICATED")
    assert documents(client) == []


def test_a_signed_request_missing_a_header_is_400_and_not_archived(client: TestClient) -> None:
    body = b'{"id": 3, "total_price": "1.00"}'
    headers = shopify_headers(body)
    del headers["X-Shopify-Webhook-Id"]
    response = client.post(SHOPIFY_URL, content=body, headers=headers)
    refused(response, 400, "WEBHOOK_BAD_REQUEST")
    assert "X-Shopify-Webhook-Id" in response.json()["error"]["message"]
    assert documents(client) == []


@pytest.mark.corpus
def test_a_stale_delivery_is_held_not_translated_and_can_be_replayed(client: TestClient) -> None:
    body = shopify_body()
    response = client.post(
        SHOPIFY_URL, content=body, headers=shopify_headers(body, triggered_at=ago(hours=2))
    )
    assert response.status_code == 200 and response.json()["status"] == "held"
    [document_id] = response.json()["documents"]
    [failure] = document_failures(client)
    assert failure["document_id"] == document_id and failure["code"] == "WEBHOOK_STALE"
    time.sleep(0.5)  # the pipeline is running: a held document must not be picked up
    assert orders(client) == []
    assert client.get(f"/api/documents/{document_id}").json()["status"] == "failed"

    # Kept, not lost: once ops decide it is genuine, a replay makes the order.
    [listed] = cli_json("failed", "list", "--kind", "documents")["failures"]
    code, output = cli("failed", "replay", listed["id"], "--now", "--reason", "outage retry")
    assert code == 0, output
    [order] = orders(client)
    assert order["order_number"] == shopify_order()["name"] and order["partner"] == "hexa"
    routed(client)


@pytest.mark.corpus
def test_order_updates_are_kept_with_a_clear_failure_and_change_nothing(client: TestClient) -> None:
    created = shopify_body()
    assert client.post(SHOPIFY_URL, content=created, headers=shopify_headers(created)).status_code == 200
    wait_for(lambda: orders(client))
    updated = shopify_body(note="leave at the door", updated_at="2008-01-10T12:00:00-05:00")
    response = client.post(
        SHOPIFY_URL, content=updated, headers=shopify_headers(updated, topic="orders/updated")
    )
    assert response.status_code == 200 and response.json()["status"] == "held"
    [failure] = document_failures(client)
    assert failure["code"] == "ORDER_UPDATE_NOT_APPLIED" and "orders/updated" in failure["reason"]
    routed(client)
    assert len(orders(client)) == 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_body_is_413_with_a_stored_failure(client: TestClient, chunked: bool) -> None:
    body = b"{" + b" " * LIMIT + b"}"
    content: Any = iter([body[i : i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    response = client.post(SHOPIFY_URL, content=content, headers=shopify_headers(body))
    refused(response, 413, "DOCUMENT_TOO_LARGE")
    [document] = documents(client)
    assert document["status"] == "failed" and document["size"] == 0
    [failure] = document_failures(client)
    assert failure["code"] == "DOCUMENT_TOO_LARGE" and str(LIMIT) in failure["reason"]


def _fail_document_inserts(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    if statement.lstrip().upper().startswith("INSERT INTO DOCUMENTS"):
        raise OperationalError(statement, {}, Exception("disk I/O error"))


@pytest.mark.corpus
def test_when_the_archive_commit_fails_the_sender_gets_503_and_may_retry(client: TestClient) -> None:
    engine = client.app.state.database.engine.sync_engine  # type: ignore[attr-defined]
    body = shopify_body()
    headers = shopify_headers(body)
    event.listen(engine, "before_cursor_execute", _fail_document_inserts)
    try:
        response = client.post(SHOPIFY_URL, content=body, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", _fail_document_inserts)
    refused(response, 503, "NOT_TAKEN")
    assert response.headers["retry-after"]
    assert documents(client) == []
    # Shopify retries the same delivery; now the database takes it.
    retried = client.post(SHOPIFY_URL, content=body, headers=headers)
    assert retried.status_code == 200 and retried.json()["status"] == "received"
    assert len(documents(client)) == 1
    wait_for(lambda: orders(client))
    routed(client)


def test_a_signed_woocommerce_order_created_becomes_an_order(client: TestClient) -> None:
    body = woocommerce_body()
    response = client.post(WOO_URL, content=body, headers=woocommerce_headers(body))
    assert response.status_code == 200 and response.json()["status"] == "received", response.text
    [order] = wait_for(lambda: orders(client))
    assert (order["order_number"], order["partner"], order["lines"]) == ("4102", "hexa", 2)
    detail = client.get(f"/api/orders/{order['id']}").json()["canonical"]
    assert detail["source"]["format"] == "woocommerce" and detail["source"]["channel"] == "woo"
    assert detail["totals"]["total"] == "66.05"
    routed(client)


def test_the_woocommerce_ping_is_200_and_keeps_nothing(client: TestClient) -> None:
    before = counted(client, "woocommerce-webhook", "ping")
    response = client.post(
        WOO_URL, content=b"webhook_id=12", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200
    assert documents(client) == []
    assert counted(client, "woocommerce-webhook", "ping") == before + 1


def test_another_stores_delivery_is_401(client: TestClient) -> None:
    body = woocommerce_body()
    headers = woocommerce_headers(body, source="https://someone-else.example/")
    refused(client.post(WOO_URL, content=body, headers=headers), 401, "UNAUTHENTICATED")
    assert documents(client) == []


def test_addresses_without_an_enabled_push_channel_are_404_alike(
    client: TestClient, settings: Settings
) -> None:
    body = b'{"id": 4}'
    code, output = cli(
        "channels", "add", "other", "files", "--kind", "folder", "--set", f"path={settings.home}"
    )
    assert code == 0, output
    code, output = cli("channels", "add", "hexa", "paused", "--kind", "shopify-webhook", "--disabled",
                       "--set", f"shop_domain={SHOP}", "--set", "hmac_secret=HEXA_SHOPIFY_HMAC")  # fmt: skip
    assert code == 0, output
    answers = [
        client.post(url, content=body, headers=shopify_headers(body))
        for url in (
            "/inbound/nobody/shopify",
            "/inbound/hexa/nothing",
            "/inbound/other/files",
            "/inbound/hexa/paused",
        )
    ]
    assert {r.status_code for r in answers} == {404}
    assert len({r.text for r in answers}) == 1  # the answer does not say which part is wrong
    assert documents(client) == []


def test_a_missing_secret_is_503_so_the_sender_retries(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORDERGATE_SECRET_HEXA_SHOPIFY_HMAC")
    body = b'{"id": 5}'
    response = client.post(SHOPIFY_URL, content=body, headers=shopify_headers(body))
    refused(response, 503, "CHANNEL_UNAVAILABLE")
    assert "HEXA_SHOPIFY_HMAC" not in response.text
    assert documents(client) == []


def test_the_route_is_in_the_openapi_document(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/inbound/{partner}/{channel}"]["post"]
    assert {"200", "401", "404", "413", "503"} <= set(operation["responses"])
    assert json.dumps(operation)  # serialisable as served


def test_a_delivery_still_being_taken_in_elsewhere_is_409(client: TestClient) -> None:
    webhook_id = "0b7e2c1d-0000-4000-8000-000000000409"
    with_database(lambda database: claim_delivery(database, "hexa", "shopify", webhook_id, keep_days=90))
    body = b'{"id": 6, "total_price": "1.00"}'
    response = client.post(SHOPIFY_URL, content=body, headers=shopify_headers(body, webhook_id=webhook_id))
    refused(response, 409, "DELIVERY_IN_PROGRESS")
    assert response.headers["retry-after"]
    assert documents(client) == []


def test_every_pushed_kind_is_served_at_its_own_route_and_only_there(client: TestClient) -> None:
    """AS2 needs its own endpoint (duplicate Message-IDs, MDNs): the generic webhook route must not
    take an AS2 channel in, and every pushed kind must have the route it declares."""
    from connectors import registry

    paths = set(client.get("/openapi.json").json()["paths"])
    pushed = {kind: registry.get(kind).push_route for kind in registry.kinds() if registry.get(kind).push}
    assert pushed["as2"] == "/as2" and pushed["shopify-webhook"] == "/inbound"
    for kind, route in pushed.items():
        assert any(path.startswith(route + "/{partner}") for path in paths), (kind, route)
