"""The operator's commands over the embedded default: partners, ingest, orders, documents, failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.app import app
from gateway.settings import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def cli_json(*args: str) -> dict:  # type: ignore[type-arg]
    code, output = cli(*args, "--json")
    assert code == 0, output
    return json.loads(output)  # type: ignore[no-any-return]


@pytest.fixture
def home(settings: Settings) -> Path:
    return settings.home


def test_partner_add_list_show(home: Path) -> None:
    code, output = cli(
        "partners",
        "add",
        "hexa",
        "--name",
        "Hexa Retail",
        "--edifact",
        "5412345000013:14",
        "--gln",
        "5412345000020",
    )
    assert code == 0, output
    assert "edifact  5412345000013 qualifier 14" in output
    assert (home / "inbox" / "hexa").is_dir()
    listed = cli_json("partners", "list")["partners"]
    assert [p["id"] for p in listed] == ["hexa"]
    shown = cli_json("partners", "show", "hexa")
    assert {(i["standard"], i["qualifier"], i["value"]) for i in shown["identifiers"]} == {
        ("edifact", "14", "5412345000013"),
        ("gln", None, "5412345000020"),
    }
    code, output = cli("partners", "show", "nobody")
    assert code == 1 and "no partner" in output


def test_identifier_cannot_belong_to_two_partners(home: Path) -> None:
    assert cli("partners", "add", "acme", "--x12", "ZZ:BUYERX12")[0] == 0
    code, output = cli("partners", "add", "other", "--x12", "ZZ:BUYERX12")
    assert code == 1
    assert "already belongs to partner 'acme'" in output


def test_bad_partner_id_is_a_usage_error(home: Path) -> None:
    code, output = cli("partners", "add", "Has Space")
    assert code == 2 and "partner id" in output


def test_ingest_then_list_and_show_orders(home: Path) -> None:
    cli("partners", "add", "hexa", "--edifact", "5412345000013:14")
    cli("partners", "add", "acme", "--x12", "ZZ:BUYERX12")
    payload = cli_json(
        "ingest", str(FIXTURES / "orders_d96a_basic.edi"), str(FIXTURES / "850_4010_basic.edi")
    )
    statuses = [d["status"] for d in payload["documents"]]
    assert statuses == ["accepted", "accepted"]
    orders = cli_json("orders", "list")["orders"]
    assert sorted(o["order_number"] for o in orders) == ["PO-4711", "PO-9001"]
    assert {o["partner"] for o in orders} == {"hexa", "acme"}

    x12_order = next(o for o in orders if o["order_number"] == "PO-9001")
    code, output = cli("orders", "show", x12_order["id"])
    assert code == 0
    assert "PO-9001" in output and "Acme Stores Inc" in output and "received" in output
    detail = cli_json("orders", "show", x12_order["id"])
    assert detail["canonical"]["lines"][0]["quantity"] == "24"
    assert [e["status"] for e in detail["events"]] == ["received"]

    code, output = cli("orders", "list", "--partner", "hexa")
    assert "PO-4711" in output and "PO-9001" not in output


def test_failures_are_listed_with_their_reason(home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.edi"
    data = (FIXTURES / "orders_d96a_basic.edi").read_bytes()
    broken.write_bytes(data.replace(b"UNT+22+1", b"UNT+25+1"))
    code, output = cli("ingest", str(broken))
    assert code == 1
    assert "failed" in output
    failures = cli_json("failed", "list")["failures"]
    assert len(failures) == 1
    failure = failures[0]
    assert failure["code"] == "EDIFACT_UNT_COUNT"
    assert failure["segment"] == "UNT" and failure["position"] is not None
    code, output = cli("failed", "list")
    assert "EDIFACT_UNT_COUNT" in output and "UNT" in output
    code, output = cli("failed", "show", str(failure["id"]))
    assert code == 0 and "EDIFACT_UNT_COUNT" in output

    document = cli_json("documents", "show", failure["document_id"])
    assert document["status"] == "failed" and document["filename"] == "broken.edi"
    assert failure["id"] == f"f{document['failures'][0]['id']}"  # `failed` ids: f<n> for failure n
    listed = cli_json("documents", "list", "--status", "failed")["documents"]
    assert [d["id"] for d in listed] == [failure["document_id"]]
    raw = runner.invoke(app, ["documents", "show", failure["document_id"], "--raw"])
    assert raw.stdout_bytes == broken.read_bytes()


def test_empty_lists_say_so(home: Path) -> None:
    assert "no orders yet" in cli("orders", "list")[1]
    assert "no failures" in cli("failed", "list")[1]
    assert "no partners yet" in cli("partners", "list")[1]
