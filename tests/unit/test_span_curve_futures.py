"""SPAN for curve-driven futures: Treasury and short-rate futures published in price terms."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import (
    FutureOption,
    Instrument,
    RateFuture,
    Right,
    TreasuryFuture,
)
from crossmargin.core.errors import InputError
from crossmargin.market.history import load_history
from crossmargin.methods.span.method import StandardPortfolioAnalysisOfRisk
from crossmargin.methods.span.parser import read_risk_parameters
from crossmargin.methods.span.publisher import (
    ProductScan,
    RiskParameterPublisher,
    curve_tenor,
)
from crossmargin.methods.span.writer import write_risk_parameters
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet
from tests.conftest import AS_OF, make_market
from tests.unit.test_span_parser import _assert_same

SEP, DEC = date(2018, 9, 21), date(2018, 12, 19)
TY_SEP = TreasuryFuture(symbol="TYU8", underlying="UST", expiry=SEP)
TY_DEC = TreasuryFuture(symbol="TYZ8", underlying="UST", expiry=DEC)
SR3 = RateFuture(symbol="SR3U8", underlying="UST", expiry=SEP)
#: 15 basis points on the 7-year tenor (the TY stand-in's), 6 on the 3-month.
YIELD_SCAN = 0.0015
SCANS = {"UST_7Y": ProductScan(yield_scan=YIELD_SCAN, vol_scan=0.0, som_fraction=0.0),
         "UST_3M": ProductScan(yield_scan=0.0006, vol_scan=0.0, som_fraction=0.0)}


def _span(*instruments: Instrument) -> StandardPortfolioAnalysisOfRisk:
    risk = RiskParameterPublisher.from_params().publish(instruments, market=make_market(),
                                                        scans=SCANS)
    return StandardPortfolioAnalysisOfRisk.from_params(risk_parameters=risk)


def _book(*legs: tuple[Instrument, float]) -> Book:
    return Book.from_accounts([Account(id="A", positions=tuple(
        Position(instrument=i, quantity=q) for i, q in legs))], as_of=AS_OF, currency="USD")


def _edge_loss(inst: Instrument, shift: float) -> float:
    """Loss of one long contract when the whole curve moves by ``shift`` over one day."""
    reval = revalue([inst], market=make_market(), currency="USD", scenarios=ScenarioSet(
        names=("edge",), curve={"UST": np.array([shift])}, horizon_days=1.0))
    return -float(reval.pnl[0, 0])


def test_tenor_of_a_curve_driven_future() -> None:
    assert curve_tenor("UST", 7.0) == "UST_7Y" and curve_tenor("UST", 0.25) == "UST_3M"
    assert curve_tenor("UST", 26.0) == "UST_30Y" and curve_tenor("UST", 12.0) == "UST_10Y"
    assert curve_tenor("SOFR", 0.25) == "SOFR"  # no bundled tenors: keyed by the curve
    pub = RiskParameterPublisher.from_params()
    assert pub.class_of("UST_10Y") == "rates" and pub.class_of("UST") == "rates"


def test_published_in_price_terms_and_read_back(tmp_path: Path) -> None:
    """A Treasury future and a three-month rate future: price p = value / cvf, delta 1
    per contract, cvf = multiplier, priceScan = the larger loss of one contract at the two
    edges of the yield scan; written, parsed back value for value, margined the same."""
    span = _span(TY_SEP, SR3)
    risk = span.risk_parameters
    c = risk.contracts
    assert [(p.code, p.type.value) for p in risk.portfolios] == [("UST", "FUT")]
    assert c.cvf.tolist() == [1000.0, 2500.0] and c.delta.tolist() == [1.0, 1.0]
    assert c.scaling.tolist() == [1.0, 2.5]
    base = revalue([TY_SEP, SR3], market=make_market(), currency="USD",
                   scenarios=ScenarioSet(names=("base",), curve={"UST": np.zeros(1)}))
    assert c.price == pytest.approx(base.base_value / c.cvf, abs=1e-6)
    assert 100.0 - c.price[1] == pytest.approx(100 * 0.021, abs=0.3)  # near the 3m-1y rates
    for row, (inst, shift) in enumerate(((TY_SEP, YIELD_SCAN), (SR3, 0.0006))):
        edges = max(_edge_loss(inst, shift), -_edge_loss(inst, -shift))
        assert c.price_scan[row] == pytest.approx(edges, abs=0.005)
    # a price rise is a yield fall: a long gains in scenario 11 (price up the full range)
    assert np.all(c.arrays[:, 10] < 0) and np.all(c.arrays[:, 12] > 0)
    back = read_risk_parameters(write_risk_parameters(risk, tmp_path / "ust.spn"))
    _assert_same(risk, back)
    book = _book((TY_SEP, 3.0), (SR3, -2.0))
    again = StandardPortfolioAnalysisOfRisk.from_params(risk_parameters=back)
    assert np.array_equal(again.compute(book, make_market()).maintenance_margin,
                          span.compute(book, make_market()).maintenance_margin)


def test_ten_year_note_scanning_risk_is_the_loss_at_the_scan_edge() -> None:
    """Hand check. A long 10-year note future (notional 6% bond with 7 years to maturity at
    delivery, 100,000 face) on the test market: its futures price is 120.276, a yield of
    2.791% on a 6% 7-year semiannual bond, whose price at 2.791% + 15 bp is 119.225, so
    the yield rise of the full scan costs about 1,000 x (120.276 - 119.225) = 1,051 (a flat
    yield, not the curve's parallel shift). The full revaluation under the parallel shift
    of +15 bp over one day gives 1,055.47; the 35% of twice the move loses less (734.98),
    so the scanning risk is the loss at the edge, scenarios 13 and 14."""
    span = _span(TY_SEP)
    loss = _edge_loss(TY_SEP, YIELD_SCAN)
    assert loss == pytest.approx(1055.47, abs=0.01)
    assert loss == pytest.approx(1000 * (120.276 - 119.225), rel=0.005)
    result = span.compute(_book((TY_SEP, 1.0)), make_market())
    assert result.components["scanning_risk"][0] == pytest.approx(round(loss, 2), abs=1e-9)
    assert result.maintenance_margin[0] == pytest.approx(round(loss, 2), abs=1e-9)
    assert result.segments is not None and int(result.segments.scenario[0]) in (12, 13)
    # a short loses at the other edge (yields fall by the scan): convexity makes it larger
    short = span.compute(_book((TY_SEP, -1.0)), make_market())
    assert short.maintenance_margin[0] == pytest.approx(
        round(-_edge_loss(TY_SEP, -YIELD_SCAN), 2), abs=1e-9)
    assert short.maintenance_margin[0] > result.maintenance_margin[0]


def test_calendar_spread_of_treasury_futures_gets_an_intra_charge() -> None:
    """Long September against short December 10-year note futures: the scan nets the two
    months, and one spread is charged 10% of the front month's price scan range."""
    span = _span(TY_SEP, TY_DEC)
    front = float(span.risk_parameters.contracts.price_scan[0])
    result = span.compute(_book((TY_SEP, 2.0), (TY_DEC, -2.0)), make_market())
    parts = {k: float(v[0]) for k, v in result.components.items()}
    assert parts["intra_spread_charge"] == pytest.approx(2 * 0.10 * front, abs=1e-6)
    outright = span.compute(_book((TY_SEP, 2.0)), make_market()).maintenance_margin[0]
    assert parts["scanning_risk"] < 0.1 * outright
    assert result.maintenance_margin[0] == pytest.approx(
        parts["scanning_risk"] + parts["intra_spread_charge"], abs=0.011)


def test_matching_by_curve_and_expiry() -> None:
    span = _span(TY_SEP)
    assert span._index.covers(TY_SEP)
    other = TreasuryFuture(symbol="TYH9", underlying="UST", expiry=date(2019, 3, 20))
    with pytest.raises(InputError, match=r"no contract of product UST for this expiry"):
        span.compute(_book((other, 1.0)), make_market())


def test_yield_scan_calibrated_on_par_yield_changes() -> None:
    """Yield scan = max(k sigma, floor), sigma of one-day changes of the par yield over
    the look-back; the 3-month yield of mid-2014 moved so little that the floor binds."""
    pub = RiskParameterPublisher.from_params()
    rates = pub.classes["rates"]
    for day, symbol in ((date(2016, 6, 30), "UST_7Y"), (date(2014, 6, 30), "UST_3M")):
        scan = pub.calibrate([symbol], as_of=day)[symbol]
        levels = load_history()[symbol].loc[:day.isoformat()].dropna().to_numpy()
        sigma = float(np.std(np.diff(levels[-(pub.lookback + 1):]), ddof=1))
        assert scan.sigma == pytest.approx(sigma)
        assert scan.yield_scan == pytest.approx(max(rates.k * sigma, rates.floor))
        assert np.isnan(scan.price_scan)
    assert pub.calibrate(["UST_3M"], as_of=date(2014, 6, 30))["UST_3M"].yield_scan == \
        rates.floor


def test_refusals() -> None:
    pub = RiskParameterPublisher.from_params()
    option = FutureOption(future=TY_SEP, right=Right.CALL, strike=120.0, expiry=SEP,
                          multiplier=1000.0)
    with pytest.raises(InputError, match="options on curve-driven futures"):
        pub.publish([option], market=make_market(), scans=SCANS)
    with pytest.raises(InputError, match=r"scans\.UST_7Y\.yield_scan.*must be a non-neg"):
        pub.publish([TY_SEP], market=make_market(), scans={
            "UST_7Y": ProductScan(price_scan=0.02, vol_scan=0.0, som_fraction=0.0)})
    bond = TreasuryFuture(symbol="USU8", underlying="UST", expiry=SEP, deliverable_years=25)
    with pytest.raises(InputError, match="two different contracts"):
        pub.publish([TY_SEP, bond], market=make_market(), scans={
            **SCANS, "UST_30Y": SCANS["UST_7Y"]})
    with pytest.raises(InputError, match=r"scans\.UST_7Y: history ends 2017-03-29"):
        pub.publish([TY_SEP], market=make_market())
