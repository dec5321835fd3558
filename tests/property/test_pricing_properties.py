"""Properties every pricing formula must have, checked on generated inputs.

The hypothesis profile (seeded, derandomized) comes from tests/conftest.py.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crossmargin.pricing import (
    american_gbsm,
    bjerksund_stensland_1993,
    bjerksund_stensland_2002,
    black76,
    bond_dirty_price,
    bootstrap_zero_curve,
    coin_to_usd,
    gbsm,
    gbsm_greeks,
    inverse_futures_pnl,
    inverse_futures_pnl_usd,
    inverse_option_premium,
    modified_duration,
    usd_to_coin,
)

# Generated market inputs in ranges where the finite-difference checks are well posed.
spots = st.floats(50.0, 150.0)
times = st.floats(0.05, 3.0)
rates = st.floats(-0.02, 0.10)
carries = st.floats(-0.10, 0.10)
vols = st.floats(0.05, 1.0)
calls = st.booleans()

# Wide ranges for the "never NaN" checks.
wide_prices = st.floats(1e-6, 1e6)
wide_times = st.floats(0.0, 30.0)
wide_rates = st.floats(-0.2, 0.5)
wide_vols = st.floats(0.0, 5.0)

PARITY_REL_TOL = 1e-10
FD_REL_TOL = 1e-5
FD_ABS_TOL = 1e-7


def _v(x: float) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


@given(spots, spots, times, rates, carries, vols)
def test_put_call_parity_gbsm(s: float, k: float, t: float, r: float, b: float, v: float) -> None:
    c = gbsm(spot=s, strike=k, time=t, rate=r, carry=b, vol=v, is_call=True)
    p = gbsm(spot=s, strike=k, time=t, rate=r, carry=b, vol=v, is_call=False)
    parity = s * np.exp((b - r) * t) - k * np.exp(-r * t)
    assert abs((c - p) - parity) <= PARITY_REL_TOL * (s + k)


@given(spots, spots, times, rates, vols)
def test_put_call_parity_black76(f: float, k: float, t: float, r: float, v: float) -> None:
    c = black76(forward=f, strike=k, time=t, rate=r, vol=v, is_call=True)
    p = black76(forward=f, strike=k, time=t, rate=r, vol=v, is_call=False)
    assert abs((c - p) - np.exp(-r * t) * (f - k)) <= PARITY_REL_TOL * (f + k)


@given(spots, spots, times, rates, carries, vols, calls)
def test_american_at_least_european_and_intrinsic(
    s: float, k: float, t: float, r: float, b: float, v: float, is_call: bool
) -> None:
    kw = {"spot": s, "strike": k, "time": t, "rate": r, "carry": b, "vol": v, "is_call": is_call}
    euro = gbsm(**kw)
    intrinsic = max(s - k, 0.0) if is_call else max(k - s, 0.0)
    assert euro >= 0.0
    v2002, v1993, best = (
        bjerksund_stensland_2002(**kw),
        bjerksund_stensland_1993(**kw),
        american_gbsm(**kw),
    )
    for american in (v2002, v1993, best):
        assert american >= euro
        assert american >= intrinsic
    assert best == max(v2002, v1993)


@given(spots, spots, times, rates, carries, vols, calls)
def test_finite_difference_greeks_agree_with_analytic(
    s: float, k: float, t: float, r: float, b: float, v: float, is_call: bool
) -> None:
    g = gbsm_greeks(spot=s, strike=k, time=t, rate=r, carry=b, vol=v, is_call=is_call)

    def price(**bump: float) -> float:
        kw = {"spot": s, "strike": k, "time": t, "rate": r, "carry": b, "vol": v}
        kw.update(bump)
        return float(gbsm(**kw, is_call=is_call))

    # spot step scaled by the standard deviation, so gamma's curvature is resolved
    hs, hv, ht, hr = 1e-3 * s * v * np.sqrt(t), 1e-5, 1e-5, 1e-5
    fd = {
        "delta": (price(spot=s + hs) - price(spot=s - hs)) / (2 * hs),
        "gamma": (price(spot=s + hs) - 2 * price() + price(spot=s - hs)) / hs**2,
        "vega": (price(vol=v + hv) - price(vol=v - hv)) / (2 * hv),
        "theta": -(price(time=t + ht) - price(time=t - ht)) / (2 * ht),
        "rho": (price(rate=r + hr) - price(rate=r - hr)) / (2 * hr),
        "carry_rho": (price(carry=b + hr) - price(carry=b - hr)) / (2 * hr),
    }
    for name, approx in fd.items():
        exact = float(getattr(g, name))
        tol = FD_REL_TOL * max(abs(exact), 1.0) + FD_ABS_TOL
        assert abs(approx - exact) <= tol, (name, approx, exact)


@given(spots, spots, times, rates, carries, vols, vols, calls)
def test_value_increases_with_volatility(
    s: float, k: float, t: float, r: float, b: float, v1: float, v2: float, is_call: bool
) -> None:
    lo, hi = min(v1, v2), max(v1, v2)
    kw = {"spot": s, "strike": k, "time": t, "rate": r, "carry": b, "is_call": is_call}
    assert gbsm(vol=hi, **kw) >= gbsm(vol=lo, **kw) - 1e-12 * (s + k)


@settings(max_examples=100)
@given(wide_prices, wide_prices, wide_times, wide_rates, wide_rates, wide_vols, calls)
def test_never_nan_for_finite_positive_inputs(
    s: float, k: float, t: float, r: float, b: float, v: float, is_call: bool
) -> None:
    kw = {"spot": s, "strike": k, "time": t, "rate": r, "carry": b, "vol": v, "is_call": is_call}
    values = [gbsm(**kw), bjerksund_stensland_2002(**kw), bjerksund_stensland_1993(**kw)]
    g = gbsm_greeks(**kw)
    values += [g.delta, g.gamma, g.vega, g.theta, g.rho, g.carry_rho]
    for x in values:
        assert np.all(np.isfinite(x))
    assert values[1] >= values[0] - 1e-12 * (s + k)


# A Treasury par curve (a level plus bumps of up to 100bp per tenor) and a shift of it.
TENORS = np.array([0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 30.0])
par_curves = st.tuples(
    st.floats(0.0, 0.08),
    st.lists(st.floats(-0.01, 0.01), min_size=TENORS.size, max_size=TENORS.size),
).map(lambda lv: [max(lv[0] + d, 0.0) for d in lv[1]])


@given(par_curves, st.floats(1e-4, 0.03), st.floats(0.0, 0.10), st.floats(0.1, 30.0))
def test_bond_price_falls_when_the_curve_shifts_up(
    yields: list[float], shift: float, coupon: float, maturity: float
) -> None:
    base = np.asarray(yields)
    z = bootstrap_zero_curve(tenors=TENORS, par_yields=np.stack([base, base + shift]))
    p = bond_dirty_price(coupon=coupon, maturity=maturity, tenors=TENORS, zero_rates=z)
    assert p.shape == (2,)
    assert p[1] < p[0]
    d = modified_duration(coupon=coupon, maturity=maturity, tenors=TENORS, zero_rates=z)
    assert np.all((d > 0.0) & (d <= maturity + 1e-12))


@given(st.floats(-1e6, 1e6), st.floats(1e-2, 1e6))
def test_coin_usd_round_trip(amount: float, price: float) -> None:
    back = usd_to_coin(usd=coin_to_usd(coin=amount, price=price), price=price)
    assert abs(back - amount) <= 1e-12 * max(abs(amount), 1.0)


@given(st.floats(100.0, 1e5), st.floats(0.3, 3.0), times, vols, calls)
def test_inverse_option_premium_converts_to_black76(
    f: float, moneyness: float, t: float, v: float, is_call: bool
) -> None:
    k = f * moneyness
    coin = inverse_option_premium(underlying=f, strike=k, time=t, rate=0.0, vol=v, is_call=is_call)
    usd = black76(forward=f, strike=k, time=t, rate=0.0, vol=v, is_call=is_call)
    assert abs(coin_to_usd(coin=coin, price=f) - usd) <= 1e-12 * max(usd, 1.0)
    assert 0.0 <= coin <= (1.0 if is_call else moneyness)


@given(st.floats(100.0, 1e5), st.floats(100.0, 1e5), st.floats(1.0, 1e4))
def test_inverse_futures_pnl_usd_is_linear_in_the_return(f0: float, f1: float, face: float) -> None:
    coin = inverse_futures_pnl(entry_price=f0, mark_price=f1, face_value=face)
    usd = inverse_futures_pnl_usd(entry_price=f0, mark_price=f1, face_value=face)
    assert np.sign(coin) == np.sign(f1 - f0) or f1 == f0
    assert abs(usd - face * (f1 / f0 - 1.0)) <= 1e-9 * face
