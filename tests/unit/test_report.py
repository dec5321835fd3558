"""The evidence report: hand-worked capital freed, its distributions, the page and the CLI."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from crossmargin.analytics import populations
from crossmargin.analytics.backtest import BacktestResult
from crossmargin.analytics.populations import population
from crossmargin.analytics.procyclicality import tool_variants
from crossmargin.analytics.report import capital, png
from crossmargin.analytics.report.capital import (
    CapitalFreed,
    asset_class_labels,
    capital_freed,
)
from crossmargin.analytics.report.evidence import (
    Evidence,
    Population,
    default_window,
    read_population,
)
from crossmargin.analytics.report.figures import (
    BINS,
    MAX_GROUPS,
    box_statistics,
    clipped_histogram,
    report_figures,
)
from crossmargin.analytics.report.history import NO_TOOLS, history_models
from crossmargin.analytics.report.html import FIGURE_CLASS, money, render_html
from crossmargin.analytics.report.provenance import arrangement_parameter_ids, provenance
from crossmargin.analytics.report.sections import (
    BacktestEvidence,
    ProcyclicalityEvidence,
    StressEvidence,
    Unavailable,
)
from crossmargin.analytics.rolling import RollingMargin, arrangement_margining, method_margining
from crossmargin.analytics.statistics import TrafficLight
from crossmargin.analytics.stress import MarginHeld, StressResult, StressScenario
from crossmargin.analytics.stress_scenarios import ScenarioKind
from crossmargin.arrangements.compare import Comparison
from crossmargin.arrangements.result import ArrangementResult
from crossmargin.bench.report import run_report_bench
from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import Equity, Future, Perpetual
from crossmargin.book.io import load_portfolio
from crossmargin.core.errors import InputError
from crossmargin.interfaces.cli.report import report_command
from crossmargin.market.build import snapshot_from_history
from crossmargin.params.loader import load_params
from tests.conftest import AS_OF, command_app

#: The command under test, invoked as a subcommand.
CLI = command_app("report", report_command)

AAPL = Equity(symbol="AAPL")
ES = Future(symbol="ESU8", underlying="SPX", expiry=date(2018, 9, 21), multiplier=50.0)
BTC_PERP = Perpetual(underlying="BTC")
IDS = ("A1", "A2", "A3", "A4")
TIGHT = 1e-9


def _book() -> Book:
    """A1 stock; A2 stock and index future; A3 index future; A4 collateral only."""
    accounts = [
        Account(id="A1", positions=(Position(instrument=AAPL, quantity=100.0),)),
        Account(id="A2", positions=(Position(instrument=AAPL, quantity=100.0),
                                    Position(instrument=ES, quantity=-1.0))),
        Account(id="A3", positions=(Position(instrument=ES, quantity=2.0),)),
        Account(id="A4"),
    ]
    return Book.from_accounts(accounts, as_of=AS_OF, currency="USD", source="hand book")


def _result(name: str, im: list[float], components: dict[str, list[float]]
            ) -> ArrangementResult:
    arr = np.asarray(im, dtype=np.float64)
    return ArrangementResult(arrangement=name, currency="USD", account_ids=IDS,
                             initial_margin=arr, maintenance_margin=arr,
                             collateral_value=np.zeros(4),
                             components={k: np.asarray(v, dtype=np.float64)
                                         for k, v in components.items()})


def _comparison() -> Comparison:
    """Silo 100/200/300/0, conservative 80/160/300/0, unified 60/120/330/0 (by hand).

    The unified model alone on each silo: securities 70/100/0/0, futures 0/40/330/0, so
    the cross-silo offset is (70 + 0 - 60, 100 + 40 - 120, 330 - 330, 0) = 10/20/0/0.
    """
    silo = _result("silo", [100, 200, 300, 0], {
        "securities.initial_margin": [100, 150, 0, 0], "securities.shortfall": [0] * 4,
        "futures.initial_margin": [0, 50, 300, 0], "futures.shortfall": [0] * 4,
        "crypto.initial_margin": [0] * 4, "crypto.shortfall": [0] * 4})
    conservative = _result("conservative", [80, 160, 300, 0], {})
    unified = _result("unified", [60, 120, 330, 0], {
        "fhs.expected_shortfall": [60, 120, 330, 0],
        "fhs.securities_alone": [70, 100, 0, 0], "fhs.futures_alone": [0, 40, 330, 0],
        "fhs.crypto_alone": [0] * 4, "cross_silo_offset": [10, 20, 0, 0]})
    return Comparison(as_of=AS_OF, currency="USD", account_ids=IDS,
                      results=(silo, conservative, unified),
                      params=load_params("arrangements").info())


def _capital() -> CapitalFreed:
    return capital_freed(_comparison(), _book(), strategies=["s1", "s1", "s2", "s2"],
                         strategy_source="hand labels")


# -- capital freed, by hand ---------------------------------------------------------------

def test_asset_class_labels_name_each_accounts_mix() -> None:
    labels = asset_class_labels(_book())
    assert labels.tolist() == ["equity", "equity + equity-index", "equity-index",
                               "no positions"]
    crypto = Book.from_accounts([Account(id="C", positions=(
        Position(instrument=BTC_PERP, quantity=1.0), Position(instrument=AAPL, quantity=1.0),
        Position(instrument=ES, quantity=1.0)))], as_of=AS_OF, currency="USD")
    # named in the order of AssetClass, whatever the order of the positions
    assert asset_class_labels(crypto).tolist() == ["equity + equity-index + crypto"]


def test_capital_freed_splits_into_change_of_model_and_offset() -> None:
    """Hand-worked: freed = silo - unified = 40/80/-30/0; offset 10/20/0/0; so the change
    of model is 30/60/-30/0. Per silo: securities 250 - 170 = 80, futures 350 - 370 = -20,
    together 60, the sum of the accounts' change of model."""
    cf = _capital()
    assert cf.arrangements == ("conservative", "unified")
    np.testing.assert_allclose(cf.freed("unified"), [40, 80, -30, 0], atol=TIGHT)
    np.testing.assert_allclose(cf.freed("conservative"), [20, 40, 0, 0], atol=TIGHT)
    # as a share of the silo margin; A4 (no silo margin) is left out
    np.testing.assert_allclose(cf.freed_share("unified"), [0.4, 0.4, -0.1], atol=TIGHT)
    np.testing.assert_allclose(cf.accounts["change_of_model"], [30, 60, -30, 0], atol=TIGHT)
    np.testing.assert_allclose(cf.accounts["change_of_model"] + cf.accounts["cross_silo_offset"],
                               cf.freed("unified"), atol=TIGHT)
    split = cf.silo_split
    assert split.loc["securities"].tolist() == pytest.approx([250, 170, 80])
    assert split.loc["futures"].tolist() == pytest.approx([350, 370, -20])
    assert split.loc["crypto"].tolist() == pytest.approx([0, 0, 0])
    assert split["change_of_model"].sum() == pytest.approx(cf.accounts["change_of_model"].sum())
    assert cf.accounts["asset_classes"].iloc[1] == "equity + equity-index"
    assert cf.strategy_source == "hand labels"


def test_capital_summary_quantiles_and_shares_by_hand() -> None:
    """Unified freed per account sorted: -30, 0, 40, 80; linear quantiles at positions
    q x 3: p5 = -30 + 0.15 x 30 = -25.5, p25 = -7.5, p50 = 20, p75 = 50, p95 = 74."""
    row = _capital().summary().loc["unified"]
    assert row["accounts"] == 4 and row["silo_total"] == pytest.approx(600)
    assert row["margin_total"] == pytest.approx(510)
    assert row["freed_total"] == pytest.approx(90)
    assert row["freed_share"] == pytest.approx(0.15)
    assert row["mean"] == pytest.approx(22.5)
    assert [row[f"p{p}"] for p in (5, 25, 50, 75, 95)] == pytest.approx(
        [-25.5, -7.5, 20, 50, 74])
    assert row["better"] == pytest.approx(0.5) and row["worse"] == pytest.approx(0.25)


def test_capital_by_label_totals_by_hand() -> None:
    by = _capital().by_label("strategy", "unified")
    # s1: A1 + A2, silo 300, freed 120, median 60; s2: A3 + A4, silo 300, freed -30
    assert by.index.tolist() == ["s1", "s2"]
    assert by.loc["s1"].tolist() == pytest.approx([2, 300, 120, 60, 0.4])
    assert by.loc["s2"].tolist() == pytest.approx([2, 300, -30, -15, -0.1])


def test_capital_freed_rejects_another_books_comparison_and_bad_labels() -> None:
    other = Book.from_accounts([Account(id="X")], as_of=AS_OF, currency="USD")
    with pytest.raises(InputError, match="another book"):
        capital_freed(_comparison(), other)
    with pytest.raises(InputError, match="one strategy per account"):
        capital_freed(_comparison(), _book(), strategies=["a"])


def test_holding_labels_name_the_kinds_held() -> None:
    labels = capital.holding_labels(_book())
    assert labels.tolist() == ["equity", "equity + future", "future", "no positions"]
    cf = capital_freed(_comparison(), _book())
    assert cf.accounts["strategy"].tolist() == labels.tolist()
    assert cf.strategy_source == capital.DERIVED


# -- the risk sections from their analytics' results, by hand ------------------------------

def test_backtest_section_counts_exceptions_by_hand() -> None:
    """Two accounts, four days, 2-day MPOR. Account X loses 12 against a margin of 10 on
    day 2 (one exception), account Y never; on day 4 Y holds nothing. Pooled: 7
    account-days observed, 1 exception; the book's loss per day is the sum of -P&L."""
    days = tuple(date(2018, 6, d) for d in (25, 26, 27, 28))
    margin = np.array([[10.0, 5.0], [10.0, 5.0], [10.0, 5.0], [10.0, 5.0]])
    pnl = np.array([[-1.0, 2.0], [-12.0, -4.0], [3.0, -5.0], [0.0, 0.0]])
    observed = np.array([[True, True], [True, True], [True, True], [True, False]])
    rolled = RollingMargin(label="unified", name="unified", currency="USD",
                           account_ids=("X", "Y"), dates=days, margin=margin, pnl=pnl,
                           observed=observed, mpor_days=2, skipped=(), notes=("n1", "n1"))
    result = BacktestResult(kind="arrangement", rolling=rolled, confidence=0.99, window=250,
                            light=TrafficLight(confidence=0.99, yellow=0.95, red=0.9999),
                            params=load_params("backtest").info())
    bt = BacktestEvidence.from_results([result])
    row = bt.table.loc["unified"]
    assert row["observations"] == 7 and row["exceptions"] == 1
    assert row["coverage"] == pytest.approx(6 / 7)
    assert row["worst_shortfall"] == pytest.approx(2.0)  # 12 - 10 on day 2
    assert row["mpor_days"] == 2
    assert (row["green"], row["yellow"], row["red"]) == (1, 1, 0)
    series = bt.series["unified"]
    assert series["loss"].tolist() == pytest.approx([-1.0, 16.0, 2.0, 0.0])
    assert series["margin"].tolist() == pytest.approx([15.0, 15.0, 15.0, 10.0])
    assert series["exceptions"].tolist() == [0, 1, 0, 0]
    assert bt.notes == ("n1",) and bt.confidence == 0.99


def test_stress_section_covers_by_hand() -> None:
    """Accounts a0, a1 of member M1 and a2 of M2, uncovered losses [[10, 0], [5, 0],
    [20, 3]]: M1 loses 15 and 0, M2 20 and 3. Scenario s0: Cover-1 = 20 (M2), Cover-2 =
    35 (M2, M1); s1: Cover-1 = Cover-2 = 3 (M2 alone: M1 has nothing uncovered)."""
    scenarios = tuple(StressScenario(name=n, kind=ScenarioKind.HYPOTHETICAL, title=t)
                      for n, t in (("s0", "Zero"), ("s1", "One")))
    held = MarginHeld(label="arrangement unified", initial_margin=np.zeros(3),
                      collateral_value=np.zeros(3))
    res = StressResult(as_of=AS_OF, currency="USD", account_ids=("a0", "a1", "a2"),
                       members=("M1", "M2"), member_of=np.array([0, 0, 1]),
                       scenarios=scenarios, loss=np.array([[10.0, -1], [5, 0], [20, 3]]),
                       margin=held, collateral=np.zeros((3, 2)),
                       uncovered=np.array([[10.0, 0], [5, 0], [20, 3]]),
                       params=load_params("stress").info(), worst_accounts=10,
                       notes=("caveat",))
    stress = StressEvidence.from_results({"unified": res})
    assert stress.members == 2 and stress.notes == ("caveat",)
    assert stress.scenarios["loss"].tolist() == [35.0, 3.0]
    assert stress.scenarios["accounts_losing"].tolist() == [3, 1]
    u = stress.uncovered.xs("unified", level="model")
    assert u["uncovered"].tolist() == [35.0, 3.0]
    assert u["accounts_uncovered"].tolist() == [3, 1]
    assert u["cover_1"].tolist() == [20.0, 3.0] and u["cover_1_members"].tolist() == ["M2"] * 2
    assert u["cover_2"].tolist() == [35.0, 3.0]
    assert u["cover_2_members"].tolist() == ["M2, M1", "M2"]
    worst = stress.cover.loc["unified"]
    assert (worst["cover_2"], worst["cover_2_scenario"], worst["cover_2_members"]) == \
        (35.0, "s0", "M2, M1")


def test_history_models_agree_with_each_arrangement_alone(tmp_path: Path) -> None:
    """Two routes: the report's shared day results against each arrangement computed on
    its own, and the unified margin without its tools against the method run with every
    tool off (the same day, same book)."""
    day = date(2018, 6, 28)
    book = load_portfolio(write_population(tmp_path / "pop.parquet"), as_of=day)
    market = snapshot_from_history(day, max_stale_days={"curve": 500})
    models = history_models(load_params("arrangements"))
    assert [m.label for m in models] == ["silo", "conservative", "unified", NO_TOOLS]
    shared = {m.label: m.compute(book, market).initial_margin for m in models}
    for name in ("silo", "conservative", "unified"):
        alone = arrangement_margining(name).compute(book, market).initial_margin
        np.testing.assert_array_equal(shared[name], alone)
    no_tools = tool_variants(load_params("fhs"))["no tools"]
    off = method_margining("fhs", options={"params": no_tools}).compute(book, market)
    np.testing.assert_allclose(shared[NO_TOOLS], off.initial_margin, atol=0.01)
    assert np.all(shared[NO_TOOLS] <= shared["unified"])


def test_read_population_takes_archetypes_from_the_sidecar(tmp_path: Path) -> None:
    market = snapshot_from_history(AS_OF, max_stale_days={"curve": 500})
    pop = population(16, as_of=AS_OF, seed=3, market=market)
    path = tmp_path / "gen.parquet"
    populations.write_population(pop, path)
    labelled = read_population(path, as_of=AS_OF)
    assert labelled.book.account_ids == pop.book.account_ids
    assert labelled.strategies == pop.labels()
    assert "gen.accounts.parquet" in labelled.source
    plain = read_population(write_population(tmp_path / "plain.parquet"), as_of=AS_OF)
    assert plain.strategies is None and plain.source == ""


# -- distributions --------------------------------------------------------------------------

def test_clipped_histogram_counts_every_value_once() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=1000), np.r_[rng.normal(size=500), 1e9, -1e9]
    edges, (ca, cb) = clipped_histogram([a, b])
    assert edges.shape == (BINS + 1,)
    assert ca.sum() == 1000 and cb.sum() == 502
    # the two outliers are counted in the end bars, not stretching the range
    assert edges[-1] < 10 and cb[0] >= 1 and cb[-1] >= 1
    flat_edges, (flat,) = clipped_histogram([np.full(5, 7.0)])
    assert flat.sum() == 5 and flat_edges[0] < 7.0 < flat_edges[-1]


def test_box_statistics_by_hand_and_pooling() -> None:
    values = np.array([0.0, 1, 2, 3, 4, 10, 20])
    labels = np.array(["a"] * 5 + ["b"] * 2, dtype=object)
    box = box_statistics(values, labels)
    # a: 0..4, quartiles 1, 2, 3, whiskers 0.2 and 3.8; b: 10, 20
    assert box.loc["a", ["lowerfence", "q1", "median", "q3", "upperfence"]].tolist() == \
        pytest.approx([0.2, 1, 2, 3, 3.8])
    assert box.loc["b", "mean"] == pytest.approx(15) and box.loc["b", "count"] == 2
    assert box.index.tolist() == ["b", "a"]  # largest median first
    many = np.array([f"g{i}" for i in range(MAX_GROUPS + 5)], dtype=object)
    pooled = box_statistics(np.arange(many.size, dtype=float), many)
    assert len(pooled) == MAX_GROUPS and "other" in pooled.index
    assert pooled["count"].sum() == many.size


finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(st.lists(st.lists(finite, min_size=1, max_size=40), min_size=1, max_size=3))
def test_histogram_counts_every_account_once_property(series: list[list[float]]) -> None:
    edges, counts = clipped_histogram([np.asarray(v) for v in series])
    assert np.all(np.diff(edges) > 0)
    assert [c.sum() for c in counts] == [len(v) for v in series]


@given(st.lists(st.tuples(finite, st.sampled_from("abcdefghijklmnop")), min_size=1,
                max_size=60))
def test_box_statistics_are_ordered_property(rows: list[tuple[float, str]]) -> None:
    values = np.array([v for v, _ in rows])
    box = box_statistics(values, np.array([k for _, k in rows], dtype=object))
    cols = ["lowerfence", "q1", "median", "q3", "upperfence"]
    assert np.all(np.diff(box[cols].to_numpy(), axis=1) >= -1e-6 * (1 + np.abs(values).max()))
    assert box["count"].sum() == len(rows) and len(box) <= MAX_GROUPS


@given(st.lists(st.tuples(st.floats(0, 1e7), st.floats(0, 1e7), st.floats(0, 1e6)),
                min_size=4, max_size=4), st.permutations(range(4)))
def test_capital_split_adds_up_and_ignores_account_order_property(
        rows: list[tuple[float, float, float]], order: list[int]) -> None:
    """For any requirements: change of model + cross-silo offset = capital freed, and the
    summary does not depend on the order of the accounts."""
    silo, unified, offset = (np.array(c) for c in zip(*rows, strict=True))

    def capital_of(perm: list[int]) -> CapitalFreed:
        ids = tuple(IDS[k] for k in perm)
        res = [ArrangementResult(arrangement=name, currency="USD", account_ids=ids,
                                 initial_margin=im[perm], maintenance_margin=im[perm],
                                 collateral_value=np.zeros(4), components=comp)
               for name, im, comp in (
                   ("silo", silo, {"securities.initial_margin": silo[perm]}),
                   ("unified", unified, {"fhs.securities_alone": (unified + offset)[perm],
                                         "cross_silo_offset": offset[perm]}))]
        book = Book.from_accounts([Account(id=i) for i in ids], as_of=AS_OF, currency="USD")
        return capital_freed(Comparison(as_of=AS_OF, currency="USD", account_ids=ids,
                                        results=tuple(res), params={}), book)

    cf, shuffled = capital_of([0, 1, 2, 3]), capital_of(order)
    a = cf.accounts
    np.testing.assert_allclose(a["change_of_model"] + a["cross_silo_offset"],
                               a["freed_unified"], atol=1e-6)
    pd.testing.assert_frame_equal(cf.summary(), shuffled.summary(), atol=1e-6)
    assert cf.silo_split.loc["securities", "change_of_model"] == pytest.approx(
        float((silo - unified - offset).sum()), abs=1e-3)


# -- the page --------------------------------------------------------------------------------

def _sections() -> tuple[BacktestEvidence, ProcyclicalityEvidence, StressEvidence]:
    days = pd.bdate_range("2018-01-02", periods=30)
    margin = np.linspace(100.0, 130.0, days.size)
    loss = np.where(np.arange(days.size) % 10 == 3, 150.0, 50.0)
    table = pd.DataFrame({
        "mpor_days": [2, 2], "observations": [30, 30], "exceptions": [3, 0],
        "coverage": [0.9, 1.0], "kupiec_lr": [4.2, 0.6], "kupiec_p": [0.04, 0.44],
        "christoffersen_lr_ind": [0.5, 0.0], "christoffersen_p_ind": [0.48, 1.0],
        "christoffersen_lr_cc": [4.7, 0.6], "christoffersen_p_cc": [0.1, 0.74],
        "traffic_light": ["yellow", "green"], "green": [0, 4], "yellow": [4, 0], "red": [0, 0],
        "worst_shortfall": [50.0, -10.0]}, index=pd.Index(["silo", "unified"], name="model"))
    series = {name: pd.DataFrame({"margin": margin * k, "loss": loss,
                                  "exceptions": (loss > margin * k).astype(int)}, index=days)
              for name, k in (("silo", 1.0), ("unified", 2.0))}
    pc = ProcyclicalityEvidence(
        series=pd.DataFrame({"unified": margin, "unified (fhs no tools)": margin * 1.1},
                            index=days),
        table=pd.DataFrame({"observations": [30, 30], "peak": [130.0, 143.0],
                            "trough": [100.0, 110.0], "peak_to_trough": [1.3, 1.3],
                            "increase_1d": [0.01, 0.01], "increase_1d_date": ["a", "b"],
                            "increase_5d": [0.05, 0.05], "increase_5d_date": ["c", "d"]},
                           index=pd.Index(["unified", "unified (fhs no tools)"],
                                          name="model")),
        horizons=(1, 5))
    scen = pd.Index(["equities-30", "btc-50"], name="scenario")
    uncovered = pd.DataFrame({
        "scenario": ["equities-30", "equities-30", "btc-50", "btc-50"],
        "model": ["silo", "unified"] * 2, "uncovered": [400.0, 450.0, 0.0, 10.0],
        "accounts_uncovered": [2, 2, 0, 1], "cover_1": [300.0, 320.0, 0.0, 10.0],
        "cover_1_members": ["M1", "M1", "-", "M2"], "cover_2": [400.0, 450.0, 0.0, 10.0],
        "cover_2_members": ["M1, M2", "M1, M2", "-", "M2"]}).set_index(["scenario", "model"])
    stress = StressEvidence(
        scenarios=pd.DataFrame({"title": ["Equities -30%", "BTC -50%"],
                                "kind": ["hypothetical"] * 2, "loss": [900.0, 500.0],
                                "accounts_losing": [3, 1]}, index=scen),
        uncovered=uncovered,
        cover=pd.DataFrame({"cover_1": [300.0, 320.0], "cover_1_scenario": ["equities-30"] * 2,
                            "cover_1_members": ["M1", "M1"], "cover_2": [400.0, 450.0],
                            "cover_2_scenario": ["equities-30"] * 2,
                            "cover_2_members": ["M1, M2"] * 2},
                           index=pd.Index(["silo", "unified"], name="model")),
        members=2, notes=("stress note <b>",))
    return (BacktestEvidence(table=table, series=series, confidence=0.99,
                             notes=("backtest note",)), pc, stress)


def report_evidence(*, full: bool = True) -> Evidence:
    """Evidence built by hand: every section filled (``full``), or the risk ones missing."""
    population = Population(source="hand book", as_of=AS_OF, currency="USD", accounts=4,
                            positions=4, instruments=2, members=2, input_hash="0" * 64,
                            market="test market")
    bt, pc, stress = _sections() if full else (Unavailable(reason="no backtest here"),) * 3
    return Evidence(population=population, window=default_window(AS_OF), capital=_capital(),
                    backtest=bt, procyclicality=pc, stress=stress,  # type: ignore[arg-type]
                    provenance=provenance(param_ids=["arrangements", "fhs"],
                                          notes=["a caveat & more"]),
                    seconds={"compare": 0.1})


def test_page_is_self_contained_with_plotly_once() -> None:
    ev = report_evidence()
    figures = report_figures(ev)
    assert list(figures) == ["capital_histogram", "capital_ecdf", "capital_by_asset_class",
                             "capital_by_strategy", "capital_split", "backtest_series",
                             "procyclicality", "stress_uncovered", "cover"]
    page = render_html(ev, figures=figures)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # plotly.js embedded exactly once (its licence banner), nothing loaded from a network
    assert len(re.findall(r"plotly\.js v\d", page)) == 1
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|@import|url\(http", page)
    assert page.count(f'class="{FIGURE_CLASS}"') == len(figures)
    for name in figures:
        assert f'id="fig-{name}"' in page
    # text is escaped, amounts carry their currency
    assert "stress note &lt;b&gt;" in page and "a caveat &amp; more" in page
    assert "USD 600" in page and "USD 90" in page
    assert ">yellow</span>" in page and "Not available" not in page
    for pid in ("arrangements", "fhs"):
        assert load_params(pid).version in page


def test_page_says_which_sections_are_not_available() -> None:
    ev = report_evidence(full=False)
    assert ev.unavailable() == dict.fromkeys(("backtest", "procyclicality", "stress"),
                                             "no backtest here")
    figures = report_figures(ev)
    assert "backtest_series" not in figures and "cover" not in figures
    page = render_html(ev)
    assert page.count("Not available: no backtest here") == 3
    assert page.count(f'class="{FIGURE_CLASS}"') == len(figures)


def test_money_and_window() -> None:
    assert money(1234567.891, "USD") == "USD 1,234,568"
    assert money(-30.0, "EUR") == "EUR -30"
    assert money(float("nan"), "USD") == "-"
    first, last = default_window(AS_OF)
    assert last == AS_OF and len(pd.bdate_range(first, last)) == 250
    with pytest.raises(InputError, match="at least 1"):
        default_window(AS_OF, days=0)


def test_arrangement_parameter_ids_follow_the_arrangements_file() -> None:
    ids = arrangement_parameter_ids(load_params("arrangements"))
    assert ids == ["arrangements", "strategy", "exempt", "collateral-basel", "span",
                   "crypto-pm", "collateral-crypto", "fhs", "grid"]


# -- PNG export ------------------------------------------------------------------------------

def test_png_export_failure_is_one_line_and_leaves_nothing(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    def no_browser(*_: object, **__: object) -> None:
        raise RuntimeError("\n\nKaleido requires Google Chrome to be installed.\n\nmore")

    monkeypatch.setattr(png.pio, "write_images", no_browser)
    with pytest.raises(InputError) as err:
        png.export_png(report_figures(report_evidence(full=False)), tmp_path / "png")
    assert "Kaleido requires Google Chrome" in str(err.value)
    assert "apt-get install chromium" in str(err.value) and "\n" not in str(err.value)
    assert list((tmp_path / "png").iterdir()) == []


# -- the command -------------------------------------------------------------------------------


def write_population(path: Path) -> Path:
    """Write a small columnar population (stocks, index futures, a BTC perpetual)."""
    rows = [
        {"account": "P1", "type": "equity", "symbol": "AAPL", "quantity": 100.0},
        {"account": "P1", "type": "future", "symbol": "ESU8", "underlying": "SPX",
         "expiry": "2018-09-21", "multiplier": 50.0, "quantity": -1.0},
        {"account": "P2", "type": "equity", "symbol": "MSFT", "quantity": 200.0},
        {"account": "P3", "type": "perpetual", "underlying": "BTC", "quantity": 2.0},
        {"account": "P3", "type": "future", "symbol": "ESU8", "underlying": "SPX",
         "expiry": "2018-09-21", "multiplier": 50.0, "quantity": 1.0},
    ]
    pd.DataFrame(rows).to_parquet(path)
    pd.DataFrame({"account": ["P1", "P2", "P3"], "asset": ["USD"] * 3,
                  "amount": [50_000.0, 10_000.0, 20_000.0]}).to_parquet(
        path.with_name(f"{path.stem}.collateral.parquet"))
    return path


def test_cli_report_writes_the_page_and_a_json_summary(tmp_path: Path) -> None:
    population = write_population(tmp_path / "pop.parquet")
    out = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(CLI, [
        "report", "--population", str(population), "--out", str(out), "--as-of",
        "2018-06-29", "--from", "2018-06-11", "--to", "2018-06-22", "--max-stale-days",
        "curve=500", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["out"] == str(out) and doc["accounts"] == 3 and doc["as_of"] == "2018-06-29"
    assert doc["sections"] == dict.fromkeys(("capital", "backtest", "procyclicality",
                                             "stress"), "done")
    assert doc["png"] == []
    assert set(doc["seconds"]) == {"compare", "history", "stress", "render"}
    page = out.read_text(encoding="utf-8")
    assert "pop.parquet" in page and len(re.findall(r"plotly\.js v\d", page)) == 1
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


def test_cli_report_errors_are_one_line(tmp_path: Path) -> None:
    population = write_population(tmp_path / "pop.parquet")
    out = tmp_path / "report.html"
    app = CLI
    no_date = CliRunner().invoke(app, ["report", "--population", str(population),
                                       "--out", str(out)])
    assert no_date.exit_code == 2 and "names no date: give --as-of" in no_date.stderr
    # BTC has no bundled history before 2017-10: never a zero margin, a one-line error
    early = CliRunner().invoke(app, ["report", "--population", str(population), "--out",
                                     str(out), "--as-of", "2016-06-30"])
    assert early.exit_code == 2 and "BTC" in early.stderr
    assert len(early.stderr.strip().splitlines()) == 1
    backwards = CliRunner().invoke(app, ["report", "--population", str(population), "--out",
                                         str(out), "--as-of", "2018-06-29", "--from",
                                         "2018-07-01", "--to", "2018-06-01"])
    assert backwards.exit_code == 2 and "--from" in backwards.stderr
    assert not out.exists()


def test_report_bench_reports_every_stage() -> None:
    report = run_report_bench(accounts=30, days=3)
    assert report["accounts"] == 30
    assert set(report["seconds"]) == {"population", "compare", "history", "stress", "render",
                                      "total"}
    assert report["seconds"]["total"] == pytest.approx(sum(
        v for k, v in report["seconds"].items() if k != "total"), abs=0.01)
    assert report["html_bytes"] > 1_000_000  # plotly.js is in the page
    assert set(report["sections"]) == {"backtest", "procyclicality", "stress"}
