"""Futures and perpetual swaps: cost-of-carry price, linear and inverse P&L, funding.

A perpetual swap is treated as a future with zero time to expiry: its fair mark is the
index (``forward(spot=index, time=0, ...)`` returns the index), and holding it accrues
funding (`funding_payment`) instead of converging at expiry.

Every function takes keyword-only arguments, broadcasts them (any shapes) and returns
float64 arrays. P&L is per contract held long; multiply by a signed quantity (negative
for short) to get a position's P&L.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from crossmargin.core.typing import FloatArray
from crossmargin.pricing._inputs import as_float, check_positive

__all__ = [
    "forward",
    "funding_payment",
    "inverse_futures_pnl",
    "inverse_futures_pnl_usd",
    "inverse_notional",
    "linear_futures_pnl",
]


def forward(
    *,
    spot: npt.ArrayLike,
    time: npt.ArrayLike,
    rate: npt.ArrayLike,
    carry_yield: npt.ArrayLike,
) -> FloatArray:
    """Cost-of-carry forward or futures price.

    Parameters
    ----------
    spot : array_like
        Spot or index price ``S``.
    time : array_like
        Years to delivery ``T`` (0 for a perpetual or spot).
    rate : array_like
        Financing rate ``r``, continuously compounded.
    carry_yield : array_like
        Yield earned by holding the asset ``q`` (dividend yield, foreign rate,
        convenience yield net of storage), continuously compounded.

    Returns
    -------
    numpy.ndarray
        :math:`F = S e^{(r - q)T}`, shape of the broadcast inputs.

    Notes
    -----
    The no-arbitrage price of a forward with deterministic rates, which equals the
    futures price when rates are deterministic (Cox, Ingersoll and Ross 1981). A
    ``time`` of 0 (a perpetual swap) returns the spot/index price.

    References
    ----------
    .. [1] J. C. Hull, Options, Futures, and Other Derivatives, 10th ed., Pearson,
       2018, chapter 5.
    .. [2] J. C. Cox, J. E. Ingersoll and S. A. Ross, "The relation between forward
       prices and futures prices", Journal of Financial Economics 9(4), 1981.
    """
    S = as_float(spot, field="spot")
    T = as_float(time, field="time")
    r = as_float(rate, field="rate")
    q = as_float(carry_yield, field="carry_yield")
    return np.asarray(S * np.exp((r - q) * T), dtype=np.float64)


def linear_futures_pnl(
    *,
    entry_price: npt.ArrayLike,
    mark_price: npt.ArrayLike,
    multiplier: npt.ArrayLike,
) -> FloatArray:
    """P&L of one long linear contract, in the quote currency.

    Parameters
    ----------
    entry_price : array_like
        Price the contract was entered (or last marked) at, ``F0``.
    mark_price : array_like
        New price ``F1``.
    multiplier : array_like
        Units of underlying per contract (e.g. 50 for E-mini S&P 500, 1 for a USDT
        perpetual quoted per coin).

    Returns
    -------
    numpy.ndarray
        :math:`m (F_1 - F_0)`, shape of the broadcast inputs.

    Notes
    -----
    Linear (quote-margined, e.g. USD or USDT) contracts pay the price change times
    the multiplier; variation margin is exactly this amount.

    References
    ----------
    .. [1] J. C. Hull, Options, Futures, and Other Derivatives, 10th ed., Pearson,
       2018, chapter 2.
    """
    F0 = as_float(entry_price, field="entry_price")
    F1 = as_float(mark_price, field="mark_price")
    m = as_float(multiplier, field="multiplier")
    return np.asarray(m * (F1 - F0), dtype=np.float64)


def inverse_futures_pnl(
    *,
    entry_price: npt.ArrayLike,
    mark_price: npt.ArrayLike,
    face_value: npt.ArrayLike,
) -> FloatArray:
    """P&L of one long inverse (coin-margined) contract, in coin.

    Parameters
    ----------
    entry_price : array_like
        Entry price ``F0`` in USD per coin (> 0).
    mark_price : array_like
        Mark price ``F1`` in USD per coin (> 0).
    face_value : array_like
        Contract face value in USD (e.g. 100 for a Deribit BTC future, 1 for a BitMEX
        XBTUSD contract).

    Returns
    -------
    numpy.ndarray
        :math:`N (1/F_0 - 1/F_1)` coins, shape of the broadcast inputs.

    Raises
    ------
    InputError
        When a price is not positive.

    Notes
    -----
    An inverse contract is worth :math:`N / F` coins at price :math:`F`; a long
    gains coins when the price rises. The P&L is convex in coin terms (and linear in
    USD terms when converted at the new mark, see `inverse_futures_pnl_usd`).

    References
    ----------
    .. [1] Deribit, "Inverse futures" contract specifications (face value in USD,
       P&L in the underlying coin); BitMEX, "Inverse contracts" guide.
    .. [2] C. Alexander, J. Choi, H. Park and S. Sohn, "BitMEX bitcoin derivatives:
       price discovery, informational efficiency, and hedging effectiveness", Journal
       of Futures Markets 40(1), 2020 (inverse contract pay-off).
    """
    F0 = as_float(entry_price, field="entry_price")
    F1 = as_float(mark_price, field="mark_price")
    N = as_float(face_value, field="face_value")
    check_positive(F0, field="entry_price")
    check_positive(F1, field="mark_price")
    return np.asarray(N * (1.0 / F0 - 1.0 / F1), dtype=np.float64)


def inverse_futures_pnl_usd(
    *,
    entry_price: npt.ArrayLike,
    mark_price: npt.ArrayLike,
    face_value: npt.ArrayLike,
) -> FloatArray:
    """P&L of one long inverse contract, converted to USD at the new mark price.

    Parameters
    ----------
    entry_price, mark_price, face_value : array_like
        As in `inverse_futures_pnl`.

    Returns
    -------
    numpy.ndarray
        :math:`N (1/F_0 - 1/F_1) F_1 = N (F_1/F_0 - 1)` USD, shape of the broadcast
        inputs.

    Notes
    -----
    The coin P&L is converted at the mark price :math:`F_1` (the price at which the
    coins are valued when the P&L is realised), not at the entry price. Note that a
    coin-margined account's collateral moves with the coin price too; this function
    values only the contract's P&L.

    References
    ----------
    .. [1] Deribit, "Inverse futures" contract specifications.
    """
    coin = inverse_futures_pnl(
        entry_price=entry_price, mark_price=mark_price, face_value=face_value
    )
    return np.asarray(coin * as_float(mark_price, field="mark_price"), dtype=np.float64)


def inverse_notional(*, price: npt.ArrayLike, face_value: npt.ArrayLike) -> FloatArray:
    """Value in coin of one inverse contract at a price.

    Parameters
    ----------
    price : array_like
        USD per coin (> 0).
    face_value : array_like
        Contract face value in USD.

    Returns
    -------
    numpy.ndarray
        :math:`N / F` coins, shape of the broadcast inputs.

    Raises
    ------
    InputError
        When a price is not positive.

    Notes
    -----
    The coin notional on which exchange margin rates and funding are charged.

    References
    ----------
    .. [1] Deribit, "Inverse futures" contract specifications.
    """
    F = as_float(price, field="price")
    check_positive(F, field="price")
    return np.asarray(as_float(face_value, field="face_value") / F, dtype=np.float64)


def funding_payment(
    *,
    funding_rate: npt.ArrayLike,
    notional: npt.ArrayLike,
    periods: npt.ArrayLike,
) -> FloatArray:
    r"""Funding paid by a perpetual-swap position over a number of funding periods.

    Parameters
    ----------
    funding_rate : array_like
        Funding rate per period (e.g. 0.0001 for 0.01% per 8 hours).
    notional : array_like
        Signed position notional, positive long (in quote currency for a linear
        perpetual, in coin for an inverse one, e.g. from `inverse_notional`).
    periods : array_like
        Number of funding periods (may be fractional for continuous accrual).

    Returns
    -------
    numpy.ndarray
        :math:`f \times N \times n`: the amount the holder pays, in the notional's
        currency; negative means the holder receives. The holder's cash flow is
        minus this.

    Notes
    -----
    With a positive funding rate longs pay shorts, and with a negative one shorts pay
    longs; the rate is held constant over the periods (no compounding).

    References
    ----------
    .. [1] BitMEX, "Perpetual contracts guide" (funding); Deribit, "Perpetual"
       contract specifications.
    """
    f = as_float(funding_rate, field="funding_rate")
    N = as_float(notional, field="notional")
    n = as_float(periods, field="periods")
    return np.asarray(f * N * n, dtype=np.float64)
