"""`ordergate`: the command line. Each command group lives in its own module; this one assembles them
and guarantees that no traceback reaches a user."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from gateway.cli import audit_cmd, bench_cmd, channels_cmd, destinations_cmd, partners_cmd, records_cmd
from gateway.cli.ingest_cmd import ingest_command
from gateway.cli.translate_cmd import translate_command
from gateway.cli.worker_cmd import worker_command
from gateway.core.errors import GatewayError

app = typer.Typer(
    name="ordergate",
    help="Order integration gateway: EDI and other documents in, canonical orders out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("translate")(translate_command)
app.command("ingest")(ingest_command)
app.command("worker")(worker_command)
app.add_typer(partners_cmd.app, name="partners")
app.add_typer(destinations_cmd.app, name="destinations")
app.add_typer(channels_cmd.app, name="channels")
app.add_typer(records_cmd.orders_app, name="orders")
app.add_typer(records_cmd.documents_app, name="documents")
app.add_typer(records_cmd.failed_app, name="failed")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(bench_cmd.app, name="bench")


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Default ORDERGATE_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="Default ORDERGATE_PORT or 8000")] = None,
) -> None:
    """Run the API (OpenAPI at /docs) and watch the inbox folders, on the embedded default."""
    import uvicorn

    from gateway.observability import configure_logging
    from gateway.settings import get_settings
    from partner_portal.app import create_app

    settings = get_settings()
    configure_logging()  # ORDERGATE_LOG_FORMAT=json for JSON lines; ORDERGATE_LOG_LEVEL
    typer.echo(
        f"ordergate on http://{host or settings.host}:{port or settings.port}  "
        f"database {settings.resolved_database_url}  inbox {settings.inbox_root.resolve()}/<partner>/"
    )
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,  # uvicorn's loggers propagate to configure_logging's handler and level
    )


@app.command("migrate")
def migrate() -> None:
    """Bring the database schema up to date (the other commands do it too, on first use)."""
    from gateway.cli.context import run_with_database

    async def body(*_: object) -> None:
        return None

    run_with_database(body)
    typer.echo("database schema is up to date")


def main() -> None:
    try:
        app()
    except GatewayError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # the last guard: a user sees one line, never a traceback
        logging.getLogger("ordergate").debug("unexpected error", exc_info=True)
        typer.echo(f"error: unexpected {type(error).__name__}: {error}", err=True)
        sys.exit(70)


if __name__ == "__main__":
    main()
