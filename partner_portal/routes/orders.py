"""Canonical orders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from gateway.storage import repository as repo
from gateway.views import order_detail, order_summary
from partner_portal.deps import SessionDep

router = APIRouter(prefix="/api/orders", tags=["orders"])


@router.get("", summary="List orders, newest first")
async def list_orders(
    session: SessionDep,
    partner: str | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    rows = await repo.list_orders(session, partner_id=partner, status=status, limit=limit)
    return {"orders": [order_summary(o) for o in rows]}


@router.get("/{order_id}", summary="One order: canonical JSON, status history, warnings")
async def get_order(order_id: str, session: SessionDep) -> dict[str, Any]:
    order = await repo.get_order(session, order_id)
    if order is None:
        raise HTTPException(404, f"no order {order_id}")
    return order_detail(order)
