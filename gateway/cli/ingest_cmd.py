"""`ordergate ingest PATH...`: archive, translate and store documents from files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.context import run_with_database
from gateway.cli.output import fail, print_issues, print_json
from gateway.ingest import Ingestor, IngestResult
from gateway.settings import Settings
from gateway.storage.database import Database


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))
        elif path.is_file():
            files.append(path)
        else:
            fail(f"{path}: no such file or directory", code=2)
    return files


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Files, or folders whose files are all ingested.")],
    partner: Annotated[str | None, typer.Option(help="The partner these files come from.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Archive each file, translate it and store its orders, or store a failure that says why not."""
    files = _expand(paths)

    async def body(database: Database, settings: Settings) -> list[IngestResult]:
        ingestor = Ingestor(database)
        results = []
        for file in files:
            data = file.read_bytes()
            if len(data) > settings.max_document_bytes:
                fail(f"{file}: {len(data)} bytes is more than ORDERGATE_MAX_DOCUMENT_BYTES", code=1)
            results.append(
                await ingestor.receive(data, channel="cli", filename=file.name, partner_id=partner)
            )
        return results

    results = run_with_database(body)
    if as_json:
        print_json(
            {"documents": [r.as_dict() | {"file": str(f)} for r, f in zip(results, files, strict=True)]}
        )
    else:
        for file, result in zip(files, results, strict=True):
            if result.status == "accepted":
                typer.echo(
                    f"accepted  {file.name}  document {result.document_id}  partner {result.partner_id}  "
                    f"{len(result.order_ids)} order(s): {', '.join(result.order_ids)}"
                )
            else:
                typer.echo(
                    f"failed    {file.name}  document {result.document_id}  failure {result.failure_id}"
                )
                print_issues("  reasons:", result.errors)
    raise typer.Exit(0 if all(r.status == "accepted" for r in results) else 1)
