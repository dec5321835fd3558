"""American option values: the Bjerksund-Stensland closed-form approximations.

The 2002 approximation (two flat exercise boundaries) and the 1993 one (a single flat
boundary, what QuantLib's ``BjerksundStenslandApproximationEngine`` computes, which
lets the reference tests check the shared building blocks to machine precision) are
both available. Each values an actual exercise strategy, so each is a lower bound of
the true American value; `american_gbsm` and its wrappers take the larger of the two.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.special import log_ndtr, ndtr

from crossmargin.core.typing import FloatArray
from crossmargin.pricing._inputs import as_bool, as_float, check_nonnegative
from crossmargin.pricing.black import MIN_STD_DEV, gbsm

__all__ = [
    "american_black76",
    "american_black_scholes",
    "american_gbsm",
    "bjerksund_stensland_1993",
    "bjerksund_stensland_2002",
]

# t1 = (sqrt(5) - 1) / 2 * T splits [0, T] into the two periods of the 2002 boundary.
_GOLDEN = 0.5 * (math.sqrt(5.0) - 1.0)
_RHO = math.sqrt(_GOLDEN)  # correlation of ln S at t1 and at T
_MAX_EXPONENT = 700.0  # exp() of anything larger overflows float64
_MIN_BETA_GAP = 1e-12  # beta - 1 floor: beta -> 1 as b -> r, where B_inf -> infinity

# Gauss-Legendre rule on [-1, 1] for the bivariate normal integral: 12 points reach
# 1e-15 at |rho| = 0.786 (checked against 80 points and against Owen's T function).
_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)

CallCore = Callable[
    [FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray], FloatArray
]


def _bivariate_normal_cdf(a: FloatArray, b: FloatArray, rho: float) -> FloatArray:
    r"""``P(X <= a, Y <= b)`` for standard normals with correlation ``rho``.

    Plackett's identity, :math:`M(a, b, \rho) = N(a)N(b) + \frac{1}{2\pi}
    \int_0^{\arcsin\rho} \exp\left(-\frac{a^2 + b^2 - 2ab\sin\theta}
    {2\cos^2\theta}\right) d\theta`, integrated by Gauss-Legendre quadrature as in
    Drezner and Wesolowsky (1990) and Genz (2004). Only ``rho = +-0.786`` (the
    correlation of the 2002 formula) is used; the rule is accurate to about 1e-15
    there (for ``|rho|`` above about 0.9 it would need more care).
    """
    asr = math.asin(rho)
    ab = a * b
    hs = 0.5 * (a * a + b * b)
    total = np.zeros_like(ab)
    term = np.empty_like(ab)
    scratch = np.empty_like(ab)
    for x, w in zip(_GL_X, _GL_W, strict=True):
        sn = math.sin(0.5 * asr * (x + 1.0))
        inv = 1.0 / (1.0 - sn * sn)
        np.multiply(ab, sn * inv, out=term)  # (sn ab - hs) / (1 - sn^2), in place
        np.multiply(hs, inv, out=scratch)
        np.subtract(term, scratch, out=term)
        np.exp(term, out=term)
        np.multiply(term, w, out=term)
        np.add(total, term, out=total)
    value = ndtr(a) * ndtr(b) + total * (asr / (4.0 * math.pi))
    return np.asarray(np.clip(value, 0.0, 1.0), dtype=np.float64)


def _exp_times(log_factor: FloatArray, prob: FloatArray) -> FloatArray:
    """``exp(log_factor) * prob`` without overflow when ``prob`` is tiny (prob >= 0)."""
    positive = prob > 0.0
    with np.errstate(divide="ignore"):
        log_prob = np.log(np.where(positive, prob, 1.0))
    expo = np.minimum(log_factor + log_prob, _MAX_EXPONENT)
    return np.asarray(np.where(positive, np.exp(expo), 0.0), dtype=np.float64)


def _phi(
    S: FloatArray,
    t: FloatArray,
    gamma: FloatArray | float,
    H: FloatArray,
    trig: FloatArray,
    r: FloatArray,
    b: FloatArray,
    v: FloatArray,
    log_scale: FloatArray | float = 0.0,
) -> FloatArray:
    """``exp(log_scale) * phi(S, t, gamma, H, I)`` of Bjerksund-Stensland, in log space.

    ``phi`` is the value of receiving ``S_t**gamma`` at ``t`` if ``S_t <= H`` and ``S``
    has not reached the trigger ``I`` (``trig``) before ``t``.
    """
    v2 = v * v
    sd = v * np.sqrt(t)
    lam = (-r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2) * t
    kappa = 2.0 * b / v2 + (2.0 * gamma - 1.0)
    d = -(np.log(S / H) + (b + (gamma - 0.5) * v2) * t) / sd
    log_i_s = np.log(trig / S)
    base = log_scale + gamma * np.log(S) + lam
    first = np.exp(np.minimum(base + log_ndtr(d), _MAX_EXPONENT))
    second = np.exp(
        np.minimum(base + kappa * log_i_s + log_ndtr(d - 2.0 * log_i_s / sd), _MAX_EXPONENT)
    )
    return np.asarray(first - second, dtype=np.float64)


def _psi(
    S: FloatArray,
    T: FloatArray,
    gamma: FloatArray | float,
    H: FloatArray,
    I2: FloatArray,
    I1: FloatArray,
    t1: FloatArray,
    r: FloatArray,
    b: FloatArray,
    v: FloatArray,
    log_scale: FloatArray | float = 0.0,
) -> FloatArray:
    """``exp(log_scale) * psi(S, T, gamma, H, I2, I1, t1)`` of Bjerksund-Stensland 2002.

    ``psi`` is the value of receiving ``S_T**gamma`` at ``T`` if ``S_T <= H``, ``S`` has
    not reached ``I2`` during ``[0, t1]`` and has not reached ``I1`` during ``[t1, T]``.
    """
    v2 = v * v
    drift = b + (gamma - 0.5) * v2
    sd1 = v * np.sqrt(t1)
    sd = v * np.sqrt(T)
    ln_s = np.log(S)
    ln_h, ln_i1, ln_i2 = np.log(H), np.log(I1), np.log(I2)
    e1 = (ln_s - ln_i1 + drift * t1) / sd1
    e2 = (2.0 * ln_i2 - ln_s - ln_i1 + drift * t1) / sd1
    e3 = (ln_s - ln_i1 - drift * t1) / sd1
    e4 = (2.0 * ln_i2 - ln_s - ln_i1 - drift * t1) / sd1
    f1 = (ln_s - ln_h + drift * T) / sd
    f2 = (2.0 * ln_i2 - ln_s - ln_h + drift * T) / sd
    f3 = (2.0 * ln_i1 - ln_s - ln_h + drift * T) / sd
    f4 = (ln_s + 2.0 * ln_i1 - ln_h - 2.0 * ln_i2 + drift * T) / sd
    lam = (-r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2) * T
    kappa = 2.0 * b / v2 + (2.0 * gamma - 1.0)
    base = log_scale + gamma * ln_s + lam
    return (
        _exp_times(base, _bivariate_normal_cdf(-e1, -f1, _RHO))
        - _exp_times(base + kappa * (ln_i2 - ln_s), _bivariate_normal_cdf(-e2, -f2, _RHO))
        - _exp_times(base + kappa * (ln_i1 - ln_s), _bivariate_normal_cdf(-e3, -f3, -_RHO))
        + _exp_times(base + kappa * (ln_i1 - ln_i2), _bivariate_normal_cdf(-e4, -f4, -_RHO))
    )


def _boundary_limits(
    K: FloatArray, r: FloatArray, b: FloatArray, v: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``beta``, ``B0`` and ``B_inf - B0`` for a call with ``b < r``."""
    v2 = v * v
    beta = (0.5 - b / v2) + np.sqrt((b / v2 - 0.5) ** 2 + 2.0 * r / v2)
    b_inf = beta / np.maximum(beta - 1.0, _MIN_BETA_GAP) * K
    b_zero = np.maximum(K, r / (r - b) * K)
    spread = np.maximum(b_inf - b_zero, 1e-12 * K)
    return beta, b_zero, spread


def _trigger(
    K: FloatArray,
    t: FloatArray,
    b: FloatArray,
    v: FloatArray,
    b_zero: FloatArray,
    spread: FloatArray,
    scale: FloatArray,
) -> FloatArray:
    """Flat trigger ``I = B0 + (B_inf - B0)(1 - exp(h(t)))``, floored at the strike."""
    h = -(b * t + 2.0 * v * np.sqrt(t)) * scale
    trigger = b_zero - spread * np.expm1(np.minimum(h, _MAX_EXPONENT))
    return np.asarray(np.maximum(trigger, K), dtype=np.float64)


def _call_1993(
    S: FloatArray, K: FloatArray, T: FloatArray, r: FloatArray, b: FloatArray, v: FloatArray
) -> FloatArray:
    beta, b_zero, spread = _boundary_limits(K, r, b, v)
    trig = _trigger(K, T, b, v, b_zero, spread, b_zero / spread)
    exercise = np.greater_equal(S, trig)
    spot = S
    S = np.where(exercise, K, S)  # any S below trig keeps the unused formula quiet
    log_alpha = -beta * np.log(trig)
    value = (
        (trig - K) * np.exp(beta * np.log(S / trig))
        - (trig - K) * _phi(S, T, beta, trig, trig, r, b, v, log_alpha)
        + _phi(S, T, 1.0, trig, trig, r, b, v)
        - _phi(S, T, 1.0, K, trig, r, b, v)
        - K * _phi(S, T, 0.0, trig, trig, r, b, v)
        + K * _phi(S, T, 0.0, K, trig, r, b, v)
    )
    return np.asarray(np.where(exercise, spot - K, value), dtype=np.float64)


def _call_2002(
    S: FloatArray, K: FloatArray, T: FloatArray, r: FloatArray, b: FloatArray, v: FloatArray
) -> FloatArray:
    beta, b_zero, spread = _boundary_limits(K, r, b, v)
    scale = K * K / (spread * b_zero)
    t1 = _GOLDEN * T
    I1 = _trigger(K, t1, b, v, b_zero, spread, scale)
    I2 = _trigger(K, T, b, v, b_zero, spread, scale)
    exercise = np.greater_equal(S, I2)
    spot = S
    S = np.where(exercise, K, S)  # any S below I2 keeps the unused formula quiet
    la1 = -beta * np.log(I1)
    la2 = -beta * np.log(I2)
    value = (
        (I2 - K) * np.exp(beta * np.log(S / I2))
        - (I2 - K) * _phi(S, t1, beta, I2, I2, r, b, v, la2)
        + _phi(S, t1, 1.0, I2, I2, r, b, v)
        - _phi(S, t1, 1.0, I1, I2, r, b, v)
        - K * _phi(S, t1, 0.0, I2, I2, r, b, v)
        + K * _phi(S, t1, 0.0, I1, I2, r, b, v)
        + (I1 - K) * _phi(S, t1, beta, I1, I2, r, b, v, la1)
        - (I1 - K) * _psi(S, T, beta, I1, I2, I1, t1, r, b, v, la1)
        + _psi(S, T, 1.0, I1, I2, I1, t1, r, b, v)
        - _psi(S, T, 1.0, K, I2, I1, t1, r, b, v)
        - K * _psi(S, T, 0.0, I1, I2, I1, t1, r, b, v)
        + K * _psi(S, T, 0.0, K, I2, I1, t1, r, b, v)
    )
    return np.asarray(np.where(exercise, spot - K, value), dtype=np.float64)


def _call_best(
    S: FloatArray, K: FloatArray, T: FloatArray, r: FloatArray, b: FloatArray, v: FloatArray
) -> FloatArray:
    return np.asarray(
        np.maximum(_call_2002(S, K, T, r, b, v), _call_1993(S, K, T, r, b, v)), dtype=np.float64
    )


def _deterministic_call(
    S: FloatArray, K: FloatArray, T: FloatArray, r: FloatArray, b: FloatArray
) -> FloatArray:
    """American call at zero volatility: ``max over t in [0, T]`` of the discounted payoff.

    ``f(t) = S e^{(b-r)t} - K e^{-rt}`` has at most one stationary point,
    ``t* = ln(r K / ((r - b) S)) / b``; the maximum is at 0, ``T`` or ``t*``.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = r * K / ((r - b) * S)
        ok = np.isfinite(ratio) & (ratio > 0.0) & (b != 0.0)
        t_star = np.where(ok, np.log(np.where(ok, ratio, 1.0)) / np.where(ok, b, 1.0), 0.0)
        t_star = np.clip(t_star, 0.0, T)

        def f(t: FloatArray) -> FloatArray:
            return np.asarray(S * np.exp((b - r) * t) - K * np.exp(-r * t), dtype=np.float64)

        best = np.maximum(np.maximum(S - K, f(T)), f(t_star))
    return np.asarray(np.maximum(best, 0.0), dtype=np.float64)


def _american(
    core: CallCore,
    *,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    carry: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
    spot_field: str = "spot",
) -> FloatArray:
    S0 = as_float(spot, field=spot_field)
    K0 = as_float(strike, field="strike")
    check_nonnegative(S0, field=spot_field)
    check_nonnegative(K0, field="strike")
    arrays = np.broadcast_arrays(
        S0,
        K0,
        as_float(time, field="time"),
        as_float(rate, field="rate"),
        as_float(carry, field="carry"),
        as_float(vol, field="vol"),
        as_bool(is_call, field="is_call"),
    )
    shape = arrays[0].shape
    S, K, T, r, b, v, call = (np.ravel(a) for a in arrays)
    european = gbsm(spot=S, strike=K, time=T, rate=r, carry=b, vol=v, is_call=call)
    # Put-call transformation: P(S, K, T, r, b, sigma) = C(K, S, T, r - b, -b, sigma).
    S, K, r, b = (
        np.where(call, S, K),
        np.where(call, K, S),
        np.where(call, r, r - b),
        np.where(call, b, -b),
    )
    out: FloatArray = np.maximum(european, S - K)  # the floor; the value where b >= r
    expired = T <= 0.0
    # Below MIN_STD_DEV the zero-volatility value is exact to that order.
    flat = ~expired & ((v * np.sqrt(np.maximum(T, 0.0)) < MIN_STD_DEV) | (S <= 0.0) | (K <= 0.0))
    out[flat] = np.maximum(
        out[flat], _deterministic_call(S[flat], K[flat], T[flat], r[flat], b[flat])
    )
    # otherwise early exercise of the call is never optimal (when r >= 0)
    early = ~expired & ~flat & (b < r)
    if np.any(early):
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            approx = core(S[early], K[early], T[early], r[early], b[early], v[early])
        out[early] = np.maximum(out[early], approx)
    return np.asarray(out.reshape(shape), dtype=np.float64)


def bjerksund_stensland_2002(
    *,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    carry: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    r"""American option value, Bjerksund-Stensland (2002) approximation.

    Parameters
    ----------
    spot, strike, time, rate, carry, vol, is_call : array_like
        As in `crossmargin.pricing.gbsm` (``carry`` is the cost of carry ``b``).

    Returns
    -------
    numpy.ndarray
        Option value per unit of underlying, float64, shape of the broadcast inputs.

    Raises
    ------
    InputError
        When ``spot`` or ``strike`` has a negative element.

    Notes
    -----
    For a call with :math:`b < r` the exercise boundary is flat at :math:`I_2` on
    :math:`[0, t_1]` and at :math:`I_1` on :math:`[t_1, T]`, with
    :math:`t_1 = \tfrac12(\sqrt5 - 1)T`:

    .. math::

        \beta &= \tfrac12 - b/\sigma^2 + \sqrt{(b/\sigma^2 - \tfrac12)^2 + 2r/\sigma^2},
        \quad B_\infty = \frac{\beta}{\beta-1}K,\quad
        B_0 = \max\!\left(K, \frac{r}{r-b}K\right),\\
        h(t) &= -(bt + 2\sigma\sqrt t)\frac{K^2}{(B_\infty - B_0)B_0},\quad
        I(t) = B_0 + (B_\infty - B_0)(1 - e^{h(t)}),\quad
        I_1 = I(t_1),\ I_2 = I(T),\ \alpha_i = (I_i - K) I_i^{-\beta},

    and, for :math:`S < I_2` (otherwise :math:`C = S - K`),

    .. math::

        C = {} & \alpha_2 S^\beta - \alpha_2\varphi(S,t_1,\beta,I_2,I_2)
          + \varphi(S,t_1,1,I_2,I_2) - \varphi(S,t_1,1,I_1,I_2)
          - K\varphi(S,t_1,0,I_2,I_2) + K\varphi(S,t_1,0,I_1,I_2) \\
          & + \alpha_1\varphi(S,t_1,\beta,I_1,I_2)
          - \alpha_1\psi(S,T,\beta,I_1,I_2,I_1,t_1) + \psi(S,T,1,I_1,I_2,I_1,t_1)
          - \psi(S,T,1,K,I_2,I_1,t_1) \\
          & - K\psi(S,T,0,I_1,I_2,I_1,t_1) + K\psi(S,T,0,K,I_2,I_1,t_1),

    where :math:`\varphi` (a knock-out payoff, univariate normal) and :math:`\psi`
    (a two-period knock-out payoff, bivariate normal with correlation
    :math:`\sqrt{t_1/T}`) are as defined in [1]_ and [2]_. :math:`I_1` uses
    :math:`h(t_1)` as stated in [2]_ (some implementations evaluate it at
    :math:`T - t_1`, which gives slightly different values). Puts use the put-call
    transformation :math:`P(S,K,T,r,b,\sigma) = C(K,S,T,r-b,-b,\sigma)`; a call with
    :math:`b \ge r` is worth the European call (early exercise is never optimal when
    :math:`r \ge 0`; with negative rates this is an approximation, floored at the
    intrinsic value). The terms are evaluated in log space (:math:`\alpha S^\beta`
    as :math:`(I - K)(S/I)^\beta`) so that large :math:`\beta` (small volatility,
    negative carry) does not overflow. The bivariate normal distribution uses a
    20-point Gauss-Legendre rule on Plackett's identity (Drezner and Wesolowsky
    1990; Genz 2004).

    Edge cases, element-wise: ``T <= 0`` gives the intrinsic value;
    :math:`\sigma\sqrt{T} < 10^{-10}` (including ``sigma <= 0``), ``S = 0`` or
    ``K = 0`` give the exact zero-volatility value
    :math:`\max_{0 \le t \le T} e^{-rt}\max(\phi(S e^{bt} - K), 0)`. The result is
    floored at the European value (`gbsm`) and at the intrinsic value. A trigger price
    below the strike (which the formula can produce when
    :math:`bT + 2\sigma\sqrt{T} < 0`, where QuantLib refuses to price) is floored at
    the strike, so the formula still values a feasible exercise strategy.

    References
    ----------
    .. [1] P. Bjerksund and G. Stensland, "Closed form valuation of American options",
       Discussion paper, Norwegian School of Economics (NHH), 2002.
    .. [2] E. G. Haug, The Complete Guide to Option Pricing Formulas, 2nd ed.,
       McGraw-Hill, 2007, section 3.3.2.
    .. [3] A. Genz, "Numerical computation of rectangular bivariate and trivariate
       normal and t probabilities", Statistics and Computing 14, 2004.
    """
    return _american(
        _call_2002,
        spot=spot,
        strike=strike,
        time=time,
        rate=rate,
        carry=carry,
        vol=vol,
        is_call=is_call,
    )


def bjerksund_stensland_1993(
    *,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    carry: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    r"""American option value, Bjerksund-Stensland (1993) single-boundary approximation.

    Parameters
    ----------
    spot, strike, time, rate, carry, vol, is_call : array_like
        As in `crossmargin.pricing.gbsm`.

    Returns
    -------
    numpy.ndarray
        Option value per unit of underlying, float64, shape of the broadcast inputs.

    Notes
    -----
    One flat trigger :math:`I = B_0 + (B_\infty - B_0)(1 - e^{h(T)})` with
    :math:`h(T) = -(bT + 2\sigma\sqrt T) B_0 / (B_\infty - B_0)` (:math:`\beta`,
    :math:`B_0`, :math:`B_\infty` as in `bjerksund_stensland_2002`, :math:`\alpha =
    (I-K)I^{-\beta}`); for :math:`S < I`

    .. math::

        C = \alpha S^\beta - \alpha\varphi(S,T,\beta,I,I) + \varphi(S,T,1,I,I)
          - \varphi(S,T,1,K,I) - K\varphi(S,T,0,I,I) + K\varphi(S,T,0,K,I),

    and :math:`C = S - K` otherwise. Puts, :math:`b \ge r` and the edge cases are
    handled as in `bjerksund_stensland_2002`. It is less accurate (lower) than the
    2002 version; it is provided because QuantLib's
    ``BjerksundStenslandApproximationEngine`` implements it.

    Edge cases, element-wise: ``T <= 0`` gives the intrinsic value;
    :math:`\sigma\sqrt{T} < 10^{-10}` (including ``sigma <= 0``), ``S = 0`` or
    ``K = 0`` give the exact zero-volatility value
    :math:`\max_{0 \le t \le T} e^{-rt}\max(\phi(S e^{bt} - K), 0)`. The result is
    floored at the European value (`gbsm`) and at the intrinsic value. A trigger price
    below the strike (which the formula can produce when
    :math:`bT + 2\sigma\sqrt{T} < 0`, where QuantLib refuses to price) is floored at
    the strike, so the formula still values a feasible exercise strategy.

    References
    ----------
    .. [1] P. Bjerksund and G. Stensland, "Closed-form approximation of American
       options", Scandinavian Journal of Management 9, 1993.
    .. [2] E. G. Haug, The Complete Guide to Option Pricing Formulas, 2nd ed.,
       McGraw-Hill, 2007, section 3.3.1.
    """
    return _american(
        _call_1993,
        spot=spot,
        strike=strike,
        time=time,
        rate=rate,
        carry=carry,
        vol=vol,
        is_call=is_call,
    )


def american_gbsm(
    *,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    carry: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    r"""American option value: the larger of the two Bjerksund-Stensland approximations.

    Parameters
    ----------
    spot, strike, time, rate, carry, vol, is_call : array_like
        As in `crossmargin.pricing.gbsm`.

    Returns
    -------
    numpy.ndarray
        Option value per unit of underlying, float64, shape of the broadcast inputs.

    Notes
    -----
    :math:`\max(V_{2002}, V_{1993})` of `bjerksund_stensland_2002` and
    `bjerksund_stensland_1993`. Each values a feasible exercise strategy, so each is a
    lower bound of the American value and so is their maximum. The 2002 value is
    usually the larger, but with a positive cost of carry (where its trigger is
    scaled by :math:`K^2/B_0^2 < 1`) or a large :math:`\sigma\sqrt{T}` the 1993 one
    can be larger by up to a few percent. Costs about 1.25 times the 2002 formula.

    References
    ----------
    .. [1] P. Bjerksund and G. Stensland, "Closed form valuation of American options",
       Discussion paper, NHH, 2002.
    .. [2] P. Bjerksund and G. Stensland, "Closed-form approximation of American
       options", Scandinavian Journal of Management 9, 1993.
    """
    return _american(
        _call_best,
        spot=spot,
        strike=strike,
        time=time,
        rate=rate,
        carry=carry,
        vol=vol,
        is_call=is_call,
    )


def american_black_scholes(
    *,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    dividend: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """American option on a stock or index with a dividend yield (Bjerksund-Stensland).

    Parameters
    ----------
    spot, strike, time, rate, vol, is_call : array_like
        As in `crossmargin.pricing.gbsm`.
    dividend : array_like
        Continuous dividend yield ``q``.

    Returns
    -------
    numpy.ndarray
        Option value per share, float64, shape of the broadcast inputs.

    Notes
    -----
    `american_gbsm` (the larger of the 2002 and 1993 Bjerksund-Stensland values) with
    cost of carry :math:`b = r - q`.

    References
    ----------
    .. [1] P. Bjerksund and G. Stensland, "Closed form valuation of American options",
       Discussion paper, NHH, 2002.
    """
    r = as_float(rate, field="rate")
    q = as_float(dividend, field="dividend")
    return american_gbsm(
        spot=spot, strike=strike, time=time, rate=r, carry=r - q, vol=vol, is_call=is_call
    )


def american_black76(
    *,
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """American option on a futures price (Bjerksund-Stensland with ``b = 0``).

    Parameters
    ----------
    forward : array_like
        Futures price ``F`` (>= 0).
    strike, time, rate, vol, is_call : array_like
        As in `crossmargin.pricing.gbsm`.

    Returns
    -------
    numpy.ndarray
        Option value per unit of underlying, float64, shape of the broadcast inputs.

    Notes
    -----
    `american_gbsm` with :math:`S = F` and :math:`b = 0`; with
    :math:`r > 0` early exercise of both calls and puts on futures can be optimal.

    References
    ----------
    .. [1] P. Bjerksund and G. Stensland, "Closed form valuation of American options",
       Discussion paper, NHH, 2002.
    .. [2] F. Black, "The pricing of commodity contracts", Journal of Financial
       Economics 3(1-2), 1976.
    """
    return _american(
        _call_best,
        spot=forward,
        strike=strike,
        time=time,
        rate=rate,
        carry=0.0,
        vol=vol,
        is_call=is_call,
        spot_field="forward",
    )
