"""The connector contract, run against every registered connector kind.

Each kind supplies a harness: how to drop a file where the connector looks, and where released and
delivered files end up. A kind registered without a harness fails here, so no transport ships
untested. Cases: capabilities as declared, at-least-once until `confirm`, release only on `confirm`,
size limit, growing files, outbound names and atomic delivery, `check`, and secrets kept out of reprs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors import registry
from connectors.base import (
    ChannelContext,
    Connector,
    ConnectorSettings,
    InboundConnector,
    InboundItem,
    OutboundConnector,
    Outcome,
)
from gateway.core.errors import ConfigError, ConnectorRejected
from tests.connectors.as2.harness import as2_harness, as2_push_harness
from tests.connectors.conftest import DictSecrets
from tests.connectors.email.harness import email_harness
from tests.connectors.marketplaces.contract import HARNESSES as MARKETPLACE_HARNESSES
from tests.connectors.sftp_server import PASSWORD, start_sftp_server
from tests.connectors.webhooks.harness import HARNESSES as WEBHOOK_HARNESSES
from tests.connectors.webhooks.harness import PushHarness

LIMIT = 1000


@dataclass
class Harness:
    """A connector kind wired to folders the test can see on disk."""

    kind: str
    settings: dict[str, Any]
    secrets: DictSecrets
    inbound: Path
    outbound: Path
    secret_values: tuple[str, ...] = ()

    def build(self) -> Connector:
        context = ChannelContext("contract", "acme", LIMIT, "both")
        return registry.build(self.kind, self.settings, self.secrets, context=context)

    def drop(self, name: str, data: bytes) -> None:
        (self.inbound / name).write_bytes(data)

    def waiting(self) -> set[str]:
        return {p.name for p in self.inbound.iterdir() if p.is_file()}

    def released(self, folder: str) -> list[str]:
        return (
            sorted(p.name for p in (self.inbound / folder).glob("*"))
            if (self.inbound / folder).is_dir()
            else []
        )

    def delivered(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in self.outbound.iterdir() if p.is_file()}


HarnessFactory = Callable[[Path], Awaitable[tuple[Harness, Callable[[], Awaitable[None]]]]]


async def _folder(tmp_path: Path) -> tuple[Harness, Callable[[], Awaitable[None]]]:
    inbound, outbound = tmp_path / "in", tmp_path / "out"
    inbound.mkdir()
    outbound.mkdir()
    settings = {"path": str(inbound), "outbound_path": str(outbound)}

    async def nothing() -> None:
        return None

    return Harness("folder", settings, DictSecrets({}), inbound, outbound), nothing


async def _sftp(tmp_path: Path) -> tuple[Harness, Callable[[], Awaitable[None]]]:
    server = await start_sftp_server(tmp_path / "sftp")
    harness = Harness(
        "sftp",
        server.channel_settings(),
        DictSecrets({"ACME_SFTP_PASSWORD": PASSWORD}),
        server.root / "in",
        server.root / "out",
        secret_values=(PASSWORD,),
    )
    return harness, server.close


HARNESSES: dict[str, HarnessFactory] = {"folder": _folder, "sftp": _sftp, "email": email_harness}
HARNESSES |= MARKETPLACE_HARNESSES  # type: ignore[arg-type]  # API sources: no files (see `files_only`)
HARNESSES["as2"] = as2_harness  # type: ignore[assignment]  # pushed in, sent out: no files either


def _polls_or_sends(kind: str) -> bool:
    """The kinds this file-based suite covers; push-only kinds (webhooks) run the pushed suite below."""
    spec = registry.get(kind)
    return spec.poll or spec.outbound


NOT_FILES = {"as2", *MARKETPLACE_HARNESSES}
"""Kinds that serve documents from an API or have them pushed: no files to drop, name or move; their own
suites cover at-least-once delivery."""
ARRIVES_WHOLE = NOT_FILES | {"email"}
"""Kinds with nothing "still being written" (a mail is delivered whole or not at all)."""


def _kinds(
    *, files: bool = False, growing: bool = False, sends: bool = False, polled: bool = False
) -> list[str]:
    """The registered kinds a case applies to, so that a case runs only where it means something."""
    return [
        kind
        for kind in registry.kinds()
        if _polls_or_sends(kind)
        and not (files and kind in NOT_FILES)
        and not (growing and kind in ARRIVES_WHOLE)
        and not (sends and not registry.get(kind).outbound)
        and not (polled and (not registry.get(kind).poll or registry.get(kind).push))
    ]


FILES = pytest.mark.parametrize("harness", _kinds(files=True, polled=True), indirect=True)
GROWING = pytest.mark.parametrize("harness", _kinds(growing=True, polled=True), indirect=True)
SENDING = pytest.mark.parametrize("harness", _kinds(sends=True), indirect=True)
POLLED = pytest.mark.parametrize("harness", _kinds(polled=True), indirect=True)


@pytest.fixture(params=[kind for kind in registry.kinds() if _polls_or_sends(kind)])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    factory = HARNESSES.get(request.param)
    if factory is None:
        pytest.fail(f"connector kind {request.param!r} is registered but has no contract harness here")
    made, close = await factory(tmp_path)
    try:
        yield made
    finally:
        await close()


@pytest.fixture
async def connector(harness: Harness) -> AsyncIterator[Connector]:
    built = harness.build()
    try:
        yield built
    finally:
        await built.aclose()


def inbound(connector: Connector) -> InboundConnector:
    assert isinstance(connector, InboundConnector)
    return connector


async def poll_until(connector: Connector, *, polls: int = 3) -> Sequence[InboundItem]:
    """Poll until something is offered (a stable-size rule needs two looks)."""
    for _ in range(polls):
        items = await inbound(connector).poll()
        if items:
            return items
    return []


async def test_capabilities_are_declared_and_true(harness: Harness, connector: Connector) -> None:
    spec = registry.get(harness.kind)
    assert spec.kind == harness.kind
    assert issubclass(spec.settings, ConnectorSettings)
    assert isinstance(connector, InboundConnector) == spec.poll
    assert isinstance(connector, OutboundConnector) == spec.outbound
    for name, field in spec.settings.model_fields.items():
        assert field.annotation is not SecretStr, f"{name}: settings hold secret names, never values"
    with pytest.raises(ConfigError, match="bogus: unknown setting"):
        registry.parse_settings(harness.kind, harness.settings | {"bogus": "1"})


@POLLED
async def test_nothing_arrived_nothing_offered(connector: Connector) -> None:
    assert await poll_until(connector) == []


@FILES
async def test_a_file_is_offered_until_confirmed_then_released(
    harness: Harness, connector: Connector
) -> None:
    harness.drop("po-1.edi", b"UNB+hello'")
    (item,) = await poll_until(connector)
    assert (item.payload, item.channel, item.partner_id, item.filename) == (
        b"UNB+hello'",
        "contract",
        "acme",
        "po-1.edi",
    )
    assert item.refusal is None
    # Not confirmed (the archive commit never happened): the sender's copy stays and is offered again.
    assert harness.waiting() == {"po-1.edi"}
    (again,) = await poll_until(connector)
    assert again.payload == b"UNB+hello'"

    await inbound(connector).confirm(again, document_id="DOC1", accepted=True)
    assert harness.waiting() == set()
    assert harness.released("processed") == ["DOC1-po-1.edi"]
    assert await poll_until(connector) == []


@FILES
async def test_a_failed_document_is_released_to_failed(harness: Harness, connector: Connector) -> None:
    harness.drop("junk.txt", b"not edi")
    (item,) = await poll_until(connector)
    await inbound(connector).confirm(item, document_id="DOC2", accepted=False)
    assert harness.waiting() == set()
    assert harness.released("failed") == ["DOC2-junk.txt"]
    assert harness.released("processed") == []


@FILES
async def test_an_oversized_file_is_refused_without_its_bytes(harness: Harness, connector: Connector) -> None:
    harness.drop("big.edi", b"x" * (LIMIT + 1))
    harness.drop("small.edi", b"x" * LIMIT)
    items = {item.filename: item for item in await poll_until(connector)}
    assert items["small.edi"].refusal is None and len(items["small.edi"].payload) == LIMIT
    big = items["big.edi"]
    assert big.payload == b""
    assert big.refusal is not None and big.refusal.code == "DOCUMENT_TOO_LARGE"
    assert str(LIMIT + 1) in big.refusal.message
    assert "big.edi" in harness.waiting()  # nothing moves before the refusal is recorded
    await inbound(connector).confirm(big, document_id="DOC3", accepted=False)
    assert harness.released("failed") == ["DOC3-big.edi"]


@GROWING
async def test_a_growing_file_is_not_taken(harness: Harness, connector: Connector) -> None:
    harness.drop("growing.edi", b"UNB+first half")
    assert await inbound(connector).poll() == []
    with (harness.inbound / "growing.edi").open("ab") as handle:
        handle.write(b" and the rest'")
    assert await inbound(connector).poll() == []  # changed since the last look
    (item,) = await inbound(connector).poll()
    assert item.payload == b"UNB+first half and the rest'"


@FILES
async def test_names_are_for_display_only(harness: Harness, connector: Connector) -> None:
    harness.drop('we:ird?"name.edi', b"data")
    (item,) = await poll_until(connector)
    assert item.filename is not None
    assert not set(item.filename) & set('/\\:?"\x00')


@SENDING
async def test_send_delivers_whole_files_under_the_final_name(harness: Harness, connector: Connector) -> None:
    assert isinstance(connector, OutboundConnector)
    receipt = await connector.send(b"ORDRSP 1", filename="ordrsp-1.edi", meta={"order": "O1"})
    assert receipt.size == 8 and receipt.channel == "contract"
    assert receipt.remote_ref.endswith("ordrsp-1.edi")
    assert harness.delivered() == {"ordrsp-1.edi": b"ORDRSP 1"}
    # A resend under the same deterministic name replaces the copy, leaving no temporary file behind.
    await connector.send(b"ORDRSP 1, resent", filename="ordrsp-1.edi")
    assert harness.delivered() == {"ordrsp-1.edi": b"ORDRSP 1, resent"}
    assert [p.name for p in harness.outbound.iterdir()] == ["ordrsp-1.edi"]


@SENDING
@pytest.mark.parametrize("name", ["../escape.edi", "a/b.edi", "", ".hidden", "x\x00y", "..", "C:\\x.edi"])
async def test_send_refuses_names_that_are_paths(harness: Harness, connector: Connector, name: str) -> None:
    assert isinstance(connector, OutboundConnector)
    with pytest.raises(ConnectorRejected) as caught:
        await connector.send(b"data", filename=name)
    assert caught.value.retryable is False
    assert harness.delivered() == {}
    assert not (harness.outbound.parent / "escape.edi").exists()


async def test_check_reports_each_step(connector: Connector) -> None:
    checks = await connector.check()
    assert checks and all(check.ok for check in checks), checks


async def test_reprs_carry_no_secret(harness: Harness, connector: Connector) -> None:
    await connector.check()  # secrets were resolved at least once
    settings = registry.parse_settings(harness.kind, harness.settings)
    for text in (repr(connector), repr(settings), str(settings.model_dump())):
        for value in harness.secret_values:
            assert value not in text


# Pushed inbound (webhooks): the sender posts; `receive` verifies, `answer` replies after the commit ----

PUSH_HARNESSES: dict[str, Callable[[], PushHarness]] = {**WEBHOOK_HARNESSES, "as2": as2_push_harness}
DOCUMENT = b'{"id": 450789469, "total_price": "409.94", "note": "caf\xc3\xa9"}'


@pytest.fixture(params=[kind for kind in registry.kinds() if registry.get(kind).push])
def push_harness(request: pytest.FixtureRequest) -> PushHarness:
    factory = PUSH_HARNESSES.get(request.param)
    if factory is None:
        pytest.fail(f"push connector kind {request.param!r} has no contract harness here")
    return factory()


async def test_push_capabilities_are_declared_and_true(push_harness: PushHarness) -> None:
    spec = registry.get(push_harness.kind)
    connector = push_harness.build(LIMIT)
    assert spec.inbound and spec.push and not spec.poll
    assert not isinstance(connector, InboundConnector)
    assert isinstance(connector, OutboundConnector) == spec.outbound
    for name, field in spec.settings.model_fields.items():
        assert field.annotation is not SecretStr, f"{name}: settings hold secret names, never values"
    with pytest.raises(ConfigError, match="bogus: unknown setting"):
        registry.parse_settings(push_harness.kind, push_harness.settings | {"bogus": "1"})


async def test_a_verified_request_is_one_item_carrying_the_document(push_harness: PushHarness) -> None:
    body, headers = push_harness.request(DOCUMENT)
    [item] = await push_harness.build(LIMIT).receive(body, headers)
    assert (item.payload, item.channel, item.partner_id, item.refusal) == (DOCUMENT, "contract", "acme", None)


async def test_a_tampered_or_unauthenticated_request_is_refused(push_harness: PushHarness) -> None:
    connector = push_harness.build(LIMIT)
    body, headers = push_harness.request(DOCUMENT)
    for attempt in ((push_harness.tamper(body), headers), (body, push_harness.unauthenticated(headers))):
        with pytest.raises(ConnectorRejected) as caught:
            await connector.receive(*attempt)
        assert caught.value.retryable is False


async def test_an_oversized_request_is_not_taken_in(push_harness: PushHarness) -> None:
    body, headers = push_harness.request(DOCUMENT)
    try:
        items = await push_harness.build(len(DOCUMENT) - 1).receive(body, headers)
    except ConnectorRejected:
        return
    assert items and all(
        i.payload == b"" and i.refusal and i.refusal.code == "DOCUMENT_TOO_LARGE" for i in items
    )


async def test_the_answer_is_2xx_only_once_every_item_is_committed(push_harness: PushHarness) -> None:
    connector = push_harness.build(LIMIT)
    body, headers = push_harness.request(DOCUMENT)
    [item] = await connector.receive(body, headers)
    taken = await connector.answer([Outcome(item, "DOC1", True)])
    assert 200 <= taken.status < 300
    lost = await connector.answer([Outcome(item, None, False)])
    assert not 200 <= lost.status < 300


async def test_push_check_reports_each_step_and_reprs_carry_no_secret(push_harness: PushHarness) -> None:
    connector = push_harness.build(LIMIT)
    checks = await connector.check()
    assert checks and all(check.ok for check in checks), checks
    settings = registry.parse_settings(push_harness.kind, push_harness.settings)
    for text in (repr(connector), repr(settings), str(settings.model_dump())):
        for value in push_harness.secret_values:
            assert value not in text
