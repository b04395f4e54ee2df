"""`ordergate bench …`: throughput figures as ratios against a baseline measured in the same run."""

from __future__ import annotations

from typing import Annotated

import typer

from gateway.cli.output import print_json

app = typer.Typer(
    help="Benchmarks (figures are ratios against a baseline measured in the same run).", no_args_is_help=True
)


@app.command("translate")
def bench_translate(
    messages: Annotated[int, typer.Option(help="Messages (sets) in each generated interchange.")] = 10_000,
    lines: Annotated[int, typer.Option(help="Lines per order.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Translation throughput on generated EDIFACT ORDERS and X12 850 interchanges, beside pydifact."""
    from bench.translate import format_report, run_translate_bench

    report = run_translate_bench(messages=messages, lines=lines)
    if as_json:
        print_json(report)
    else:
        typer.echo(format_report(report))
