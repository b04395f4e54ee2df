"""The benchmark command works end to end, and translation memory stays flat as interchanges grow.

No timing is asserted here (figures live in docs/BENCHMARKS.md); what is asserted is that the benchmark
produces every figure it promises, and that streaming really streams.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from bench.orders import make_orders
from mappings.base import MessageOutcome
from mappings.registry import get


def test_bench_translate_json_reports_every_figure() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli.app", "bench", "translate", "--messages", "300", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report["edifact"]) >= {
        "mb_per_s",
        "messages_per_s",
        "peak_rss_mb",
        "pydifact_mb_per_s",
        "ratio_vs_pydifact",
    }
    assert set(report["x12"]) >= {"mb_per_s", "messages_per_s", "peak_rss_mb"}
    for figures in (report["edifact"], report["x12"]):
        assert figures["mb_per_s"] > 0 and figures["messages_per_s"] > 0 and figures["peak_rss_mb"] > 0
    assert report["edifact"]["ratio_vs_pydifact"] > 0


def _render(format_name: str, count: int) -> bytes:
    orders = list(make_orders(count, lines=10, format=format_name))
    if format_name == "edifact":
        from mappings.edifact.render import render_orders

        return render_orders(
            orders,
            sender_id="S",
            sender_qualifier="ZZ",
            receiver_id="R",
            receiver_qualifier="ZZ",
            control_ref="1",
        )
    from mappings.x12.render import render_850

    return render_850(
        orders,
        sender_id="S",
        sender_qualifier="ZZ",
        receiver_id="R",
        receiver_qualifier="ZZ",
        control_number=1,
    )


def _peak_translating(format_name: str, data: bytes) -> tuple[int, int]:
    fmt = get(format_name)
    assert fmt is not None
    stream = io.BytesIO(data)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        orders = sum(1 for e in fmt.read(stream) if isinstance(e, MessageOutcome) and e.order is not None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return orders, peak


@pytest.mark.slow
@pytest.mark.parametrize("format_name", ["edifact", "x12"])
def test_translation_memory_does_not_grow_with_the_interchange(format_name: str) -> None:
    small, large = _render(format_name, 500), _render(format_name, 4000)
    small_orders, small_peak = _peak_translating(format_name, small)
    large_orders, large_peak = _peak_translating(format_name, large)
    assert (small_orders, large_orders) == (500, 4000)
    # 8x the messages: memory may wobble (chunk boundaries, allocator), but must not scale with size.
    assert large_peak < small_peak * 2 + 1_000_000, (small_peak, large_peak)
    assert large_peak < len(large) / 4, (large_peak, len(large))


def test_bench_orders_are_valid() -> None:
    from gateway.core.checks import check_order

    for order in make_orders(20):
        assert [i for i in check_order(order) if i.severity == "error"] == []


def test_benchmarks_doc_names_the_machine() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md").read_text()
    assert "ordergate bench translate" in text and "cores" in text
