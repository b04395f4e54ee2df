"""Formats that belong to a partner: a supplier's CSV or fixed-width files read through the mapping file
ops attached to that partner (`ordergate partners mapping add`). A flat file cannot be recognised by
sniffing alone, so a document claimed by a partner (its inbox folder, channel or `--partner`) is first
offered to that partner's mappings — each checks the file's header or record layout — and only then to
format detection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.storage.models import PartnerMapping
from mappings.base import Format
from mappings.registry import SNIFF_BYTES
from mappings.tabular import TabularFormat
from mappings.tabular.model import TabularMapping
from mappings.translate import Translation, translate

PartnerFormats = Mapping[str, Sequence[Format]]


async def formats_for(session: AsyncSession, partner_ids: Iterable[str | None]) -> dict[str, list[Format]]:
    """Each partner's own formats, in the order their mappings were added; one query for all."""
    wanted = {p for p in partner_ids if p}
    found: dict[str, list[Format]] = {}
    if not wanted:
        return found
    rows = await session.execute(
        select(PartnerMapping.partner_id, PartnerMapping.mapping)
        .where(PartnerMapping.partner_id.in_(wanted))
        .order_by(PartnerMapping.created_at, PartnerMapping.name)
    )
    for partner_id, mapping in rows:
        found.setdefault(partner_id, []).append(TabularFormat(TabularMapping.model_validate(mapping)))
    return found


def translate_for(raw: bytes, own_formats: Sequence[Format] = ()) -> Translation:
    """Translate with the first of the partner's formats that recognises the document, else detect."""
    head = raw[:SNIFF_BYTES]
    chosen = next((f for f in own_formats if f.sniff(head)), None)
    return translate(raw, format=chosen) if chosen is not None else translate(raw)
