"""The joint risk-factor history: scaling, proxies, coverage, curves and currencies."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from crossmargin.book.instruments import (
    AssetClass,
    Bond,
    CryptoSpot,
    Equity,
    Future,
    FutureOption,
    Option,
    Right,
)
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.market.snapshot import Curve, MarketSnapshot
from crossmargin.methods.fhs.factors import Block, FactorNeeds, JointHistory, Scaling
from crossmargin.scenarios.filtering import EWMAFilter
from crossmargin.scenarios.historical import StressedWindow, lookback_dates
from tests.reference.test_fhs_reference import AS_OF, synthetic_history

WINDOW = StressedWindow(name="August 2011", start=date(2011, 8, 1), end=date(2011, 8, 31))


def _frame() -> pd.DataFrame:
    frame = synthetic_history()
    # a coin that starts trading in 2019, every calendar day
    coin = frame["AAPL"].loc["2019-01-01":].interpolate(limit_area="inside")
    frame["BTC"] = coin.reindex(frame.index)
    # a three-tenor curve with the short tenor missing before 2015
    frame["UST_3M"] = (0.01 + frame["SPX"] / 1e4).where(frame.index >= "2015-01-01")
    frame["UST_10Y"] = 0.02 + frame["AAPL"] / 1e4
    frame["UST_30Y"] = 0.03 + frame["SPX"] / 2e4
    return frame


def _joint(**changes: object) -> JointHistory:
    fields: dict[str, object] = {
        "frame": _frame(), "filter": EWMAFilter(lam=0.9), "reference": "SPX",
        "stale_days": 4, "continuous": frozenset({AssetClass.CRYPTO}), "vol_floor": 0.0,
        "proxies": {"BTC": "SPX"}}
    fields.update(changes)
    return JointHistory(**fields)  # type: ignore[arg-type]


def _block(joint: JointHistory, lookback: int = 400) -> Block:
    days = joint.reference_days(AS_OF)
    return Block(dates=lookback_dates(days, as_of=AS_OF, lookback=lookback,
                                      windows=[WINDOW]), scaling=Scaling.FILTERED)


def test_a_proxy_stands_in_only_where_the_factor_has_no_move() -> None:
    joint = _joint()
    block = _block(joint)
    btc, notes = joint.moves("BTC", horizon=2, block=block)
    spx, _ = joint.moves("SPX", horizon=2, block=block)
    own = joint.factor("BTC", as_of=AS_OF)
    ref = joint.factor("SPX", as_of=AS_OF)
    assert own is not None and ref is not None
    early = block.dates.dates < np.datetime64("2019-01-03")  # BTC's first 2-day window
    assert early.sum() == 23 + len(pd.bdate_range(block.dates.start, "2019-01-02"))
    # where BTC has no history: SPX's standardised move times BTC's own scale
    np.testing.assert_allclose(btc[early & ~block.dates.stressed],
                               (spx / ref.sigma_now * own.sigma_now)[
                                   early & ~block.dates.stressed], rtol=1e-12)
    assert np.isfinite(btc).all()
    assert notes == (f"BTC: {int(early.sum())} of {block.dates.size} scenario dates use "
                     "SPX's standardised 2-day moves (proxy)",)


def test_resampling_keeps_coins_joint_and_invents_no_equity_correlation() -> None:
    """BTC and a second coin resampled from BTC's dates: on every filled date both take
    their own moves of the same donor date (so their joint moves are kept), and BTC's
    filled moves are its own history, not SPX's."""
    frame = _frame()
    frame["ETH"] = frame["BTC"] * (1 + 0.3 * np.sin(np.arange(len(frame)) / 7.0))
    joint = _joint(frame=frame, proxies={}, resample={"BTC": "BTC", "ETH": "BTC"})
    block = _block(joint)
    btc, notes = joint.moves("BTC", horizon=2, block=block)
    eth, _ = joint.moves("ETH", horizon=2, block=block)
    assert np.isfinite(btc).all() and np.isfinite(eth).all()
    assert notes[0].startswith("BTC: ") and "resample its own" in notes[0]
    early = block.dates.dates < np.datetime64("2019-01-03")
    late = ~early
    # each filled (BTC, ETH) pair is one of the observed pairs, up to the stress stretch
    observed = {(round(b, 12), round(e, 12)) for b, e in zip(btc[late], eth[late],
                                                             strict=True)}
    calm = early & ~block.dates.stressed
    filled = {(round(b, 12), round(e, 12)) for b, e in zip(btc[calm], eth[calm], strict=True)}
    assert filled <= observed
    spx, _ = joint.moves("SPX", horizon=2, block=block)
    assert abs(np.corrcoef(btc[calm], spx[calm])[0, 1]) < 0.99


def test_without_a_proxy_missing_history_raises_with_its_coverage() -> None:
    joint = _joint(proxies={})
    with pytest.raises(MissingDataError, match=r"history\.BTC: no 2-day move on 99 of 423 "
                       r"scenario dates \(first 2011-08-01\); the bundled BTC covers "
                       r"2019-01-01 to 2020-03-31"):
        joint.moves("BTC", horizon=2, block=_block(joint))
    with pytest.raises(InputError, match="cycle"):
        _joint(proxies={"BTC": "ETH", "ETH": "BTC"}).moves("BTC", horizon=2,
                                                          block=_block(joint))


def test_stressed_moves_are_never_scaled_down_and_the_vol_floor_binds() -> None:
    joint = _joint()
    block = _block(joint)
    aapl = joint.factor("AAPL", as_of=AS_OF)
    assert aapl is not None
    moves, _ = joint.moves("AAPL", horizon=2, block=block)
    window = aapl.moves(block.dates.dates, horizon=2)
    stressed = block.dates.stressed
    # August 2011 was four times as volatile as today: never scaled below its size...
    assert np.all(np.abs(moves[stressed]) >= np.abs(window.move[stressed]) * (1 - 1e-12))
    # ... and kept at it where its window opened more volatile than today
    hot = stressed & (window.sigma > aapl.sigma_now)
    assert hot.sum() > 10
    np.testing.assert_allclose(moves[hot], window.move[hot], rtol=1e-12)
    floored, _ = _joint(vol_floor=10.0).moves("AAPL", horizon=2, block=block)
    assert np.all(np.abs(floored[~stressed]) >= np.abs(moves[~stressed]))


def test_curve_tenors_without_history_are_interpolated() -> None:
    joint = _joint()
    block = _block(joint)
    shifts, notes = joint.curve_shifts("UST", tenors=np.array([0.25, 5.0, 10.0, 30.0]),
                                       horizon=2, block=block)
    ten, _ = joint.moves("UST_10Y", horizon=2, block=block)
    thirty, _ = joint.moves("UST_30Y", horizon=2, block=block)
    stressed = block.dates.stressed
    with pytest.raises(MissingDataError, match=r"history\.UST_3M: no 2-day move on 23 of"):
        joint.moves("UST_3M", horizon=2, block=block)
    # outside the stressed window the 3-month tenor has history (and no stretch applies)
    recent = Block(dates=lookback_dates(joint.reference_days(AS_OF), as_of=AS_OF,
                                        lookback=400, windows=[StressedWindow(
                                            name="none", start=date(2020, 3, 31),
                                            end=date(2020, 3, 31))]),
                   scaling=Scaling.FILTERED)
    three = np.r_[np.full(23, np.nan), joint.moves("UST_3M", horizon=2, block=recent)[0]]
    # in 2011 the 3-month tenor has no history: flat from the 10-year above it
    assert notes == ("UST: on 23 scenario dates tenors without history take the shift "
                     "interpolated from the observed tenors",)
    np.testing.assert_allclose(shifts[stressed, 0], ten[stressed])
    np.testing.assert_allclose(shifts[stressed, 1], ten[stressed])
    later = ~stressed
    later[-1] = False  # stretched in ``recent``, whose stressed window is that day
    np.testing.assert_allclose(shifts[later, 1], three[later] + (5 - 0.25) / 9.75
                               * (ten[later] - three[later]), rtol=1e-12)
    np.testing.assert_allclose(shifts[:, 3], thirty)


def test_a_curve_needs_two_tenors_on_every_date() -> None:
    joint = _joint(frame=_frame().drop(columns="UST_30Y"))
    with pytest.raises(MissingDataError, match=r"history\.UST: fewer than 2 tenors move on "
                       r"23 of 423 scenario dates \(first 2011-08-01\)"):
        joint.curve_shifts("UST", tenors=np.array([1.0, 10.0]), horizon=2,
                           block=_block(joint))
    with pytest.raises(MissingDataError, match="no bundled history for curve EUR"):
        joint.curve_shifts("EUR", tenors=np.array([1.0, 10.0]), horizon=2,
                           block=_block(joint))


def test_needs_and_currencies() -> None:
    fut = Future(symbol="BTCH0", underlying="BTC", expiry=date(2020, 6, 26),
                 asset_class=AssetClass.CRYPTO)
    insts = [Equity(symbol="AAPL"), fut, Bond(symbol="T", coupon=0.02,
                                              maturity=date(2030, 2, 15)),
             FutureOption(future=fut, right=Right.CALL, strike=9000.0,
                          expiry=date(2020, 6, 26)),
             Option(underlying="AAPL", right=Right.PUT, strike=90.0, expiry=date(2020, 6, 19),
                    currency="USDT")]
    needs = FactorNeeds.of(insts)
    assert needs.spots == {"AAPL", "BTC"} and needs.curves == {"UST"}
    assert needs.vols == {"AAPL", "BTC"} and needs.currencies == {"USD", "USDT"}
    joint = _joint()
    block = _block(joint)
    market = MarketSnapshot(as_of=AS_OF, prices={"BTC": 6000.0},
                            curves={"UST": Curve(tenors=np.array([1.0, 10.0]),
                                                 yields=np.array([0.01, 0.02]))})
    coin = FactorNeeds(spots=frozenset(), vols=frozenset(), curves=frozenset(),
                       currencies=frozenset({"BTC", "USDT"}))
    scenarios, _ = joint.scenario_set(coin, horizon=2, block=block, market=market,
                                      currency="USD", label="t")
    btc, _ = joint.moves("BTC", horizon=2, block=block)
    np.testing.assert_allclose(scenarios.fx_returns("BTC"), np.expm1(btc))
    assert not scenarios.fx_returns("USDT").any()  # the peg, noted on the market
    assert scenarios.horizon_days == 2.0 and scenarios.names == block.dates.names
    with pytest.raises(MissingDataError, match=r"fx\.EUR"):
        joint.scenario_set(coin, horizon=2, block=block, market=market, currency="EUR",
                           label="t")
    spot = CryptoSpot(asset="BTC")
    assert FactorNeeds.of([spot]).spots == {"BTC"}
