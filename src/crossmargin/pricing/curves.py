"""Zero curves: bootstrap from a Treasury par-yield curve, interpolate, discount.

A curve is a pair of arrays: ``tenors`` (1-D, years, strictly increasing, shared by
every scenario) and ``zero_rates`` of shape ``(..., n_tenors)`` (continuously
compounded), whose leading axes are scenarios. Shocking the par yields of all
scenarios at once (parallel, twist, key-rate) and bootstrapping gives one zero curve
per scenario, and every bond is revalued on all of them in one call.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray
from crossmargin.pricing._inputs import as_float

__all__ = ["bootstrap_zero_curve", "discount_factors", "zero_rates_at"]

_COUPONS_PER_YEAR = 2
_PERIOD = 1.0 / _COUPONS_PER_YEAR
_NEWTON_TOL = 1e-14
_NEWTON_MAX_ITER = 50
_EPS_TIME = 1e-9  # years (about 0.03 s): tolerance when counting coupon dates


def _check_tenors(tenors: npt.ArrayLike) -> FloatArray:
    t = as_float(tenors, field="tenors")
    if t.ndim != 1 or t.size == 0:
        raise InputError("must be a non-empty 1-D array", field="tenors", value=t.shape)
    if not np.all(np.isfinite(t)) or np.any(t <= 0.0):
        raise InputError("must be finite and positive", field="tenors", value=t.tolist())
    if np.any(np.diff(t) <= 0.0):
        raise InputError("must be strictly increasing", field="tenors", value=t.tolist())
    return t


def _check_curve(tenors: npt.ArrayLike, zero_rates: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    t = _check_tenors(tenors)
    z = as_float(zero_rates, field="zero_rates")
    if z.ndim == 0 or z.shape[-1] != t.size:
        raise InputError(
            f"last axis must have one rate per tenor ({t.size})",
            field="zero_rates",
            value=z.shape,
        )
    return t, z


def zero_rates_at(
    *, tenors: npt.ArrayLike, zero_rates: npt.ArrayLike, times: npt.ArrayLike
) -> FloatArray:
    r"""Zero rates at arbitrary times, linear in the rate, flat outside the nodes.

    Parameters
    ----------
    tenors : array_like, shape (n_tenors,)
        Curve nodes in years, strictly increasing and positive.
    zero_rates : array_like, shape (..., n_tenors)
        Continuously compounded zero rates at the nodes; leading axes are scenarios.
    times : array_like
        Times in years, any shape.

    Returns
    -------
    numpy.ndarray
        Shape ``zero_rates.shape[:-1] + times.shape``.

    Raises
    ------
    InputError
        When the tenors are not strictly increasing and positive, or the last axis of
        ``zero_rates`` does not match them.

    Notes
    -----
    For :math:`T_i \le t \le T_{i+1}`,
    :math:`z(t) = z_i + (z_{i+1} - z_i)(t - T_i)/(T_{i+1} - T_i)`; :math:`z(t) = z_0`
    for :math:`t < T_0` and :math:`z(t) = z_{n-1}` for :math:`t > T_{n-1}` (flat
    extrapolation).

    References
    ----------
    .. [1] P. S. Hagan and G. West, "Interpolation methods for curve construction",
       Applied Mathematical Finance 13(2), 2006 (linear on rates).
    """
    t, z = _check_curve(tenors, zero_rates)
    x = as_float(times, field="times")
    if t.size == 1:
        return np.asarray(z[..., np.zeros(x.shape, dtype=np.intp)], dtype=np.float64)
    lo = np.clip(np.searchsorted(t, x, side="right") - 1, 0, t.size - 2)
    hi = lo + 1
    w = np.clip((x - t[lo]) / (t[hi] - t[lo]), 0.0, 1.0)
    z_lo = z[..., lo]
    return np.asarray(z_lo + w * (z[..., hi] - z_lo), dtype=np.float64)


def discount_factors(
    *, tenors: npt.ArrayLike, zero_rates: npt.ArrayLike, times: npt.ArrayLike
) -> FloatArray:
    r"""Discount factors :math:`e^{-z(t)t}` from a zero curve.

    Parameters
    ----------
    tenors : array_like, shape (n_tenors,)
        Curve nodes in years.
    zero_rates : array_like, shape (..., n_tenors)
        Continuously compounded zero rates; leading axes are scenarios.
    times : array_like
        Payment times in years (>= 0), any shape.

    Returns
    -------
    numpy.ndarray
        Shape ``zero_rates.shape[:-1] + times.shape``.

    Raises
    ------
    InputError
        On a bad curve (see `zero_rates_at`) or a negative time.

    Notes
    -----
    :math:`P(0, t) = \exp(-z(t)\,t)` with :math:`z(t)` from `zero_rates_at` (linear in
    the zero rate, flat extrapolation).

    References
    ----------
    .. [1] J. C. Hull, Options, Futures, and Other Derivatives, 10th ed., Pearson,
       2018, chapter 4.
    """
    x = as_float(times, field="times")
    if np.any(x < 0.0):
        raise InputError("must be non-negative", field="times", value=float(x[x < 0.0].flat[0]))
    zt = zero_rates_at(tenors=tenors, zero_rates=zero_rates, times=x)
    return np.asarray(np.exp(-zt * x), dtype=np.float64)


def bootstrap_zero_curve(*, tenors: npt.ArrayLike, par_yields: npt.ArrayLike) -> FloatArray:
    r"""Bootstrap continuously compounded zero rates from a Treasury par-yield curve.

    Parameters
    ----------
    tenors : array_like, shape (n_tenors,)
        Maturities of the par instruments in years (e.g. 1/12, 0.25, 0.5, 1, 2, 3, 5,
        7, 10, 20, 30), strictly increasing and positive.
    par_yields : array_like, shape (..., n_tenors)
        Par yields as decimals (4.25% is 0.0425), bond-equivalent, semiannual;
        leading axes are scenarios.

    Returns
    -------
    numpy.ndarray
        Zero rates at ``tenors``, shape of ``par_yields``; use them with
        `discount_factors` / `zero_rates_at`.

    Raises
    ------
    InputError
        On bad tenors, a shape mismatch, a non-finite yield, or yields so extreme
        that a discount factor cannot be solved for.

    Notes
    -----
    Each node is solved in turn, so that the curve (linear in zero rate between
    nodes, flat before the first) reprices its par instrument exactly:

    * a tenor :math:`T \le 1/2` is a bill quoted as a simple bond-equivalent yield
      :math:`y`: :math:`P(0,T) = 1/(1 + yT)`, so :math:`z = \ln(1 + yT)/T`;
    * a longer tenor is a bond with semiannual coupon :math:`y/2` paid at
      :math:`t_k = T - k/2 > 0` priced at par (clean price 1):
      :math:`\sum_k \tfrac{y}{2} P(0,t_k) + P(0,T) = 1 + AI`, with accrued interest
      :math:`AI = \tfrac{y}{2}(1 - 2t_{\min})` (zero when :math:`T` is a multiple of
      half a year). Coupon dates after the previous node depend on the unknown node
      rate through the interpolation; the equation is solved by Newton's method
      (analytic derivative), vectorised over scenarios, to :math:`10^{-14}`.

    Times are year fractions on a regular half-year grid; Treasury's own curve uses
    actual/actual day counts, which shifts coupon times by up to a few days.

    References
    ----------
    .. [1] U.S. Department of the Treasury, "Treasury Yield Curve Methodology"
       (par yields, bond-equivalent basis).
    .. [2] P. S. Hagan and G. West, "Interpolation methods for curve construction",
       Applied Mathematical Finance 13(2), 2006 (bootstrapping).
    .. [3] J. C. Hull, Options, Futures, and Other Derivatives, 10th ed., Pearson,
       2018, section 4.7 (bootstrap of the zero curve).
    """
    t = _check_tenors(tenors)
    y = as_float(par_yields, field="par_yields")
    if y.ndim == 0 or y.shape[-1] != t.size:
        raise InputError(
            f"last axis must have one yield per tenor ({t.size})", field="par_yields", value=y.shape
        )
    if not np.all(np.isfinite(y)):
        raise InputError("must be finite", field="par_yields", value=y[~np.isfinite(y)].tolist())
    z = np.empty_like(y)
    for n, tenor in enumerate(t):
        yn = y[..., n]
        if tenor <= _PERIOD + _EPS_TIME:
            growth = 1.0 + yn * tenor
            if np.any(growth <= 0.0):
                raise InputError(
                    "bill yield implies a non-positive price",
                    field="par_yields",
                    value=float(np.min(yn)),
                )
            z[..., n] = np.log(growth) / tenor
            continue
        z[..., n] = _solve_node(t, z, n, yn)
    return z


def _solve_node(t: FloatArray, z: FloatArray, n: int, yn: FloatArray) -> FloatArray:
    """Newton solve for the zero rate at node ``n`` given nodes ``0..n-1``."""
    tenor = float(t[n])
    count = math.ceil(tenor * _COUPONS_PER_YEAR - _EPS_TIME)
    pay = tenor - _PERIOD * np.arange(count)  # coupon times, descending, all > 0
    first = float(pay[-1])
    accrued = 0.5 * yn * (1.0 - first / _PERIOD)
    target = 1.0 + accrued
    prev = float(t[n - 1]) if n > 0 else 0.0
    # Coupon times on or before the previous node: interpolate the solved nodes.
    known = pay <= prev
    if np.any(known):
        df_known = discount_factors(tenors=t[:n], zero_rates=z[..., :n], times=pay[known])
        fixed = 0.5 * yn * np.sum(df_known, axis=-1)
    else:
        fixed = np.zeros_like(yn)
    times = pay[~known]
    # Weight of the unknown node rate in z(t) for t in (prev, tenor].
    weight = (times - prev) / (tenor - prev) if n > 0 else np.ones_like(times)
    z_prev = z[..., n - 1 : n] if n > 0 else np.zeros((*yn.shape, 1))
    amounts = np.zeros_like(times)
    amounts[0] = 1.0  # times descend from the maturity, which repays the principal
    guess = np.log1p(0.5 * yn) * _COUPONS_PER_YEAR if n == 0 else z[..., n - 1].copy()
    zn = np.asarray(guess, dtype=np.float64)
    step = np.full_like(zn, np.inf)
    # A par yield no discount factor can meet (coupons already worth more than par)
    # drives z to infinity; numpy stays quiet and the check below reports it.
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        for _ in range(_NEWTON_MAX_ITER):
            zt = z_prev * (1.0 - weight) + zn[..., np.newaxis] * weight
            df = np.exp(-zt * times)
            cash = 0.5 * yn[..., np.newaxis] + amounts
            f = fixed + np.sum(cash * df, axis=-1) - target
            fprime = -np.sum(cash * df * times * weight, axis=-1)
            step = f / fprime
            zn = np.asarray(zn - step, dtype=np.float64)
            if np.all(np.abs(step) < _NEWTON_TOL):
                return zn
    converged = np.isfinite(zn) & (np.abs(step) <= 1e-10)
    if not np.all(converged):
        raise InputError(
            f"no zero rate reprices the {tenor:g}-year par bond (par yields too extreme "
            "or inconsistent with the shorter tenors)",
            field="par_yields",
            value=np.asarray(yn)[~converged].tolist(),
        )
    return zn
