"""The command line, end to end: output shapes, exit codes, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crossmargin.interfaces.cli.app import app

EXAMPLES = Path(__file__).parents[2] / "examples"
runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_margin_json_shape_with_market_file() -> None:
    code, out, err = _run("margin", str(EXAMPLES / "portfolio.yaml"), "--market",
                          str(EXAMPLES / "market.yaml"), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"as_of", "currency", "input_hash", "notes", "accounts"}
    assert doc["as_of"] == "2018-06-29" and doc["currency"] == "USD"
    assert len(doc["input_hash"]) == 64
    (acct,) = doc["accounts"]
    assert acct["account"] == "ACME-1"
    (m,) = acct["methods"]
    assert set(m) == {"method", "initial_margin", "maintenance_margin", "components",
                      "driver", "params"}
    assert m["method"] == "grid"
    assert m["initial_margin"] > 0
    assert m["maintenance_margin"] == pytest.approx(0.8 * m["initial_margin"], abs=0.02)
    assert set(m["params"]) == {"id", "version", "source"}
    assert {"SPY", "SPX", "BTC", "UST"} <= set(m["components"]["groups"])
    assert set(m["driver"]) == {"group", "scenario", "loss"}


def test_same_inputs_same_hash() -> None:
    args = ("margin", str(EXAMPLES / "portfolio.yaml"), "--market",
            str(EXAMPLES / "market.yaml"), "--format", "json")
    assert json.loads(_run(*args)[1])["input_hash"] == json.loads(_run(*args)[1])["input_hash"]


def test_table_output() -> None:
    code, out, err = _run("margin", str(EXAMPLES / "portfolio.yaml"), "--market",
                          str(EXAMPLES / "market.yaml"))
    assert code == 0, err
    assert "ACME-1" in out and "grid" in out


def test_missing_price_exits_2_with_one_line(tmp_path: Path) -> None:
    out_file = tmp_path / "out.json"
    code, _, err = _run("margin", str(EXAMPLES / "portfolio.yaml"), "--as-of", "2018-06-29",
                          "--format", "json", "--out", str(out_file))
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "no price for SPY on 2018-06-29" in err
    assert not out_file.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("accounts:\n  - id: A\n    positions:\n      - {type: equity, symbol: AAPL, "
         "quantity: 1, mark: .nan}\n", "mark=nan: must be a finite number"),
        ("accounts:\n  - id: A\n    positions:\n      - {type: warrant, quantity: 1}\n",
         "type='warrant': unknown instrument type"),
        ("accounts:\n  - id: A\n    positions:\n      - {type: future, symbol: X, "
         "underlying: SPX, expiry: 2018-02-31, quantity: 1}\n",
         "expiry='2018-02-31': not a date"),
    ],
)
def test_bad_portfolio_exits_2(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("as_of: 2018-06-29\n" + body)
    code, _, err = _run("margin", str(path), "--market", str(EXAMPLES / "market.yaml"))
    assert code == 2
    assert err.startswith(f"error: {path}")
    assert expected in err
    assert err.count("\n") == 1


def test_negative_market_price_exits_2(tmp_path: Path) -> None:
    market = tmp_path / "m.yaml"
    market.write_text("as_of: 2018-06-29\nprices: {SPY: -1}\n")
    code, _, err = _run("margin", str(EXAMPLES / "portfolio.yaml"), "--market", str(market))
    assert code == 2 and "prices.SPY=-1: must be positive" in err


def test_unknown_method_exits_2() -> None:
    code, _, err = _run("margin", str(EXAMPLES / "portfolio.yaml"), "--market",
                        str(EXAMPLES / "market.yaml"), "--method", "magic")
    assert code == 2 and "method='magic': unknown method" in err


def test_history_market_with_csv_book(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text("account,type,symbol,underlying,expiry,multiplier,quantity\n"
                    "A,equity,SPY,,,,100\nA,future,ESU6,SPX,2016-09-16,50,-1\n"
                    "B,equity,TLT,,,,50\n")
    out_file = tmp_path / "out.json"
    code, _, err = _run("margin", str(path), "--as-of", "2016-06-30", "--format", "json",
                        "--out", str(out_file))
    assert code == 0, err
    doc = json.loads(out_file.read_text())
    assert [a["account"] for a in doc["accounts"]] == ["A", "B"]
    assert all(a["methods"][0]["initial_margin"] > 0 for a in doc["accounts"])


def test_demo_runs_on_bundled_history() -> None:
    code, out, err = _run("demo")
    assert code == 0, err
    for acct in ("EQUITY-HEDGED", "INDEX-OPTIONS", "CRYPTO-BASIS", "MACRO"):
        assert acct in out
    assert "2018-06-29" in out
    assert "unified" in out and "cross-silo offset" in out
    code, out, err = _run("demo", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["accounts"]) == 4
    for acct in doc["accounts"]:
        rows = {r["arrangement"]: r for r in acct["arrangements"]}
        assert set(rows) == {"silo", "conservative", "unified"}
        assert rows["silo"]["initial_margin"] > 0 and rows["unified"]["initial_margin"] > 0


def test_large_book_table_lists_the_largest_and_json_every_account(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crossmargin.interfaces.cli import render

    monkeypatch.setattr(render, "TABLE_ACCOUNTS", 2)
    path = tmp_path / "book.csv"
    path.write_text("account,type,symbol,quantity\nA,equity,SPY,10\nB,equity,SPY,300\n"
                    "C,equity,SPY,-20\nD,equity,SPY,5\n")
    code, out, err = _run("margin", str(path), "--as-of", "2016-06-30")
    assert code == 0, err
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("│ ")
              and line.split()[1] in "ABCD"]
    assert listed == ["B", "C"]  # the two largest, in book order
    assert "2 of 4 accounts shown" in out
    out_file = tmp_path / "all.json"
    code, _, err = _run("margin", str(path), "--as-of", "2016-06-30", "--format", "json",
                        "--out", str(out_file))
    assert code == 0, err
    assert [a["account"] for a in json.loads(out_file.read_text())["accounts"]] == list("ABCD")
