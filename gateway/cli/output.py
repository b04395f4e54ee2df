"""Output helpers shared by the commands: readable tables, one JSON object, errors without tracebacks."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn

import typer

from gateway.core.errors import Issue


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, default=_default, ensure_ascii=False) + "\n")


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value).replace("\n", " ")


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str = "(none)") -> None:
    text_rows = [[cell(v) for v in row] for row in rows]
    if not text_rows:
        typer.echo(empty)
        return
    widths = [max(len(h), *(len(r[i]) for r in text_rows)) for i, h in enumerate(headers)]
    widths = [min(w, 60) for w in widths]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v[:w].ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    typer.echo(line(headers))
    typer.echo(line(["-" * w for w in widths]))
    for row in text_rows:
        typer.echo(line(row))


def print_fields(pairs: Iterable[tuple[str, Any]]) -> None:
    items = list(pairs)
    width = max(len(k) for k, _ in items)
    for key, value in items:
        typer.echo(f"{key.ljust(width)}  {cell(value)}")


def issue_line(issue: Issue) -> str:
    return f"  [{issue.severity}] {issue.describe()}"


def print_issues(title: str, issues: Sequence[Issue], *, err: bool = False) -> None:
    if issues:
        typer.echo(title, err=err)
        for issue in issues:
            typer.echo(issue_line(issue), err=err)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def issues_json(issues: Sequence[Issue]) -> list[dict[str, Any]]:
    return [
        {
            "code": i.code,
            "message": i.message,
            "segment": i.segment,
            "position": i.position,
            "element": i.element,
            "severity": i.severity,
        }
        for i in issues
    ]
