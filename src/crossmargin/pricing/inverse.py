"""Inverse (coin-settled) options as Deribit quotes them, and coin/USD conversions.

A Deribit BTC or ETH option pays the USD intrinsic value converted into coin at the
settlement price, so its premium in coin is the USD Black-76 value divided by the
underlying price. Linear (USDC-settled) options pay USD and are valued with
`crossmargin.pricing.black76` directly, with no conversion.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from crossmargin.core.typing import FloatArray
from crossmargin.pricing._inputs import as_float, check_positive
from crossmargin.pricing.black import black76

__all__ = ["coin_to_usd", "inverse_option_premium", "usd_to_coin"]


def usd_to_coin(*, usd: npt.ArrayLike, price: npt.ArrayLike) -> FloatArray:
    """Convert USD amounts into coin at a price.

    Parameters
    ----------
    usd : array_like
        Amounts in USD.
    price : array_like
        USD per coin (> 0).

    Returns
    -------
    numpy.ndarray
        ``usd / price``, shape of the broadcast inputs.

    Raises
    ------
    InputError
        When a price is not positive.

    Notes
    -----
    :math:`x_{coin} = x_{USD} / F`; `coin_to_usd` is its inverse.

    References
    ----------
    .. [1] Deribit, "Inverse options" contract specifications (premium in the
       underlying coin).
    """
    F = as_float(price, field="price")
    check_positive(F, field="price")
    return np.asarray(as_float(usd, field="usd") / F, dtype=np.float64)


def coin_to_usd(*, coin: npt.ArrayLike, price: npt.ArrayLike) -> FloatArray:
    """Convert coin amounts into USD at a price.

    Parameters
    ----------
    coin : array_like
        Amounts in coin.
    price : array_like
        USD per coin (> 0).

    Returns
    -------
    numpy.ndarray
        ``coin * price``, shape of the broadcast inputs.

    Raises
    ------
    InputError
        When a price is not positive.

    Notes
    -----
    :math:`x_{USD} = x_{coin} F`; `usd_to_coin` is its inverse.

    References
    ----------
    .. [1] Deribit, "Inverse options" contract specifications.
    """
    F = as_float(price, field="price")
    check_positive(F, field="price")
    return np.asarray(as_float(coin, field="coin") * F, dtype=np.float64)


def inverse_option_premium(
    *,
    underlying: npt.ArrayLike,
    strike: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    r"""Premium in coin of one inverse option on one coin, as Deribit quotes it.

    Parameters
    ----------
    underlying : array_like
        Underlying price in USD per coin (> 0): the price of the future (or synthetic
        forward) of the option's expiry, which is both the Black-76 forward and the
        conversion price.
    strike : array_like
        Strike in USD per coin.
    time : array_like
        Years to expiry.
    rate : array_like
        Discount rate (Deribit marks with 0).
    vol : array_like
        Implied volatility.
    is_call : array_like of bool
        True for a call, False for a put.

    Returns
    -------
    numpy.ndarray
        Premium in coin, shape of the broadcast inputs; multiply by the underlying
        price (`coin_to_usd`) for the USD value.

    Raises
    ------
    InputError
        When the underlying price is not positive or the strike is negative.

    Notes
    -----
    .. math:: V_{coin} = V^{\text{Black-76}}_{USD}(F, K, T, r, \sigma) / F.

    At expiry this is the coin pay-off :math:`\max(\phi(F - K), 0)/F`. Edge cases are
    those of `crossmargin.pricing.black76`.

    References
    ----------
    .. [1] Deribit, "Inverse options" contract specifications and mark price
       methodology (Black-76 on the expiry's forward, premium in coin).
    .. [2] F. Black, "The pricing of commodity contracts", Journal of Financial
       Economics 3(1-2), 1976.
    """
    F = as_float(underlying, field="underlying")
    check_positive(F, field="underlying")
    usd = black76(forward=F, strike=strike, time=time, rate=rate, vol=vol, is_call=is_call)
    return np.asarray(usd / F, dtype=np.float64)
