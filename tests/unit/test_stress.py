"""Stress testing: hand-worked books, collateral that falls, Cover-1/Cover-2, validation, CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from crossmargin.analytics.cover import cover_n, member_index, sum_rows
from crossmargin.analytics.stress import MarginHeld, StressResult, StressTest, margin_held
from crossmargin.analytics.stress_scenarios import HypotheticalShock
from crossmargin.book.book import Account, Book, Collateral, Position
from crossmargin.book.instruments import Instrument
from crossmargin.book.parse import parse_instrument
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.interfaces.cli.stress import stress_command
from crossmargin.market.history import load_history
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet
from tests.conftest import AS_OF, command_app, make_market

#: The command under test, invoked as a subcommand.
CLI = command_app("stress", stress_command)

EXAMPLES = Path(__file__).parents[2] / "examples"
MARKET = make_market()
CENT = 0.01


def _inst(**rec: object) -> Instrument:
    return parse_instrument(rec, path="test")


SPY = _inst(type="equity", symbol="SPY", product_class="broad-based-high-cap")
AAPL = _inst(type="equity", symbol="AAPL")
SPX_UNITS = _inst(type="equity", symbol="SPX", product_class="broad-based-high-cap")
BTC_SPOT = _inst(type="spot", asset="BTC", quote="USD")
PERP = _inst(type="perpetual", underlying="BTC", quote="USDT", settlement="linear")
UST = _inst(type="bond", symbol="UST-10Y", coupon=0.02875, maturity="2028-05-15")


def _account(acct_id: str, positions: tuple[tuple[Instrument, float], ...] = (),
             collateral: tuple[tuple[str, float], ...] = (), member: str | None = None
             ) -> Account:
    return Account(id=acct_id,
                   positions=tuple(Position(instrument=i, quantity=q) for i, q in positions),
                   collateral=tuple(Collateral(asset=a, amount=x) for a, x in collateral),
                   member=member)


def _book(*accounts: Account) -> Book:
    return Book.from_accounts(accounts, as_of=AS_OF, currency="USD")


def _held(im: list[float], collateral: list[float]) -> MarginHeld:
    return MarginHeld(label="given", initial_margin=np.asarray(im, dtype=float),
                      collateral_value=np.asarray(collateral, dtype=float))


def _test(tmp_path: Path, text: str) -> StressTest:
    path = tmp_path / "scenarios.yaml"
    path.write_text(text, encoding="utf-8")
    return StressTest.from_params(scenarios=path)


EQUITIES_30 = """
hypothetical:
  - {name: equities-30, prices: {equity: -0.30, equity-index: -0.30}}
"""


def test_long_spy_loses_thirty_percent_beyond_margin_and_collateral(tmp_path: Path) -> None:
    """Long 100 SPY at 270 (value 27,000) under equities -30%: loss 8,100.

    With USD 5,000 of collateral against an initial margin of 2,160 (8% of 27,000), the
    resources are max(2,160, 5,000) = 5,000 and the uncovered loss 8,100 - 5,000 =
    3,100. With only USD 1,000, the 1,160 short of the margin is called and paid in cash:
    resources max(2,160, 1,000) = 2,160, uncovered 8,100 - 2,160 = 5,940.
    """
    book = _book(_account("A", ((SPY, 100),), (("USD", 5000.0),)),
                 _account("B", ((SPY, 100),), (("USD", 1000.0),)))
    result = _test(tmp_path, EQUITIES_30).run(book, MARKET,
                                              margin=_held([2160, 2160], [5000, 1000]))
    assert result.loss[:, 0] == pytest.approx([8100.0, 8100.0])
    assert result.resources[:, 0] == pytest.approx([5000.0, 2160.0])
    assert result.uncovered[:, 0] == pytest.approx([3100.0, 5940.0])
    assert result.collateral[:, 0] == pytest.approx([5000.0, 1000.0])  # cash does not move


def test_margin_held_by_the_grid_and_the_pool(tmp_path: Path) -> None:
    """The same book with the grid's margin (8% of 27,000) and the pooled collateral."""
    book = _book(_account("A", ((SPY, 100),), (("USD", 5000.0),)))
    held = margin_held(book, MARKET, method="grid")
    assert held.initial_margin[0] == pytest.approx(2160.0)
    assert held.collateral_value[0] == pytest.approx(5000.0)
    assert held.label == "method grid" and held.params["id"] == "grid"
    result = _test(tmp_path, EQUITIES_30).run(book, MARKET, margin=held)
    assert result.uncovered[0, 0] == pytest.approx(3100.0)


def test_margin_held_needs_exactly_one_source() -> None:
    book = _book(_account("A", ((SPY, 100),)))
    with pytest.raises(InputError, match="one of the two"):
        margin_held(book, MARKET)
    with pytest.raises(InputError, match="one of the two"):
        margin_held(book, MARKET, method="grid", arrangement="unified")
    with pytest.raises(InputError, match="unknown arrangement"):
        margin_held(book, MARKET, arrangement="nope")


def test_coin_collateral_falls_with_the_coin_it_secures(tmp_path: Path) -> None:
    """Long 2 BTC perpetuals (12,800 of BTC at 6,400) under BTC -50%: loss 6,400.

    Against USD 6,400 the loss is covered. Against 1 BTC (6,400 today, no haircut under
    the crypto schedule below 100 million) the pledge falls to 3,200 with the coin it
    secures: resources 6,400 - 3,200 = 3,200 and the uncovered loss 6,400 - 3,200 = 3,200.
    """
    text = "hypothetical:\n  - {name: btc-50, prices: {BTC: -0.50}}\n"
    book = _book(_account("USD", ((PERP, 2),), (("USD", 6400.0),)),
                 _account("COIN", ((PERP, 2),), (("BTC", 1.0),)))
    held = margin_held(book, MARKET, method="grid")
    assert held.collateral_value == pytest.approx([6400.0, 6400.0])
    result = _test(tmp_path, text).run(book, MARKET, margin=held)
    assert result.loss[:, 0] == pytest.approx([6400.0, 6400.0])
    assert result.collateral[:, 0] == pytest.approx([6400.0, 3200.0])
    assert result.uncovered[:, 0] == pytest.approx([0.0, 3200.0])
    doc = result.to_json()
    assert doc["scenarios"][0]["collateral_change"] == pytest.approx(-3200.0)
    assert doc["scenarios"][0]["worst_accounts"][0]["account"] == "COIN"


def test_a_symbol_nothing_held_depends_on_is_noted(tmp_path: Path) -> None:
    """A misspelt or foreign symbol moves nothing; the result says so, by scenario."""
    text = ("hypothetical:\n  - {name: typo, prices: {BTCC: -0.5, crypto: -0.1}, "
            "vols: {all: 2}, fx: {XXX: -0.1}}\n  - {name: ok, prices: {BTC: -0.5}}\n")
    book = _book(_account("USD", ((PERP, 2),), (("USD", 6400.0),)))
    result = _test(tmp_path, text).run(book, MARKET, margin=margin_held(book, MARKET,
                                                                        method="grid"))
    idle = [n for n in result.notes if "moves nothing" in n]
    assert idle == ["typo: prices.BTCC, fx.XXX moves nothing this book holds"]


def test_stablecoin_depeg_moves_stablecoin_collateral(tmp_path: Path) -> None:
    """USDT 1,000 counts 975 (2.5% haircut, crypto schedule); a 5% depeg leaves 926.25."""
    text = "hypothetical:\n  - {name: depeg, fx: {USDT: -0.05}}\n"
    book = _book(_account("A", (), (("USDT", 1000.0),)))
    held = margin_held(book, MARKET, method="grid")
    assert held.collateral_value[0] == pytest.approx(975.0)
    result = _test(tmp_path, text).run(book, MARKET, margin=held)
    assert result.collateral[0, 0] == pytest.approx(926.25)
    assert result.uncovered[0, 0] == 0.0


def test_cover_n_of_a_matrix_names_members_per_scenario() -> None:
    """Members x scenarios, by hand: Cover-1 (5, 7), Cover-2 (5+4, 7+3); worst: second."""
    losses = np.array([[5.0, 0.0], [4.0, 7.0], [0.0, 3.0], [1.0, 1.0]])
    one, two = cover_n(losses, n=1), cover_n(losses, n=2)
    assert one.amount == pytest.approx([5.0, 7.0]) and one.members.tolist() == [[0], [1]]
    assert two.amount == pytest.approx([9.0, 10.0])
    assert two.members.tolist() == [[0, 1], [1, 2]] and two.worst == 1
    lone = cover_n(np.array([[2.0]]), n=2)  # fewer members than n
    assert lone.amount.tolist() == [2.0] and lone.members.tolist() == [[0, -1]]
    with pytest.raises(InputError, match="positive integer"):
        cover_n(losses, n=0)


def test_members_default_to_the_accounts_and_sum_without_netting() -> None:
    names, of = member_index((), ("B", "A"))
    assert names == ("A", "B") and of.tolist() == [1, 0]
    sums = sum_rows(np.array([[1.0, 2.0], [3.0, 0.0], [5.0, 1.0]]),
                    into=np.array([0, 1, 0]), n_into=2)
    assert sums.tolist() == [[6.0, 3.0], [3.0, 0.0]]


def _close(column: str, day: str) -> float:
    return float(load_history().loc[day, column])


def test_historical_window_moves_as_the_history_did(tmp_path: Path) -> None:
    """February 2018: 10 units of the S&P 500 at 2,700 lose 2,700 x 10 x (1 - S1/S0).

    S0 = SPX close on 2018-02-01, S1 on 2018-02-09; the index's implied volatility
    moves by IV_SPX's relative change (VIX/100) over the same days.
    """
    text = "historical: [volmageddon-2018]\n"
    test = _test(tmp_path, text)
    book = _book(_account("A", ((SPX_UNITS, 10),)))
    result = test.run(book, MARKET, margin=_held([0.0], [0.0]))
    move = _close("SPX", "2018-02-09") / _close("SPX", "2018-02-01") - 1.0
    assert move == pytest.approx(2619.55 / 2821.98 - 1.0)
    assert result.loss[0, 0] == pytest.approx(-10 * 2700.0 * move, abs=CENT)
    assert result.scenarios[0].start == date(2018, 2, 1)
    option = _inst(type="option", underlying="SPX", right="put", strike=2600,
                   expiry="2018-09-21", settlement="cash")
    needs = test.needs(_book(_account("A", ((option, 1),))), ())
    columns, _ = test.columns(needs, MARKET)
    vix = _close("IV_SPX", "2018-02-09") / _close("IV_SPX", "2018-02-01") - 1.0
    assert columns[0].vol["SPX"] == pytest.approx(vix)
    assert columns[0].spot["SPX"] == pytest.approx(move)


def test_historical_window_shifts_the_curve_by_the_yield_changes(tmp_path: Path) -> None:
    """Lehman 2008: each tenor of the market's curve shifts by the bundled par yield's
    change from 2008-09-12 to 2008-10-27 (the 10-year and 2-year tenors checked)."""
    test = _test(tmp_path, "historical: [lehman-2008]\n")
    needs = test.needs(_book(_account("A", ((UST, 1e5),))), ())
    columns, _ = test.columns(needs, MARKET)
    shift = columns[0].curve["UST"]
    tenors = MARKET.curve("UST").tenors.tolist()
    for tenor, column in ((10.0, "UST_10Y"), (2.0, "UST_2Y")):
        change = _close(column, "2008-10-27") - _close(column, "2008-09-12")
        assert shift[tenors.index(tenor)] == pytest.approx(change)


def test_stand_in_notes_and_uncovered_windows(tmp_path: Path) -> None:
    """SPY (bundled to 2016) moves as SPX in 2018, with a note; a required window
    that cannot move BTC fails naming it; an optional one is left out with a note."""
    book = _book(_account("A", ((SPY, 100),)))
    q4 = _test(tmp_path, "historical: [q4-2018]\n").run(book, MARKET, margin=_held([0], [0]))
    spx = _close("SPX", "2018-12-24") / _close("SPX", "2018-10-01") - 1.0
    assert q4.loss[0, 0] == pytest.approx(-100 * 270.0 * spx, abs=CENT)
    assert any("SPY moves as SPX (stand-in) in q4-2018" in n for n in q4.notes)
    coin = _book(_account("A", ((BTC_SPOT, 1),)))
    required = "historical:\n  - {name: dotcom, start: 2000-03-24, end: 2000-10-09}\n"
    with pytest.raises(MissingDataError, match=r"dotcom .* does not move BTC .*covers "
                                               r"2017-10-01 to 2021-12-28"):
        _test(tmp_path, required).run(coin, MARKET, margin=_held([0], [0]))
    optional = ("historical:\n  - lehman-2008\n  - crypto-nov-2018\n")
    result = _test(tmp_path, optional).run(coin, MARKET, margin=_held([0], [0]))
    assert [s.name for s in result.scenarios] == ["crypto-nov-2018"]
    assert any(n.startswith("left out: lehman-2008") for n in result.notes)


def test_windows_that_cannot_move_the_book_leave_the_shocks(tmp_path: Path) -> None:
    """A Treasury note and a coin: no bundled window moves both (the curve ends in 2017,
    the coins start in 2017-10); optional windows are left out with a note each, and a
    run with nothing else to apply fails rather than reporting nothing uncovered."""
    book = _book(_account("A", ((UST, 1e5), (BTC_SPOT, 1))))
    optional = ("historical:\n  - {name: q4-2018, required: false}\n"
                "  - {name: lehman-2008, required: false}\n")
    shock = "hypothetical:\n  - {name: btc, prices: {BTC: -0.5}}\n"
    result = _test(tmp_path, optional + shock).run(book, MARKET, margin=_held([0], [0]))
    assert [s.name for s in result.scenarios] == ["btc"]
    left = [n for n in result.notes if n.startswith("left out")]
    assert len(left) == 2 and "the UST curve" in left[0] and "BTC" in left[1]
    with pytest.raises(InputError, match="no scenario can move this book"):
        _test(tmp_path, optional).run(book, MARKET, margin=_held([0], [0]))


def test_no_fx_history_is_an_error_not_a_zero_move(tmp_path: Path) -> None:
    book = _book(_account("A", (), (("EUR", 1000.0),)))
    with pytest.raises(MissingDataError, match="no FX history for EUR"):
        _test(tmp_path, "historical: [q4-2018]\n").run(book, MARKET, margin=_held([0], [0]))


def test_correlation_break_parts_a_basis_trade(tmp_path: Path) -> None:
    """Long 1 BTC spot, short 1 linear perpetual; BTC -20% while perpetuals trade 10%
    rich: spot loses 1,280; the perpetual falls to 6,400 x 0.8 x 1.1 = 5,632, so the
    short gains 768 only; net loss 512 (the hedge would lose nothing without the break)."""
    text = ("hypothetical:\n  - {name: break, prices: {BTC: -0.2}, basis: {crypto: 0.1}}\n"
            "  - {name: plain, prices: {BTC: -0.2}}\n")
    book = _book(_account("A", ((BTC_SPOT, 1), (PERP, -1))), _account("P", ((PERP, 1),)))
    result = _test(tmp_path, text).run(book, MARKET, margin=_held([0, 0], [0, 0]))
    assert result.loss[:, 0] == pytest.approx([512.0, 768.0])
    assert result.loss[:, 1] == pytest.approx([0.0, 1280.0], abs=CENT)


def test_rates_shock_agrees_with_direct_revaluation(tmp_path: Path) -> None:
    """Two routes: the stress loss of a note under +100 bp is its revaluation loss."""
    book = _book(_account("A", ((UST, 1e5),)))
    text = "hypothetical:\n  - {name: up, curves: {UST: 0.01}}\n"
    result = _test(tmp_path, text).run(book, MARKET, margin=_held([0], [0]))
    direct = revalue([UST], market=MARKET, currency="USD",
                     scenarios=ScenarioSet(names=("up",), curve={"UST": np.array([0.01])}))
    assert result.loss[0, 0] == pytest.approx(-1e5 * direct.pnl[0, 0], abs=CENT)
    assert result.loss[0, 0] > 0


def test_curve_shift_by_tenor_interpolates_and_stays_flat() -> None:
    """{2Y: 50 bp, 10Y: 100 bp}: 5Y gets 50 + 3/8 x 50 = 68.75 bp; flat beyond the ends."""
    shock = HypotheticalShock(name="s", title="s",
                              curves={"UST": (np.array([2.0, 10.0]), np.array([0.005, 0.01]))})
    shift = shock.curve_shift("UST", np.array([0.25, 2.0, 5.0, 10.0, 30.0]))
    assert shift == pytest.approx([0.005, 0.005, 0.006875, 0.01, 0.01])
    assert shock.curve_shift("OTHER", np.ones(2)).tolist() == [0.0, 0.0]


def test_symbol_wins_over_class_over_all() -> None:
    table = {"BTC": -0.5, "crypto": -0.6, "all": -0.1}
    assert HypotheticalShock.lookup(table, "BTC", default=0.0) == -0.5
    assert HypotheticalShock.lookup(table, "ETH", default=0.0) == -0.6
    assert HypotheticalShock.lookup(table, "AAPL", default=0.0) == -0.1
    assert HypotheticalShock.lookup({}, "AAPL", default=1.0) == 1.0


def test_frame_and_json_shapes(tmp_path: Path) -> None:
    book = _book(_account("A", ((SPY, 100),), (("USD", 5000.0),), member="M"),
                 _account("B", ((AAPL, -10),), member="M"))
    result = StressTest.from_params().run(book, MARKET,
                                          margin=margin_held(book, MARKET, method="grid"))
    assert isinstance(result, StressResult)
    frame = result.to_frame()
    assert len(frame) == 2 * len(result.scenarios)
    assert frame.index.names == ["account", "scenario"]
    assert set(frame.columns) == {"member", "kind", "loss", "initial_margin",
                                  "collateral_base", "collateral", "resources", "uncovered"}
    doc = result.to_json()
    assert {s["name"] for s in doc["scenarios"]} >= {"volmageddon-2018", "q4-2018",
                                                     "crypto-jan-2018", "crypto-nov-2018",
                                                     "equities-30", "btc-50",
                                                     "rates-up-100bp", "vol-x2",
                                                     "correlation-break"}
    for sc in doc["scenarios"]:
        assert sc["cover_2"]["amount"] >= sc["cover_1"]["amount"] >= 0.0
        assert sc["uncovered"] >= sc["cover_2"]["amount"] - CENT
    json.dumps(doc)  # JSON-ready


@pytest.mark.parametrize(("text", "message"), [
    ("hypothetical:\n  - {name: a, prices: {BTC: -1.0}}\n",
     "hypothetical[0].prices.BTC=-1.0: a relative move must stay above -100%"),
    ("hypothetical:\n  - {name: a, vols: {all: 0}}\n",
     "hypothetical[0].vols.all=0: a volatility multiplier must be positive"),
    ("hypothetical:\n  - {name: a, vols: {all: 1.0e300}}\n",
     "hypothetical[0].vols.all='1.0e300': a volatility multiplier must be at most 1000"),
    ("hypothetical:\n  - {name: a, basis: {BTC: 1.0e300}}\n",
     "hypothetical[0].basis.BTC='1.0e300': a relative move (a decimal) must be at most 1000"),
    ("hypothetical:\n  - {name: a, curves: {UST: 100}}\n",
     "hypothetical[0].curves.UST=100: a yield shift is a decimal (100 bp is 0.01)"),
    ("hypothetical:\n  - {name: a, curves: {UST: {10: 0.01}}}\n",
     "hypothetical[0].curves.UST.10: a tenor is a number of months or years"),
    ("hypothetical:\n  - {name: a, curves: {EUR: 0.01}}\n",
     "hypothetical[0].curves.EUR: unknown curve"),
    ("hypothetical:\n  - {name: a, prices: {equities: -0.3}}\n",
     "hypothetical[0].prices.equities: not a symbol, an asset class"),
    ("hypothetical:\n  - {name: a, fx: {BTC: -0.5}}\n",
     "hypothetical[0].fx.BTC: a coin moves with prices, not fx"),
    ("hypothetical:\n  - {name: a, price: {BTC: -0.5}}\n",
     "hypothetical[0].price: unknown key"),
    ("hypothetical:\n  - {name: a}\n", "hypothetical[0]='a': shocks nothing"),
    ("hypothetical:\n  - {prices: {BTC: -0.5}}\n", "hypothetical[0].name=None: needs a name"),
    ("hypothetical:\n  - {name: a, prices: {BTC: x}}\n",
     "hypothetical[0].prices.BTC='x': must be a number"),
    ("historical: [nope]\n", "historical[0]='nope': unknown historical window"),
    ("historical:\n  - {name: w, start: 2018-02-09, end: 2018-02-01}\n",
     "historical[0].end='2018-02-01': a window must end after it starts"),
    ("historical:\n  - {name: w, start: 2018-02-30, end: 2018-03-01}\n",
     "historical[0].start='2018-02-30': not a date"),
    ("historical:\n  - {name: w, start: 2018-02-01, end: 2018-03-01, required: maybe}\n",
     "historical[0].required='maybe': must be true or false"),
    ("historical: [q4-2018]\nhypothetical:\n  - {name: q4-2018, prices: {BTC: -0.5}}\n",
     "name='q4-2018': two scenarios have this name"),
    ("historical: q4-2018\n", "historical: must be a list"),
    ("scenarios: []\n", "scenarios: unknown key"),
    ("{}\n", "no scenarios"),
    ("historical: [\n", "not valid YAML"),
])
def test_scenario_file_errors_name_file_field_and_value(tmp_path: Path, text: str,
                                                        message: str) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        StressTest.from_params(scenarios=path)
    line = str(err.value)
    assert line.startswith(str(path)) and message in line and "\n" not in line


def test_scenario_revaluing_to_a_non_finite_figure_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure that overflows in revaluation names the scenario, the row and the file."""
    import crossmargin.analytics.stress as stress_module

    def overflowing(pnl: np.ndarray, *_: object) -> np.ndarray:
        out = pnl.copy()
        out[0, -1] = np.inf
        return out

    monkeypatch.setattr(stress_module, "_with_basis", overflowing)
    book = _book(_account("A", ((SPY, 1),)))
    test = _test(tmp_path, "hypothetical:\n  - {name: a, prices: {SPY: -0.1}}\n")
    with pytest.raises(InputError) as err:
        test.run(book, MARKET, margin=_held([0], [0]))
    line = err.value.one_line()
    assert "scenarios.yaml" in line and "scenario a" in line and "SPY" in line


def test_missing_scenario_file_and_base_currency_fx(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read scenario file"):
        StressTest.from_params(scenarios=tmp_path / "absent.yaml")
    book = _book(_account("A", ((SPY, 1),)))
    test = _test(tmp_path, "hypothetical:\n  - {name: a, fx: {USD: -0.1}}\n")
    with pytest.raises(InputError, match=r"a\.fx\.USD: the market's base currency"):
        test.run(book, MARKET, margin=_held([0], [0]))


def test_margin_arrays_must_fit_the_book(tmp_path: Path) -> None:
    book = _book(_account("A", ((SPY, 1),)))
    with pytest.raises(InputError, match=r"margin\.initial_margin"):
        _test(tmp_path, EQUITIES_30).run(book, MARKET, margin=_held([1, 2], [0]))
    with pytest.raises(InputError, match=r"margin\.collateral_value"):
        _test(tmp_path, EQUITIES_30).run(book, MARKET, margin=_held([1], [np.nan]))


def test_example_scenario_file_reads() -> None:
    test = StressTest.from_params(scenarios=EXAMPLES / "stress.yaml")
    assert [w.name for w in test.windows] == ["volmageddon-2018", "lehman-2008",
                                              "q4-2018-equity-low"]
    assert not any(w.required for w in test.windows)
    assert test.windows[0].start == date(2018, 2, 1)  # the parameter file's window
    assert [s.name for s in test.shocks] == ["equities-30", "crypto-winter",
                                             "bear-steepener", "basis-blowout"]


# -- the command line ------------------------------------------------------------------
PORTFOLIO = """\
as_of: 2018-06-29
currency: USD
accounts:
  - id: A
    member: CM1
    positions:
      - {type: equity, symbol: SPY, product_class: broad-based-high-cap, quantity: 100}
    collateral:
      - {asset: USD, amount: 5000}
  - id: B
    member: CM2
    positions:
      - {type: perpetual, underlying: BTC, quote: USDT, settlement: linear, quantity: 2}
    collateral:
      - {asset: BTC, amount: 1}
"""



def _portfolio(tmp_path: Path) -> Path:
    path = tmp_path / "book.yaml"
    path.write_text(PORTFOLIO, encoding="utf-8")
    return path


def test_cli_stress_json_and_table(tmp_path: Path) -> None:
    args = ["stress", str(_portfolio(tmp_path)), "--market", str(EXAMPLES / "market.yaml"),
            "--scenarios", str(EXAMPLES / "stress.yaml"), "--method", "grid"]
    result = CliRunner().invoke(CLI, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["margin"]["source"] == "method grid" and doc["members"] == 2
    assert len(doc["scenarios"]) == 6  # lehman-2008 cannot move BTC: left out
    assert any(n.startswith("left out: lehman-2008") for n in doc["notes"])
    assert doc["cover_2"]["amount"] >= doc["cover_1"]["amount"] > 0
    out = tmp_path / "stress.txt"
    table = CliRunner().invoke(CLI, [*args, "--out", str(out)])
    assert table.exit_code == 0, table.stderr
    text = out.read_text(encoding="utf-8")
    assert "Cover-1:" in text and "Cover-2:" in text and "CM2" in text


def test_cli_stress_errors_are_one_line(tmp_path: Path) -> None:
    args = ["stress", str(_portfolio(tmp_path)), "--market", str(EXAMPLES / "market.yaml")]
    both = CliRunner().invoke(CLI, [*args, "--method", "grid", "--arrangement", "silo"])
    assert both.exit_code == 2 and "not both" in both.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("hypothetical:\n  - {name: a, prices: {BTC: -2}}\n", encoding="utf-8")
    wrong = CliRunner().invoke(CLI, [*args, "--scenarios", str(bad), "--method", "grid"])
    assert wrong.exit_code == 2
    assert wrong.stderr.count("\n") == 1 and "prices.BTC=-2" in wrong.stderr
    fmt = CliRunner().invoke(CLI, [*args, "--format", "xml"])
    assert fmt.exit_code == 2 and "--format" in fmt.stderr


def test_stress_bench_on_the_bench_book(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the population generator the bench deals the bench book to members."""
    import crossmargin.bench.stress as bench

    monkeypatch.setattr(bench, "_POPULATIONS", "crossmargin.analytics.no_such_module")
    report = bench.run_stress_bench(accounts=60, positions=3, members=4, method="grid",
                                    arrangement=None)
    assert report["population"].startswith("bench_book")
    assert report["accounts"] == 60 and report["members"] == 4
    assert report["cover_2"] >= report["cover_1"] >= 0.0
    assert report["stress_seconds"] > 0 and report["scenarios"] >= 5
