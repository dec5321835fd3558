"""Procyclicality measures by hand, tool variants of the FHS model, the command."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crossmargin.analytics.procyclicality import (
    measure_procyclicality,
    procyclicality_models,
    run_procyclicality,
    tool_variants,
)
from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import Equity, Future
from crossmargin.core.errors import InputError
from crossmargin.interfaces.cli.backtest import procyclicality_command
from crossmargin.params.loader import load_params
from tests.conftest import command_app

#: The command under test, invoked as a subcommand.
CLI = command_app("procyclicality", procyclicality_command)

HAND = 1e-9
DAYS = pd.bdate_range("2020-03-02", periods=7)
SERIES = pd.Series([100.0, 120.0, 90.0, 150.0, 150.0, 60.0, 200.0], index=DAYS)
BOOK = Book.from_accounts(
    [Account(id="A", positions=(Position(instrument=Equity(symbol="AAPL"), quantity=1000.0),
                                Position(instrument=Future(symbol="ESU5", underlying="SPX",
                                                           expiry=date(2015, 9, 18),
                                                           multiplier=50.0),
                                         quantity=-1.0))),
     Account(id="B", positions=(Position(instrument=Equity(symbol="MSFT"), quantity=-500.0),))],
    as_of=date(2015, 8, 3), currency="USD")


def test_measures_of_a_hand_series() -> None:
    """Margins 100, 120, 90, 150, 150, 60, 200 on seven business days.

    Peak 200 (last day), trough 60 (sixth day): ratio 200 / 60 = 3.333333.
    1-day changes 20, -30, 60, 0, -90, 140: largest 140 on the last day; relative 0.2,
    -0.25, 0.666667, 0, -0.6, 140 / 60 = 2.333333, also on the last day.
    5-day changes 150 - 100 ... : 60 - 100 = -40, 200 - 120 = 80: largest 80 (last day);
    relative -0.4, 80 / 120 = 0.666667.
    """
    m = measure_procyclicality(SERIES, label="hand", horizons=(1, 5))
    assert (m.peak, m.trough, m.observations) == (200.0, 60.0, 7)
    assert m.peak_date == DAYS[6].date() and m.trough_date == DAYS[5].date()
    assert m.peak_to_trough == pytest.approx(200.0 / 60.0, abs=HAND)
    one, five = m.increases
    assert (one.absolute, one.absolute_date) == (140.0, DAYS[6].date())
    assert one.relative == pytest.approx(140.0 / 60.0, abs=HAND)
    assert one.relative_date == DAYS[6].date()
    assert (five.absolute, five.relative) == (80.0, pytest.approx(80.0 / 120.0, abs=HAND))
    assert five.to_json()["absolute_date"] == DAYS[6].date().isoformat()


def test_measures_at_the_edges() -> None:
    """A zero trough has no ratio, a zero base no relative increase; a horizon longer
    than the series has no increase; only falls give a negative largest change."""
    m = measure_procyclicality(pd.Series([0.0, 50.0, 40.0], index=DAYS[:3]), label="z",
                               horizons=(1, 3))
    assert m.peak_to_trough is None
    assert m.increases[0].absolute == 50.0 and m.increases[0].relative == pytest.approx(-0.2)
    from_zero = measure_procyclicality(pd.Series([0.0, 50.0], index=DAYS[:2]), label="z",
                                       horizons=(1,))
    assert from_zero.increases[0].relative is None
    assert m.increases[1].absolute is None and m.increases[1].to_json()["absolute"] is None
    falling = measure_procyclicality(pd.Series([30.0, 20.0, 10.0], index=DAYS[:3]),
                                     label="f", horizons=(1,))
    assert falling.increases[0].absolute == -10.0
    assert falling.increases[0].relative == pytest.approx(-1.0 / 3.0)
    for bad, horizons in ((pd.Series([], dtype=float), (1,)),
                          (pd.Series([1.0, np.nan], index=DAYS[:2]), (1,)),
                          (pd.Series([1.0, -2.0], index=DAYS[:2]), (1,)),
                          (SERIES, (0,))):
        with pytest.raises(InputError):
            measure_procyclicality(bad, label="bad", horizons=horizons)


def test_tool_variants_switch_one_tool_at_a_time() -> None:
    params = load_params("fhs")
    variants = tool_variants(params)
    tools = list(params.parameters["anti_procyclicality"])
    assert list(variants) == ["no tools", *(f"{t} only" for t in tools)]
    for key, p in variants.items():
        on = [t for t, spec in p.parameters["anti_procyclicality"].items() if spec["enabled"]]
        assert on == ([] if key == "no tools" else [key.removesuffix(" only")])
        assert p.version == params.version and p.parameters["confidence"] == \
            params.parameters["confidence"]
    assert params.parameters["anti_procyclicality"]["stressed_weight"]["enabled"] is True


def test_models_with_and_without_tools() -> None:
    labels = [m.label for m in procyclicality_models(methods=("fhs", "tims"),
                                                     arrangements=("silo", "unified"),
                                                     tools=True)]
    assert labels[:6] == ["fhs", "fhs (no tools)", "fhs (buffer only)",
                          "fhs (stressed_weight only)", "fhs (ten_year_floor only)", "tims"]
    assert "silo" in labels and "unified (fhs no tools)" in labels
    assert not any("silo (" in label for label in labels)
    assert [m.label for m in procyclicality_models(methods=("fhs",), arrangements=(),
                                                   tools=False)] == ["fhs"]


def test_procyclicality_of_a_method_over_the_history() -> None:
    report = run_procyclicality(BOOK, start=date(2015, 8, 17), end=date(2015, 8, 28),
                                methods=("tims",), arrangements=("silo",))
    tims, silo = report.measures
    frame = report.to_frame()
    assert list(frame.columns) == ["tims", "silo"] and len(frame) == 10
    assert tims.peak == pytest.approx(frame["tims"].max())
    assert tims.peak_to_trough == pytest.approx(frame["tims"].max() / frame["tims"].min())
    change = frame["tims"].diff(5).max()
    assert tims.increases[1].absolute == pytest.approx(change)
    doc = report.to_json()
    assert [m["label"] for m in doc["models"]] == ["tims", "silo"]
    assert doc["horizons"] == [1, 5] and len(doc["series"]) == 10
    json.dumps(doc, allow_nan=False)
    assert silo.observations == 10


def test_fhs_tools_never_lower_the_margin() -> None:
    """Over three days: each tool alone is at least the margin with none, and the buffer
    alone adds at most 25% (it is not charged on the liquidity add-on)."""
    report = run_procyclicality(BOOK, start=date(2015, 8, 20), end=date(2015, 8, 24))
    frame = report.to_frame()
    none = frame["fhs (no tools)"]
    for label in ("fhs", "fhs (buffer only)", "fhs (stressed_weight only)",
                  "fhs (ten_year_floor only)"):
        assert np.all(frame[label] >= none - 0.01)
    buffered = frame["fhs (buffer only)"]
    assert np.all(buffered > none) and np.all(buffered <= 1.25 * none + 0.02)



def test_cli_procyclicality(tmp_path: Path) -> None:
    portfolio = tmp_path / "book.yaml"
    portfolio.write_text("as_of: 2015-08-03\ncurrency: USD\naccounts:\n  - id: A\n"
                         "    positions:\n      - {type: equity, symbol: AAPL, quantity: 10}\n")
    args = ["procyclicality", str(portfolio), "--method", "tims", "--from", "2015-08-03",
            "--to", "2015-08-14"]
    result = CliRunner().invoke(CLI, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["models"][0]["label"] == "tims" and doc["models"][0]["observations"] == 10
    table = CliRunner().invoke(CLI, args)
    assert table.exit_code == 0 and "Peak/trough" in table.stdout
    bad = CliRunner().invoke(CLI, [*args[:-2], "--to", "2015-07-01"])
    assert bad.exit_code == 2 and "--to" in bad.stderr
