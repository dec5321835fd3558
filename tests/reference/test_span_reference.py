"""Published SPAN worked examples, reproduced from SPAN 4 XML files in tests/data/span."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import (
    AssetClass,
    Future,
    FutureOption,
    Instrument,
    Right,
    Style,
)
from crossmargin.methods.span.method import StandardPortfolioAnalysisOfRisk
from crossmargin.methods.span.publisher import ProductScan, RiskParameterPublisher
from crossmargin.pricing.black import black76
from tests.conftest import AS_OF, make_market

DATA = Path(__file__).parents[1] / "data" / "span"


def _book(*legs: tuple[Instrument, float]) -> Book:
    return Book.from_accounts(
        [Account(id="A", positions=tuple(Position(instrument=i, quantity=q) for i, q in legs))],
        as_of=None, currency="USD")


def _margin(span: StandardPortfolioAnalysisOfRisk, *legs: tuple[Instrument, float]
            ) -> tuple[float, dict[str, float]]:
    result = span.compute(_book(*legs), span.snapshot())
    return (float(result.maintenance_margin[0]),
            {k: float(v[0]) for k, v in result.components.items()})


def _x(month: int) -> Future:
    return Future(symbol=f"X{month}", underlying="X", expiry=date(2026, month, 20),
                  multiplier=50.0, asset_class=AssetClass.COMMODITY)


@pytest.mark.parametrize(("near", "far", "expected", "scan", "charge"), [
    (2, 3, 200.0, 0.0, 200.0),
    (2, 4, 300.0, 250.0, 50.0),
    (3, 4, 250.0, 250.0, 0.0),
])
def test_cme_intra_spread_examples(near: int, far: int, expected: float, scan: float,
                                   charge: float) -> None:
    """CME Group, "Intra Spread Calculations" (cmegroup.com/clearing/margins/
    spread-calc.html, retrieved 2026): outright Month 2 $500, Month 3 $500, Month 4 $750;
    spread charges M2/M3 $200, M2/M4 $50, M3/M4 $0. +1 M2 -1 M3 = (500 - 500) + 200 = 200;
    +1 M2 -1 M4 = (750 - 500) + 50 = 300; +1 M3 -1 M4 = (750 - 500) + 0 = 250."""
    span = StandardPortfolioAnalysisOfRisk.from_params(span_file=DATA / "cme_intra.spn")
    total, parts = _margin(span, (_x(near), 1.0), (_x(far), -1.0))
    assert total == pytest.approx(expected, abs=0.005)
    assert parts["scanning_risk"] == pytest.approx(scan, abs=1e-6)
    assert parts["intra_spread_charge"] == pytest.approx(charge, abs=1e-9)
    # the reverse spread (short the near month) forms the same spread
    assert _margin(span, (_x(near), -1.0), (_x(far), 1.0))[0] == pytest.approx(expected,
                                                                              abs=0.005)


def test_cme_outright_rates_are_the_price_scan_ranges() -> None:
    """CME Group, "Intra Spread Calculations" (same page): the outright rates $500 and
    $750 are one contract's requirement; the price scan range equals the outright
    maintenance requirement (CME PC-SPAN documentation, "Risk Arrays - Standard")."""
    span = StandardPortfolioAnalysisOfRisk.from_params(span_file=DATA / "cme_intra.spn")
    assert _margin(span, (_x(2), 1.0))[0] == 500.0
    assert _margin(span, (_x(4), -3.0))[0] == 2250.0


def test_cme_inter_spread_corn_soybeans() -> None:
    """CME Group, "Inter Spread Calculations" (cmegroup.com/clearing/margins/
    spread-calc.html, retrieved 2026): corn vs soybeans 2:1 at a 55% inter rate, outright
    corn $1,750 and soybeans $2,500: 1,750 x 2 + 2,500 = 6,000 before the credit; credit
    3,500 x 0.55 + 2,500 x 0.55 = 3,300; margin 2,700."""
    span = StandardPortfolioAnalysisOfRisk.from_params(span_file=DATA / "cme_inter.spn")
    corn = Future(symbol="CN6", underlying="C", expiry=date(2026, 7, 14), multiplier=5000.0,
                  asset_class=AssetClass.COMMODITY)
    soy = Future(symbol="SN6", underlying="S", expiry=date(2026, 7, 14), multiplier=5000.0,
                 asset_class=AssetClass.COMMODITY)
    total, parts = _margin(span, (corn, 2.0), (soy, -1.0))
    assert parts["scanning_risk"] == pytest.approx(6000.0, abs=1e-6)
    assert parts["inter_spread_credit"] == pytest.approx(3300.0, abs=1e-6)
    assert total == pytest.approx(2700.0, abs=0.005)
    result = span.compute(_book((corn, 2.0), (soy, -1.0)), span.snapshot())
    detail = result.accounts_json()[0]["detail"]["combined_commodities"]
    assert detail["C"]["inter_spread_credit"] == 1925.0
    assert detail["S"]["inter_spread_credit"] == 1375.0
    # twice the spread, twice the margin; an unmatched extra leg keeps its outright rate
    assert _margin(span, (corn, 4.0), (soy, -2.0))[0] == pytest.approx(5400.0, abs=0.005)
    assert _margin(span, (corn, 3.0), (soy, -1.0))[0] == pytest.approx(2700.0 + 1750.0,
                                                                       abs=0.005)


def _sp() -> tuple[Future, FutureOption]:
    fut = Future(symbol="SPZ2", underlying="SP", expiry=date(1992, 12, 17), multiplier=500.0)
    call = FutureOption(future=fut, right=Right.CALL, strike=410.0, expiry=date(1992, 12, 17),
                        multiplier=500.0)
    return fut, call


def test_mcmillan_risk_arrays() -> None:
    """L. G. McMillan, Options as a Strategic Investment, ch. 34 (Futures and Futures
    Options), pp. 669-670: with the S&P 500 future and Dec 410 call arrays, the long call
    requires $3,990 (futures down 3/3, volatility down) and the covered write (long
    future, short call) $6,620 (futures down 3/3, volatility up)."""
    span = StandardPortfolioAnalysisOfRisk.from_params(span_file=DATA / "mcmillan_sp.spn")
    fut, call = _sp()
    result = span.compute(_book((call, 1.0)), span.snapshot())
    assert result.maintenance_margin[0] == 3990.0
    assert result.accounts_json()[0]["driver"]["scenario"].startswith("SP scenario 14")
    result = span.compute(_book((fut, 1.0), (call, -1.0)), span.snapshot())
    assert result.maintenance_margin[0] == 6620.0
    assert result.accounts_json()[0]["driver"]["scenario"].startswith("SP scenario 13")


def test_extreme_moves_count_at_thirty_five_percent_in_published_arrays() -> None:
    """CME Group, "Components of SPAN": scenarios 15 and 16 move the price by twice the
    scan range and count 35% of the loss; published arrays hold the covered amount:
    McMillan (ch. 34, p. 669) shows +/-7,000 for a 10,000 range (0.35 x 2 x 10,000)."""
    span = StandardPortfolioAnalysisOfRisk.from_params(span_file=DATA / "mcmillan_sp.spn")
    c = span.risk_parameters.contracts
    fut = int(np.flatnonzero(c.kind == 0)[0])
    assert c.arrays[fut, 14] == pytest.approx(-0.35 * 2 * c.price_scan[fut])
    assert c.arrays[fut, 15] == pytest.approx(0.35 * 2 * c.price_scan[fut])
    # a short future is driven by the full range up (10,000), not by 35% of twice it
    assert _margin(span, (_sp()[0], -1.0))[0] == 10000.0


def test_publisher_covers_thirty_five_percent_of_the_extreme_loss() -> None:
    """CME Group, "Components of SPAN": the extreme scenarios (price +/- 2 x the scan
    range, volatility unchanged) count 35% of the loss. A short deep out-of-the-money
    call on an index future published here is driven by the extreme up move: its scanning
    risk is 35% of the loss revalued independently with Black-76."""
    market = make_market()
    fut = Future(symbol="ESU8", underlying="SPX", expiry=date(2018, 9, 21), multiplier=50.0)
    call = FutureOption(future=fut, right=Right.CALL, strike=3250.0, expiry=fut.expiry,
                        multiplier=50.0, style=Style.EUROPEAN)
    scan = ProductScan(price_scan=0.06, vol_scan=0.01, som_fraction=0.0)
    model = RiskParameterPublisher.from_params().publish([fut, call], market=market,
                                                         scans={"SPX": scan})
    span = StandardPortfolioAnalysisOfRisk.from_params(risk_parameters=model)
    t0 = (fut.expiry - AS_OF).days / 365.0
    t1 = t0 - 1 / 365.0
    f0, f1 = 2700.0 * np.exp(0.02 * t0), 2700.0 * 1.12 * np.exp(0.02 * t1)
    v0 = black76(forward=f0, strike=3250.0, time=t0, rate=0.02, vol=0.16, is_call=True)
    v1 = black76(forward=f1, strike=3250.0, time=t1, rate=0.02, vol=0.16, is_call=True)
    extreme = 50.0 * float(v1 - v0)
    result = span.compute(_book((call, -1.0)), market)
    assert result.segments is not None
    assert int(result.segments.scenario[0]) == 14  # scenario 15: up twice the range
    assert result.components["scanning_risk"][0] == pytest.approx(0.35 * extreme, abs=0.006)
