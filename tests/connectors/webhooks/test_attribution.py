"""Whose is a marketplace order: the channel's partner, since the order names no seller
(`gateway.partners.resolve_by_channel`); envelopes that name their sender are checked as before."""

from __future__ import annotations

from gateway.partners import resolve_sender
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.repository import IdentifierSpec
from mappings.base import InterchangeHeader

SHOPIFY = InterchangeHeader("marketplace", "shopify", None, "", None, "450789469")
EDIFACT = InterchangeHeader("edifact", "5412345000013", "14", "5400000000005", "14", "1001")


async def partners(database: Database) -> None:
    async with database.transaction() as session:
        await repo.upsert_partner(
            session, "hexa", name="Hexa", identifiers=[IdentifierSpec("edifact", "14", "5412345000013")]
        )
        await repo.upsert_partner(session, "koffie", name="Koffie")


async def test_a_marketplace_order_is_the_claiming_channels_partner(database: Database) -> None:
    await partners(database)
    async with database.session() as session:
        assert await resolve_sender(session, SHOPIFY, "koffie") == ("koffie", [])
        assert await resolve_sender(session, SHOPIFY, "hexa") == ("hexa", [])


async def test_a_marketplace_order_without_a_claim_has_no_partner(database: Database) -> None:
    await partners(database)
    async with database.session() as session:
        partner, [issue] = await resolve_sender(session, SHOPIFY, None)
    assert partner is None and issue.code == "UNKNOWN_SENDER"
    assert "channel" in issue.message and "--partner" in issue.message


async def test_a_registered_marketplace_identifier_still_decides_without_a_claim(database: Database) -> None:
    await partners(database)
    async with database.transaction() as session:
        await repo.upsert_partner(
            session, "koffie", name=None, identifiers=[IdentifierSpec("marketplace", "", "shopify")]
        )
    async with database.session() as session:
        assert await resolve_sender(session, SHOPIFY, None) == ("koffie", [])
        # A claim still wins: the order itself names nobody, its channel does.
        assert await resolve_sender(session, SHOPIFY, "hexa") == ("hexa", [])


async def test_an_unknown_claimed_partner_is_refused(database: Database) -> None:
    await partners(database)
    async with database.session() as session:
        partner, [issue] = await resolve_sender(session, SHOPIFY, "nobody")
    assert partner is None and issue.code == "UNKNOWN_PARTNER"


async def test_an_envelope_naming_its_sender_is_still_checked_against_the_claim(database: Database) -> None:
    await partners(database)
    async with database.session() as session:
        assert await resolve_sender(session, EDIFACT, "hexa") == ("hexa", [])
        _, [issue] = await resolve_sender(session, EDIFACT, "koffie")
    assert issue.code == "SENDER_NOT_PARTNER" and "hexa" in issue.message
