"""Documents: raw upload (archived before anything else) and what became of each one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from gateway.storage import repository as repo
from gateway.views import document_json
from partner_portal.deps import ServiceDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/documents", tags=["documents"])


@router.post(
    "",
    status_code=201,
    summary="Upload a raw document",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={
        201: {"description": "Archived and accepted: its orders are stored and on their way"},
        202: {"description": "Archived; the verdict was not ready in time: poll GET /api/documents/{id}"},
        422: {"description": "Archived but refused: the failure says why"},
        413: {"description": "Larger than ORDERGATE_MAX_DOCUMENT_BYTES; not archived"},
    },
)
async def upload_document(
    request: Request,
    response: Response,
    service: ServiceDep,
    settings: SettingsDep,
    partner: Annotated[str | None, Query(description="The partner this document comes from")] = None,
    filename: Annotated[str | None, Query(description="Original file name, kept as metadata")] = None,
) -> dict[str, Any]:
    """The body is the document's bytes, as sent by the partner. It is archived and announced to the
    pipeline; the response waits (up to ORDERGATE_VERDICT_WAIT_SECONDS) for the translate stage's verdict:
    the ids of the orders, or the errors with their segment and position."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > settings.max_document_bytes:
            raise HTTPException(413, f"document larger than {settings.max_document_bytes} bytes")
    result = await service.receive(
        bytes(body),
        channel="api",
        filename=filename,
        content_type=request.headers.get("content-type"),
        partner_id=partner,
    )
    if result.status == "failed":
        response.status_code = 422
    elif result.status == "received":
        response.status_code = 202
    return result.as_dict()


@router.get("", summary="List documents, newest first")
async def list_documents(
    session: SessionDep,
    status: str | None = None,
    partner: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    rows = await repo.list_documents(session, status=status, partner_id=partner, limit=limit)
    return {"documents": [document_json(d) for d in rows]}


@router.get("/{document_id}", summary="One document with its orders or failures")
async def get_document(document_id: str, session: SessionDep) -> dict[str, Any]:
    document = await repo.get_document(session, document_id)
    if document is None:
        raise HTTPException(404, f"no document {document_id}")
    orders = await repo.list_orders(session, document_id=document_id, limit=100_000)
    failures = await repo.list_failures(session, status=None, document_id=document_id)
    return document_json(document, order_ids=[o.id for o in orders], failures=failures)


@router.get("/{document_id}/raw", summary="The archived bytes, exactly as received")
async def get_document_raw(document_id: str, session: SessionDep) -> Response:
    document = await repo.get_document(session, document_id, with_raw=True)
    if document is None:
        raise HTTPException(404, f"no document {document_id}")
    return Response(
        content=document.raw,
        media_type="application/octet-stream",
        headers={"X-Content-SHA256": document.sha256},
    )
