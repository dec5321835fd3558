"""Edge cases of crossmargin.pricing: expiry, zero volatility, extremes, shapes, errors."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from scipy.special import owens_t

from crossmargin.core.errors import InputError
from crossmargin.pricing import (
    accrued_interest,
    american_black76,
    american_black_scholes,
    american_gbsm,
    bjerksund_stensland_1993,
    bjerksund_stensland_2002,
    black76,
    black76_greeks,
    black_scholes,
    bond_cash_flows,
    bond_clean_price,
    bond_dirty_price,
    bootstrap_zero_curve,
    coin_to_usd,
    discount_factors,
    dv01,
    forward,
    funding_payment,
    gbsm,
    gbsm_greeks,
    inverse_futures_pnl,
    inverse_futures_pnl_usd,
    inverse_notional,
    inverse_option_premium,
    linear_futures_pnl,
    modified_duration,
    usd_to_coin,
    year_fraction,
    zero_rates_at,
)
from crossmargin.pricing.american import _RHO, _bivariate_normal_cdf

AMERICANS = [bjerksund_stensland_2002, bjerksund_stensland_1993, american_gbsm]
TENORS = np.array([0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0])
YIELDS = np.array([0.050, 0.049, 0.047, 0.044, 0.042, 0.043, 0.045])


def _kw(**over: object) -> dict[str, object]:
    kw: dict[str, object] = {
        "spot": 100.0,
        "strike": 100.0,
        "time": 0.5,
        "rate": 0.05,
        "carry": 0.02,
        "vol": 0.25,
        "is_call": True,
    }
    kw.update(over)
    return kw


# ---------------------------------------------------------------- expiry ----


@pytest.mark.parametrize("time", [0.0, -0.1])
@pytest.mark.parametrize(
    ("spot", "is_call", "intrinsic"),
    [(110, True, 10), (90, False, 10), (90, True, 0), (110, False, 0)],
)
def test_expired_options_are_worth_intrinsic(
    time: float, spot: float, is_call: bool, intrinsic: float
) -> None:
    kw = _kw(spot=spot, time=time, is_call=is_call)
    assert gbsm(**kw) == intrinsic
    for american in AMERICANS:
        assert american(**kw) == intrinsic
    assert (
        black76(forward=spot, strike=100.0, time=time, rate=0.05, vol=0.2, is_call=is_call)
        == intrinsic
    )
    g = gbsm_greeks(**kw)
    assert g.value == intrinsic
    assert g.delta == (0.0 if intrinsic == 0 else (1.0 if is_call else -1.0))
    for name in ("gamma", "vega", "theta", "rho", "carry_rho"):
        assert getattr(g, name) == 0.0


# -------------------------------------------------------- zero volatility ----


@pytest.mark.parametrize("vol", [0.0, -0.2, 1e-300])
def test_zero_vol_is_discounted_forward_intrinsic(vol: float) -> None:
    s, k, t, r, b = 100.0, 95.0, 2.0, 0.05, 0.01
    fwd_call = math.exp(-r * t) * max(s * math.exp(b * t) - k, 0.0)
    fwd_put = math.exp(-r * t) * max(k - s * math.exp(b * t), 0.0)
    kw = _kw(strike=k, time=t, rate=r, carry=b, vol=vol)
    assert gbsm(**kw) == pytest.approx(fwd_call, rel=1e-15)
    assert gbsm(**{**kw, "is_call": False}) == pytest.approx(fwd_put, abs=1e-15)
    g = gbsm_greeks(**kw)
    assert g.delta == pytest.approx(math.exp((b - r) * t))
    assert g.gamma == 0.0
    assert g.vega == 0.0
    assert g.rho == pytest.approx(-t * fwd_call)


def test_zero_vol_vega_at_the_money_forward_is_the_one_sided_limit() -> None:
    # forward equals strike: S e^{bT} = K
    t = 1.0
    g = gbsm_greeks(
        spot=100.0,
        strike=100.0 * math.exp(0.03),
        time=t,
        rate=0.05,
        carry=0.03,
        vol=0.0,
        is_call=True,
    )
    small = gbsm_greeks(
        spot=100.0,
        strike=100.0 * math.exp(0.03),
        time=t,
        rate=0.05,
        carry=0.03,
        vol=1e-6,
        is_call=True,
    )
    assert g.vega == pytest.approx(small.vega, rel=1e-5)


def test_zero_vol_american_is_the_best_deterministic_exercise() -> None:
    # deep in-the-money put, positive rate: exercise now beats waiting
    kw = _kw(spot=50.0, strike=100.0, time=1.0, rate=0.05, carry=0.05, vol=0.0, is_call=False)
    for american in AMERICANS:
        assert american(**kw) == pytest.approx(50.0)
    # call with a dividend yield above the rate, held to expiry, vs exercised now
    kw = _kw(spot=120.0, strike=100.0, time=1.0, rate=0.01, carry=-0.09, vol=0.0)
    for american in AMERICANS:
        assert american(**kw) == pytest.approx(20.0)
    # interior optimum t*: f(t) = S e^{(b-r)t} - K e^{-rt} maximised at ln(rK/((r-b)S))/b
    s, k, r, b = 100.0, 90.0, 0.10, 0.02
    t_star = math.log(r * k / ((r - b) * s)) / b
    best = s * math.exp((b - r) * t_star) - k * math.exp(-r * t_star)
    assert 0.0 < t_star < 10.0
    for american in AMERICANS:
        value = american(spot=s, strike=k, time=10.0, rate=r, carry=b, vol=0.0, is_call=True)
        assert value == pytest.approx(best, rel=1e-12)


# ------------------------------------------------------------- zero prices ----


def test_zero_spot_and_zero_strike() -> None:
    t, r, b = 1.0, 0.05, 0.02
    assert gbsm(**_kw(spot=0.0, time=t, rate=r, carry=b)) == 0.0
    assert gbsm(**_kw(spot=0.0, is_call=False, time=t, rate=r, carry=b)) == pytest.approx(
        100.0 * math.exp(-r * t)
    )
    assert gbsm(**_kw(strike=0.0, time=t, rate=r, carry=b)) == pytest.approx(
        100.0 * math.exp((b - r) * t)
    )
    assert gbsm(**_kw(strike=0.0, is_call=False)) == 0.0
    for american in AMERICANS:
        assert american(**_kw(spot=0.0, is_call=False)) == pytest.approx(100.0)  # exercise now
        assert american(**_kw(strike=0.0)) == pytest.approx(100.0)  # b < r: take S now


# ------------------------------------------------------- deep ITM / OTM ----


def test_deep_in_and_out_of_the_money() -> None:
    s, t, r, b = 100.0, 1.0, 0.05, 0.01
    deep_itm = gbsm(spot=s, strike=1.0, time=t, rate=r, carry=b, vol=0.2, is_call=True)
    assert deep_itm == pytest.approx(s * math.exp((b - r) * t) - math.exp(-r * t), rel=1e-14)
    deep_otm = gbsm(spot=s, strike=1e4, time=t, rate=r, carry=b, vol=0.2, is_call=True)
    assert 0.0 <= deep_otm < 1e-100
    put_otm = gbsm(spot=s, strike=1.0, time=t, rate=r, carry=b, vol=0.2, is_call=False)
    assert 0.0 <= put_otm < 1e-100
    # American deep ITM put with positive rates: exercised now
    for american in AMERICANS:
        assert american(
            spot=1.0, strike=100.0, time=1.0, rate=0.05, carry=0.05, vol=0.2, is_call=False
        ) == pytest.approx(99.0)
        assert (
            american(spot=1.0, strike=1e4, time=1.0, rate=0.05, carry=0.05, vol=0.2, is_call=True)
            >= 0.0
        )
    g = gbsm_greeks(spot=s, strike=1.0, time=t, rate=r, carry=b, vol=0.2, is_call=True)
    assert g.delta == pytest.approx(math.exp((b - r) * t))
    assert 0.0 <= g.gamma < 1e-100


def test_american_equals_european_when_early_exercise_never_pays() -> None:
    # call with b >= r (no dividend); put with r <= 0
    call = _kw(rate=0.05, carry=0.05)
    put = _kw(rate=0.0, carry=-0.02, is_call=False)
    for kw in (call, put):
        for american in AMERICANS:
            assert american(**kw) == gbsm(**kw)


def test_american_wrappers() -> None:
    kw = {"spot": 95.0, "strike": 100.0, "time": 1.0, "rate": 0.05, "vol": 0.3, "is_call": False}
    assert american_black_scholes(**kw, dividend=0.01) == american_gbsm(**kw, carry=0.04)
    fwd = {"forward": 95.0, **{k: v for k, v in kw.items() if k != "spot"}}
    assert american_black76(**fwd) == american_gbsm(**kw, carry=0.0)
    assert american_black76(**fwd) > black76(**fwd)


def test_american_trigger_below_strike_is_handled() -> None:
    # b T + 2 sigma sqrt(T) < 0: the formula's trigger falls below the strike
    kw = _kw(spot=100.0, strike=100.0, time=1.0, rate=0.05, carry=-0.6, vol=0.1)
    for american in AMERICANS:
        value = american(**kw)
        assert np.isfinite(value)
        assert value >= gbsm(**kw)


def test_american_extreme_beta_does_not_overflow() -> None:
    # tiny vol with negative carry makes beta ~ 1e4: (S/I)^beta would overflow naively
    kw = _kw(spot=100.0, strike=95.0, time=2.0, rate=0.05, carry=-0.05, vol=0.003)
    for american in AMERICANS:
        value = american(**kw)
        assert np.isfinite(value)
        assert value >= max(gbsm(**kw), 5.0)


# -------------------------------------------------------------- shapes ----


def test_broadcasting_shapes() -> None:
    spot = np.linspace(80.0, 120.0, 3)[:, None]
    vol = np.array([0.1, 0.2, 0.3, 0.4])[None, :]
    is_call = np.array([True, False, True, False])
    kw = {
        "spot": spot,
        "strike": 100.0,
        "time": 0.5,
        "rate": 0.03,
        "carry": 0.01,
        "vol": vol,
        "is_call": is_call,
    }
    for fn in (gbsm, *AMERICANS):
        out = fn(**kw)
        assert out.shape == (3, 4)
        assert out.dtype == np.float64
        for i in range(3):
            for j in range(4):
                single = fn(
                    spot=float(spot[i, 0]),
                    strike=100.0,
                    time=0.5,
                    rate=0.03,
                    carry=0.01,
                    vol=float(vol[0, j]),
                    is_call=bool(is_call[j]),
                )
                assert out[i, j] == pytest.approx(float(single), rel=1e-14, abs=1e-14)
    g = gbsm_greeks(**kw)
    for name in ("value", "delta", "gamma", "vega", "theta", "rho", "carry_rho"):
        assert getattr(g, name).shape == (3, 4)
    assert gbsm(**_kw()).shape == ()
    assert black76(
        forward=[[100.0]], strike=[90.0, 110.0], time=1.0, rate=0.0, vol=0.2, is_call=True
    ).shape == (1, 2)
    assert black76_greeks(
        forward=100.0, strike=[90.0, 110.0], time=1.0, rate=0.0, vol=0.2, is_call=True
    ).delta.shape == (2,)
    with pytest.raises(ValueError, match="broadcast"):
        gbsm(**_kw(spot=np.ones(3), vol=np.ones(4)))


def test_curve_and_bond_shapes_over_scenarios() -> None:
    scen = YIELDS[None, :] + np.array([-0.01, 0.0, 0.01, 0.02])[:, None]
    z = bootstrap_zero_curve(tenors=TENORS, par_yields=scen)
    assert z.shape == (4, TENORS.size)
    assert zero_rates_at(tenors=TENORS, zero_rates=z, times=np.ones((2, 3))).shape == (4, 2, 3)
    assert discount_factors(tenors=TENORS, zero_rates=z[1], times=5.0).shape == ()
    coupons = np.array([0.02, 0.04, 0.05])
    maturities = np.array([0.3, 7.25, 29.9])
    p = bond_dirty_price(coupon=coupons, maturity=maturities, tenors=TENORS, zero_rates=z)
    assert p.shape == (4, 3)
    assert np.all(np.diff(p, axis=0) < 0.0)  # higher curve, lower price
    for k in range(3):
        single = bond_dirty_price(
            coupon=coupons[k], maturity=maturities[k], tenors=TENORS, zero_rates=z[2]
        )
        assert p[2, k] == pytest.approx(float(single), rel=1e-15)
    assert dv01(coupon=coupons, maturity=maturities, tenors=TENORS, zero_rates=z).shape == (4, 3)


# ---------------------------------------------------------------- curves ----


def test_bootstrap_reprices_the_par_instruments() -> None:
    z = bootstrap_zero_curve(tenors=TENORS, par_yields=YIELDS)
    for tenor, y in zip(TENORS, YIELDS, strict=True):
        if tenor <= 0.5:
            df = discount_factors(tenors=TENORS, zero_rates=z, times=tenor)
            assert df * (1.0 + y * tenor) == pytest.approx(1.0, abs=1e-14)
        else:
            clean = bond_clean_price(coupon=y, maturity=tenor, tenors=TENORS, zero_rates=z)
            assert clean == pytest.approx(1.0, abs=1e-13)


def test_bootstrap_off_grid_tenor_uses_accrued() -> None:
    tenors = np.array([0.5, 1.25, 2.75])
    yields = np.array([0.03, 0.035, 0.04])
    z = bootstrap_zero_curve(tenors=tenors, par_yields=yields)
    for tenor, y in zip(tenors[1:], yields[1:], strict=True):
        clean = bond_clean_price(coupon=y, maturity=tenor, tenors=tenors, zero_rates=z)
        assert clean == pytest.approx(1.0, abs=1e-13)


def test_flat_par_curve_gives_flat_zero_curve() -> None:
    tenors = np.array([1.0, 2.0, 5.0, 10.0])
    z = bootstrap_zero_curve(tenors=tenors, par_yields=np.full(4, 0.04))
    assert z == pytest.approx(np.full(4, 2.0 * math.log(1.02)), abs=1e-14)


def test_zero_rate_interpolation_and_flat_extrapolation() -> None:
    tenors = np.array([1.0, 3.0])
    z = np.array([0.02, 0.04])
    got = zero_rates_at(tenors=tenors, zero_rates=z, times=[0.0, 0.5, 1.0, 2.0, 3.0, 40.0])
    assert got == pytest.approx([0.02, 0.02, 0.02, 0.03, 0.04, 0.04])
    one = zero_rates_at(tenors=[2.0], zero_rates=[[0.01], [0.02]], times=[1.0, 5.0])
    np.testing.assert_allclose(one, [[0.01, 0.01], [0.02, 0.02]])
    assert discount_factors(tenors=tenors, zero_rates=z, times=0.0) == 1.0


@pytest.mark.parametrize(
    ("tenors", "yields"),
    [
        ([1.0, 1.0], [0.01, 0.02]),
        ([2.0, 1.0], [0.01, 0.02]),
        ([0.0, 1.0], [0.01, 0.02]),
        ([[1.0]], [0.01]),
        ([1.0, 2.0], [0.01]),
        ([1.0, 2.0], [0.01, float("nan")]),
    ],
)
def test_bad_curves_raise_input_error(tenors: list[float], yields: list[float]) -> None:
    with pytest.raises(InputError):
        bootstrap_zero_curve(tenors=tenors, par_yields=yields)


def test_unreachable_par_yield_raises_input_error() -> None:
    # 20 years of 0% then a 30-year bond yielding 6.25%: no discount factor reprices it
    tenors = np.array([1.0, 2.0, 5.0, 10.0, 20.0, 30.0])
    with pytest.raises(InputError, match="30-year"):
        bootstrap_zero_curve(tenors=tenors, par_yields=[0, 0, 0, 0, 0, 0.0625])


def test_negative_times_raise() -> None:
    with pytest.raises(InputError):
        discount_factors(tenors=TENORS, zero_rates=np.zeros(TENORS.size), times=-1.0)


# ----------------------------------------------------------------- bonds ----


def test_bond_cash_flows_and_accrued() -> None:
    times, amounts = bond_cash_flows(coupon=0.05, maturity=1.2)
    assert times == pytest.approx([1.2, 0.7, 0.2])
    assert amounts == pytest.approx([1.025, 0.025, 0.025])
    assert accrued_interest(coupon=0.05, maturity=1.2) == pytest.approx(0.025 * 0.6)
    assert accrued_interest(coupon=0.05, maturity=2.0) == 0.0
    # a coupon due within two days counts as paid: 7 calendar years = 7.0007 years
    t = year_fraction(date(2024, 1, 15), date(2031, 1, 15))
    times, _ = bond_cash_flows(coupon=0.04, maturity=t)
    assert times.size == 14
    assert accrued_interest(coupon=0.04, maturity=t) == 0.0
    # padded flows for bonds of different lives
    times, amounts = bond_cash_flows(coupon=[0.02, 0.03], maturity=[0.4, 1.9])
    assert times.shape == amounts.shape == (2, 4)
    assert amounts[0] == pytest.approx([1.01, 0.0, 0.0, 0.0])


def test_zero_coupon_bond_is_a_discount_factor() -> None:
    z = bootstrap_zero_curve(tenors=TENORS, par_yields=YIELDS)
    p = bond_dirty_price(coupon=0.0, maturity=3.3, tenors=TENORS, zero_rates=z)
    assert p == pytest.approx(discount_factors(tenors=TENORS, zero_rates=z, times=3.3))
    assert modified_duration(coupon=0.0, maturity=3.3, tenors=TENORS, zero_rates=z) == (
        pytest.approx(3.3)
    )


def test_dv01_matches_a_one_basis_point_bump() -> None:
    z = bootstrap_zero_curve(tenors=TENORS, par_yields=YIELDS)
    kw = {"coupon": 0.045, "maturity": 9.6, "tenors": TENORS}
    up = bond_dirty_price(**kw, zero_rates=z + 0.5e-4)
    down = bond_dirty_price(**kw, zero_rates=z - 0.5e-4)
    assert dv01(**kw, zero_rates=z) == pytest.approx(down - up, rel=1e-7)


@pytest.mark.parametrize(
    ("coupon", "maturity"), [(-0.01, 1.0), (0.02, 0.0), (0.02, -1.0), (0.02, float("inf"))]
)
def test_bad_bonds_raise(coupon: float, maturity: float) -> None:
    with pytest.raises(InputError):
        bond_dirty_price(
            coupon=coupon, maturity=maturity, tenors=TENORS, zero_rates=np.full(TENORS.size, 0.03)
        )


def test_year_fraction() -> None:
    assert year_fraction(date(2024, 1, 1), date(2025, 1, 1)) == pytest.approx(366 / 365.25)
    assert year_fraction(date(2025, 1, 1), date(2024, 1, 1)) < 0.0


# --------------------------------------------------- futures and inverse ----


def test_forward_and_perpetual() -> None:
    assert forward(spot=100.0, time=0.0, rate=0.05, carry_yield=0.01) == 100.0
    assert forward(spot=100.0, time=2.0, rate=0.05, carry_yield=0.01) == pytest.approx(
        100.0 * math.exp(0.08)
    )
    assert forward(spot=[1.0, 2.0], time=[[1.0], [2.0]], rate=0.0, carry_yield=0.0).shape == (2, 2)


def test_futures_pnl() -> None:
    assert linear_futures_pnl(entry_price=5000.0, mark_price=5010.0, multiplier=50.0) == 500.0
    coin = inverse_futures_pnl(entry_price=50_000.0, mark_price=40_000.0, face_value=100.0)
    assert coin == pytest.approx(100.0 / 50_000.0 - 100.0 / 40_000.0)
    usd = inverse_futures_pnl_usd(entry_price=50_000.0, mark_price=40_000.0, face_value=100.0)
    assert usd == pytest.approx(coin * 40_000.0)
    assert usd == pytest.approx(-20.0)
    assert inverse_notional(price=50_000.0, face_value=100.0) == pytest.approx(0.002)
    with pytest.raises(InputError):
        inverse_futures_pnl(entry_price=0.0, mark_price=1.0, face_value=1.0)


def test_funding_sign() -> None:
    # positive funding: a long pays, a short receives
    assert funding_payment(funding_rate=1e-4, notional=10_000.0, periods=3) == pytest.approx(3.0)
    assert funding_payment(funding_rate=1e-4, notional=-10_000.0, periods=3) == pytest.approx(-3.0)
    assert funding_payment(funding_rate=-1e-4, notional=10_000.0, periods=1) < 0.0


def test_inverse_option_premium() -> None:
    f, k, t = 40_000.0, 45_000.0, 0.25
    usd = black76(forward=f, strike=k, time=t, rate=0.0, vol=0.6, is_call=True)
    coin = inverse_option_premium(underlying=f, strike=k, time=t, rate=0.0, vol=0.6, is_call=True)
    assert coin == pytest.approx(usd / f)
    assert coin_to_usd(coin=coin, price=f) == pytest.approx(usd)
    assert usd_to_coin(usd=usd, price=f) == pytest.approx(coin)
    # at expiry: the coin pay-off
    assert inverse_option_premium(
        underlying=50_000.0, strike=k, time=0.0, rate=0.0, vol=0.6, is_call=True
    ) == pytest.approx(5_000.0 / 50_000.0)
    with pytest.raises(InputError):
        inverse_option_premium(underlying=0.0, strike=k, time=t, rate=0.0, vol=0.6, is_call=True)
    with pytest.raises(InputError):
        usd_to_coin(usd=1.0, price=-1.0)


# ---------------------------------------------------------------- errors ----


@pytest.mark.parametrize("field", ["spot", "strike"])
def test_negative_prices_raise_input_error(field: str) -> None:
    for fn in (gbsm, *AMERICANS):
        with pytest.raises(InputError, match=field):
            fn(**_kw(**{field: [1.0, -1.0]}))
    with pytest.raises(InputError, match="forward"):
        black76(forward=-1.0, strike=1.0, time=1.0, rate=0.0, vol=0.2, is_call=True)
    with pytest.raises(InputError, match="spot"):
        black_scholes(
            spot="abc", strike=1.0, time=1.0, rate=0.0, dividend=0.0, vol=0.2, is_call=True
        )


# ------------------------------------------------------- bivariate normal ----


def _owen_bvn(a: float, b: float, rho: float) -> float:
    """P(X <= a, Y <= b) through Owen's T function (Owen 1956), for a, b != 0."""
    den = math.sqrt(1.0 - rho * rho)
    beta = 0.0 if a * b > 0 or (a * b == 0 and a + b >= 0) else 0.5
    na = 0.5 * math.erfc(-a / math.sqrt(2.0))
    nb = 0.5 * math.erfc(-b / math.sqrt(2.0))
    return float(
        0.5 * (na + nb)
        - owens_t(a, (b - rho * a) / (a * den))
        - owens_t(b, (a - rho * b) / (b * den))
        - beta
    )


@pytest.mark.parametrize("rho", [_RHO, -_RHO])
def test_bivariate_normal_against_owens_t(rho: float) -> None:
    rng = np.random.default_rng(7)
    a = rng.uniform(-6.0, 6.0, 300)
    b = rng.uniform(-6.0, 6.0, 300)
    got = _bivariate_normal_cdf(a, b, rho)
    want = np.array([_owen_bvn(x, y, rho) for x, y in zip(a, b, strict=True)])
    assert np.max(np.abs(got - want)) < 1e-14


@pytest.mark.parametrize("field", ["spot", "strike", "time", "rate", "carry", "vol"])
def test_nan_inputs_give_nan_without_warnings(field: str) -> None:
    kw = _kw(**{field: [1.0 if field != "rate" else 0.05, float("nan")]})
    for fn in (gbsm, *AMERICANS):
        out = fn(**kw)
        assert np.isfinite(out[0])
        assert np.isnan(out[1])
    g = gbsm_greeks(**kw)
    for name in ("value", "delta", "gamma", "vega", "theta", "rho", "carry_rho"):
        assert np.isnan(getattr(g, name)[1])
