"""Margin attribution of scenario methods: hand-checked contributions, lines and the CLI."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from crossmargin.analytics.attribution import (
    FLOOR,
    ROUNDING,
    Attribution,
    attribute,
    explain,
    incremental_margins,
)
from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import (
    CryptoSpot,
    Equity,
    Future,
    Instrument,
    Option,
    Perpetual,
    Right,
    Settlement,
    Style,
)
from crossmargin.core.errors import InputError
from crossmargin.interfaces.cli.explain import explain_command
from crossmargin.methods.base import MarginMethod
from crossmargin.methods.crypto_pm.method import CryptoPortfolioMargin
from crossmargin.methods.fhs.method import FilteredHistoricalSimulation, Measure
from crossmargin.methods.grid.method import ScenarioGrid
from crossmargin.methods.registry import get_method
from crossmargin.methods.tims.method import TheoreticalIntermarketMargin
from tests.conftest import AS_OF, command_app, make_market
from tests.property.books import one_account
from tests.unit.test_fhs_addons import AAPL, BTC, LIQ, PERP, PUT
from tests.unit.test_fhs_addons import _book as liquidity_book

#: The command under test, invoked as a subcommand.
CLI = command_app("explain", explain_command)

EXAMPLES = Path(__file__).parents[2] / "examples"
MARKET = make_market()
GRID = ScenarioGrid.from_params()
TIMS = TheoreticalIntermarketMargin.from_params()
FHS = FilteredHistoricalSimulation.from_params()
SPY = Equity(symbol="SPY")
ESU8 = Future(symbol="ESU8", underlying="SPX", expiry=date(2018, 9, 21), multiplier=50.0)
ESZ8 = Future(symbol="ESZ8", underlying="SPX", expiry=date(2018, 12, 21), multiplier=50.0)
#: Forward of the index for ESU8 / ESZ8: F = S exp(r T), S = 2,700, r = 2%, no dividends.
F_SEP = 2700.0 * math.exp(0.02 * 84 / 365)
F_DEC = 2700.0 * math.exp(0.02 * 175 / 365)
CENT = 0.01
TIGHT = 1e-6


def _explain(method: MarginMethod, universe: list[Instrument],
             pos: list[tuple[int, float]]) -> Attribution:
    return explain(method, one_account(universe, pos), MARKET, "A")


def _adds_up(a: Attribution) -> None:
    assert a.total() == pytest.approx(a.initial_margin, abs=TIGHT)
    # ceil_cents rounds up, leaving amounts within 1e-9 (relative) of a cent as they are
    assert -1e-9 * a.initial_margin - TIGHT <= a.adjustments[ROUNDING] < CENT + TIGHT
    doc = a.to_json()
    assert doc["check"]["equal"] and doc["check"]["sum"] == doc["initial_margin"]


def test_grid_spy_and_es_are_separate_groups_each_at_its_own_driver() -> None:
    """Long 100 SPY against short 1 ESU8 under the grid (hand-checked).

    The grid groups by underlying: SPY (an ETF, high-cap broad-based range -8%/+6%) and
    SPX (the E-mini) do not offset. SPY's worst point is -8%: 100 x 270 x 8% = 2,160;
    the short future's is +6% of its forward: 50 x 6% x 2,700 e^{0.02 x 84/365}.
    Source: FINRA Rule 4210(g)(2)(F) ranges (+6% / -8% high-cap broad-based index), as
    in the project's grid parameter file 2026.11-1.
    """
    a = _explain(GRID, [SPY, ESU8], [(0, 100.0), (1, -1.0)])
    spy, es = a.positions
    assert spy.contribution == pytest.approx(2160.0, rel=1e-12)
    assert es.contribution == pytest.approx(50 * 0.06 * F_SEP, rel=1e-12)
    assert a.initial_margin == pytest.approx(math.ceil((2160.0 + 50 * 0.06 * F_SEP) * 100) / 100)
    assert {g.group: g.scenarios[0] for g in a.groups} == {
        "SPY": "SPY price -8.00%, vol unchanged", "SPX": "SPX price +6.00%, vol unchanged"}
    # without an offset, each leg's incremental margin is its own charge
    assert spy.incremental == pytest.approx(2160.0, abs=CENT)
    assert es.incremental == pytest.approx(50 * 0.06 * F_SEP, abs=CENT)
    assert a.asset_classes() == pytest.approx({"equity": 2160.0,
                                               "equity-index": 50 * 0.06 * F_SEP})
    _adds_up(a)


def test_grid_hedge_in_one_group_has_contributions_of_opposite_signs() -> None:
    """Long ESU8 against short ESZ8 (one SPX group; hand-checked).

    At the driving point (+6%) the long leg gains 50 x 6% x F_sep and the short leg loses
    50 x 6% x F_dec: the margin is the carry difference, 50 x 6% x (F_dec - F_sep).
    Removing either leg leaves a naked future: both incremental margins are negative.
    """
    a = _explain(GRID, [ESU8, ESZ8], [(0, 1.0), (1, -1.0)])
    long, short = a.positions
    assert long.contribution == pytest.approx(-50 * 0.06 * F_SEP, rel=1e-12)
    assert short.contribution == pytest.approx(50 * 0.06 * F_DEC, rel=1e-12)
    assert long.contribution < 0 < short.contribution
    (group,) = a.groups
    assert group.scenarios == ("SPX price +6.00%, vol unchanged",)
    assert group.loss == pytest.approx(50 * 0.06 * (F_DEC - F_SEP), rel=1e-9)
    # without the short leg: long ESU8 alone loses 8% of F_sep; without the long leg,
    # the short ESZ8 loses 6% of F_dec
    assert long.incremental == pytest.approx(a.initial_margin - 50 * 0.06 * F_DEC, abs=CENT)
    assert short.incremental == pytest.approx(a.initial_margin - 50 * 0.08 * F_SEP, abs=CENT)
    assert long.incremental < 0 and short.incremental < 0
    _adds_up(a)


def test_fhs_spy_against_short_es_one_portfolio() -> None:
    """Under the unified FHS margin SPY and the E-mini share one portfolio: in the tail
    the two legs have opposite signs, and removing the short future (the hedge) raises
    the margin, so its incremental margin is negative."""
    a = _explain(FHS, [SPY, ESU8], [(0, 500.0), (1, -1.0)])
    spy, es = a.positions
    assert spy.contribution * es.contribution < 0
    alone = float(FHS.compute(one_account([SPY], [(0, 500.0)]), MARKET).initial_margin[0])
    assert alone > a.initial_margin
    assert es.incremental == pytest.approx(a.initial_margin - alone, abs=CENT)
    assert es.incremental < 0
    assert set(spy.add_ons) == {"liquidity"}
    _adds_up(a)


def test_expected_shortfall_contributions_average_the_tail() -> None:
    """c_p = q_p mean over the k worst scenarios of -pnl; they sum to the ES."""
    universe: list[Instrument] = [SPY, ESU8, AAPL, PUT, BTC]
    pos = [(0, 300.0), (1, -1.0), (2, 120.0), (3, 4.0), (4, 0.5)]
    book = one_account(universe, pos)
    result = FHS.compute(book, MARKET)
    risk = result.scenario_risk
    assert risk is not None and risk.tail is not None
    k = risk.tail.shape[1]
    assert k > 1
    # the account's losses formed densely, and their k worst scenarios
    rows, q = risk.instrument, risk.quantity
    losses = -(q @ risk.pnl[rows])
    worst = np.argsort(-losses, kind="stable")[:k]
    expected = q * (-risk.pnl[rows][:, worst]).mean(axis=1)
    a = attribute(result, book, "A")
    assert [p.contribution for p in a.positions] == pytest.approx(expected, rel=1e-9)
    assert sum(expected) == pytest.approx(result.components["expected_shortfall"][0],
                                          rel=1e-9)
    # averaging matters: the worst scenario alone gives other contributions
    at_worst = q * -risk.pnl[rows, worst[0]]
    assert not np.allclose(expected, at_worst)
    assert a.driver is not None and len(a.driver.scenarios) == k
    _adds_up(a)


def test_value_at_risk_contributions_sit_at_the_kth_scenario() -> None:
    var = dataclasses.replace(FHS, measure=Measure.VALUE_AT_RISK)
    book = one_account([SPY, ESU8, AAPL], [(0, 300.0), (1, -1.0), (2, 120.0)])
    result = var.compute(book, MARKET)
    risk = result.scenario_risk
    assert risk is not None and risk.tail is None
    s = int(risk.driver[0])
    a = attribute(result, book, 0)
    assert [p.contribution for p in a.positions] == pytest.approx(
        risk.quantity * -risk.pnl[risk.instrument, s], rel=1e-12)
    assert sum(p.contribution for p in a.positions) == pytest.approx(
        result.components["value_at_risk"][0], rel=1e-9)
    _adds_up(a)


def test_tims_contract_minimum_is_carried_by_the_option_position() -> None:
    """Ten short far out-of-the-money AAPL calls: the scenario loss is cents, the
    minimum is $.375 x 100 per contract = $375 (FINRA Rule 4210(g), minimum margin);
    the top-up is the short call's. SPY's 5 shares: 5 x 270 x 8% = 108."""
    call = Option(underlying="AAPL", right=Right.CALL, strike=300.0, expiry=date(2018, 7, 20),
                  style=Style.AMERICAN)
    a = _explain(TIMS, [call, SPY], [(0, -10.0), (1, 5.0)])
    short_call, spy = a.positions
    assert short_call.total == pytest.approx(375.0, abs=1e-9)
    assert 0 < short_call.contribution < 1.0
    assert short_call.add_ons["contract_minimum"] == pytest.approx(
        375.0 - short_call.contribution, abs=1e-9)
    assert spy.total == pytest.approx(108.0, rel=1e-12)
    assert a.initial_margin == pytest.approx(483.0)
    _adds_up(a)


def test_tims_product_group_credit_is_a_line_of_the_account() -> None:
    """SPY and the E-mini are class groups of one product group: each carries its own
    class-group loss, and the offset between them is a negative line."""
    a = _explain(TIMS, [SPY, ESU8], [(0, 1000.0), (1, -2.0)])
    spy, es = a.positions
    assert spy.contribution > 0 and es.contribution > 0
    assert a.adjustments["product_group_credit"] < 0
    assert a.initial_margin < spy.contribution + es.contribution
    assert spy.incremental is not None and spy.incremental < 0
    _adds_up(a)


def test_crypto_pool_contributions_in_the_reporting_currency_and_contingencies() -> None:
    """An inverse perpetual is margined in BTC: contributions come back in USD at
    today's rate; the delta contingency on the net notional is a line."""
    perp = Perpetual(underlying="BTC", settlement=Settlement.INVERSE, multiplier=100.0)
    book = one_account([perp, CryptoSpot(asset="BTC", currency="USDT")],
                       [(0, -40.0), (1, 2.0)])
    result = CryptoPortfolioMargin.from_params().compute(book, MARKET)
    a = attribute(result, book, "A")
    assert result.segments is not None
    loss = {result.segments.group_names[int(g)]: float(v)
            for g, v in zip(result.segments.group, result.segments.loss, strict=True)}
    assert {g.group: g.loss for g in a.groups} == pytest.approx(loss, rel=1e-9)
    assert a.adjustments["delta_contingency"] > 0
    _adds_up(a)


def test_attribution_of_a_batch_needs_no_recomputation() -> None:
    accounts = [Account(id=name, positions=tuple(Position(instrument=i, quantity=q)
                                                 for i, q in legs))
                for name, legs in (("A", ((SPY, 10.0),)),
                                   ("B", ((ESU8, 1.0), (ESZ8, -1.0), (SPY, -50.0))),
                                   ("C", ()))]
    book = Book.from_accounts(accounts, as_of=AS_OF, currency="USD")
    result = GRID.compute(book, MARKET)
    b = attribute(result, book, "B")
    alone = explain(GRID, book, MARKET, "B", incremental=False)
    assert [p.contribution for p in b.positions] == pytest.approx(
        [p.contribution for p in alone.positions], rel=1e-12)
    assert b.initial_margin == alone.initial_margin == result.initial_margin[1]
    empty = attribute(result, book, "C")
    assert empty.positions == () and empty.initial_margin == 0.0 and empty.driver is None
    assert empty.to_json()["check"]["equal"]


def test_offsetting_positions_cancel_and_the_floor_takes_the_residue() -> None:
    """+1 and -1 of one future: equal and opposite contributions, margin zero; any
    rounding residue of the segment's loss is the floor line (grid losses are never
    below zero: the unchanged point loses nothing)."""
    a = _explain(GRID, [ESU8], [(0, 1.0), (0, -1.0)])
    first, second = a.positions
    assert first.contribution == -second.contribution != 0.0
    assert a.initial_margin == 0.0
    assert a.adjustments[FLOOR] == pytest.approx(0.0, abs=TIGHT)
    _adds_up(a)


def test_incremental_margins_match_margining_each_variant_alone() -> None:
    book = one_account([SPY, ESU8, ESZ8], [(0, 100.0), (1, 1.0), (2, -1.0)])
    without = incremental_margins(GRID, book, MARKET)
    for j in range(book.n_positions):
        keep = np.arange(book.n_positions) != j
        alone = GRID.compute(book.select_positions(keep), MARKET).initial_margin[0]
        assert without[j] == alone


def test_liquidity_by_position_sums_to_the_charge() -> None:
    """Shares of the bid/ask cost follow q_p / net; of the concentration cost, the
    position's value over the net exposure (hand-checked on the add-on's own books)."""
    book = liquidity_book(((AAPL, 100.0), (AAPL, -40.0), (PUT, 2.0)),
                          ((BTC, 2.0), (PERP, -1.5)), ((BTC, 3.0),))
    value = {AAPL: 185.0, PUT: 450.0, BTC: 6400.0, PERP: 6400.0}
    v = np.asarray([value[i] for i in book.instruments])  # type: ignore[index]
    charge = LIQ.charge(book, value=v)
    shares = [LIQ.by_position(book, value=v, account=a) for a in range(3)]
    assert [s.sum() for s in shares] == pytest.approx(charge, rel=1e-12)
    # A0: the AAPL holding of 60 costs 0.001 x 60 x 185 = 11.10, shared 100 : -40
    assert shares[0] == pytest.approx([11.1 * 100 / 60, -11.1 * 40 / 60, 0.05 * 2 * 450])
    # A2: one position carries the spread and the concentration cost
    assert shares[2] == pytest.approx([0.002 * 3 * 6400 + 0.5 * 9200])


def test_non_scenario_method_and_unknown_account_are_refused() -> None:
    book = one_account([SPY], [(0, 10.0)])
    with pytest.raises(InputError, match="no scenario losses"):
        explain(get_method("strategy"), book, MARKET, "A")
    with pytest.raises(InputError, match="no such account"):
        explain(GRID, book, MARKET, "Z")
    other = Book.from_accounts([Account(id="B")], as_of=AS_OF, currency="USD")
    with pytest.raises(InputError, match="not the book"):
        attribute(GRID.compute(book, MARKET), other, "B")



def test_cli_explain_json_adds_up() -> None:
    result = CliRunner().invoke(CLI, [
        "explain", str(EXAMPLES / "portfolio.yaml"), "--account", "ACME-1",
        "--market", str(EXAMPLES / "market.yaml"), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"account", "method", "currency", "initial_margin", "driver", "groups",
                        "positions", "asset_classes", "adjustments", "check", "notes"}
    assert doc["account"] == "ACME-1" and doc["method"] == "grid"
    assert doc["check"]["equal"]
    assert set(doc["driver"]) == {"group", "scenario", "scenarios", "loss"}
    assert {"SPY", "ESU8", "UST-10Y"} <= {p["instrument"] for p in doc["positions"]}
    assert all(p["incremental"] is not None for p in doc["positions"])
    total = sum(doc["asset_classes"].values()) + sum(doc["adjustments"].values())
    assert round(total, 2) == doc["initial_margin"]


def test_cli_explain_table_and_errors() -> None:
    app = CLI
    args = ["explain", str(EXAMPLES / "portfolio.yaml"), "--market",
            str(EXAMPLES / "market.yaml")]
    table = CliRunner().invoke(app, [*args, "--account", "ACME-1", "--method", "tims",
                                     "--no-incremental"])
    assert table.exit_code == 0, table.stderr
    assert "product_group_credit" in table.stdout and "(not margined)" in table.stdout
    unknown = CliRunner().invoke(app, [*args, "--account", "NOPE"])
    assert unknown.exit_code == 2 and "no such account" in unknown.stderr
