"""A plain overview page at `/`: the newest documents and orders, for a person with a browser."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from gateway.storage import repository as repo
from partner_portal.deps import SessionDep

router = APIRouter(include_in_schema=False)

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin-bottom:2rem}"
    "td,th{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:left;font-size:.9rem}"
    ".failed{color:#b00020}.accepted{color:#1b7f3b}"
)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body or '<tr><td>(none)</td></tr>'}</table>"


@router.get("/", response_class=HTMLResponse)
async def home(session: SessionDep) -> str:
    documents = await repo.list_documents(session, limit=20)
    orders = await repo.list_orders(session, limit=20)
    failures = {f.document_id: f for f in await repo.list_failures(session, status=None, limit=200)}
    doc_rows = [
        [
            f'<a href="/api/documents/{d.id}">{d.id}</a>',
            f'<span class="{d.status}">{d.status}</span>',
            escape(d.channel),
            escape(d.partner_id or "-"),
            escape(d.filename or "-"),
            escape(failures[d.id].reason[:200]) if d.id in failures else "",
        ]
        for d in documents
    ]
    order_rows = [
        [
            f'<a href="/api/orders/{o.id}">{escape(o.order_number)}</a>',
            escape(o.partner_id or "-"),
            escape(o.status),
            escape(str(o.order_date or "-")),
            str(o.line_count),
        ]
        for o in orders
    ]
    return (
        f"<!doctype html><html><head><title>ordergate</title><style>{_STYLE}</style></head><body>"
        "<h1>ordergate</h1><p>API: <a href='/docs'>/docs</a></p>"
        f"<h2>Documents</h2>{_table(['Document', 'Status', 'Channel', 'Partner', 'File', 'Reason'], doc_rows)}"
        f"<h2>Orders</h2>{_table(['Order', 'Partner', 'Status', 'Date', 'Lines'], order_rows)}"
        "</body></html>"
    )
