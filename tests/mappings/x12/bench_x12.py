"""Quick X12 throughput check (not a test): `python -m tests.mappings.x12.bench_x12 [sets] [lines]`.

`--fast-gtin-what-if` swaps the shared GTIN check for plain arithmetic in the measuring process only,
to show how much of the time `gateway.core.checks` (stdnum) takes.

Generates an 850 interchange with the streaming renderer, then translates it from a file in a fresh
interpreter (tokenize + map to `Order` + `check_order`), three times, and prints the median MB/s, sets/s
and the peak RSS of the translating process.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from stdnum import ean

from gateway.core.canonical import Address, Contact, Identifier, Order, OrderLine, OrderSource, Party

_MODULE = "tests.mappings.x12.bench_x12"


def _gtin(seed: int) -> str:
    body = f"061414{seed % 1_000_000:06d}"
    return body + ean.calc_check_digit(body)


def orders(count: int, lines: int) -> Iterator[Order]:
    for index in range(count):
        day = date(2024, 1, 1) + timedelta(days=index % 365)
        yield Order(
            order_number=f"PO{index:08d}",
            order_date=day,
            requested_delivery_date=day + timedelta(days=7),
            currency="USD",
            buyer=Party(
                name="Acme Retail Inc",
                identifiers=[Identifier(scheme="GLN", value="0614141000036")],
                contact=Contact(name="Purchasing", phone="555-0100", email="po@acme.example"),
            ),
            seller=Party(name="Widget Supply Co", identifiers=[Identifier(scheme="DUNS", value="123456789")]),
            ship_to=Party(
                name="Acme DC Dallas",
                identifiers=[Identifier(scheme="BUYER", value=f"DC{index % 7}")],
                address=Address(street=["1200 Commerce St"], city="Dallas", region="TX", postal_code="75201"),
            ),
            lines=[
                OrderLine(
                    line_number=str(n),
                    gtin=_gtin(index * lines + n),
                    buyer_item_id=f"ART-{n:04d}",
                    description=f"Article {n} blue",
                    quantity=Decimal(1 + (index + n) % 48),
                    unit="EA",
                    unit_price=Decimal(f"{1 + n}.{(index + n) % 100:02d}"),
                )
                for n in range(1, lines + 1)
            ],
            source=OrderSource(format="x12", message_type="850"),
        )


def write(path: Path, count: int, lines: int) -> None:
    from mappings.x12.render import iter_render_850

    with path.open("wb") as out:
        for chunk in iter_render_850(
            orders(count, lines),
            sender_id="BENCHBUYER",
            sender_qualifier="ZZ",
            receiver_id="BENCHSELLER",
            receiver_qualifier="ZZ",
            control_number=1,
        ):
            out.write(chunk)


def _fast_gtin_check(value: str) -> bool:
    """What-if only: a pure-arithmetic GTIN check in place of stdnum's, to size the shared checks' cost."""
    if len(value) not in (8, 12, 13, 14) or not (value.isascii() and value.isdigit()):
        return False
    odd = sum(int(d) for d in value[-2::-2])
    even = sum(int(d) for d in value[-3::-2])
    return (10 - (3 * odd + even) % 10) % 10 == int(value[-1])


def measure(path: str, what_if: bool = False) -> dict[str, float]:
    """Runs in its own interpreter so that the peak RSS is the translation's."""
    from mappings.base import MessageOutcome
    from mappings.x12 import FORMAT

    if what_if:
        import gateway.core.checks

        gateway.core.checks.is_valid_gtin = _fast_gtin_check

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    sets = translated = problems = 0
    with open(path, "rb") as stream:
        for event in FORMAT.read(stream):
            if isinstance(event, MessageOutcome):
                sets += 1
                translated += event.order is not None
                problems += len(event.errors)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "sets": sets,
        "orders": translated,
        "errors": problems,
        "rss_before_mb": rss_before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    what_if = "--fast-gtin-what-if" in sys.argv
    count = int(arguments[0]) if arguments else 10_000
    lines = int(arguments[1]) if len(arguments) > 1 else 10
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "850.x12"
        started = time.perf_counter()
        write(path, count, lines)
        render_seconds = time.perf_counter() - started
        size = path.stat().st_size
        runs = []
        for _ in range(3):
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"import json, {_MODULE} as b; print(json.dumps(b.measure({str(path)!r}, {what_if})))",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(done.stdout))
    assert all(r["orders"] == count and r["errors"] == 0 for r in runs), runs
    seconds = statistics.median(r["seconds"] for r in runs)
    if what_if:
        print("WHAT-IF: gateway.core.checks.is_valid_gtin replaced by a pure-arithmetic check")
    print(f"{count} sets x {lines} lines, {size / 1e6:.2f} MB (rendered in {render_seconds:.2f} s)")
    print(f"  translate: {size / 1e6 / seconds:.1f} MB/s, {count / seconds:,.0f} sets/s (median of 3)")
    print(
        f"  peak RSS {max(r['peak_rss_mb'] for r in runs):.1f} MB "
        f"(interpreter with imports: {max(r['rss_before_mb'] for r in runs):.1f} MB)"
    )


if __name__ == "__main__":
    main()
