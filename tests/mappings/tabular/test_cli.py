"""`ordergate translate FILE --mapping MAP`, through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.app import app
from tests.mappings.tabular.helpers import FIXTURES

runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["translate", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_translate_a_csv_with_its_mapping_as_json() -> None:
    code, out, _ = cli(
        str(FIXTURES / "mueller_orders.csv"), "--mapping", str(FIXTURES / "mueller.toml"), "--json"
    )
    assert code == 0, out
    payload = json.loads(out)
    assert (payload["status"], payload["format"], payload["errors"]) == ("accepted", "csv", [])
    assert [o["order_number"] for o in payload["orders"]] == ["4500012345", "4500012346"]
    assert payload["orders"][0]["lines"][0]["quantity"] == "1200"
    assert payload["orders"][0]["source"]["format"] == "csv"


def test_translate_a_fixed_width_file_human_output() -> None:
    code, out, _ = cli(str(FIXTURES / "nordlicht_orders.txt"), "--mapping", str(FIXTURES / "nordlicht.toml"))
    assert code == 0, out
    assert out.startswith("accepted: nordlicht_orders.txt (FIXED, 2 order(s))")
    assert "order PO-778801" in out and "125.50" in out


def test_a_file_that_does_not_fit_the_mapping_is_rejected(tmp_path: Path) -> None:
    code, out, _ = cli(
        str(FIXTURES / "nordlicht_orders.txt"), "--mapping", str(FIXTURES / "mueller.toml"), "--json"
    )
    assert code == 1
    payload = json.loads(out)
    assert payload["status"] == "rejected" and payload["orders"] == []
    error = payload["errors"][0]
    assert (error["code"], error["segment"], error["position"]) == ("TABULAR_HEADER", "header", 1)


def test_bad_rows_are_listed_in_human_output(tmp_path: Path) -> None:
    data = (FIXTURES / "mueller_orders.csv").read_bytes().replace(b";1.200;", b";1.2x0;")
    path = tmp_path / "orders.csv"
    path.write_bytes(data)
    code, out, _ = cli(str(path), "--mapping", str(FIXTURES / "mueller.toml"))
    assert code == 1
    assert 'row 2, column "Menge": "1.2x0" is not a number' in out
    assert "(segment row, position 2, element Menge)" in out


def test_a_bad_mapping_is_a_usage_error(tmp_path: Path) -> None:
    mapping = tmp_path / "bad.toml"
    mapping.write_text(
        '[layout]\nkind = "csv"\n[[fields]]\ntarget = "lines.qty"\ncolumn = 1\n', encoding="utf-8"
    )
    code, out, err = cli(str(FIXTURES / "mueller_orders.csv"), "--mapping", str(mapping))
    assert code == 2 and out == ""
    assert 'did you mean "lines.quantity"' in err and "Traceback" not in err
    code, _, err = cli(str(FIXTURES / "mueller_orders.csv"), "--mapping", str(tmp_path / "missing.toml"))
    assert code == 2 and "cannot read the mapping file" in err


def test_without_a_mapping_a_csv_is_not_recognised() -> None:
    code, out, _ = cli(str(FIXTURES / "mueller_orders.csv"), "--json")
    assert code == 1
    assert json.loads(out)["errors"][0]["code"] == "UNKNOWN_FORMAT"
