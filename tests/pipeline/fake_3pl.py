"""A generic webhook 3PL on 127.0.0.1 for tests: records what it receives, applies each idempotency
key once (as a well-behaved receiver does), and can be told to fail or hang for a while."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Fake3PL:
    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.applied: dict[str, dict[str, Any]] = {}
        self.fail_next = 0
        self.fail_status = 503
        self.hang_seconds = 0.0
        self.reject_status: int | None = None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                status = owner._receive(key, body, dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/orders"

    def _receive(self, key: str, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            hang = self.hang_seconds
            self.requests.append({"key": key, "headers": headers, "body": body})
            if self.reject_status is not None:
                return self.reject_status
            if self.fail_next > 0:
                self.fail_next -= 1
                return self.fail_status
        if hang:
            time.sleep(hang)
        with self.lock:
            if self.secret:
                timestamp = headers.get("X-Ordergate-Timestamp", "")
                expected = (
                    "sha256="
                    + hmac.new(
                        self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                    ).hexdigest()
                )
                if not hmac.compare_digest(expected, headers.get("X-Ordergate-Signature", "")):
                    return 401
            self.applied.setdefault(key, json.loads(body))
        return 200

    def keys_seen(self) -> Counter[str]:
        with self.lock:
            return Counter(r["key"] for r in self.requests)

    def __enter__(self) -> Fake3PL:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
