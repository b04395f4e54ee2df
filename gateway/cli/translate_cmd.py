"""`ordergate translate FILE`: pure translation, nothing stored, no partner set-up needed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.cli.output import fail, issues_json, print_issues, print_json
from gateway.core.errors import Issue
from gateway.settings import get_settings
from mappings.base import Format
from mappings.tabular import MappingFileError, TabularFormat, load_mapping
from mappings.translate import Translation, translate


def translation_payload(translation: Translation) -> dict[str, Any]:
    return {
        "status": translation.status,
        "format": translation.format,
        "orders": [order.model_dump(mode="json") for order in translation.orders],
        "errors": issues_json(translation.errors),
        "warnings": issues_json(translation.warnings),
    }


def _too_large(size: int, limit: int) -> dict[str, Any]:
    issue = Issue(
        code="DOCUMENT_TOO_LARGE",
        message=f"the file has {size} bytes, more than the limit of {limit} (ORDERGATE_MAX_DOCUMENT_BYTES)",
    )
    return {
        "status": "rejected",
        "format": None,
        "orders": [],
        "errors": issues_json([issue]),
        "warnings": [],
    }


def _flat_file_format(mapping: Path | None) -> Format | None:
    """The format a mapping file describes; usage error (exit 2) when the mapping itself is wrong."""
    if mapping is None:
        return None
    try:
        return TabularFormat(load_mapping(mapping))
    except MappingFileError as error:
        fail(f"mapping {mapping}: {error.message}", code=2)


def translate_command(
    file: Annotated[
        Path, typer.Argument(help="The document to translate (EDIFACT or X12; a flat file with --mapping).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="A partner's mapping file (TOML, see docs/mapping-files.md): read FILE as that CSV or "
            "fixed-width layout instead of detecting its format.",
        ),
    ] = None,
) -> None:
    """Translate a document to canonical orders and show them, or show precisely why it was refused."""
    fmt = _flat_file_format(mapping)
    try:
        size = file.stat().st_size
        limit = get_settings().max_document_bytes
        if size > limit:
            payload = _too_large(size, limit)
            if as_json:
                print_json(payload)
            else:
                typer.echo(f"rejected: {payload['errors'][0]['message']}")
            raise typer.Exit(1)
        data = file.read_bytes()
    except IsADirectoryError:
        fail(f"{file} is a directory, not a file", code=2)
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}", code=2)

    translation = translate(data, format=fmt)
    if as_json:
        print_json(translation_payload(translation))
    else:
        _print_human(file, translation)
    raise typer.Exit(0 if translation.status == "accepted" else 1)


def _print_human(file: Path, translation: Translation) -> None:
    label = (translation.format or "unknown format").upper()
    orders = translation.orders
    typer.echo(f"{translation.status}: {file.name} ({label}, {len(orders)} order(s))")
    for order in orders:
        source = order.source
        typer.echo(
            f"  order {order.order_number}  date {order.order_date or '-'}  "
            f"{source.message_type} {source.standard_version or ''} ref {source.message_control_ref}  "
            f"from {source.sender_id}  {len(order.lines)} line(s)"
        )
        for line in order.lines:
            item = line.gtin or line.buyer_item_id or line.seller_item_id or "-"
            price = f" @ {line.unit_price}" if line.unit_price is not None else ""
            typer.echo(f"    {line.line_number:>4}  {item:<20} {line.quantity} {line.unit or ''}{price}")
    print_issues("errors:", translation.errors)
    print_issues("warnings:", translation.warnings)
