"""The SPAN publisher: calibration on history, risk arrays by full revaluation, round trip."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.book.instruments import (
    AssetClass,
    Equity,
    Future,
    FutureOption,
    Instrument,
    Option,
    Right,
    Settlement,
    Style,
)
from crossmargin.core.errors import InputError
from crossmargin.market.history import load_history
from crossmargin.methods.span.model import FUTURE, OPTION, PortfolioType, RiskParameters
from crossmargin.methods.span.parser import read_risk_parameters
from crossmargin.methods.span.publisher import (
    InterSpreadSpec,
    ProductScan,
    RiskParameterPublisher,
)
from crossmargin.methods.span.writer import write_risk_parameters
from tests.conftest import AS_OF, make_market
from tests.unit.test_span_parser import _assert_same

SEP, DEC = date(2018, 9, 21), date(2018, 12, 21)
ES_SEP = Future(symbol="ESU8", underlying="SPX", expiry=SEP, multiplier=50.0)
ES_DEC = Future(symbol="ESZ8", underlying="SPX", expiry=DEC, multiplier=50.0)
BTC_SEP = Future(symbol="BTCU8", underlying="BTC", expiry=date(2018, 9, 28), multiplier=5.0,
                 asset_class=AssetClass.CRYPTO)
CALL = FutureOption(future=ES_SEP, right=Right.CALL, strike=2750.0, expiry=SEP,
                    multiplier=50.0, style=Style.EUROPEAN)
BTC_PUT = Option(underlying="BTC", right=Right.PUT, strike=6000.0, expiry=date(2018, 9, 28),
                 multiplier=1.0, settlement=Settlement.CASH, asset_class=AssetClass.CRYPTO)
SCANS = {"SPX": ProductScan(price_scan=0.06, vol_scan=0.04, som_fraction=0.03),
         "BTC": ProductScan(price_scan=0.15, vol_scan=0.10, som_fraction=0.075)}


def _publish(*instruments: Instrument) -> RiskParameters:
    return RiskParameterPublisher.from_params().publish(instruments, market=make_market(),
                                                        scans=SCANS)


def test_structure_of_a_published_file() -> None:
    pub = RiskParameterPublisher.from_params()
    risk = pub.publish([ES_DEC, CALL, BTC_SEP, BTC_PUT, Equity(symbol="AAPL")],
                       market=make_market(), scans=SCANS)
    c = risk.contracts
    # the option's underlying future is published too; the equity is not SPAN's
    assert len(c) == 5
    assert [(p.code, p.type) for p in risk.portfolios] == [
        ("BTC", PortfolioType.FUT), ("BTC", PortfolioType.OOP),
        ("SPX", PortfolioType.FUT), ("SPX", PortfolioType.OOF)]
    assert c.kind.tolist() == [FUTURE, OPTION, FUTURE, FUTURE, OPTION]
    assert c.period.tolist() == [20180928, 20180928, 20180921, 20181221, 20180921]
    assert c.delta[c.kind == FUTURE].tolist() == [1.0, 1.0, 1.0]
    spx = risk.combined[1]
    assert spx.code == "SPX" and [t.start for t in spx.intra_tiers] == [20180921, 20181221]
    (spread,) = spx.intra_spreads
    front = 0.06 * 2700.0 * np.exp(0.02 * (SEP - AS_OF).days / 365) * 50.0
    assert spread.rates[0][1] == pytest.approx(0.10 * front, abs=0.01)
    # options-on-futures deltas are per underlying future: a call near the money ~ 0.5
    assert 0.3 < c.delta[4] < 0.7
    assert risk.tier_periods()[4] == 20180921
    btc = risk.combined[0]
    assert btc.som_tiers[0].rates == ((1, pytest.approx(0.075 * 6400.0 * 1.0)),)
    assert risk.scan_points is not None and risk.scan_points.weight[14] == 0.35


def test_future_arrays_are_linear_with_thirty_five_percent_extremes() -> None:
    """A future's array is its P&L at each price move (one day of carry passed), the
    extremes at 35% of twice the range."""
    risk = _publish(ES_SEP)
    a = risk.contracts.arrays[0]
    t0 = (SEP - AS_OF).days / 365
    f0 = 2700.0 * np.exp(0.02 * t0)
    moves = np.asarray([0, 0, 1 / 3, 1 / 3, -1 / 3, -1 / 3, 2 / 3, 2 / 3, -2 / 3, -2 / 3,
                        1, 1, -1, -1, 2, -2]) * 0.06
    f1 = 2700.0 * (1 + moves) * np.exp(0.02 * (t0 - 1 / 365))
    weight = np.r_[np.ones(14), 0.35, 0.35]
    assert np.allclose(a, -(f1 - f0) * 50.0 * weight, atol=0.006)


def test_round_trip_through_the_file(tmp_path: Path) -> None:
    spec = InterSpreadSpec(legs=(("SPX", 1, 1.0), ("BTC", -1, 2.0)), rate=0.4)
    pub = RiskParameterPublisher.from_params()
    pub = type(pub)(params=pub.params, scan_points=pub.scan_points, classes=pub.classes,
                    inter_spreads=(spec,))
    risk = pub.publish([ES_DEC, CALL, BTC_SEP, BTC_PUT], market=make_market(), scans=SCANS)
    (inter,) = risk.inter_spreads
    assert [leg.cc for leg in inter.legs] == ["SPX", "BTC"] and inter.rates == ((1, 0.4),)
    back = read_risk_parameters(write_risk_parameters(risk, tmp_path / "pub.spn"))
    _assert_same(risk, back)
    assert back.sha256 and back.source.endswith("pub.spn")


def test_calibration_on_history() -> None:
    """Price scan = max(k sigma, floor) of one-day log returns over the look-back."""
    pub = RiskParameterPublisher.from_params()
    scans = pub.calibrate(["SPX", "BTC"], as_of=AS_OF)
    for symbol, name in (("SPX", "index"), ("BTC", "crypto")):
        c = pub.classes[name]
        prices = load_history()[symbol].loc[:"2018-06-29"].dropna().to_numpy()
        r = np.diff(np.log(prices[-(pub.lookback + 1):]))
        sigma = float(np.std(r, ddof=1))
        assert scans[symbol].sigma == pytest.approx(sigma)
        assert scans[symbol].price_scan == pytest.approx(max(c.k * sigma, c.floor))
        assert scans[symbol].vol_scan == c.vol_scan
    assert pub.class_of("AAPL") == "stock" and pub.class_of("SPY") == "index"
    assert pub.class_of("WTI") == "commodity"


@pytest.mark.parametrize(("symbols", "as_of", "message"), [
    (["NOPE"], AS_OF, "scans.NOPE: no bundled history"),
    (["SPY"], AS_OF, "scans.SPY: history ends 2016-07-01"),
    (["BTC"], date(2017, 10, 20), "only 19 returns of history"),
])
def test_calibration_refuses_missing_history(symbols: list[str], as_of: date,
                                             message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        RiskParameterPublisher.from_params().calibrate(symbols, as_of=as_of)


def test_publisher_refusals() -> None:
    with pytest.raises(InputError, match=r"price_scan=0\.6: the extreme move"):
        RiskParameterPublisher.from_params().publish(
            [ES_SEP], market=make_market(),
            scans={"SPX": ProductScan(price_scan=0.6, vol_scan=0.0, som_fraction=0.0)})
    inverse = Future(symbol="ESU8i", underlying="SPX", expiry=SEP, multiplier=50.0,
                     settlement=Settlement.INVERSE)
    with pytest.raises(InputError, match="two different contracts"):
        _publish(ES_SEP, inverse)


def test_delivery_month_of_physically_settled_futures() -> None:
    gold = Future(symbol="GCN8", underlying="GOLD", expiry=date(2018, 6, 29), multiplier=100.0,
                  settlement=Settlement.PHYSICAL, asset_class=AssetClass.COMMODITY)
    market = make_market(prices={"GOLD": 1250.0}, vols={})
    risk = RiskParameterPublisher.from_params().publish(
        [gold], market=market,
        scans={"GOLD": ProductScan(price_scan=0.05, vol_scan=0.0, som_fraction=0.0)})
    (spot,) = risk.combined[0].spot_rates
    assert spot.period == 20180629 and spot.spread == 0.0 and spot.outright == 0.0
