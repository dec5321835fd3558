"""``crossmargin compare`` and ``crossmargin bench span`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crossmargin.examples import demo_portfolio_path
from crossmargin.interfaces.cli.app import app

runner = CliRunner()
STALE = ["--max-stale-days", "curve=500"]


def test_compare_json_on_the_demo_book(tmp_path: Path) -> None:
    """The issue's JSON shape, every arrangement per account, the futures silo margined
    by SPAN parameters published for the book from the bundled history."""
    out = tmp_path / "compare.json"
    result = runner.invoke(app, ["compare", str(demo_portfolio_path()), *STALE,
                                 "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.stdout
    doc = json.loads(out.read_text())
    assert doc["currency"] == "USD" and doc["as_of"] == "2018-06-29"
    for acct in doc["accounts"]:
        names = [a["arrangement"] for a in acct["arrangements"]]
        assert names == ["silo", "conservative", "unified"]
        for a in acct["arrangements"]:
            assert set(a) >= {"arrangement", "initial_margin", "maintenance_margin",
                              "collateral_value", "excess", "capital_freed_vs_silo",
                              "components"}
            assert a["initial_margin"] >= 0
    silo = doc["accounts"][0]["arrangements"][0]["detail"]["silos"]["futures"]
    assert "span" in silo["methods"]


def test_compare_table_and_bad_override() -> None:
    result = runner.invoke(app, ["compare", str(demo_portfolio_path()), *STALE,
                                 "--silo-method", "securities=tims",
                                 "--arrangement", "unified"])
    assert result.exit_code == 0, result.stdout
    assert "cross-silo offset" in result.stdout and "conservative" not in result.stdout
    bad = runner.invoke(app, ["compare", str(demo_portfolio_path()), *STALE,
                              "--silo-method", "bonds=tims"])
    assert bad.exit_code == 2 and "silo" in bad.stdout + bad.stderr


def test_bad_stale_limit_is_one_line() -> None:
    """A non-ASCII digit passes ``str.isdigit`` but not ``int``: still a clean error."""
    for value in ("curve=5\u00b2", "curve=abc", "curve"):
        bad = runner.invoke(app, ["compare", str(demo_portfolio_path()),
                                  "--max-stale-days", value])
        message = (bad.stderr or bad.stdout).strip()
        assert bad.exit_code == 2, message
        assert "--max-stale-days" in message and "\n" not in message, message


def test_bench_span_json() -> None:
    result = runner.invoke(app, ["bench", "span", "--products", "40", "--repeats", "1"])
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    assert doc["products"] == 40 and doc["round_trip_equal"] is True
    assert doc["parse_seconds"] > 0
