"""Partners and the envelope identifiers that recognise them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from gateway.partners import PARTNER_ID
from gateway.storage import repository as repo
from gateway.storage.repository import IdentifierSpec
from gateway.views import partner_json
from partner_portal.deps import DatabaseDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/partners", tags=["partners"])


class IdentifierIn(BaseModel):
    standard: str = Field(description="edifact, x12 or gln", pattern="^(edifact|x12|gln)$")
    qualifier: str = Field(default="", max_length=8)
    value: str = Field(min_length=1, max_length=64)


class PartnerIn(BaseModel):
    id: str = Field(pattern=PARTNER_ID.pattern)
    name: str | None = None
    identifiers: list[IdentifierIn] = Field(default_factory=list)


@router.get("", summary="List partners")
async def list_partners(session: SessionDep) -> dict[str, Any]:
    return {"partners": [partner_json(p) for p in await repo.list_partners(session)]}


@router.get("/{partner_id}", summary="One partner")
async def get_partner(partner_id: str, session: SessionDep) -> dict[str, Any]:
    partner = await repo.get_partner(session, partner_id)
    if partner is None:
        raise HTTPException(404, f"no partner {partner_id}")
    return partner_json(partner)


@router.post("", status_code=201, summary="Add a partner, or add identifiers to one")
async def upsert_partner(body: PartnerIn, database: DatabaseDep, settings: SettingsDep) -> dict[str, Any]:
    specs = [IdentifierSpec(i.standard, i.qualifier, i.value) for i in body.identifiers]
    async with database.transaction() as session:
        for spec in specs:
            owner = await repo.find_identifier(session, spec)
            if owner is not None and owner.qualifier == spec.qualifier and owner.partner_id != body.id:
                raise HTTPException(409, f"identifier {spec} already belongs to partner {owner.partner_id}")
        partner = await repo.upsert_partner(session, body.id, name=body.name, identifiers=specs)
        (settings.inbox_root / body.id).mkdir(parents=True, exist_ok=True)
        return partner_json(partner)
