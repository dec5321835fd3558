"""The rolling engine and the backtest on small hand-made books over the real history."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from crossmargin.analytics.backtest import BacktestParameters, BacktestResult, run_backtest
from crossmargin.analytics.rolling import (
    DayMargin,
    Margining,
    MarginPeriod,
    ReferenceCalendar,
    market_move,
    roll,
)
from crossmargin.bench.backtest import run_backtest_bench
from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import (
    AssetClass,
    Bond,
    CryptoSpot,
    Equity,
    Future,
    Instrument,
    Option,
    Right,
)
from crossmargin.core.errors import InputError
from crossmargin.interfaces.cli.backtest import backtest_command
from crossmargin.market.build import snapshot_from_history
from crossmargin.market.history import load_history
from crossmargin.market.snapshot import VolSurface
from crossmargin.params.loader import load_params
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet
from tests.conftest import AS_OF, command_app, make_market

#: The command under test, invoked as a subcommand.
CLI = command_app("backtest", backtest_command)

CALENDAR = ReferenceCalendar.from_history("SPX")
TWO_DAYS = MarginPeriod(days=2, continuous=frozenset({AssetClass.CRYPTO}))
STILL = ScenarioSet(names=("still",), strict=False)
#: Revaluation differences of the same numbers by two routes agree to this.
CENTS = 1e-6

AAPL = Equity(symbol="AAPL")
BTC = CryptoSpot(asset="BTC")
JUNE_PUT = Option(underlying="SPX", right=Right.PUT, strike=2120.0,
                  expiry=date(2015, 6, 19), multiplier=100.0)
JUNE_FUTURE = Future(symbol="ESM5", underlying="SPX", expiry=date(2015, 6, 19),
                     multiplier=50.0)

YAML = """\
as_of: 2015-06-01
currency: USD
accounts:
  - id: A
    positions:
      - {type: equity, symbol: AAPL, quantity: 1000}
      - {type: future, symbol: ESU5, underlying: SPX, expiry: 2015-09-18, multiplier: 50,
         quantity: -1}
  - id: B
    positions:
      - {type: option, underlying: SPX, right: put, strike: 2000, expiry: 2015-09-18,
         multiplier: 100, quantity: -5}
"""


def _book(*accounts: tuple[str, list[tuple[Instrument, float]]]) -> Book:
    return Book.from_accounts(
        [Account(id=name, positions=tuple(Position(instrument=i, quantity=q) for i, q in pos))
         for name, pos in accounts], as_of=date(2015, 6, 1), currency="USD")


def _zero(label: str = "zero") -> Margining:
    """A model that asks for nothing: every realised loss is an exception."""
    return Margining(label=label, name=label, compute=lambda book, market: DayMargin(
        initial_margin=np.zeros(book.n_accounts), notes=()))


def _close(symbol: str, day: date) -> float:
    return float(load_history().loc[str(day), symbol])


def test_calendar_business_days_and_periods() -> None:
    days = CALENDAR.between(date(2015, 6, 18), date(2015, 6, 23))
    assert days == [date(2015, 6, 18), date(2015, 6, 19), date(2015, 6, 22),
                    date(2015, 6, 23)]
    assert CALENDAR.after(date(2015, 6, 18), 2) == date(2015, 6, 22)
    assert CALENDAR.following(date(2015, 6, 20), 2) == [date(2015, 6, 22), date(2015, 6, 23)]
    ends = TWO_DAYS.ends([AAPL, BTC, JUNE_PUT], day=date(2015, 6, 18), calendar=CALENDAR)
    assert ends == [date(2015, 6, 22), date(2015, 6, 20), date(2015, 6, 19)]
    assert CALENDAR.after(date(2022, 12, 27), 5) is None


def test_realised_pnl_of_a_stock_is_its_price_change() -> None:
    """100 AAPL held from each day to the second business day after it."""
    book = _book(("A", [(AAPL, 100.0)]))
    (run,) = roll(book, [_zero()], start=date(2015, 6, 15), end=date(2015, 6, 19),
                  calendar=CALENDAR, period=TWO_DAYS)
    assert run.pnl is not None
    expected = [100.0 * (_close("AAPL", CALENDAR.after(d, 2) or d) - _close("AAPL", d))
                for d in run.dates]
    assert run.pnl[:, 0] == pytest.approx(expected, abs=CENTS)
    assert run.observed.all() and run.mpor_days == 2 and not run.skipped


def test_contracts_expiring_in_the_period_are_valued_at_expiry() -> None:
    """On 2015-06-18 the June put and future expire on the next day: the put is worth its
    intrinsic value at the 2015-06-19 close (SPX 2,109.99: 100 x (2,120 - 2,109.99) =
    1,001), the future settles at that close; both leave the book on their expiry."""
    book = _book(("P", [(JUNE_PUT, 1.0)]), ("F", [(JUNE_FUTURE, 1.0)]), ("S", [(AAPL, 10.0)]))
    (run,) = roll(book, [_zero()], start=date(2015, 6, 18), end=date(2015, 6, 19),
                  calendar=CALENDAR, period=TWO_DAYS)
    assert run.pnl is not None
    day = snapshot_from_history(date(2015, 6, 18))
    value = revalue([JUNE_PUT, JUNE_FUTURE], market=day, scenarios=STILL,
                    currency="USD").base_value
    spot = _close("SPX", date(2015, 6, 19))
    assert run.pnl[0, :2] == pytest.approx([100.0 * (2120.0 - spot) - value[0],
                                            50.0 * spot - value[1]], abs=CENTS)
    assert run.observed.tolist() == [[True, True, True], [False, False, True]]
    assert any("expired" in n for n in run.notes)


def test_crypto_periods_count_calendar_days() -> None:
    """Friday 2018-01-05: bitcoin's two days end on Sunday the 7th, Apple's on Tuesday."""
    book = _book(("C", [(BTC, 2.0)]), ("S", [(AAPL, 100.0)]))
    (run,) = roll(book, [_zero()], start=date(2018, 1, 5), end=date(2018, 1, 5),
                  calendar=CALENDAR, period=TWO_DAYS)
    assert run.pnl is not None
    assert run.pnl[0] == pytest.approx([
        2.0 * (_close("BTC", date(2018, 1, 7)) - _close("BTC", date(2018, 1, 5))),
        100.0 * (_close("AAPL", date(2018, 1, 9)) - _close("AAPL", date(2018, 1, 5)))],
        abs=CENTS)


def test_days_the_book_cannot_be_priced_are_skipped_and_counted() -> None:
    """Bitcoin's bundled history has a gap from 2019-10-01 to 2019-12-31: with the 4-day
    staleness limit, days up to 2019-10-02 (period ending 10-04) price, later ones not."""
    book = _book(("C", [(BTC, 1.0)]))
    (run,) = roll(book, [_zero()], start=date(2019, 9, 25), end=date(2019, 10, 15),
                  calendar=CALENDAR, period=TWO_DAYS)
    assert run.computed.tolist() == [True] * 6 + [False] * 9
    assert run.skipped[0][0] == date(2019, 10, 3)
    assert "BTC" in run.skipped[0][1]
    assert run.notes[0].startswith("9 of 15 business days skipped")
    assert len(run.to_frame()) == 6


def test_a_book_priced_on_no_day_fails_with_one_line() -> None:
    book = _book(("C", [(BTC, 1.0)]))
    with pytest.raises(InputError) as err:
        roll(book, [_zero()], start=date(2019, 11, 1), end=date(2019, 11, 20),
             calendar=CALENDAR, period=TWO_DAYS)
    text = str(err.value)
    assert "could not be computed on any business day" in text and "BTC" in text
    assert "\n" not in text


@pytest.mark.parametrize(("start", "end", "words"), [
    (date(2018, 1, 6), date(2018, 1, 7), "no business day"),
    (date(2018, 1, 9), date(2018, 1, 5), "is before"),
])
def test_bad_ranges(start: date, end: date, words: str) -> None:
    with pytest.raises(InputError, match=words):
        roll(_book(("A", [(AAPL, 1.0)])), [_zero()], start=start, end=end,
             calendar=CALENDAR, period=TWO_DAYS)


def test_exceptions_and_shortfall_against_a_zero_margin() -> None:
    """With no margin, every day with a realised loss is an exception and the worst
    shortfall is the largest loss."""
    book = _book(("A", [(AAPL, 100.0)]), ("B", [(AAPL, -100.0)]))
    (run,) = roll(book, [_zero()], start=date(2015, 6, 1), end=date(2015, 6, 30),
                  calendar=CALENDAR, period=TWO_DAYS)
    settings = BacktestParameters.from_params()
    result = BacktestResult(kind="method", rolling=run, confidence=0.99, window=250,
                            light=settings.traffic_light(0.99), params={})
    assert run.pnl is not None
    loss = -run.pnl
    assert result.exceptions.tolist() == (loss > 0).tolist()
    each, pooled = result.tests()
    assert each.exceptions.tolist() == (loss > 0).sum(axis=0).tolist()
    assert int(pooled.exceptions) == int((loss > 0).sum())
    worst = result.worst_shortfall()
    k = int(np.argmax(loss[:, 0]))
    assert worst["amount"] == pytest.approx(round(loss.max(), 2))
    assert worst["date"] == run.dates[k].isoformat()  # A and B lose on opposite days
    frame = result.to_frame()
    assert frame["exceptions"].tolist() == (loss > 0).sum(axis=1).tolist()
    assert frame["realised_pnl"].to_numpy() == pytest.approx(np.zeros(len(run.dates)))


def test_backtest_of_a_method_on_the_history() -> None:
    book = _book(("A", [(AAPL, 1000.0), (JUNE_FUTURE, -1.0)]), ("B", [(JUNE_PUT, -5.0)]))
    result = run_backtest(book, method="tims", start=date(2015, 6, 1),
                          end=date(2015, 6, 30))
    run = result.rolling
    assert run.pnl is not None and run.mpor_days == 2
    assert result.exceptions.tolist() == (run.observed & (-run.pnl > run.margin)).tolist()
    doc = result.to_json()
    assert set(doc) >= {"observations", "exceptions", "coverage", "kupiec_lr", "kupiec_p",
                        "christoffersen_lr_ind", "christoffersen_p_ind",
                        "christoffersen_lr_cc", "christoffersen_p_cc", "traffic_light",
                        "worst_shortfall", "accounts", "series", "notes"}
    assert doc["observations"] == int(run.observed.sum())
    assert doc["observations"] == sum(a["observations"] for a in doc["accounts"])
    assert doc["exceptions"] == sum(a["exceptions"] for a in doc["accounts"])
    assert [a["account"] for a in doc["accounts"]] == ["A", "B"]
    assert len(doc["series"]) == len(run.dates)
    assert np.all(np.nan_to_num(run.margin) >= 0)
    json.dumps(doc, allow_nan=False)


def test_span_uses_its_one_day_period_and_arrangements_run() -> None:
    book = _book(("A", [(JUNE_FUTURE, 2.0)]))
    span = run_backtest(book, method="span", start=date(2015, 6, 1), end=date(2015, 6, 3))
    assert span.rolling.mpor_days == 1 and span.rolling.observed.all()
    silo = run_backtest(book, arrangement="silo", start=date(2015, 6, 1),
                        end=date(2015, 6, 2), mpor_days=3, confidence=0.975)
    assert silo.kind == "arrangement" and silo.rolling.mpor_days == 3
    assert silo.to_json()["confidence"] == 0.975


@pytest.mark.parametrize(("kwargs", "words"), [
    ({}, "give one --method or one --arrangement"),
    ({"method": "tims", "arrangement": "silo"}, "give one"),
    ({"method": "nope"}, "unknown method"),
    ({"arrangement": "nope"}, "unknown arrangement"),
])
def test_backtest_bad_choices(kwargs: dict[str, str], words: str) -> None:
    with pytest.raises(InputError, match=words):
        run_backtest(_book(("A", [(AAPL, 1.0)])), start=date(2015, 6, 1),
                     end=date(2015, 6, 2), **kwargs)  # type: ignore[arg-type]


def test_backtest_of_a_book_expired_before_the_run() -> None:
    with pytest.raises(InputError, match="no account holds a position"):
        run_backtest(_book(("P", [(JUNE_PUT, 1.0)])), method="tims",
                     start=date(2015, 7, 1), end=date(2015, 7, 3))


def test_backtest_parameters_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "backtest.yaml"
    text = Path(load_params("backtest").path).read_text().replace("window: 250", "window: 0")
    path.write_text(text)
    with pytest.raises(InputError) as err:
        BacktestParameters.from_params(load_params("backtest", path=path))
    assert str(path) in str(err.value) and "traffic_light.window" in str(err.value)


def test_the_market_move_revalues_at_the_later_market() -> None:
    """Two routes to the same P&L: the instruments valued on the later market less their
    value on the earlier one, and the earlier market under the move as one scenario
    (short rates equal, flat surfaces, no coupon in between)."""
    start = make_market()
    end = make_market(as_of=AS_OF + timedelta(days=3),
                      prices={"SPX": 2650.0, "AAPL": 190.0, "BTC": 6000.0},
                      vols={"SPX": VolSurface.flat(0.21), "AAPL": VolSurface.flat(0.22)},
                      curves={"UST": make_market().curves["UST"].__class__(
                          tenors=np.array([0.25, 1, 2, 5, 10, 30.0]),
                          yields=np.array([0.02, 0.024, 0.026, 0.029, 0.03, 0.031]))})
    insts: list[Instrument] = [
        AAPL, Option(underlying="SPX", right=Right.CALL, strike=2700.0,
                     expiry=date(2018, 9, 21), multiplier=100.0),
        Option(underlying="AAPL", right=Right.PUT, strike=180.0, expiry=date(2018, 8, 17)),
        Future(symbol="ESU8", underlying="SPX", expiry=date(2018, 9, 21), multiplier=50.0),
        Bond(symbol="UST-10Y", coupon=0.02875, maturity=date(2028, 5, 15))]
    move = market_move(start, end, currencies={"USD"})
    pnl = revalue(insts, market=start, scenarios=move, currency="USD").pnl[:, 0]
    later = revalue(insts, market=end, scenarios=STILL, currency="USD").base_value
    before = revalue(insts, market=start, scenarios=STILL, currency="USD").base_value
    assert pnl == pytest.approx(later - before, rel=1e-9, abs=CENTS)
    assert move.horizon_days == 3.0



def test_cli_backtest_json_and_table(tmp_path: Path) -> None:
    portfolio = tmp_path / "book.yaml"
    portfolio.write_text(YAML)
    args = ["backtest", str(portfolio), "--method", "tims", "--from", "2015-06-01",
            "--to", "2015-06-12"]
    out = tmp_path / "bt.json"
    result = CliRunner().invoke(CLI, [*args, "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(out.read_text())
    assert doc["name"] == "tims" and doc["days"] == 10 and doc["observations"] == 20
    assert {a["account"] for a in doc["accounts"]} == {"A", "B"}
    table = CliRunner().invoke(CLI, args)
    assert table.exit_code == 0, table.stderr
    assert "Kupiec" in table.stdout and "Traffic light" in table.stdout
    bad = CliRunner().invoke(CLI, ["backtest", str(portfolio), "--from", "2015-06-01",
                                      "--to", "2015-06-12"])
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1 and "--method" in bad.stderr
    fmt = CliRunner().invoke(CLI, [*args, "--format", "xml"])
    assert fmt.exit_code == 2 and "--format" in fmt.stderr


def test_bench_reports_seconds_and_statistics() -> None:
    report = run_backtest_bench(accounts=20, days=3, method="tims", start=date(2018, 1, 2),
                                positions=3, generator=False)
    assert report["days"] == 3 and report["accounts"] == 20
    assert report["seconds"] > 0 and set(report["seconds_split"]) == {
        "market", "realised", "margin"}
    assert report["observations"] > 0 and report["notes"]
