"""Who sent an interchange: envelope sender ids matched against partners' registered identifiers, or,
for envelopes that name no seller (marketplace orders), the channel the document arrived on."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.errors import Issue
from gateway.storage import repository as repo
from gateway.storage.repository import IdentifierSpec
from mappings.base import InterchangeHeader

PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")

# EDIFACT 0007 qualifier 14 and X12 qualifier 08/UL mean the id is a GLN: a partner registered by GLN
# is found under either standard.
_GLN_QUALIFIERS = {("edifact", "14"), ("x12", "08"), ("x12", "UL"), ("mailtext", "GLN")}

CHANNEL_ATTRIBUTED_FORMATS = frozenset({"marketplace", "csv", "fixed"})
"""Formats whose envelope names no seller, or names only what the partner's own set-up put there: a
marketplace order's sender is "shopify", "woocommerce" or an Amazon MarketplaceId that every seller on
that site shares; a flat file is read at all only through a mapping attached to the partner that claimed
it (`gateway.partner_formats`), whose constants say whatever that mapping says. Such an interchange
carries no identity to check a claim against; the channel it came on is its only identity."""


def sender_spec(header: InterchangeHeader) -> IdentifierSpec:
    return IdentifierSpec(header.format, header.sender_qualifier or "", header.sender_id)


def add_hint(header: InterchangeHeader, partner: str) -> str:
    if header.format == "x12":
        value = (
            f"{header.sender_qualifier}:{header.sender_id}" if header.sender_qualifier else header.sender_id
        )
    else:
        value = (
            f"{header.sender_id}:{header.sender_qualifier}" if header.sender_qualifier else header.sender_id
        )
    return f"ordergate partners add {partner} --{header.format} '{value}'"


async def resolve_sender(
    session: AsyncSession, header: InterchangeHeader, claimed_partner: str | None
) -> tuple[str | None, list[Issue]]:
    """The partner that sent this interchange, or the issue that says why none could be trusted.

    A claimed partner (its inbox folder, `--partner`, the API's `partner` parameter, its channel) must
    exist and the envelope's sender must be one of its identifiers: one partner's channel cannot carry
    another's orders. A marketplace envelope names no seller, so there the claim decides (see
    `resolve_by_channel`).
    """
    if header.format in CHANNEL_ATTRIBUTED_FORMATS:
        return await resolve_by_channel(session, header, claimed_partner)
    spec = sender_spec(header)
    segment = "UNB" if header.format == "edifact" else "ISA"
    element = "0004" if header.format == "edifact" else "ISA06"
    match = await repo.find_identifier(session, spec)
    if match is None and (header.format, spec.qualifier) in _GLN_QUALIFIERS:
        match = await repo.find_identifier(session, IdentifierSpec("gln", "", header.sender_id))
    if claimed_partner is not None:
        partner = await repo.get_partner(session, claimed_partner)
        if partner is None:
            return None, [
                Issue(
                    code="UNKNOWN_PARTNER",
                    message=f"partner {claimed_partner!r} is not configured; add it with "
                    f"`{add_hint(header, claimed_partner)}`",
                )
            ]
        if match is None or match.partner_id != claimed_partner:
            owner = f" (it belongs to partner {match.partner_id!r})" if match is not None else ""
            return claimed_partner, [
                Issue(
                    code="SENDER_NOT_PARTNER",
                    message=f"the interchange sender {spec.value}"
                    + (f" (qualifier {spec.qualifier})" if spec.qualifier else "")
                    + f" is not an identifier of partner {claimed_partner!r}{owner}; if it is theirs, "
                    f"register it with `{add_hint(header, claimed_partner)}`",
                    segment=segment,
                    position=1,
                    element=element,
                )
            ]
        return claimed_partner, []
    if match is None:
        return None, [
            Issue(
                code="UNKNOWN_SENDER",
                message=f"no partner is registered with sender id {spec.value}"
                + (f" (qualifier {spec.qualifier})" if spec.qualifier else "")
                + f"; register it with `{add_hint(header, '<partner>')}`",
                segment=segment,
                position=1,
                element=element,
            )
        ]
    return match.partner_id, []


async def resolve_by_channel(
    session: AsyncSession, header: InterchangeHeader, claimed_partner: str | None
) -> tuple[str | None, list[Issue]]:
    """A marketplace order is the partner's whose channel it arrived on: a webhook verified with that
    partner's key, its marketplace API login, its SFTP login or inbox folder. Nothing in the order can
    name another partner, so there is nothing to check the claim against; and every claim comes from a
    channel ops configured for that one partner, so one partner's channel still cannot carry another's
    orders. Without a claim, an identifier registered for the marketplace (standard `marketplace`)
    still decides."""
    if claimed_partner is not None:
        if await repo.get_partner(session, claimed_partner) is None:
            return None, [
                Issue(
                    code="UNKNOWN_PARTNER",
                    message=f"partner {claimed_partner!r} is not configured; add it with "
                    f"`ordergate partners add {claimed_partner}`",
                )
            ]
        return claimed_partner, []
    match = await repo.find_identifier(session, sender_spec(header))
    if match is not None:
        return match.partner_id, []
    return None, [
        Issue(
            code="UNKNOWN_SENDER",
            message=f"a {header.sender_id} order names the marketplace, not the seller, so its partner is "
            "the channel's: receive it on the partner's channel (a webhook or marketplace channel, "
            "`ordergate channels add <partner> …`), in its inbox folder, or with `--partner <partner>`",
            element="sender_id",
        )
    ]
