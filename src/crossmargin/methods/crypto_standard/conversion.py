r"""Explicit currency conversions of crypto margin: coin, quote and reporting currency.

Every amount a venue computes lives in one currency: a coin for inverse (coin-margined)
contracts, the quote stablecoin (USDT, USDC) for linear ones. These helpers give the
prices and rates that move such amounts into another currency, each looked up in the
market snapshot; a missing one raises, it never becomes zero or one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date

from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.pricing.revalue import year_fraction

__all__ = ["discount_rate", "forward_price", "price_in", "reporting_rates"]


def reporting_rates(market: MarketSnapshot, codes: Iterable[str], *, to: str
                    ) -> dict[str, float]:
    """Return units of ``to`` per unit of each distinct currency or coin of ``codes``.

    Raises
    ------
    MissingDataError
        When the snapshot can value a code neither by ``fx`` nor by ``prices``.
    """
    return {code: market.fx_rate(code, to=to) for code in dict.fromkeys(codes)}


def price_in(market: MarketSnapshot, *, symbol: str, currency: str) -> float:
    r"""Return the snapshot price of one ``symbol`` in ``currency``.

    Notes
    -----
    Snapshot prices are in its base currency; :math:`P_c = P_{base}\,X_{base \to c}`
    (for a USDT-quoted contract the USD price divided by the value of one USDT).
    """
    return market.price(symbol) * market.fx_rate(market.base_currency, to=currency)


def discount_rate(market: MarketSnapshot, currency: str) -> float:
    """Return the continuously compounded rate of ``currency`` (a stablecoin's is USD's)."""
    return market.rate("USD" if currency in refdata().stablecoins else currency)


def forward_price(market: MarketSnapshot, *, symbol: str, currency: str, expiry: date,
                  what: str) -> float:
    r"""Return the forward price of ``symbol`` in ``currency`` for delivery on ``expiry``.

    Parameters
    ----------
    market : MarketSnapshot
    symbol : str
        The underlying coin.
    currency : str
        Quote currency; a stablecoin discounts at the USD rate.
    expiry : date
    what : str
        The contract's label, for the error when it has expired.

    Notes
    -----
    :math:`F = P\,e^{(r - q)T}` with :math:`T` in ACT/365 years, :math:`r` the
    currency's rate and :math:`q` the coin's carry yield (zero when the snapshot gives
    none), as the engine's revaluation prices futures.

    Raises
    ------
    InputError
        When the contract expired before the valuation date, or the forward overflows
        (a carry rate and horizon no market has).
    MissingDataError
        When the price, the FX rate or the interest rate is missing.
    """
    t = year_fraction(market.as_of, expiry)
    if t < 0:
        raise InputError(f"{what} expired before the valuation date "
                         f"{market.as_of.isoformat()}", field="expiry",
                         value=expiry.isoformat())
    spot = price_in(market, symbol=symbol, currency=currency)
    rate, carry = discount_rate(market, currency), market.dividend(symbol)
    try:
        forward = spot * math.exp((rate - carry) * t)
    except OverflowError:
        forward = math.inf
    if not math.isfinite(forward) or forward <= 0:
        raise InputError(f"the forward price overflows: rate {rate:g} less carry {carry:g} "
                         f"over {t:g} years", source=market.source, field=what,
                         value=expiry.isoformat())
    return forward
