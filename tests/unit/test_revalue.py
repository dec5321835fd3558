from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from crossmargin.book.instruments import (
    Bond,
    CryptoSpot,
    Equity,
    Future,
    FutureOption,
    Option,
    Perpetual,
    RateFuture,
    Right,
    Settlement,
    Style,
    TreasuryFuture,
)
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.pricing.black import black76, gbsm
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet, VolShift
from tests.conftest import AS_OF, make_market

EXPIRY = date(2018, 9, 28)
T = (EXPIRY - AS_OF).days / 365.0


def _set(**kw: object) -> ScenarioSet:
    return ScenarioSet(names=("down", "flat", "up"), strict=False, **kw)  # type: ignore[arg-type]


def test_linear_instruments_move_with_their_underlying(market) -> None:  # type: ignore[no-untyped-def]
    insts = [Equity(symbol="AAPL"), CryptoSpot(asset="BTC"),
             Perpetual(underlying="BTC", currency="USDT"),
             Future(symbol="BTCU8", underlying="BTC", expiry=EXPIRY, multiplier=5.0)]
    moves = np.array([-0.1, 0.0, 0.2])
    r = revalue(insts, market=market, scenarios=_set(spot={"AAPL": moves, "BTC": moves}),
                currency="USD")
    np.testing.assert_allclose(r.pnl[0], 185.0 * moves)
    np.testing.assert_allclose(r.pnl[1], 6400.0 * moves)
    np.testing.assert_allclose(r.pnl[2], 6400.0 * moves)
    f0 = 6400.0 * np.exp(0.02 * T)
    np.testing.assert_allclose(r.base_value[3], 5 * f0)
    np.testing.assert_allclose(r.pnl[3], 5 * f0 * moves)


def test_inverse_perpetual_usd_pnl_is_face_times_relative_move(market) -> None:  # type: ignore[no-untyped-def]
    inst = Perpetual(underlying="BTC", settlement=Settlement.INVERSE, multiplier=100.0)
    moves = np.array([-0.5, 0.0, 1.0])
    r = revalue([inst], market=market, scenarios=_set(spot={"BTC": moves}), currency="USD")
    # coin P&L = face (1/S0 - 1/S1); in USD at S1: face (S1/S0 - 1)
    s0, s1 = 6400.0, 6400.0 * (1 + moves)
    coin = 100.0 * (1 / s0 - 1 / s1)
    np.testing.assert_allclose(r.pnl[0], coin * s1)


def test_marked_inverse_contract_keeps_face_pnl(market) -> None:  # type: ignore[no-untyped-def]
    """A mark on an inverse perp or future (USD per coin) leaves its P&L face x relative
    move: the mark must not multiply the face."""
    insts = [Perpetual(underlying="BTC", settlement=Settlement.INVERSE, multiplier=100.0),
             Future(symbol="BTCINV", underlying="BTC", expiry=EXPIRY, multiplier=100.0,
                    settlement=Settlement.INVERSE)]
    moves = np.array([-0.1, 0.0, 0.1])
    scen = _set(spot={"BTC": moves})
    plain = revalue(insts, market=market, scenarios=scen, currency="USD")
    marked = revalue(insts, market=market, scenarios=scen, currency="USD",
                     marks=np.array([6500.0, 6550.0]))
    np.testing.assert_allclose(marked.pnl, plain.pnl)
    np.testing.assert_allclose(marked.pnl[0], 100.0 * moves)


def test_option_pnl_is_full_revaluation(market) -> None:  # type: ignore[no-untyped-def]
    opt = Option(underlying="SPX", right=Right.PUT, strike=2600.0, expiry=EXPIRY,
                 multiplier=100.0, style=Style.EUROPEAN, settlement=Settlement.CASH)
    sc = _set(spot={"SPX": np.array([-0.08, 0.0, 0.06])}, vol={"SPX": np.array([0.25, 0, -0.25])},
              horizon_days=1.0)
    r = revalue([opt], market=market, scenarios=sc, currency="USD")
    base = gbsm(spot=2700.0, strike=2600.0, time=T, rate=0.02, carry=0.02, vol=0.16,
                is_call=False)
    t1 = T - 1 / 365.0
    shocked = gbsm(spot=2700.0 * np.array([0.92, 1.0, 1.06]), strike=2600.0, time=t1,
                   rate=0.02, carry=0.02, vol=0.16 * np.array([1.25, 1.0, 0.75]),
                   is_call=False)
    np.testing.assert_allclose(r.base_value[0], 100 * base)
    np.testing.assert_allclose(r.pnl[0], 100 * (shocked - base))


def test_absolute_vol_shift_and_future_option(market) -> None:  # type: ignore[no-untyped-def]
    fut = Future(symbol="ESU8", underlying="SPX", expiry=EXPIRY, multiplier=50.0)
    fop = FutureOption(future=fut, right=Right.CALL, strike=2750.0, expiry=date(2018, 9, 21),
                       multiplier=50.0, style=Style.EUROPEAN)
    sc = ScenarioSet(names=("v",), vol={"SPX": np.array([0.05])}, vol_shift=VolShift.ABSOLUTE,
                     strict=False)
    r = revalue([fop], market=market, scenarios=sc, currency="USD")
    t = (date(2018, 9, 21) - AS_OF).days / 365.0
    f = 2700.0 * np.exp(0.02 * T)
    lo = black76(forward=f, strike=2750.0, time=t, rate=0.02, vol=0.16, is_call=True)
    hi = black76(forward=f, strike=2750.0, time=t, rate=0.02, vol=0.21, is_call=True)
    np.testing.assert_allclose(r.pnl[0, 0], 50 * (hi - lo), rtol=1e-9)


def test_marked_option_reproduces_its_mark(market) -> None:  # type: ignore[no-untyped-def]
    opt = Option(underlying="SPY", right=Right.PUT, strike=260.0, expiry=date(2018, 9, 21),
                 style=Style.AMERICAN)
    r = revalue([opt], market=market, scenarios=_set(spot={"SPY": np.zeros(3)}),
                currency="USD", marks=np.array([2.15]))
    assert r.base_value[0] == pytest.approx(215.0)
    np.testing.assert_allclose(r.pnl[0], 0.0, atol=1e-6)


def test_impossible_mark_is_rejected(market) -> None:  # type: ignore[no-untyped-def]
    # a put 30 in the money cannot trade at 1.0
    opt = Option(underlying="SPY", right=Right.PUT, strike=300.0, expiry=date(2018, 9, 21))
    with pytest.raises(InputError, match=r"mark=1.0: price is outside"):
        revalue([opt], market=market, scenarios=_set(), currency="USD",
                marks=np.array([1.0]))


def test_bond_falls_when_curve_rises_and_treasury_future_too(market) -> None:  # type: ignore[no-untyped-def]
    bond = Bond(symbol="UST-10Y", coupon=0.02875, maturity=date(2028, 5, 15))
    zn = TreasuryFuture(symbol="ZNU8", underlying="UST", expiry=date(2018, 9, 19))
    sr3 = RateFuture(symbol="SR3U8", underlying="UST", expiry=date(2018, 9, 19))
    sc = _set(curve={"UST": np.array([-0.01, 0.0, 0.01])})
    r = revalue([bond, zn, sr3], market=market, scenarios=sc, currency="USD")
    assert 0.95 < r.base_value[0] < 1.05
    assert r.pnl[0, 0] > 0 > r.pnl[0, 2]
    assert r.pnl[0, 1] == pytest.approx(0.0, abs=1e-12)
    assert r.pnl[1, 0] > 0 > r.pnl[1, 2]
    # a 1% rate rise moves a 3-month rate future by about 100 points x 2,500 per point / 100
    assert r.pnl[2, 2] == pytest.approx(-2500.0, rel=0.05)


def test_fx_converts_and_shocks(market) -> None:  # type: ignore[no-untyped-def]
    eq = Equity(symbol="AAPL", currency="EUR")
    sc = _set(fx={"EUR": np.array([-0.1, 0.0, 0.1])})
    r = revalue([eq], market=market, scenarios=sc, currency="USD")
    assert r.base_value[0] == pytest.approx(185.0 * 1.17)
    np.testing.assert_allclose(r.pnl[0], 185.0 * 1.17 * np.array([-0.1, 0.0, 0.1]))


def test_missing_data_is_an_error_never_zero(market) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MissingDataError, match="no price for TSLA"):
        revalue([Equity(symbol="TSLA")], market=market, scenarios=_set(), currency="USD")
    opt = Option(underlying="SPX", right=Right.CALL, strike=1.0, expiry=EXPIRY)
    no_vol = make_market(vols={})
    with pytest.raises(MissingDataError, match="no vol for SPX"):
        revalue([opt], market=no_vol, scenarios=_set(), currency="USD")
    strict = ScenarioSet(names=("a",), spot={"SPX": np.array([0.1])})
    with pytest.raises(MissingDataError, match="no spot shock for AAPL"):
        revalue([Equity(symbol="AAPL")], market=market, scenarios=strict, currency="USD")


def test_expired_instrument_is_rejected(market) -> None:  # type: ignore[no-untyped-def]
    fut = Future(symbol="ESM8", underlying="SPX", expiry=date(2018, 6, 15))
    with pytest.raises(InputError, match="expired"):
        revalue([fut], market=market, scenarios=_set(), currency="USD")
