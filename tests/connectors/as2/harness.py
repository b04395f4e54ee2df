"""AS2 in the contract suite (tests/connectors/test_contract.py).

Two identities: OURS (the connector under test) and THEIRS (the partner). Outbound, THEIRS is a small
AS2 server on 127.0.0.1 built from the same connector: it verifies and decrypts what OURS sends, writes
each payload under its file name into the harness's `outbound` folder ("delivered") and answers with a
signed MDN. Pushed inbound, `request(document)` is a message THEIRS signs and encrypts for OURS;
`unauthenticated` names another sender; `tamper` flips a byte of the encrypted body. AS2 moves messages,
not files: the suite's file cases do not apply (`files = False`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response

from connectors import registry
from connectors.as2 import keys, outbound
from connectors.as2.connector import As2Connector
from connectors.as2.inbound import As2Refused
from connectors.as2.settings import As2Settings
from connectors.base import ChannelContext, Connector, Outcome
from tests.connectors.as2.pki import identity
from tests.connectors.as2.serving import served
from tests.connectors.conftest import DictSecrets
from tests.connectors.webhooks.harness import PushHarness

LIMIT = 1000
KEY_SECRET = "CONTRACT_AS2_KEY"


def _ours(partner_url: str | None) -> tuple[dict[str, Any], DictSecrets]:
    """OURS with every piece of key material as a secret (the end-to-end tests use files)."""
    ours, theirs = identity("OURS"), identity("THEIRS")
    settings: dict[str, Any] = {
        "as2_id": "OURS",
        "partner_as2_id": "THEIRS",
        "private_key_secret": KEY_SECRET,
        "certificate_secret": "CONTRACT_AS2_CERT",
        "partner_certificate_secret": "CONTRACT_AS2_PARTNER_CERT",
    }
    if partner_url:
        settings["partner_url"] = partner_url
    values = {
        KEY_SECRET: ours.key_pem.decode(),
        "CONTRACT_AS2_CERT": ours.cert_pem.decode(),
        "CONTRACT_AS2_PARTNER_CERT": theirs.cert_pem.decode(),
    }
    return settings, DictSecrets(values)


def _theirs() -> tuple[As2Settings, DictSecrets]:
    settings = As2Settings(
        as2_id="THEIRS",
        partner_as2_id="OURS",
        private_key_secret="THEIRS_KEY",
        certificate_secret="THEIRS_CERT",
        partner_certificate_secret="THEIRS_PARTNER_CERT",
    )
    values = {
        "THEIRS_KEY": identity("THEIRS").key_pem.decode(),
        "THEIRS_CERT": identity("THEIRS").cert_pem.decode(),
        "THEIRS_PARTNER_CERT": identity("OURS").cert_pem.decode(),
    }
    return settings, DictSecrets(values)


def partner_app(delivered: Path) -> FastAPI:
    """THEIRS as an AS2 server that files every payload it takes under its name."""
    app = FastAPI()
    settings, secrets = _theirs()

    @app.options("/as2")
    async def probe() -> Response:
        return Response(status_code=200)

    @app.post("/as2")
    async def take(request: Request) -> Response:
        connector = As2Connector(settings, secrets, ChannelContext("partner", None, 10_000_000, "inbound"))
        try:
            (item,) = await connector.receive(await request.body(), request.headers)
        except As2Refused as refusal:
            answer = refusal.answer
        else:
            assert item.filename is not None
            with tempfile.NamedTemporaryFile(dir=delivered.parent, delete=False) as handle:
                handle.write(item.payload)
            os.replace(handle.name, delivered / item.filename)
            answer = await connector.answer([Outcome(item, "PARTNER-DOC", True)])
        return Response(answer.body, answer.status, headers=dict(answer.headers))

    return app


@dataclass
class As2Harness:
    kind: str
    settings: dict[str, Any]
    secrets: DictSecrets
    inbound: Path
    outbound: Path
    secret_values: tuple[str, ...]
    files: bool = False
    arrives_whole: bool = True

    def build(self) -> Connector:
        context = ChannelContext("contract", "acme", LIMIT, "both")
        return registry.build(self.kind, self.settings, self.secrets, context=context)

    def delivered(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in self.outbound.iterdir() if p.is_file()}


async def as2_harness(tmp_path: Path) -> tuple[As2Harness, Callable[[], Awaitable[None]]]:
    inbound, delivered = tmp_path / "in", tmp_path / "out"
    for folder in (inbound, delivered):
        folder.mkdir()
    stack = contextlib.AsyncExitStack()
    url = await stack.enter_async_context(served(partner_app(delivered)))
    settings, secrets = _ours(f"{url}/as2")
    harness = As2Harness("as2", settings, secrets, inbound, delivered, (identity("OURS").key_pem.decode(),))
    return harness, stack.aclose


def _request(document: bytes) -> tuple[bytes, dict[str, str]]:
    """A message from THEIRS to OURS, signed and encrypted as a partner would send it."""
    settings, secrets = _theirs()
    material = keys.load(settings, secrets)
    message = outbound.build(
        settings,
        keys.organization(settings, material),
        keys.partner(settings, material),
        document,
        filename="order.json",
        content_type="application/octet-stream",
    )
    return message.body, message.headers


def _stranger(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("MALLORY" if k.lower() == "as2-from" else v) for k, v in headers.items()}


def as2_push_harness() -> PushHarness:
    settings, secrets = _ours(None)
    return PushHarness(
        kind="as2",
        settings=settings,
        secrets=secrets,
        request=_request,
        unauthenticated=_stranger,
        secret_values=(identity("OURS").key_pem.decode(),),
    )
