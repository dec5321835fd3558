"""European option values: generalized Black-Scholes-Merton, Black-Scholes, Black-76.

All functions take keyword-only arguments, broadcast them against each other (any
shapes) and return a float64 array of the broadcast shape. Times are in years, rates,
carries and volatilities are annual decimals, continuously compounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from crossmargin.core.typing import BoolArray, FloatArray
from crossmargin.pricing._inputs import as_bool, as_float, check_nonnegative

__all__ = ["black76", "black_scholes", "gbsm"]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# sigma * sqrt(T) below this is priced as zero volatility: the time value that is lost
# is below 0.4 * 1e-10 * S, and d1, d2 would otherwise divide by an underflowing number.
MIN_STD_DEV = 1e-10


@dataclass(frozen=True, slots=True)
class _State:
    """Broadcast inputs and the quantities shared by the value and the Greeks."""

    spot: FloatArray
    strike: FloatArray
    time: FloatArray  # time to expiry, floored at 0
    rate: FloatArray
    carry: FloatArray
    vol: FloatArray
    sign: FloatArray  # +1 call, -1 put
    live: BoolArray  # time > 0
    regular: BoolArray  # live, vol sqrt(T) >= MIN_STD_DEV, spot, strike > 0: closed form
    carry_df: FloatArray  # exp((b - r) T)
    rate_df: FloatArray  # exp(-r T)
    sqrt_t: FloatArray
    d1: FloatArray  # finite placeholders where not regular
    d2: FloatArray
    itm: FloatArray  # 1.0 where sign * (S e^{(b-r)T} - K e^{-rT}) > 0, else 0.0
    nan: BoolArray  # an input is NaN: every output is NaN there


def _state(
    *,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    carry: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
    spot_field: str = "spot",
) -> _State:
    S0 = as_float(spot, field=spot_field)
    K0 = as_float(strike, field="strike")
    check_nonnegative(S0, field=spot_field)
    check_nonnegative(K0, field="strike")
    S, K, T, r, b, v, call = np.broadcast_arrays(
        S0,
        K0,
        as_float(time, field="time"),
        as_float(rate, field="rate"),
        as_float(carry, field="carry"),
        as_float(vol, field="vol"),
        as_bool(is_call, field="is_call"),
    )
    sign = np.where(call, 1.0, -1.0)
    live = T > 0.0
    t = np.where(live, T, 0.0)
    regular = live & (v * np.sqrt(t) >= MIN_STD_DEV) & (S > 0.0) & (K > 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        carry_df = np.exp((b - r) * t)
        rate_df = np.exp(-r * t)
        fwd_intrinsic = sign * (S * carry_df - K * rate_df)
    # Finite placeholders keep the closed form quiet where it does not apply.
    s_ = np.where(regular, S, 1.0)
    k_ = np.where(regular, K, 1.0)
    t_ = np.where(regular, t, 1.0)
    v_ = np.where(regular, v, 1.0)
    b_ = np.where(regular, b, 0.0)
    sqrt_t = np.sqrt(t_)
    sd = v_ * sqrt_t
    d1 = (np.log(s_ / k_) + (b_ + 0.5 * v_ * v_) * t_) / sd
    d2 = d1 - sd
    return _State(
        spot=S,
        strike=K,
        time=t,
        rate=r,
        carry=b,
        vol=v,
        sign=sign,
        live=live,
        regular=regular,
        carry_df=carry_df,
        rate_df=rate_df,
        sqrt_t=np.where(regular, sqrt_t, np.sqrt(t)),
        d1=d1,
        d2=d2,
        itm=np.where(fwd_intrinsic > 0.0, 1.0, 0.0),
        nan=np.isnan(S) | np.isnan(K) | np.isnan(T) | np.isnan(r) | np.isnan(b) | np.isnan(v),
    )


def _value(st: _State) -> FloatArray:
    with np.errstate(over="ignore", invalid="ignore"):
        closed = st.sign * (
            st.spot * st.carry_df * ndtr(st.sign * st.d1)
            - st.strike * st.rate_df * ndtr(st.sign * st.d2)
        )
        limit = st.sign * (st.spot * st.carry_df - st.strike * st.rate_df)
    value = np.maximum(np.where(st.regular, closed, limit), 0.0)
    return np.asarray(np.where(st.nan, np.nan, value), dtype=np.float64)


def gbsm(
    *,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    carry: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    r"""European option value under the generalized Black-Scholes-Merton model.

    Parameters
    ----------
    spot : array_like
        Underlying price ``S`` (>= 0).
    strike : array_like
        Strike ``K`` (>= 0).
    time : array_like
        Time to expiry ``T`` in years; ``T <= 0`` means expired.
    rate : array_like
        Risk-free rate ``r`` (continuously compounded) used to discount.
    carry : array_like
        Cost of carry ``b``: ``r`` for a non-dividend stock, ``r - q`` for a stock or
        index with dividend yield ``q``, ``0`` for a future, ``r - r_f`` for FX.
    vol : array_like
        Volatility ``sigma`` (annual); ``sigma <= 0`` is treated as zero volatility.
    is_call : array_like of bool
        True for a call, False for a put.

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
    With :math:`\phi = +1` for a call and :math:`-1` for a put,

    .. math::

        V = \phi\,[S e^{(b-r)T} N(\phi d_1) - K e^{-rT} N(\phi d_2)],\quad
        d_1 = \frac{\ln(S/K) + (b + \sigma^2/2) T}{\sigma\sqrt{T}},\quad
        d_2 = d_1 - \sigma\sqrt{T}.

    Edge cases are the limits of this formula, evaluated explicitly and element-wise:

    * ``T <= 0``: the intrinsic value :math:`\max(\phi(S - K), 0)`;
    * :math:`\sigma\sqrt{T} < 10^{-10}` (including ``sigma <= 0``), or ``S = 0`` or
      ``K = 0``, with ``T > 0``: the discounted intrinsic value of the forward
      :math:`e^{-rT}\max(\phi(S e^{bT} - K), 0)` (below that standard deviation the
      lost time value is under :math:`0.4 \cdot 10^{-10} S`).

    The result is floored at 0 (rounding can otherwise leave ``-1e-17`` on deep
    out-of-the-money options). It is finite for every finite input whose forward
    :math:`S e^{bT}` and discount factor :math:`e^{-rT}` are representable; NaN
    inputs give NaN.

    References
    ----------
    .. [1] F. Black and M. Scholes, "The pricing of options and corporate liabilities",
       Journal of Political Economy 81(3), 1973.
    .. [2] R. C. Merton, "Theory of rational option pricing", Bell Journal of Economics
       and Management Science 4(1), 1973.
    .. [3] E. G. Haug, The Complete Guide to Option Pricing Formulas, 2nd ed.,
       McGraw-Hill, 2007, section 1.1.6 (generalized Black-Scholes-Merton).
    """
    return _value(
        _state(
            spot=spot, strike=strike, time=time, rate=rate, carry=carry, vol=vol, is_call=is_call
        )
    )


def black_scholes(
    *,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    dividend: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    r"""European option on a stock or index with a continuous dividend yield.

    Parameters
    ----------
    spot, strike, time, rate, vol, is_call : array_like
        As in `gbsm`.
    dividend : array_like
        Continuous dividend yield ``q``.

    Returns
    -------
    numpy.ndarray
        Option value per share, float64, shape of the broadcast inputs.

    Notes
    -----
    `gbsm` with cost of carry :math:`b = r - q` (Merton 1973):

    .. math:: V = \phi\,[S e^{-qT} N(\phi d_1) - K e^{-rT} N(\phi d_2)].

    Same edge cases as `gbsm`.

    References
    ----------
    .. [1] F. Black and M. Scholes, "The pricing of options and corporate liabilities",
       Journal of Political Economy 81(3), 1973.
    .. [2] R. C. Merton, "Theory of rational option pricing", Bell Journal of Economics
       and Management Science 4(1), 1973.
    """
    r = as_float(rate, field="rate")
    q = as_float(dividend, field="dividend")
    return gbsm(spot=spot, strike=strike, time=time, rate=r, carry=r - q, vol=vol, is_call=is_call)


def black76(
    *,
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    r"""European option on a forward or futures price (Black 1976).

    Parameters
    ----------
    forward : array_like
        Forward or futures price ``F`` (>= 0) for the option's expiry.
    strike, time, rate, vol, is_call : array_like
        As in `gbsm`; ``rate`` only discounts the payoff.

    Returns
    -------
    numpy.ndarray
        Option value per unit of underlying, float64, shape of the broadcast inputs.

    Notes
    -----
    `gbsm` with :math:`S = F` and cost of carry :math:`b = 0`:

    .. math::

        V = \phi\, e^{-rT}[F N(\phi d_1) - K N(\phi d_2)],\quad
        d_1 = \frac{\ln(F/K) + \sigma^2 T/2}{\sigma\sqrt{T}}.

    Same edge cases as `gbsm`: ``T <= 0`` gives :math:`\max(\phi(F-K), 0)` and
    ``sigma <= 0`` gives :math:`e^{-rT}\max(\phi(F-K), 0)`.

    References
    ----------
    .. [1] F. Black, "The pricing of commodity contracts", Journal of Financial
       Economics 3(1-2), 1976.
    .. [2] E. G. Haug, The Complete Guide to Option Pricing Formulas, 2nd ed.,
       McGraw-Hill, 2007, section 1.1.3.
    """
    return _value(
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


def _normal_pdf(x: FloatArray) -> FloatArray:
    return np.asarray(_INV_SQRT_2PI * np.exp(-0.5 * x * x), dtype=np.float64)
