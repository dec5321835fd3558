"""Reference cases of the unified FHS method.

Filtering is checked against the ``arch`` package (K. Sheppard) on real bundled returns;
the FHS mechanics against a plain, loop-by-loop recomputation on a small synthetic
history; the anti-procyclicality options against their definitions in Commission
Delegated Regulation (EU) No 153/2013, article 28(1)(a)-(c), 19 December 2012.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from arch.univariate import EWMAVariance, ZeroMean

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import Equity
from crossmargin.market.history import load_history
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.fhs.method import FilteredHistoricalSimulation
from crossmargin.params.loader import ParamSet
from crossmargin.scenarios.filtering import EWMAFilter, GARCHFilter

AS_OF = date(2020, 3, 31)
LAM = 0.9
PRICE = 100.0
QTY = 100.0
STRESS = ("2011-08-01", "2011-08-31")


def _returns() -> np.ndarray:
    prices = load_history()["SPX"].loc["2005-01-01":"2012-12-31"].dropna()
    return np.diff(np.log(prices.to_numpy()))


def test_ewma_filter_matches_arch() -> None:
    """``arch`` EWMAVariance (RiskMetrics): sigma2_t = lam sigma2_{t-1} + (1 - lam)
    eps2_{t-1}, same backcast; conditional volatility and the one-step forecast agree to
    rounding on the bundled S&P 500 returns 2005-2012."""
    x = _returns()
    ours = EWMAFilter(lam=0.97).variances(x, label="SPX")
    fit = ZeroMean(x * 100, volatility=EWMAVariance(0.97), rescale=False).fit(disp="off")
    np.testing.assert_allclose(np.sqrt(ours[:-1]) * 100, fit.conditional_volatility,
                               rtol=1e-12)
    ahead = fit.forecast(horizon=1, reindex=False).variance.to_numpy()[-1, 0] / 1e4
    assert ours[-1] == pytest.approx(ahead, rel=1e-12)


def test_garch_filter_matches_arch() -> None:
    """``arch`` GARCH(1,1), zero mean, normal: fitted on percent returns directly, the
    conditional variances and the forecast agree with ours (fitted on unit-variance
    returns) to the optimiser's tolerance."""
    x = _returns()
    ours = GARCHFilter().variances(x, label="SPX")
    fit = arch_model(x * 100, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(
        disp="off")
    np.testing.assert_allclose(ours[:-1], fit.conditional_volatility ** 2 / 1e4, rtol=1e-4)
    ahead = fit.forecast(horizon=1, reindex=False).variance.to_numpy()[-1, 0] / 1e4
    assert ours[-1] == pytest.approx(ahead, rel=1e-4)


# -- the FHS mechanics on a small synthetic history ------------------------------------
def synthetic_history() -> pd.DataFrame:
    """Business-day prices of a reference index and one stock, 2009 to March 2020,
    with a volatile August 2011 (seeded)."""
    rng = np.random.default_rng(7)
    days = pd.bdate_range("2009-01-01", AS_OF)
    vol = np.where((days >= STRESS[0]) & (days <= STRESS[1]), 0.04, 0.01)
    frame = pd.DataFrame(index=pd.date_range("2009-01-01", AS_OF, freq="D", name="date"))
    for name, seed_scale in (("SPX", 1.0), ("AAPL", 1.5)):
        steps = rng.standard_normal(days.size) * vol * seed_scale
        frame[name] = pd.Series(100.0 * np.exp(np.cumsum(steps)), index=days)
    return frame


def reference_params(**changes: Any) -> ParamSet:
    parameters: dict[str, Any] = {
        "measure": "expected_shortfall", "confidence": 0.95, "lookback_days": 60,
        "maintenance_factor": 1.0,
        "calendar": {"reference": "SPX", "stale_days": 4, "continuous": ["crypto"]},
        "mpor_days": {"equity": 2},
        "filter": {"model": "ewma", "lambda": LAM, "vol_floor": 0.0},
        "stressed_windows": [{"name": "August 2011", "start": STRESS[0], "end": STRESS[1]}],
        "diversification_cap": 0.0,
        "anti_procyclicality": {"buffer": {"enabled": False, "share": 0.25},
                                "stressed_weight": {"enabled": False, "weight": 0.25},
                                "ten_year_floor": {"enabled": False, "years": 10}},
        "liquidity": {"half_spread": {"equity": 0.0}, "adv": {"equity": 1e9},
                      "concentration": {"adv_share": 0.1, "impact": 0.0}},
    }
    parameters.update(changes)
    return ParamSet(id="fhs", version="reference", effective=date(2026, 1, 1),
                    source="reference test", parameters=parameters)


def _margin(params: ParamSet, frame: pd.DataFrame) -> tuple[float, Any]:
    method = FilteredHistoricalSimulation.from_params(params, history=frame)
    book = Book.from_accounts([Account(id="A", positions=(
        Position(instrument=Equity(symbol="AAPL"), quantity=QTY),))], as_of=AS_OF,
        currency="USD")
    result = method.compute(book, MarketSnapshot(as_of=AS_OF, prices={"AAPL": PRICE}))
    return float(result.initial_margin[0]), result


def _by_hand(frame: pd.DataFrame, *, dates: list[pd.Timestamp], stressed: set[pd.Timestamp],
             long_run: bool = False, horizon: int = 2) -> tuple[np.ndarray, list[str]]:
    """Losses of 100 AAPL at 100 on each date, step by step as the method describes."""
    s = frame["AAPL"].dropna()
    s = s[s.index <= pd.Timestamp(AS_OF)]
    x = np.log(s.to_numpy())
    steps = np.diff(x)
    var = [float(EWMAVariance(LAM).backcast(steps))]  # arch's start-up value
    for r in steps:
        var.append(LAM * var[-1] + (1 - LAM) * r * r)
    sigma_after = np.sqrt(var)  # observation j: forecast after it (no gaps here)
    if long_run:
        start = pd.Timestamp(AS_OF.replace(year=AS_OF.year - 10)) + pd.Timedelta(days=1)
        scale = math.sqrt(np.mean(steps[s.index[1:] >= start] ** 2))
    else:
        scale = sigma_after[-1]
    losses = []
    for d in dates:
        j = s.index.get_loc(d)
        z = (x[j] - x[j - horizon]) / sigma_after[j - horizon]
        stretch = max(1.0, sigma_after[j - horizon] / scale) if d in stressed else 1.0
        move = z * scale * stretch
        losses.append(-QTY * PRICE * math.expm1(move))
    return np.asarray(losses), [str(d.date()) for d in dates]


def _es(losses: np.ndarray, confidence: float) -> float:
    k = math.ceil(round((1 - confidence) * losses.size, 9))
    return float(np.sort(losses)[::-1][:k].mean())


def _cents(x: float) -> float:
    return math.ceil(round(x * 100, 6)) / 100


def _axis(frame: pd.DataFrame, window: tuple[str, str] = STRESS
          ) -> tuple[list[pd.Timestamp], set[pd.Timestamp]]:
    ref = frame["SPX"].dropna().index
    look = list(ref[ref <= pd.Timestamp(AS_OF)][-60:])
    stress = set(ref[(ref >= window[0]) & (ref <= window[1])])
    return sorted(stress | set(look)), stress


def test_fhs_mechanics_by_hand() -> None:
    """Filtered historical simulation as in Barone-Adesi, Giannopoulos and Vosper (1999):
    2-day overlapping log returns devolatilised by the EWMA volatility at each window's
    start, rescaled to today's; the August 2011 window is kept outside the 60-day
    look-back and never scaled below its historical size; 95% expected shortfall is the
    mean of the ceil(5% x N) largest losses."""
    frame = synthetic_history()
    dates, stressed = _axis(frame)
    losses, names = _by_hand(frame, dates=dates, stressed=stressed)
    margin, result = _margin(reference_params(), frame)
    assert len(result.scenario_names) == len(dates) == 60 + 23
    assert margin == pytest.approx(_cents(_es(losses, 0.95)), abs=0.011)
    # the output names the dates that drove the requirement, worst first
    order = np.argsort(-losses, kind="stable")[: math.ceil(0.05 * len(dates))]
    tail = result.accounts_json()[0]["detail"]["tail"]
    assert [t["date"] for t in tail] == [names[i] for i in order]
    np.testing.assert_allclose([t["loss"] for t in tail], losses[order], rtol=1e-9)
    assert result.describe("portfolio", int(order[0])).startswith(
        f"portfolio: MPOR window ending {names[order[0]]}")


def test_value_at_risk_is_the_kth_loss() -> None:
    """Value at risk at 95%: the ceil(5% x N)-th largest loss, never above the ES."""
    frame = synthetic_history()
    dates, stressed = _axis(frame)
    losses, _ = _by_hand(frame, dates=dates, stressed=stressed)
    k = math.ceil(0.05 * len(dates))
    var, _ = _margin(reference_params(measure="value_at_risk"), frame)
    assert var == pytest.approx(_cents(float(np.sort(losses)[::-1][k - 1])), abs=0.011)
    assert var <= _margin(reference_params(), frame)[0]


def _apc(**options: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"buffer": {"enabled": False, "share": 0.25},
                            "stressed_weight": {"enabled": False, "weight": 0.25},
                            "ten_year_floor": {"enabled": False, "years": 10}}
    base.update(options)
    return base


def test_emir_article_28_buffer() -> None:
    """Art. 28(1)(a): a margin buffer of at least 25% of the calculated margins."""
    frame = synthetic_history()
    dates, stressed = _axis(frame)
    es = _es(_by_hand(frame, dates=dates, stressed=stressed)[0], 0.95)
    margin, result = _margin(reference_params(anti_procyclicality=_apc(
        buffer={"enabled": True, "share": 0.25})), frame)
    assert margin == pytest.approx(_cents(1.25 * es), abs=0.011)
    assert result.components["buffer"][0] == pytest.approx(0.25 * es, rel=1e-9)


def test_emir_article_28_stressed_weight() -> None:
    """Art. 28(1)(b): at least 25% weight on the stressed observations:
    max(ES, 0.75 ES + 0.25 ES_stressed), ES_stressed over the stressed dates alone."""
    frame = synthetic_history()
    dates, stressed = _axis(frame)
    losses, _ = _by_hand(frame, dates=dates, stressed=stressed)
    es = _es(losses, 0.95)
    in_stress = np.asarray([d in stressed for d in dates])
    es_stressed = _es(losses[in_stress], 0.95)
    margin, _ = _margin(reference_params(anti_procyclicality=_apc(
        stressed_weight={"enabled": True, "weight": 0.25})), frame)
    assert es_stressed > es
    assert margin == pytest.approx(_cents(0.75 * es + 0.25 * es_stressed), abs=0.011)


def test_emir_article_28_ten_year_floor() -> None:
    """Art. 28(1)(c): not lower than the margin with volatility estimated over a 10-year
    look-back: the standardised moves of every day of the last ten years, scaled by the
    root mean square one-day move of those ten years. The stressed window here is a calm
    week inside the look-back, so that the volatile August 2011 lifts only the floor."""
    frame = synthetic_history()
    calm = ("2020-03-02", "2020-03-06")
    dates, stressed = _axis(frame, calm)
    es = _es(_by_hand(frame, dates=dates, stressed=stressed)[0], 0.95)
    ref = frame["SPX"].dropna().index
    ten = list(ref[(ref > pd.Timestamp("2010-03-31")) & (ref <= pd.Timestamp(AS_OF))])
    floor = _es(_by_hand(frame, dates=ten, stressed=set(), long_run=True)[0], 0.95)
    margin, result = _margin(reference_params(
        anti_procyclicality=_apc(ten_year_floor={"enabled": True, "years": 10}),
        stressed_windows=[{"name": "calm", "start": calm[0], "end": calm[1]}]), frame)
    assert floor > es
    assert margin == pytest.approx(_cents(floor), abs=0.011)
    assert result.components["ten_year_floor"][0] == pytest.approx(floor - es, rel=1e-9)
