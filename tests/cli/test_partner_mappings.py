"""A supplier's own CSV through the mapping attached to its partner: `ordergate partners mapping add`,
then its files (inbox folder, channels, `--partner`) become orders; other partners' documents and
unclaimed ones are not read through it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.app import app
from gateway.settings import Settings

TABULAR = Path(__file__).resolve().parent.parent / "mappings" / "tabular" / "fixtures"
runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def ingest(*args: str) -> list[dict]:  # type: ignore[type-arg]
    _, output = cli("ingest", *args, "--json")
    return json.loads(output)["documents"]  # type: ignore[no-any-return]


def test_a_partners_csv_becomes_orders_through_its_mapping(settings: Settings) -> None:
    assert cli("partners", "add", "mueller", "--gln", "4012345000009")[0] == 0
    code, output = cli("partners", "mapping", "add", "mueller", str(TABULAR / "mueller.toml"))
    assert code == 0, output
    code, output = cli("partners", "mapping", "list", "mueller", "--json")
    assert [m["name"] for m in json.loads(output)["mappings"]] == ["mueller"]

    [document] = ingest(str(TABULAR / "mueller_orders.csv"), "--partner", "mueller")
    assert document["status"] == "accepted", document["errors"]
    assert document["format"] == "csv" and document["partner"] == "mueller"
    orders = json.loads(cli("orders", "list", "--json")[1])["orders"]
    assert {o["order_number"] for o in orders} >= {"4500012345"}
    assert len(orders) == len(document["orders"]) >= 2


def test_the_mapping_is_only_for_its_own_partners_documents(settings: Settings) -> None:
    cli("partners", "add", "mueller", "--gln", "4012345000009")
    cli("partners", "add", "other", "--gln", "5400000000017")
    cli("partners", "mapping", "add", "mueller", str(TABULAR / "mueller.toml"))

    [unclaimed] = ingest(str(TABULAR / "mueller_orders.csv"))
    [someone_else] = ingest(str(TABULAR / "mueller_orders.csv"), "--partner", "other")
    for document in (unclaimed, someone_else):
        assert document["status"] == "failed"
        assert document["errors"][0]["code"] == "UNKNOWN_FORMAT"


def test_a_file_the_mapping_does_not_recognise_is_detected_as_usual(settings: Settings) -> None:
    cli("partners", "add", "mueller", "--gln", "4012345000009")
    cli("partners", "mapping", "add", "mueller", str(TABULAR / "mueller.toml"))
    [document] = ingest(str(TABULAR / "webshop_orders.csv"), "--partner", "mueller")
    assert document["status"] == "failed"
    assert document["errors"][0]["code"] == "UNKNOWN_FORMAT"  # another layout: not misread as Müller's


def test_mapping_commands_refuse_clearly(settings: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[layout]\nkind = "csv"\n[[fields]]\ntarget = "order_nummer"\ncolumn = "A"\n')
    code, output = cli("partners", "mapping", "add", "nobody", str(TABULAR / "mueller.toml"))
    assert code == 1 and "no partner 'nobody'" in output
    cli("partners", "add", "mueller", "--gln", "4012345000009")
    code, output = cli("partners", "mapping", "add", "mueller", str(broken))
    assert code == 2 and "order_nummer" in output
    assert cli("partners", "mapping", "add", "mueller", str(TABULAR / "mueller.toml"))[0] == 0
    code, output = cli("partners", "mapping", "add", "mueller", str(TABULAR / "mueller.toml"))
    assert code == 1 and "--replace" in output
    assert cli("partners", "mapping", "add", "mueller", str(TABULAR / "mueller.toml"), "--replace")[0] == 0
    assert cli("partners", "mapping", "remove", "mueller", "mueller")[0] == 0
    code, output = cli("partners", "mapping", "remove", "mueller", "mueller")
    assert code == 1 and "has no mapping" in output
