"""`ordergate bench pipeline` works end to end with tiny sizes: one JSON object with every figure it
promises, and every run dispatched every order it was given. No timing is asserted (figures live in
docs/BENCHMARKS.md); this runs real worker processes against RabbitMQ and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlparse

import pytest

from tests.conftest import POSTGRES_ADMIN_DSN, need_service

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.rabbitmq]

BROKER_URL = os.environ.get("ORDERGATE_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")


def test_bench_pipeline_json_reports_every_run_with_every_order_dispatched() -> None:
    broker = urlparse(BROKER_URL)
    need_service("RabbitMQ", broker.hostname or "127.0.0.1", broker.port or 5672)
    postgres = urlparse(POSTGRES_ADMIN_DSN)
    need_service("PostgreSQL", postgres.hostname or "127.0.0.1", postgres.port or 5432)

    env = dict(os.environ, ORDERGATE_BENCH_POSTGRES_DSN=POSTGRES_ADMIN_DSN)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli.app",
            "bench",
            "pipeline",
            "--orders",
            "30",
            "--rate",
            "20",
            "--seconds",
            "2",
            "--baseline-messages",
            "500",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # exactly one object on stdout (progress goes to stderr)

    assert report["baseline_msgs_per_s"] > 0
    runs = report["runs"]
    assert [(r["bus"], r["workers"]) for r in runs] == [
        ("embedded", 1),
        ("embedded", 2),
        ("rabbitmq", 1),
        ("rabbitmq", 2),
    ]
    for run in runs:
        label = f"{run['bus']} x{run['workers']}"
        assert set(run) >= {"bus", "workers", "orders_per_s", "p50_ms", "p99_ms"}, label
        assert run["problems"] == [], label
        assert (run["dispatched"], run["orders"]) == (30, 30), label
        assert run["steady_orders"] == 40 and run["steady_dispatched"] == 40, label
        assert run["orders_per_s"] > 0 and 0 < run["p50_ms"] <= run["p99_ms"], label
