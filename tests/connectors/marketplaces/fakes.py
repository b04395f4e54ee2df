"""Local stand-ins for Shopify, WooCommerce and Amazon (SP-API and Login with Amazon), on 127.0.0.1.

Each fake is a Starlette app run by uvicorn in a thread on a port the OS picks. It filters, sorts and
pages its orders the way the real API is documented to, refuses what the real one refuses (wrong
credentials, filters repeated beside `page_info`, a missing filter beside `NextToken`), records every
request, and can be told to answer the next requests on a path with a scripted response (429, 500…).
"""

from __future__ import annotations

import base64
import json
import math
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def when(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)


@dataclass
class Scripted:
    path: str  # answered for requests whose path starts with this
    status: int
    body: Any
    headers: dict[str, str]


class Fake:
    """What every fake shares: the server thread, the request log, scripted answers."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.scripted: list[Scripted] = []
        self.lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.url = ""

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def script(self, path: str, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        with self.lock:
            self.scripted.append(Scripted(path, status, body if body is not None else {}, headers or {}))

    async def record(self, request: Request) -> tuple[Seen, Response | None]:
        form: dict[str, str] = {}
        if request.method == "POST":
            form = {k: str(v) for k, v in (await request.form()).items()}
        seen = Seen(
            request.method,
            request.url.path,
            dict(request.query_params),
            {k.lower(): v for k, v in request.headers.items()},
            form,
        )
        with self.lock:
            self.requests.append(seen)
            for scripted in self.scripted:
                if request.url.path.startswith(scripted.path):
                    self.scripted.remove(scripted)
                    return seen, JSONResponse(scripted.body, scripted.status, scripted.headers)
        return seen, None

    def paths(self, prefix: str = "") -> list[str]:
        return [seen.path for seen in self.requests if seen.path.startswith(prefix)]

    def start(self) -> Fake:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self._socket = sock
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            Starlette(routes=self.routes()),
            log_level="warning",
            lifespan="off",
            access_log=False,
            ws="none",
            http="h11",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        if self._socket is not None:
            self._socket.close()


# Shopify ---------------------------------------------------------------------------------------------


class FakeShopify(Fake):
    """`/admin/api/{version}/orders.json` and `shop.json`, cursor pages through `Link`."""

    def __init__(self, orders: list[dict[str, Any]], *, token: str, version: str = "2026-01") -> None:
        super().__init__()
        self.orders = orders
        self.token = token
        self.version = version
        self.call_limit: Callable[[int], str] | None = None  # request number → header value

    def routes(self) -> list[Route]:
        return [
            Route(f"/admin/api/{self.version}/orders.json", self.list_orders),
            Route(f"/admin/api/{self.version}/shop.json", self.shop),
        ]

    def _refused(self, seen: Seen) -> Response | None:
        if seen.headers.get("x-shopify-access-token") != self.token:
            return JSONResponse(
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
                401,
            )
        return None

    def _headers(self) -> dict[str, str]:
        if self.call_limit is None:
            return {}
        return {"X-Shopify-Shop-Api-Call-Limit": self.call_limit(len(self.requests))}

    async def shop(self, request: Request) -> Response:
        seen, scripted = await self.record(request)
        if scripted is not None or (scripted := self._refused(seen)) is not None:
            return scripted
        return JSONResponse({"shop": {"id": 690933842, "name": "Acme Test Shop"}}, headers=self._headers())

    async def list_orders(self, request: Request) -> Response:
        seen, scripted = await self.record(request)
        if scripted is not None or (scripted := self._refused(seen)) is not None:
            return scripted
        query = seen.query
        if "page_info" in query:
            if set(query) - {"page_info", "limit", "fields"}:
                return JSONResponse(
                    {
                        "errors": {
                            "page_info": ["cannot be combined with other filters than limit and fields"]
                        }
                    },
                    400,
                )
            state = json.loads(base64.urlsafe_b64decode(query["page_info"]))
        else:
            state = {"min": query.get("updated_at_min"), "status": query.get("status", "open"), "offset": 0}
        limit = int(query.get("limit", 50))
        with self.lock:
            matching = [
                o
                for o in self.orders
                if (state["min"] is None or when(o["updated_at"]) >= when(state["min"]))
                and (state["status"] == "any" or o.get("closed_at") is None)
            ]
        matching.sort(key=lambda o: (when(o["updated_at"]), o["id"]))
        offset = state["offset"]
        page = matching[offset : offset + limit]
        headers = self._headers()
        if offset + limit < len(matching):
            token = base64.urlsafe_b64encode(json.dumps(state | {"offset": offset + limit}).encode()).decode()
            headers["Link"] = f'<{self.url}{request.url.path}?limit={limit}&page_info={token}>; rel="next"'
        if "fields" in query:
            page = [{key: o[key] for key in query["fields"].split(",")} for o in page]
        return JSONResponse({"orders": page}, headers=headers)


# WooCommerce -----------------------------------------------------------------------------------------


class FakeWooCommerce(Fake):
    """`/wp-json/wc/v3/orders` with Basic auth, `modified_after` (exclusive, GMT), page numbers."""

    def __init__(self, orders: list[dict[str, Any]], *, key: str, secret: str) -> None:
        super().__init__()
        self.orders = orders
        self.credentials = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.after_page: Callable[[int], None] | None = None  # called with each page number served

    def routes(self) -> list[Route]:
        return [Route("/wp-json/wc/v3/orders", self.list_orders)]

    async def list_orders(self, request: Request) -> Response:
        seen, scripted = await self.record(request)
        if scripted is not None:
            return scripted
        if seen.headers.get("authorization") != self.credentials:
            return JSONResponse(
                {
                    "code": "woocommerce_rest_cannot_view",
                    "message": "Sorry, you cannot list resources.",
                    "data": {"status": 401},
                },
                401,
            )
        query = seen.query
        after = query.get("modified_after")
        if after is not None and query.get("dates_are_gmt") != "true":
            return JSONResponse({"code": "fake_needs_gmt", "message": "this fake reads GMT only"}, 400)
        per_page, page = int(query.get("per_page", 10)), int(query.get("page", 1))
        with self.lock:
            matching = [o for o in self.orders if after is None or when(o["date_modified_gmt"]) > when(after)]
            matching.sort(key=lambda o: (when(o["date_modified_gmt"]), o["id"]))
            served = [json.loads(json.dumps(o)) for o in matching[(page - 1) * per_page : page * per_page]]
        total = len(matching)
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(math.ceil(total / per_page))}
        if self.after_page is not None:
            self.after_page(page)
        return JSONResponse(served, headers=headers)


# Amazon ----------------------------------------------------------------------------------------------

UNAUTHORIZED = {
    "errors": [
        {
            "code": "Unauthorized",
            "message": "Access to requested resource is denied.",
            "details": "The access token you provided has expired.",
        }
    ]
}


class FakeAmazon(Fake):
    """Login with Amazon's token endpoint and the SP-API Orders v0 `getOrders` / `getOrderItems`."""

    def __init__(
        self,
        orders: list[dict[str, Any]],
        items: dict[str, list[dict[str, Any]]],
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        page_size_items: int = 100,
        rate_limit: str | None = None,
    ) -> None:
        super().__init__()
        self.orders = orders
        self.items = items
        self.client = (client_id, client_secret)
        self.refresh_token = refresh_token
        self.page_size_items = page_size_items
        self.rate_limit = rate_limit
        self.valid_tokens: set[str] = set()
        self.issued = 0
        self.expires_in = 3600

    def routes(self) -> list[Route]:
        return [
            Route("/auth/o2/token", self.token, methods=["POST"]),
            Route("/orders/v0/orders", self.get_orders),
            Route("/orders/v0/orders/{order_id}/orderItems", self.get_order_items),
        ]

    def expire_tokens(self) -> None:
        with self.lock:
            self.valid_tokens.clear()

    async def token(self, request: Request) -> Response:
        seen, scripted = await self.record(request)
        if scripted is not None:
            return scripted
        form = seen.form
        if (form.get("client_id"), form.get("client_secret")) != self.client:
            return JSONResponse(
                {"error_description": "Client authentication failed", "error": "invalid_client"}, 401
            )
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token:
            return JSONResponse(
                {
                    "error_description": "The request has an invalid grant parameter : refresh_token",
                    "error": "invalid_grant",
                },
                400,
            )
        with self.lock:
            self.issued += 1
            token = f"Atza|fake-{self.issued}"
            self.valid_tokens.add(token)
        return JSONResponse(
            {
                "access_token": token,
                "refresh_token": self.refresh_token,
                "token_type": "bearer",
                "expires_in": self.expires_in,
            }
        )

    def _refused(self, seen: Seen) -> Response | None:
        with self.lock:
            valid = seen.headers.get("x-amz-access-token") in self.valid_tokens
        return None if valid else JSONResponse(UNAUTHORIZED, 403)

    def _headers(self) -> dict[str, str]:
        return {"x-amzn-RateLimit-Limit": self.rate_limit} if self.rate_limit else {}

    async def get_orders(self, request: Request) -> Response:
        seen, scripted = await self.record(request)
        if scripted is not None or (scripted := self._refused(seen)) is not None:
            return scripted
        query = seen.query
        if "MarketplaceIds" not in query or "LastUpdatedAfter" not in query:
            error = {"code": "InvalidInput", "message": "MarketplaceIds and LastUpdatedAfter are required"}
            return JSONResponse({"errors": [error]}, 400)
        markets = set(query["MarketplaceIds"].split(","))
        after, before = (
            when(query["LastUpdatedAfter"]),
            when(query.get("LastUpdatedBefore", "9999-01-01T00:00:00Z")),
        )
        with self.lock:
            matching = [
                o
                for o in self.orders
                if o["MarketplaceId"] in markets and after <= when(o["LastUpdateDate"]) <= before
            ]
        # Amazon promises no order; serve them newest first so the connector cannot rely on it.
        matching.sort(key=lambda o: when(o["LastUpdateDate"]), reverse=True)
        size = int(query.get("MaxResultsPerPage", 100))
        offset = int(query["NextToken"].removeprefix("page-")) if "NextToken" in query else 0
        payload: dict[str, Any] = {"Orders": matching[offset : offset + size]}
        if offset + size < len(matching):
            payload["NextToken"] = f"page-{offset + size}"
        payload["LastUpdatedBefore"] = query.get("LastUpdatedBefore")
        return JSONResponse({"payload": payload}, headers=self._headers())

    async def get_order_items(self, request: Request) -> Response:
        seen, scripted = await self.record(request)
        if scripted is not None or (scripted := self._refused(seen)) is not None:
            return scripted
        order_id = request.path_params["order_id"]
        if order_id not in self.items:
            error = {"code": "InvalidInput", "message": f"Invalid Input: {order_id}", "details": ""}
            return JSONResponse({"errors": [error]}, 400)
        offset = int(seen.query["NextToken"].removeprefix("items-")) if "NextToken" in seen.query else 0
        items = self.items[order_id]
        payload: dict[str, Any] = {
            "AmazonOrderId": order_id,
            "OrderItems": items[offset : offset + self.page_size_items],
        }
        if offset + self.page_size_items < len(items):
            payload["NextToken"] = f"items-{offset + self.page_size_items}"
        return JSONResponse({"payload": payload}, headers=self._headers())
