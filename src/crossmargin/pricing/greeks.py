"""Analytic sensitivities of the European formulas in `crossmargin.pricing.black`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from crossmargin.core.typing import FloatArray
from crossmargin.pricing._inputs import as_float
from crossmargin.pricing.black import _INV_SQRT_2PI, _normal_pdf, _State, _state, _value

__all__ = ["Greeks", "black76_greeks", "black_scholes_greeks", "gbsm_greeks"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Greeks:
    """Value and first-order sensitivities of an option, per unit of underlying.

    Every field is a float64 array of the broadcast input shape. Units: ``vega`` per
    1.00 of volatility (divide by 100 for one vol point), ``theta`` per year of
    calendar time (``-dV/dT``; divide by 365 for one day), ``rho`` and ``carry_rho``
    per 1.00 of rate (divide by 10,000 for one basis point).

    Attributes
    ----------
    value : numpy.ndarray
        Option value.
    delta : numpy.ndarray
        ``dV/dS`` (``dV/dF`` for Black-76).
    gamma : numpy.ndarray
        ``d2V/dS2``.
    vega : numpy.ndarray
        ``dV/dsigma``.
    theta : numpy.ndarray
        ``-dV/dT``: change of value as calendar time passes, other inputs fixed.
    rho : numpy.ndarray
        ``dV/dr`` holding the function's other arguments fixed.
    carry_rho : numpy.ndarray
        ``dV/db`` with ``r`` fixed (for Black-Scholes, minus the dividend rho).
    """

    value: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    rho: FloatArray
    carry_rho: FloatArray


def gbsm_greeks(
    *,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    carry: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> Greeks:
    r"""Analytic Greeks of `crossmargin.pricing.gbsm`.

    Parameters
    ----------
    spot, strike, time, rate, carry, vol, is_call : array_like
        As in `crossmargin.pricing.gbsm`.

    Returns
    -------
    Greeks
        Value and sensitivities; ``rho`` holds the cost of carry ``b`` fixed.

    Notes
    -----
    With :math:`\phi = \pm 1`, :math:`n` the standard normal density and
    :math:`d_{1,2}` as in `gbsm`:

    .. math::

        \Delta &= \phi e^{(b-r)T} N(\phi d_1), \qquad
        \Gamma = \frac{e^{(b-r)T} n(d_1)}{S \sigma \sqrt{T}}, \qquad
        \mathcal{V} = S e^{(b-r)T} n(d_1) \sqrt{T},\\
        \Theta &= -\frac{S e^{(b-r)T} n(d_1) \sigma}{2\sqrt{T}}
            - \phi (b - r) S e^{(b-r)T} N(\phi d_1) - \phi r K e^{-rT} N(\phi d_2),\\
        \rho &= \partial V/\partial r\,|_b = -T V, \qquad
        \rho_b = \partial V/\partial b = \phi T S e^{(b-r)T} N(\phi d_1).

    Edge cases follow the limits of the value's edge cases: with ``T > 0`` and
    :math:`\sigma\sqrt{T} < 10^{-10}` (or ``S = 0``, ``K = 0``),
    :math:`N(\phi d_{1,2})` is replaced by the indicator that the forward is in the
    money and :math:`n(d_1)` by 0, so gamma is 0 (the kink at the forward is not
    differentiable) and vega is 0 except at the money forward (to 1e-12 relative),
    where it is the one-sided limit :math:`S e^{(b-r)T}\sqrt{T}/\sqrt{2\pi}`. With
    ``T <= 0`` delta is :math:`\phi` in the money and 0 otherwise, and every other
    sensitivity is 0.

    References
    ----------
    .. [1] E. G. Haug, The Complete Guide to Option Pricing Formulas, 2nd ed.,
       McGraw-Hill, 2007, section 2.1 (Greeks of the generalized Black-Scholes-Merton
       formula).
    .. [2] J. C. Hull, Options, Futures, and Other Derivatives, 10th ed., Pearson,
       2018, chapter 19.
    """
    return _greeks(
        _state(
            spot=spot, strike=strike, time=time, rate=rate, carry=carry, vol=vol, is_call=is_call
        )
    )


def _greeks(st: _State) -> Greeks:
    value = _value(st)
    S, K, T, r, b, v, sign = st.spot, st.strike, st.time, st.rate, st.carry, st.vol, st.sign
    with np.errstate(over="ignore", invalid="ignore"):
        n1 = np.where(st.regular, _normal_pdf(st.d1), 0.0)
        p1 = np.where(st.regular, ndtr(sign * st.d1), st.itm)
        p2 = np.where(st.regular, ndtr(sign * st.d2), st.itm)
        fwd_spot = S * st.carry_df  # S e^{(b-r)T}
        sd = np.where(st.regular, v * st.sqrt_t, 1.0)
        s_safe = np.where(st.regular, S, 1.0)
        t_safe = np.where(st.regular, T, 1.0)
        delta = sign * st.carry_df * p1
        gamma = np.where(st.regular, st.carry_df * n1 / (s_safe * sd), 0.0)
        atm_zero_vol = (
            st.live
            & ~st.regular
            & (S > 0.0)
            & np.isclose(fwd_spot, K * st.rate_df, rtol=1e-12, atol=0.0)
        )
        vega = np.where(
            st.regular,
            fwd_spot * n1 * st.sqrt_t,
            np.where(atm_zero_vol, fwd_spot * st.sqrt_t * _INV_SQRT_2PI, 0.0),
        )
        decay = np.where(st.regular, fwd_spot * n1 * v / (2.0 * np.sqrt(t_safe)), 0.0)
        theta = -decay - sign * (b - r) * fwd_spot * p1 - sign * r * K * st.rate_df * p2
        theta = np.where(st.live, theta, 0.0)
        rho = -T * value
        carry_rho = sign * T * fwd_spot * p1

    def out(x: FloatArray) -> FloatArray:
        return np.asarray(np.where(st.nan, np.nan, x), dtype=np.float64)

    return Greeks(
        value=value,
        delta=out(delta),
        gamma=out(gamma),
        vega=out(vega),
        theta=out(theta),
        rho=out(rho),
        carry_rho=out(carry_rho),
    )


def black_scholes_greeks(
    *,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    dividend: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> Greeks:
    r"""Analytic Greeks of `crossmargin.pricing.black_scholes`.

    Parameters
    ----------
    spot, strike, time, rate, dividend, vol, is_call : array_like
        As in `crossmargin.pricing.black_scholes`.

    Returns
    -------
    Greeks
        Value and sensitivities; ``rho`` holds the dividend yield ``q`` fixed and
        ``carry_rho`` is minus the dividend rho ``dV/dq``.

    Notes
    -----
    `gbsm_greeks` with :math:`b = r - q`; moving ``r`` with ``q`` fixed moves ``b``
    too, so :math:`\rho = \rho|_b + \rho_b = \phi T K e^{-rT} N(\phi d_2)`.

    References
    ----------
    .. [1] J. C. Hull, Options, Futures, and Other Derivatives, 10th ed., Pearson,
       2018, chapter 19.
    """
    r = as_float(rate, field="rate")
    q = as_float(dividend, field="dividend")
    g = gbsm_greeks(
        spot=spot, strike=strike, time=time, rate=r, carry=r - q, vol=vol, is_call=is_call
    )
    return Greeks(
        value=g.value,
        delta=g.delta,
        gamma=g.gamma,
        vega=g.vega,
        theta=g.theta,
        rho=g.rho + g.carry_rho,
        carry_rho=g.carry_rho,
    )


def black76_greeks(
    *,
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> Greeks:
    r"""Analytic Greeks of `crossmargin.pricing.black76`.

    Parameters
    ----------
    forward, strike, time, rate, vol, is_call : array_like
        As in `crossmargin.pricing.black76`.

    Returns
    -------
    Greeks
        Value and sensitivities with respect to the forward: ``delta`` is
        :math:`\phi e^{-rT} N(\phi d_1)`, ``theta`` holds the forward fixed and ``rho``
        is :math:`-T V` (the forward fixed, only discounting moves).

    Notes
    -----
    `gbsm_greeks` with :math:`S = F` and :math:`b = 0`.

    References
    ----------
    .. [1] F. Black, "The pricing of commodity contracts", Journal of Financial
       Economics 3(1-2), 1976.
    .. [2] E. G. Haug, The Complete Guide to Option Pricing Formulas, 2nd ed.,
       McGraw-Hill, 2007, section 2.1.
    """
    return _greeks(
        _state(
            spot=forward,
            strike=strike,
            time=time,
            rate=rate,
            carry=0.0,
            vol=vol,
            is_call=is_call,
            spot_field="forward",
        )
    )
