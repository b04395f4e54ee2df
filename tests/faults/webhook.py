"""A webhook 3PL for the fault tests, on 127.0.0.1 in a thread of the test process.

It behaves like a well-made receiver: it verifies the HMAC signature and applies each `Idempotency-Key`
once (a resend of a key it already applied is answered 200 and changes nothing). What it receives is
recorded so the tests can tell "seen twice" (allowed after a crash or a timeout) from "applied twice"
(never), and check that every resend carried the same body.

Its behaviour can be switched while orders flow:
- `mode = "ok"`: answer 200 after `latency` seconds;
- `mode = "fail"`: answer `fail_status` (503) at once, apply nothing;
- `mode = "hang"`: wait `hang_seconds` (longer than the destination's timeout), then apply and answer —
  the caller has given up by then, so it does not know whether the order arrived (dispatch UNKNOWN);
- `mode = "reject"`: answer `reject_status` (422) at once, apply nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Seen:
    key: str
    body_sha256: str
    status: int
    at: float
    mode: str


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the default backlog of 5 drops connections under a burst of dispatches

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a caller that timed out has closed its end: answering it fails, as it should


class WebhookReceiver:
    def __init__(self, secret: str, *, latency: float = 0.0) -> None:
        self.secret = secret
        self.latency = latency
        self.mode = "ok"
        self.fail_status = 503
        self.reject_status = 422
        self.hang_seconds = 2.5
        self.lock = threading.Lock()
        self.seen: list[Seen] = []
        self.applied: dict[str, dict[str, Any]] = {}
        self.applications: Counter[str] = Counter()  # times a key changed the receiver's state: must be 1
        self.bodies: defaultdict[str, set[str]] = defaultdict(set)
        self.bad_signatures = 0
        self.incomplete = 0  # requests cut off before their body was complete (a killed caller)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # the caller died mid-request: nothing arrived, nobody to answer
                    with owner.lock:
                        owner.incomplete += 1
                    self.close_connection = True
                    return
                status = owner._receive(self.headers.get("Idempotency-Key", ""), body, dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-3pl", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/orders"

    def _receive(self, key: str, body: bytes, headers: dict[str, str]) -> int:
        mode = self.mode
        digest = hashlib.sha256(body).hexdigest()
        status = 200
        if mode == "fail":
            status = self.fail_status
        elif mode == "reject":
            status = self.reject_status
        elif not self._signed(body, headers):
            status = 401
        if status == 200:
            time.sleep(self.hang_seconds if mode == "hang" else self.latency)
        with self.lock:
            self.seen.append(Seen(key, digest, status, time.monotonic(), mode))
            self.bodies[key].add(digest)
            if status == 401:
                self.bad_signatures += 1
            if status == 200 and key not in self.applied:
                self.applied[key] = json.loads(body)
                self.applications[key] += 1
        return status

    def _signed(self, body: bytes, headers: dict[str, str]) -> bool:
        timestamp = headers.get("X-Ordergate-Timestamp", "")
        expected = (
            "sha256="
            + hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        )
        return hmac.compare_digest(expected, headers.get("X-Ordergate-Signature", ""))

    def keys_seen(self) -> Counter[str]:
        with self.lock:
            return Counter(s.key for s in self.seen)

    def statuses(self) -> Counter[int]:
        with self.lock:
            return Counter(s.status for s in self.seen)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.mode = "ok"
        self.server.shutdown()
        self.server.server_close()
