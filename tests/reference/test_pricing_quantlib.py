"""crossmargin.pricing against QuantLib (an independent implementation).

What each test compares, and the tolerance it holds to, is stated on the test and in
the module constants below.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date

import numpy as np
import pytest

from crossmargin.pricing import (
    accrued_interest,
    american_gbsm,
    bjerksund_stensland_1993,
    bjerksund_stensland_2002,
    black76,
    black76_greeks,
    black_scholes,
    black_scholes_greeks,
    bond_dirty_price,
    bootstrap_zero_curve,
    discount_factors,
    year_fraction,
)

ql = pytest.importorskip("QuantLib")

# European Black-Scholes / Black-76 value: relative to max(price, 1).
EUROPEAN_REL_TOL = 1e-12
# Analytic Greeks: relative to max(|QuantLib greek|, 1).
GREEKS_REL_TOL = 1e-11
# Bjerksund-Stensland 1993 vs QuantLib's BjerksundStenslandApproximationEngine (which
# implements the 1993 single-boundary formula): absolute, per unit of a 100 strike.
BS1993_ABS_TOL = 1e-10
# Bjerksund-Stensland 2002 (and american_gbsm, the larger of 2002 and 1993) vs
# QuantLib's QdFpAmericanEngine (Andersen-Lake-Offengelden high-precision scheme,
# accurate to ~1e-10): the approximation's own error, relative to max(price, 0.5).
# On the grid below the worst case is -1.7% (an out-of-the-money 2-year put at 10%
# vol: 0.3703 vs 0.3787) and the largest absolute error 0.39 on a 46.3 call (0.28 for
# american_gbsm). Both are lower bounds: neither may exceed the reference by more than
# AMERICAN_ABOVE_TOL.
AMERICAN_REL_TOL = 0.02
AMERICAN_ABOVE_TOL = 1e-9
# Bootstrapped zero rates vs QuantLib PiecewiseLinearZero on the same par instruments.
BOOTSTRAP_ABS_TOL = 1e-11
# Bond full price per unit face vs QuantLib FixedRateBond on a ZeroCurve:
# exact conventions (30/360 everywhere, so the coupon grids coincide) ...
BOND_EXACT_ABS_TOL = 1e-12
# ... and market conventions (ActualActual(Bond) coupons, Actual/365.25 curve), where
# our regular half-year coupon grid is off by up to two days per coupon.
BOND_ACTACT_ABS_TOL = 1e-4

TODAY = ql.Date(15, 1, 2024)
DC = ql.Actual365Fixed()


@pytest.fixture(autouse=True)
def _evaluation_date() -> None:
    ql.Settings.instance().evaluationDate = TODAY


def _process(spot: float, rate: float, dividend: float, vol: float) -> object:
    return ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)),
        ql.YieldTermStructureHandle(ql.FlatForward(TODAY, dividend, DC)),
        ql.YieldTermStructureHandle(ql.FlatForward(TODAY, rate, DC)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(TODAY, ql.NullCalendar(), vol, DC)),
    )


def _option(strike: float, days: int, is_call: bool, american: bool) -> object:
    maturity = TODAY + days
    exercise = ql.AmericanExercise(TODAY, maturity) if american else ql.EuropeanExercise(maturity)
    kind = ql.Option.Call if is_call else ql.Option.Put
    return ql.VanillaOption(ql.PlainVanillaPayoff(kind, strike), exercise)


# spot, days, rate, dividend, vol, is_call (strike 100)
GRID = list(
    itertools.product(
        [80.0, 100.0, 120.0],
        [30, 182, 730],
        [0.0, 0.05],
        [0.0, 0.03],
        [0.1, 0.3, 0.6],
        [True, False],
    )
)
STRIKE = 100.0


def _arrays(grid: list[tuple[float, int, float, float, float, bool]]) -> dict[str, np.ndarray]:
    cols = list(zip(*grid, strict=True))
    return {
        "spot": np.array(cols[0]),
        "time": np.array(cols[1]) / 365.0,
        "rate": np.array(cols[2]),
        "dividend": np.array(cols[3]),
        "vol": np.array(cols[4]),
        "is_call": np.array(cols[5], dtype=bool),
    }


def test_black_scholes_with_dividends_matches_analytic_european_engine() -> None:
    """black_scholes vs QuantLib AnalyticEuropeanEngine (BSM process, dividend yield)."""
    a = _arrays(GRID)
    mine = black_scholes(strike=STRIKE, **a)
    for k, (spot, days, rate, div, vol, is_call) in enumerate(GRID):
        opt = _option(STRIKE, days, is_call, american=False)
        opt.setPricingEngine(ql.AnalyticEuropeanEngine(_process(spot, rate, div, vol)))
        ref = opt.NPV()
        assert abs(mine[k] - ref) <= EUROPEAN_REL_TOL * max(ref, 1.0), GRID[k]


def test_black_scholes_greeks_match_analytic_european_engine() -> None:
    """Analytic delta, gamma, vega, theta, rho, dividend rho vs QuantLib's."""
    a = _arrays(GRID)
    g = black_scholes_greeks(strike=STRIKE, **a)
    for k, (spot, days, rate, div, vol, is_call) in enumerate(GRID):
        opt = _option(STRIKE, days, is_call, american=False)
        opt.setPricingEngine(ql.AnalyticEuropeanEngine(_process(spot, rate, div, vol)))
        pairs = {
            "delta": (g.delta[k], opt.delta()),
            "gamma": (g.gamma[k], opt.gamma()),
            "vega": (g.vega[k], opt.vega()),
            "theta": (g.theta[k], opt.theta()),
            "rho": (g.rho[k], opt.rho()),
            "dividend_rho": (-g.carry_rho[k], opt.dividendRho()),
        }
        for name, (mine, ref) in pairs.items():
            assert abs(mine - ref) <= GREEKS_REL_TOL * max(abs(ref), 1.0), (name, GRID[k])


def test_black76_matches_quantlib_black_formula() -> None:
    """black76 vs ql.blackFormula (Black 1976 on the forward, discounted)."""
    forwards = np.array([60.0, 95.0, 100.0, 105.0, 160.0])
    for fwd, days, rate, vol, is_call in itertools.product(
        forwards, [7, 91, 365, 1825], [0.0, 0.04], [0.05, 0.25, 0.9], [True, False]
    ):
        t = days / 365.0
        kind = ql.Option.Call if is_call else ql.Option.Put
        ref = ql.blackFormula(kind, STRIKE, fwd, vol * np.sqrt(t), np.exp(-rate * t))
        mine = black76(forward=fwd, strike=STRIKE, time=t, rate=rate, vol=vol, is_call=is_call)
        assert abs(mine - ref) <= EUROPEAN_REL_TOL * max(ref, 1.0)


def test_black76_greeks_match_quantlib_with_forward_as_spot() -> None:
    """black76_greeks vs AnalyticEuropeanEngine on a process with q = r (spot = forward).

    QuantLib's rho moves r with q fixed; Black-76's rho holds the forward fixed, i.e.
    moves r and q together: QuantLib rho + dividend rho.
    """
    for fwd, days, rate, vol, is_call in itertools.product(
        [80.0, 100.0, 125.0], [30, 365], [0.01, 0.05], [0.2, 0.5], [True, False]
    ):
        opt = _option(STRIKE, days, is_call, american=False)
        opt.setPricingEngine(ql.AnalyticEuropeanEngine(_process(fwd, rate, rate, vol)))
        g = black76_greeks(
            forward=fwd, strike=STRIKE, time=days / 365.0, rate=rate, vol=vol, is_call=is_call
        )
        pairs = [
            (g.value, opt.NPV()),
            (g.delta, opt.delta()),
            (g.gamma, opt.gamma()),
            (g.vega, opt.vega()),
            (g.theta, opt.theta()),
            (g.rho, opt.rho() + opt.dividendRho()),
        ]
        for mine, ref in pairs:
            assert abs(mine - ref) <= GREEKS_REL_TOL * max(abs(ref), 1.0)


def test_bjerksund_stensland_1993_matches_quantlib_engine() -> None:
    """bjerksund_stensland_1993 vs ql.BjerksundStenslandApproximationEngine.

    QuantLib 1.44's engine implements the 1993 single flat boundary; agreement to
    1e-8 checks beta, B0, B_inf, the phi function, the put-call transformation and the
    European fallback shared with the 2002 formula.
    """
    a = _arrays(GRID)
    mine = bjerksund_stensland_1993(
        strike=STRIKE,
        spot=a["spot"],
        time=a["time"],
        rate=a["rate"],
        carry=a["rate"] - a["dividend"],
        vol=a["vol"],
        is_call=a["is_call"],
    )
    for k, (spot, days, rate, div, vol, is_call) in enumerate(GRID):
        opt = _option(STRIKE, days, is_call, american=True)
        opt.setPricingEngine(
            ql.BjerksundStenslandApproximationEngine(_process(spot, rate, div, vol))
        )
        assert abs(mine[k] - opt.NPV()) <= BS1993_ABS_TOL, GRID[k]


AMERICAN_GRID = [row for row in GRID if row[1] != 30]


@pytest.mark.parametrize("model", [bjerksund_stensland_2002, american_gbsm])
def test_american_approximations_close_to_and_below_accurate_american_engine(
    model: Callable[..., np.ndarray],
) -> None:
    """bjerksund_stensland_2002 and american_gbsm vs ql.QdFpAmericanEngine (high precision).

    Both value feasible exercise strategies, so neither may exceed the accurate value;
    both stay within AMERICAN_REL_TOL of it.
    """
    a = _arrays(AMERICAN_GRID)
    mine = model(
        strike=STRIKE,
        spot=a["spot"],
        time=a["time"],
        rate=a["rate"],
        carry=a["rate"] - a["dividend"],
        vol=a["vol"],
        is_call=a["is_call"],
    )
    worst = 0.0
    for k, (spot, days, rate, div, vol, is_call) in enumerate(AMERICAN_GRID):
        opt = _option(STRIKE, days, is_call, american=True)
        opt.setPricingEngine(
            ql.QdFpAmericanEngine(
                _process(spot, rate, div, vol), ql.QdFpAmericanEngine.highPrecisionScheme()
            )
        )
        ref = opt.NPV()
        assert mine[k] <= ref + AMERICAN_ABOVE_TOL, AMERICAN_GRID[k]
        assert abs(mine[k] - ref) <= AMERICAN_REL_TOL * max(ref, 0.5), AMERICAN_GRID[k]
        worst = max(worst, abs(mine[k] - ref) / max(ref, 0.5))
    assert worst > 0.0  # the comparison is not vacuous


def _thirty360() -> object:
    return ql.Thirty360(ql.Thirty360.BondBasis)


# Par curve on months from TODAY (a 15th: every 30/360 fraction is months / 12).
PAR_MONTHS = [3, 6, 12, 24, 36, 60, 84, 120]
PAR_YIELDS = np.array([0.0530, 0.0525, 0.0495, 0.0455, 0.0435, 0.0415, 0.0418, 0.0421])


def _ql_bootstrapped_curve() -> object:
    dc = _thirty360()
    helpers = []
    for months, y in zip(PAR_MONTHS, PAR_YIELDS, strict=True):
        if months <= 6:
            helpers.append(
                ql.DepositRateHelper(
                    ql.QuoteHandle(ql.SimpleQuote(float(y))),
                    ql.Period(months, ql.Months),
                    0,
                    ql.NullCalendar(),
                    ql.Unadjusted,
                    False,
                    dc,
                )
            )
        else:
            maturity = TODAY + ql.Period(months, ql.Months)
            schedule = ql.Schedule(
                TODAY,
                maturity,
                ql.Period(ql.Semiannual),
                ql.NullCalendar(),
                ql.Unadjusted,
                ql.Unadjusted,
                ql.DateGeneration.Backward,
                False,
            )
            helpers.append(
                ql.FixedRateBondHelper(
                    ql.QuoteHandle(ql.SimpleQuote(100.0)), 0, 100.0, schedule, [float(y)], dc
                )
            )
    curve = ql.PiecewiseLinearZero(TODAY, helpers, dc)
    curve.enableExtrapolation()
    return curve


def test_bootstrap_matches_quantlib_piecewise_linear_zero() -> None:
    """bootstrap_zero_curve vs ql.PiecewiseLinearZero on the same par instruments.

    Bills (<= 6 months) as simple-yield deposits, longer tenors as semiannual bonds at
    a clean price of par; 30/360 so that both use the same year fractions.
    """
    curve = _ql_bootstrapped_curve()
    tenors = np.array(PAR_MONTHS) / 12.0
    zeros = bootstrap_zero_curve(tenors=tenors, par_yields=PAR_YIELDS)
    dc = _thirty360()
    for months, z in zip(PAR_MONTHS, zeros, strict=True):
        d = TODAY + ql.Period(months, ql.Months)
        ref = curve.zeroRate(d, dc, ql.Continuous).rate()
        assert abs(z - ref) <= BOOTSTRAP_ABS_TOL, months
    # and discount factors between the nodes
    for months in range(1, 121):
        d = TODAY + ql.Period(months, ql.Months)
        mine = discount_factors(tenors=tenors, zero_rates=zeros, times=months / 12.0)
        assert abs(mine - curve.discount(d)) <= BOOTSTRAP_ABS_TOL * months / 12.0, months


def _ql_zero_curve(tenor_dates: list[object], zeros: np.ndarray, dc: object) -> object:
    dates = [TODAY, *tenor_dates]
    rates = [float(zeros[0]), *map(float, zeros)]
    return ql.ZeroCurve(dates, rates, dc, ql.NullCalendar(), ql.Linear(), ql.Continuous)


# (maturity date, coupon): off-cycle, on-cycle and short bonds
BONDS = [
    (ql.Date(15, 11, 2033), 0.04500),
    (ql.Date(15, 1, 2031), 0.04000),
    (ql.Date(15, 8, 2026), 0.01500),
    (ql.Date(15, 5, 2024), 0.02500),
    (ql.Date(15, 2, 2029), 0.05250),
]


def _ql_bond(maturity: object, coupon: float, dc: object) -> object:
    schedule = ql.Schedule(
        ql.Date(15, maturity.month(), 2014 if maturity.month() in (1, 7) else 2013),
        maturity,
        ql.Period(ql.Semiannual),
        ql.NullCalendar(),
        ql.Unadjusted,
        ql.Unadjusted,
        ql.DateGeneration.Backward,
        False,
    )
    return ql.FixedRateBond(0, 100.0, schedule, [coupon], dc)


def test_bond_price_matches_fixed_rate_bond_with_identical_conventions() -> None:
    """bond_dirty_price / accrued_interest vs ql.FixedRateBond on a ql.ZeroCurve.

    30/360 for the bond and the curve, dates on the 15th: both sides then see the same
    cash-flow times, so the full price and the accrued agree to rounding.
    """
    dc = _thirty360()
    tenors = np.array(PAR_MONTHS) / 12.0
    zeros = bootstrap_zero_curve(tenors=tenors, par_yields=PAR_YIELDS)
    curve = _ql_zero_curve([TODAY + ql.Period(m, ql.Months) for m in PAR_MONTHS], zeros, dc)
    engine = ql.DiscountingBondEngine(ql.YieldTermStructureHandle(curve))
    for maturity, coupon in BONDS:
        bond = _ql_bond(maturity, coupon, dc)
        bond.setPricingEngine(engine)
        t = dc.yearFraction(TODAY, maturity)
        mine = bond_dirty_price(coupon=coupon, maturity=t, tenors=tenors, zero_rates=zeros)
        assert abs(mine - bond.dirtyPrice() / 100.0) <= BOND_EXACT_ABS_TOL, maturity
        ai = accrued_interest(coupon=coupon, maturity=t)
        assert abs(ai - bond.accruedAmount() / 100.0) <= BOND_EXACT_ABS_TOL, maturity


def test_bond_price_matches_fixed_rate_bond_with_market_conventions() -> None:
    """bond_dirty_price vs ql.FixedRateBond with ActualActual(Bond) on Actual/365.25.

    Our maturity is year_fraction (days / 365.25, QuantLib's Actual36525) and the
    coupons lie on a regular half-year grid; the stated tolerance covers the coupon
    dates being off by up to two days.
    """
    curve_dc = ql.Actual36525()
    node_dates = [TODAY + ql.Period(m, ql.Months) for m in PAR_MONTHS]
    tenors = np.array([curve_dc.yearFraction(TODAY, d) for d in node_dates])
    zeros = bootstrap_zero_curve(tenors=tenors, par_yields=PAR_YIELDS)
    curve = _ql_zero_curve(node_dates, zeros, curve_dc)
    engine = ql.DiscountingBondEngine(ql.YieldTermStructureHandle(curve))
    today = date(2024, 1, 15)
    for maturity, coupon in BONDS:
        bond = _ql_bond(maturity, coupon, ql.ActualActual(ql.ActualActual.Bond))
        bond.setPricingEngine(engine)
        t = year_fraction(today, date(maturity.year(), maturity.month(), maturity.dayOfMonth()))
        mine = bond_dirty_price(coupon=coupon, maturity=t, tenors=tenors, zero_rates=zeros)
        assert abs(mine - bond.dirtyPrice() / 100.0) <= BOND_ACTACT_ABS_TOL, maturity
