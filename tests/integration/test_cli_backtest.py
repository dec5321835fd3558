"""``crossmargin backtest`` and ``crossmargin procyclicality`` through the application."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crossmargin.interfaces.cli.app import app

runner = CliRunner()
BOOK = """\
currency: USD
accounts:
  - id: HEDGED
    positions:
      - {type: equity, symbol: SPY, quantity: 1000}
      - {type: future, symbol: ESU6, underlying: SPX, expiry: 2016-09-16, multiplier: 50,
         quantity: -4}
  - id: LONG
    positions:
      - {type: equity, symbol: AAPL, quantity: 2000}
"""
KEYS = {"observations", "exceptions", "coverage", "kupiec_lr", "kupiec_p",
        "christoffersen_lr_ind", "christoffersen_p_ind", "christoffersen_lr_cc",
        "christoffersen_p_cc", "traffic_light"}


def test_backtest_json_has_the_issue_keys(tmp_path: Path) -> None:
    book = tmp_path / "book.yaml"
    book.write_text(BOOK)
    result = runner.invoke(app, ["backtest", str(book), "--method", "grid",
                                 "--from", "2016-05-02", "--to", "2016-06-30",
                                 "--format", "json"])
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    flat = json.dumps(doc)
    for key in KEYS:
        assert f'"{key}"' in flat, key


def test_procyclicality_table(tmp_path: Path) -> None:
    book = tmp_path / "book.yaml"
    book.write_text(BOOK)
    result = runner.invoke(app, ["procyclicality", str(book), "--method", "grid",
                                 "--from", "2016-05-02", "--to", "2016-06-30"])
    assert result.exit_code == 0, result.stdout
    assert "peak" in result.stdout.lower()
