r"""The published standard-margin formulas of a crypto derivatives venue, vectorised.

Both formulas work per unit of the underlying coin and know nothing of accounts: the
method multiplies them by position sizes and converts the result into the reporting
currency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossmargin.core.typing import BoolArray, FloatArray

__all__ = ["ShortOptionMargin", "short_option_margin", "size_scaled_rate"]


def size_scaled_rate(*, base: FloatArray, increase: FloatArray, size: FloatArray) -> FloatArray:
    r"""Return a futures margin rate that grows linearly with the position size.

    Parameters
    ----------
    base : FloatArray, shape (n,)
        Rate of an infinitesimal position (0.02 for 2%).
    increase : FloatArray, shape (n,)
        Rate added per coin of position (0.00005 for 0.005% per BTC).
    size : FloatArray, shape (n,)
        Absolute position size in the underlying coin (BTC for BTC contracts).

    Returns
    -------
    FloatArray, shape (n,)
        The margin rate, a fraction of the position's notional.

    Notes
    -----
    .. math:: r(s) = r_0 + k\,|s| .

    The requirement :math:`|s|\,r(s)` is quadratic in the size: twice the position costs
    more than twice the margin.

    References
    ----------
    .. [1] Deribit, "11 January 2022" margin change (standard margin: BTC initial
       2% + size x 0.005%, maintenance 1% + size x 0.005%; ETH 0.0004% per ETH).
    .. [2] Deribit, "Linear Perpetual" help article, standard margin IM & MM examples.
    """
    out: FloatArray = base + increase * np.abs(size)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ShortOptionMargin:
    """Initial and maintenance margin of one short option, in coin per coin.

    Attributes
    ----------
    initial, maintenance : FloatArray, shape (n,)
    """

    initial: FloatArray
    maintenance: FloatArray


def short_option_margin(
    *,
    underlying: FloatArray,
    strike: FloatArray,
    mark: FloatArray,
    is_call: BoolArray,
    initial_rate: FloatArray,
    initial_floor: FloatArray,
    maintenance_rate: FloatArray,
) -> ShortOptionMargin:
    r"""Return the standard margin of a short option on one coin, in coin (with premium).

    Parameters
    ----------
    underlying : FloatArray, shape (n,)
        Underlying mark price :math:`U` (quote currency per coin).
    strike : FloatArray, shape (n,)
        Strike :math:`K` in the same currency.
    mark : FloatArray, shape (n,)
        Option mark :math:`m` in coin per coin of underlying.
    is_call : BoolArray, shape (n,)
    initial_rate, initial_floor, maintenance_rate : FloatArray, shape (n,)
        :math:`a` (0.15), :math:`b` (0.10) and :math:`c` (0.075) of the formula.

    Returns
    -------
    ShortOptionMargin

    Notes
    -----
    With the out-of-the-money amount :math:`o = \max(K - U, 0)` for a call and
    :math:`\max(U - K, 0)` for a put,

    .. math::
        IM_{call} &= \max(a - o/U,\ b) + m, \qquad MM_{call} = c + m, \\
        MM_{put} &= \max(c,\ c\,m) + m, \qquad
        IM_{put} = \max\big(\max(a - o/U,\ b) + m,\ MM_{put}\big).

    The put's maintenance floor :math:`c\,m` binds only when the mark exceeds one coin
    (a deep in-the-money inverse put).

    References
    ----------
    .. [1] Deribit, standard margin for options (knowledge base: short call initial
       margin max(0.15 - OTM amount / underlying mark price, 0.1) + mark price,
       maintenance 0.075 + mark price; short put alike with the floors above).
    .. [2] Bit.com, "Margin Rules for USD Margined Options" (the same rates for BTC and
       ETH options, in USD).
    """
    otm = np.where(is_call, np.maximum(strike - underlying, 0.0),
                   np.maximum(underlying - strike, 0.0))
    initial = np.maximum(initial_rate - otm / underlying, initial_floor) + mark
    maintenance = np.where(is_call, maintenance_rate,
                           np.maximum(maintenance_rate, maintenance_rate * mark)) + mark
    initial = np.where(is_call, initial, np.maximum(initial, maintenance))
    return ShortOptionMargin(initial=initial, maintenance=maintenance)
