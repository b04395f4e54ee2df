"""Two ordergate AS2 profiles on 127.0.0.1, each the real FastAPI app under uvicorn with its own
database: ALPHA (partner `bravo` on its side) sends, BRAVO (partner `alpha`, known by the EDIFACT
sender id of the fixture order) receives. ALPHA's key is a secret (environment), BRAVO's a file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from connectors.as2.connector import As2Connector
from connectors.as2.settings import As2Settings
from connectors.as2.store import As2Store
from connectors.base import ChannelContext
from gateway.bus.embedded_schema import QueuedMessage
from gateway.channels import Secrets, save_channel
from gateway.service import GatewayService
from gateway.settings import Settings
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import Document, OrderRecord, OutboxMessage
from gateway.storage.repository import IdentifierSpec
from partner_portal.app import create_app
from tests.connectors.as2.pki import Identity, identity
from tests.connectors.as2.serving import served

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
EDIFACT = (FIXTURES / "orders_d96a_basic.edi").read_bytes()
ALPHA_KEY_SECRET = "ALPHA_AS2_KEY"


@dataclass
class Profile:
    partner: str  # the partner this profile trades with, as configured on its side
    as2_id: str
    app: FastAPI
    url: str
    identity: Identity
    channel_settings: dict[str, Any]

    @property
    def service(self) -> GatewayService:
        return self.app.state.service  # type: ignore[no-any-return]

    @property
    def database(self) -> Database:
        return self.service.database

    @property
    def endpoint(self) -> str:
        """Where the other profile posts messages to this one."""
        return f"{self.url}/as2/{self.partner}/as2"

    async def configure(self, **changes: Any) -> None:
        self.channel_settings = {**self.channel_settings, **changes}
        async with self.database.transaction() as session:
            await save_channel(
                session,
                self.partner,
                "as2",
                kind="as2",
                direction="both",
                settings=self.channel_settings,
                replace=True,
            )

    def connector(self, **changes: Any) -> As2Connector:
        """This profile's connector for its partner, as the outbound stage would use it."""
        settings = As2Settings.model_validate({**self.channel_settings, **changes})
        context = ChannelContext("as2", self.partner, 10_000_000, "both")
        return As2Connector(settings, Secrets(), context, store=As2Store(self.database))

    async def documents(self) -> list[Document]:
        async with self.database.session() as session:
            return list((await session.scalars(select(Document).order_by(Document.received_at))).all())

    async def order_count(self) -> int:
        async with self.database.session() as session:
            return int((await session.scalar(select(func.count()).select_from(OrderRecord))) or 0)

    async def idle(self) -> bool:
        """Nothing queued and nothing left to publish: the pipeline has done all it was given."""
        async with self.database.session() as session:
            queued = await session.scalar(select(func.count()).select_from(QueuedMessage))
            unpublished = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
            )
        return not queued and not unpublished

    async def settled(self, document_id: str, timeout: float = 15.0) -> Document:
        """The document once the pipeline has given its verdict."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            async with self.database.session() as session:
                document = await repo.get_document(session, document_id)
            assert document is not None
            if document.status != "received" or asyncio.get_running_loop().time() > deadline:
                return document
            await asyncio.sleep(0.05)


def _settings(home: Path) -> Settings:
    return Settings(
        home=home, database_url=f"sqlite+aiosqlite:///{home / 'ordergate.db'}", verdict_wait_seconds=5
    )


@pytest.fixture
async def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Profile, Profile]]:
    alpha_id, bravo_id = identity("ALPHA"), identity("BRAVO")
    monkeypatch.setenv(f"ORDERGATE_SECRET_{ALPHA_KEY_SECRET}", alpha_id.key_pem.decode())
    pki = tmp_path / "pki"
    alpha_cert = alpha_id.write(pki)[1]
    bravo_key, bravo_cert = bravo_id.write(pki)
    alpha_app = create_app(_settings(tmp_path / "alpha"), watch_inbox=False)
    bravo_app = create_app(_settings(tmp_path / "bravo"), watch_inbox=False)
    async with served(alpha_app) as alpha_url, served(bravo_app) as bravo_url:
        alpha = Profile("bravo", "ALPHA", alpha_app, alpha_url, alpha_id, {})
        bravo = Profile("alpha", "BRAVO", bravo_app, bravo_url, bravo_id, {})
        async with bravo.database.transaction() as session:
            await repo.upsert_partner(
                session, "alpha", name="Alpha", identifiers=[IdentifierSpec("edifact", "14", "5412345000013")]
            )
        async with alpha.database.transaction() as session:
            await repo.upsert_partner(session, "bravo", name="Bravo")
        await bravo.configure(
            as2_id="BRAVO",
            partner_as2_id="ALPHA",
            private_key_file=str(bravo_key),
            certificate_file=str(bravo_cert),
            partner_certificate_file=str(alpha_cert),
            partner_url=alpha.endpoint,
        )
        await alpha.configure(
            as2_id="ALPHA",
            partner_as2_id="BRAVO",
            private_key_secret=ALPHA_KEY_SECRET,
            certificate_file=str(alpha_cert),
            partner_certificate_file=str(bravo_cert),
            partner_url=bravo.endpoint,
            async_mdn_url=f"{alpha.endpoint}/mdn",
            content_type="application/EDIFACT",
            compress=True,
        )
        yield alpha, bravo
        # Let the pipelines finish what they hold: stopping one with work in flight can wait out a lease.
        for profile in (alpha, bravo):
            await wait_for(profile.idle)


async def wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Await `predicate()` (a coroutine function) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)
