"""`ordergate translate`, run as a user runs it: a real process, its exit code and its output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli.app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_accepted_edifact_prints_one_json_object_and_exits_0() -> None:
    done = run("translate", str(FIXTURES / "orders_d96a_basic.edi"), "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["status"] == "accepted"
    assert payload["format"] == "edifact"
    assert payload["errors"] == []
    [order] = payload["orders"]
    assert order["order_number"] == "PO-4711"
    assert order["source"]["sender_id"] == "5412345000013"
    assert [line["quantity"] for line in order["lines"]] == ["12", "3"]


def test_accepted_x12_human_output() -> None:
    done = run("translate", str(FIXTURES / "850_4010_basic.edi"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("accepted: 850_4010_basic.edi (X12, 1 order(s))")
    assert "PO-9001" in done.stdout


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "EMPTY_DOCUMENT"),
        (bytes(range(256)) * 40, "UNKNOWN_FORMAT"),
        (b"<?xml version='1.0'?><Order/>", "UNSUPPORTED_FORMAT"),
        (b'{"order": {"id": 1}}', "JSON_FIELD_MISSING"),  # a Shopify order without line_items
    ],
    ids=["empty", "binary", "xml", "json"],
)
def test_unreadable_input_is_rejected_with_exit_1_and_no_traceback(
    tmp_path: Path, content: bytes, code: str
) -> None:
    path = tmp_path / "input"
    path.write_bytes(content)
    done = run("translate", str(path), "--json")
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    payload = json.loads(done.stdout)
    assert payload["status"] == "rejected"
    assert payload["orders"] == []
    assert payload["errors"][0]["code"] == code
    assert set(payload["errors"][0]) >= {"code", "message", "segment", "position"}


def test_truncated_interchange_names_the_missing_trailer(tmp_path: Path) -> None:
    data = (FIXTURES / "orders_d96a_basic.edi").read_bytes()
    path = tmp_path / "truncated.edi"
    path.write_bytes(data[: data.index(b"UNZ+")])
    done = run("translate", str(path), "--json")
    assert done.returncode == 1
    payload = json.loads(done.stdout)
    assert payload["orders"] == []
    assert any(error["segment"] == "UNZ" for error in payload["errors"])


def test_every_truncation_is_rejected_cleanly(tmp_path: Path) -> None:
    """Cut the document at many points: always one JSON object, never a traceback, never an order."""
    data = (FIXTURES / "850_4010_basic.edi").read_bytes()
    script = (
        "import json,sys\n"
        "from gateway.cli.translate_cmd import translation_payload\n"
        "from mappings.translate import translate\n"
        "data=open(sys.argv[1],'rb').read()\n"
        "for cut in range(0, len(data) - 2, 7):\n"
        "    p = translation_payload(translate(data[:cut]))\n"
        "    assert p['status'] == 'rejected' and p['orders'] == [] and p['errors'], (cut, p)\n"
        "    json.dumps(p)\n"
        "print('ok')\n"
    )
    path = tmp_path / "850.edi"
    path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_invoice_is_recognised_and_named(tmp_path: Path) -> None:
    invoice = (
        b"UNB+UNOA:3+SENDER:ZZ+RECEIVER:ZZ+240101:1200+INV1'UNH+1+INVOIC:D:96A:UN'BGM+380+INV-1+9'"
        b"UNT+3+1'UNZ+1+INV1'"
    )
    path = tmp_path / "invoice.edi"
    path.write_bytes(invoice)
    done = run("translate", str(path), "--json")
    assert done.returncode == 1
    payload = json.loads(done.stdout)
    assert payload["errors"][0]["code"] == "NOT_AN_ORDER"
    assert "INVOIC" in payload["errors"][0]["message"] and "invoice" in payload["errors"][0]["message"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = run("translate", str(tmp_path / "nope.edi"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    folder = run("translate", str(tmp_path))
    assert folder.returncode == 2
    assert run("translate").returncode == 2
