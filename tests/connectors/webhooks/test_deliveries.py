"""The delivery-id store (`webhook_deliveries`) on SQLite and PostgreSQL: claim, repeat, in flight,
a crash's claim taken over, release after a failed archive, pruning; and its migration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from gateway.push import CLAIM_LEASE_SECONDS, Claim, claim_delivery, settle_delivery
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import Base, WebhookDelivery


async def hexa(database: Database) -> None:
    async with database.transaction() as session:
        await repo.upsert_partner(session, "hexa", name="Hexa")
        await repo.upsert_partner(session, "koffie", name="Koffie")


async def age(database: Database, delivery: str, **delta: float) -> None:
    async with database.transaction() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.delivery_id == delivery)
            .values(claimed_at=repo.utcnow() - timedelta(**delta))
        )


async def stored(database: Database) -> list[tuple[str, str, str, str | None]]:
    async with database.session() as session:
        rows = (await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))).all()
    return [(r.partner_id, r.channel, r.delivery_id, r.document_id) for r in rows]


async def test_a_delivery_is_new_then_busy_then_taken(database: Database) -> None:
    await hexa(database)
    assert await claim_delivery(database, "hexa", "shopify", "w1", keep_days=90) == Claim("new")
    assert await claim_delivery(database, "hexa", "shopify", "w1", keep_days=90) == Claim("busy")
    await settle_delivery(database, "hexa", "shopify", "w1", "DOC1")
    assert await claim_delivery(database, "hexa", "shopify", "w1", keep_days=90) == Claim("taken", "DOC1")
    # The same id on another channel or of another partner is another delivery.
    assert await claim_delivery(database, "hexa", "woo", "w1", keep_days=90) == Claim("new")
    assert await claim_delivery(database, "koffie", "shopify", "w1", keep_days=90) == Claim("new")
    assert len(await stored(database)) == 3


async def test_a_released_claim_can_be_claimed_again(database: Database) -> None:
    await hexa(database)
    assert (await claim_delivery(database, "hexa", "shopify", "w2", keep_days=90)).state == "new"
    await settle_delivery(database, "hexa", "shopify", "w2", None)  # the archive failed
    assert await stored(database) == []
    assert (await claim_delivery(database, "hexa", "shopify", "w2", keep_days=90)).state == "new"


async def test_a_claim_left_by_a_crash_is_taken_over_after_its_lease(database: Database) -> None:
    await hexa(database)
    await claim_delivery(database, "hexa", "shopify", "w3", keep_days=90)
    await age(database, "w3", seconds=CLAIM_LEASE_SECONDS + 5)
    assert (await claim_delivery(database, "hexa", "shopify", "w3", keep_days=90)).state == "new"
    assert (await claim_delivery(database, "hexa", "shopify", "w3", keep_days=90)).state == "busy"


async def test_deliveries_older_than_the_window_are_pruned(database: Database) -> None:
    await hexa(database)
    await claim_delivery(database, "hexa", "shopify", "old", keep_days=90)
    await settle_delivery(database, "hexa", "shopify", "old", "DOC0")
    await age(database, "old", days=91)
    await claim_delivery(database, "hexa", "shopify", "new", keep_days=90)
    assert [d[2] for d in await stored(database)] == ["new"]


async def test_migration_0005_matches_the_model(database: Database) -> None:
    async with database.engine.connect() as connection:

        def differences(sync_connection: Connection) -> list[Any]:
            context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)

        diff = await connection.run_sync(differences)
    assert [d for d in diff if "webhook_deliveries" in repr(d)] == []
