"""Who sent an interchange: envelope sender ids matched against partners' registered identifiers."""

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
_GLN_QUALIFIERS = {("edifact", "14"), ("x12", "08"), ("x12", "UL")}


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

    A claimed partner (its inbox folder, `--partner`, the API's `partner` parameter) must exist and the
    envelope's sender must be one of its identifiers: one partner's channel cannot carry another's orders.
    """
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
