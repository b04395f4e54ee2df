"""`ordergate bench translate`: full translation throughput beside pydifact on the same bytes.

Each measurement runs in a fresh interpreter (spawned, not forked) so that its peak RSS is its own.
Our translation reads the interchange from a file in chunks, the way a large document is read in
production; pydifact reads the decoded text, which is the only way it can. The figure that matters is
the ratio, since both are measured in the same run on the same machine.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.orders import make_orders

Measurement = dict[str, float]


def _peak_rss_mb() -> float:
    """Peak resident memory of this process. VmHWM rather than ru_maxrss: Linux carries ru_maxrss over
    an exec, so a spawned child would report its parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure_ordergate(path: str, format_name: str) -> Measurement:
    from mappings.base import MessageOutcome
    from mappings.registry import get

    fmt = get(format_name)
    assert fmt is not None
    baseline_rss = _peak_rss_mb()
    start = time.perf_counter()
    messages = orders = errors = 0
    with open(path, "rb") as stream:
        for event in fmt.read(stream):
            if isinstance(event, MessageOutcome):
                messages += 1
                orders += event.order is not None
                errors += len(event.errors)
    elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "messages": messages,
        "orders": orders,
        "errors": errors,
        "peak_rss_mb": _peak_rss_mb(),
        "startup_rss_mb": baseline_rss,
    }


def _measure_pydifact(path: str) -> Measurement:
    import warnings

    from pydifact.segmentcollection import Interchange

    warnings.simplefilter("ignore")  # pydifact warns about its missing service-segment XML on every run

    baseline_rss = _peak_rss_mb()
    start = time.perf_counter()
    text = Path(path).read_text(encoding="latin-1")
    interchange = Interchange.from_str(text)
    segments = sum(1 for _ in interchange.segments)
    messages = sum(1 for _ in interchange.get_messages())
    elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "segments": segments,
        "messages": messages,
        "peak_rss_mb": _peak_rss_mb(),
        "startup_rss_mb": baseline_rss,
    }


def _in_fresh_process(function: Callable[..., Measurement], *args: Any) -> Measurement:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def write_edifact(path: Path, messages: int, lines: int) -> None:
    from mappings.edifact.render import render_orders

    data = render_orders(
        list(make_orders(messages, lines=lines, format="edifact")),
        sender_id="5412345000013",
        sender_qualifier="14",
        receiver_id="5790000274017",
        receiver_qualifier="14",
        control_ref="BENCH1",
    )
    path.write_bytes(data)


def write_x12(path: Path, messages: int, lines: int) -> None:
    from mappings.x12.render import render_850

    data = render_850(
        list(make_orders(messages, lines=lines, format="x12")),
        sender_id="BENCHBUYER",
        sender_qualifier="ZZ",
        receiver_id="BENCHSELLER",
        receiver_qualifier="ZZ",
        control_number=1,
    )
    path.write_bytes(data)


def _rates(measured: Measurement, size: int) -> dict[str, float]:
    seconds = measured["seconds"]
    return {
        "mb_per_s": round(size / 1e6 / seconds, 2),
        "messages_per_s": round(measured["messages"] / seconds, 1),
        "peak_rss_mb": round(measured["peak_rss_mb"], 1),
    }


def run_translate_bench(*, messages: int = 10_000, lines: int = 10) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ordergate-bench-") as folder:
        edifact_path = Path(folder) / "orders.edi"
        x12_path = Path(folder) / "850.x12"
        write_edifact(edifact_path, messages, lines)
        write_x12(x12_path, messages, lines)
        edifact_size = edifact_path.stat().st_size
        x12_size = x12_path.stat().st_size

        ours = _in_fresh_process(_measure_ordergate, str(edifact_path), "edifact")
        theirs = _in_fresh_process(_measure_pydifact, str(edifact_path))
        x12 = _in_fresh_process(_measure_ordergate, str(x12_path), "x12")

    for label, measured in (("edifact", ours), ("x12", x12)):
        if measured["orders"] != messages or measured["errors"]:
            raise RuntimeError(f"{label}: translated {measured['orders']} of {messages} orders with errors")
    edifact = _rates(ours, edifact_size)
    pydifact_mb_per_s = edifact_size / 1e6 / theirs["seconds"]
    edifact |= {
        "input_mb": round(edifact_size / 1e6, 2),
        "pydifact_mb_per_s": round(pydifact_mb_per_s, 2),
        "pydifact_peak_rss_mb": round(theirs["peak_rss_mb"], 1),
        "ratio_vs_pydifact": round(edifact["mb_per_s"] / pydifact_mb_per_s, 1),
    }
    x12_report = _rates(x12, x12_size) | {"input_mb": round(x12_size / 1e6, 2)}
    return {
        "messages": messages,
        "lines_per_message": lines,
        "cpu_count": os.cpu_count(),
        "edifact": edifact,
        "x12": x12_report,
    }


def format_report(report: dict[str, Any]) -> str:
    e, x = report["edifact"], report["x12"]
    return "\n".join(
        [
            f"translation to canonical orders, {report['messages']} messages x {report['lines_per_message']} lines",
            f"  EDIFACT ORDERS  {e['input_mb']:>7} MB  {e['mb_per_s']:>7} MB/s  {e['messages_per_s']:>9} msg/s"
            f"  peak RSS {e['peak_rss_mb']} MB",
            f"  pydifact        {'':>7}     {e['pydifact_mb_per_s']:>7} MB/s  (Interchange.from_str + every segment)"
            f"  peak RSS {e['pydifact_peak_rss_mb']} MB",
            f"  ratio vs pydifact: {e['ratio_vs_pydifact']}x",
            f"  X12 850         {x['input_mb']:>7} MB  {x['mb_per_s']:>7} MB/s  {x['messages_per_s']:>9} sets/s"
            f"  peak RSS {x['peak_rss_mb']} MB",
        ]
    )
