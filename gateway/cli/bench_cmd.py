"""`ordergate bench …`: throughput figures as ratios against a baseline measured in the same run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.output import fail, print_json

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


@app.command("pipeline")
def bench_pipeline(
    orders: Annotated[
        int, typer.Option(help="Documents (one order each) in the backlog of each run.")
    ] = 2_000,
    rate: Annotated[float, typer.Option(help="Offered load of the latency measurement, orders/s.")] = 100.0,
    seconds: Annotated[float, typer.Option(help="Duration of the offered load, seconds.")] = 10.0,
    bus: Annotated[
        list[str] | None, typer.Option(help="Bus to run (repeatable): embedded, rabbitmq. Default: both.")
    ] = None,
    workers: Annotated[
        list[int] | None, typer.Option(help="Worker processes per run (repeatable). Default: 1 and 2.")
    ] = None,
    baseline_messages: Annotated[
        int, typer.Option(help="Messages per run of the raw aio-pika baseline (median of 3 runs).")
    ] = 10_000,
    concurrency: Annotated[
        int | None, typer.Option(help="Messages in flight per stage in each worker (default: the worker's).")
    ] = None,
    logs: Annotated[Path | None, typer.Option(help="Keep the worker processes' logs in this folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """End-to-end orders/s (a backlog) and latency (a steady load) through the worker processes to a
    local webhook 3PL, on the embedded bus (SQLite) and on RabbitMQ + PostgreSQL, beside raw aio-pika
    publish-with-confirm throughput. Needs RabbitMQ (ORDERGATE_BROKER_URL or 127.0.0.1:5672) and
    PostgreSQL (ORDERGATE_BENCH_POSTGRES_DSN or postgres@127.0.0.1:5432). Progress goes to stderr."""
    from bench.pipeline import BUSES, format_report, run_pipeline_bench

    try:
        report = run_pipeline_bench(
            orders=orders,
            rate=rate,
            seconds=seconds,
            buses=tuple(bus or BUSES),
            worker_counts=tuple(workers or (1, 2)),
            baseline_messages=baseline_messages,
            progress=lambda line: typer.echo(line, err=True),
            logs=logs,
            concurrency=concurrency,
        )
    except ValueError as error:
        fail(str(error), code=2)
    if as_json:
        print_json(report)
    else:
        typer.echo(format_report(report))
