"""What standard margin needs to know of each contract, gathered once per instrument.

For every covered instrument: its kind, the currency its margin is computed in (the coin
for inverse contracts, the quote currency for linear ones and spot), how many coins one
unit is, the value of one coin in that currency, and the rates and option inputs the
formulas take. Instruments are few next to positions; positions then gather these rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import partial

import numpy as np

from crossmargin.book.instruments import (
    CryptoSpot,
    Future,
    Instrument,
    Option,
    Perpetual,
    Settlement,
)
from crossmargin.core.errors import InputError
from crossmargin.core.typing import BoolArray, FloatArray, IntArray
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.crypto_standard.conversion import discount_rate, forward_price, price_in
from crossmargin.methods.crypto_standard.params import FuturesRates, OptionRates
from crossmargin.pricing.inverse import inverse_option_premium
from crossmargin.pricing.revalue import year_fraction

__all__ = ["ContractTerms", "Kind", "contract_terms", "mark_or_model"]

#: Shortest time to expiry used to read a volatility surface (a contract expiring today).
_MIN_TIME = 1e-6


class Kind(IntEnum):
    """How standard margin treats a contract."""

    DELTA_ONE = 0  # futures and perpetuals
    OPTION = 1
    SPOT = 2


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ContractTerms:
    """Per-instrument inputs of standard margin, shape (n_instruments,) each.

    Attributes
    ----------
    kind : IntArray
        A :class:`Kind` per instrument.
    currency : tuple of str
        Currency the requirement is computed in: the coin (inverse), else the quote.
    coins : FloatArray
        Coins of underlying per unit held (per contract; face / price for an inverse
        future or perpetual).
    coin_value : FloatArray
        Value of one coin of underlying in ``currency``: 1 for inverse contracts, the
        futures price (or the underlying price for options) for linear ones, the price
        for spot.
    price : FloatArray
        Futures or perpetual price, option underlying price :math:`U`, or spot price,
        in the quote currency.
    initial, maintenance, increase : FloatArray
        Size-scaled futures rates (zero for other kinds).
    strike, mark : FloatArray
        Option strike (quote currency) and mark in coin per coin (zero for others).
    is_call : BoolArray
    initial_rate, initial_floor, maintenance_rate : FloatArray
        The option formula's rates (zero for other kinds).
    """

    kind: IntArray
    currency: tuple[str, ...]
    coins: FloatArray
    coin_value: FloatArray
    price: FloatArray
    initial: FloatArray
    maintenance: FloatArray
    increase: FloatArray
    strike: FloatArray
    mark: FloatArray
    is_call: BoolArray
    initial_rate: FloatArray
    initial_floor: FloatArray
    maintenance_rate: FloatArray


def mark_or_model(mark: float, model: Callable[[], float], label: str) -> float:
    """Return the mark when given (finite), else ``model()``; the price must be positive.

    Raises
    ------
    InputError
        When the price is zero or negative (a delta-one contract is never free).
    """
    price = mark if math.isfinite(mark) else model()
    if not price > 0:
        raise InputError("a futures, perpetual or spot price must be positive",
                         field=f"{label}.mark", value=price)
    return price


def _option_mark_coin(inst: Option, market: MarketSnapshot, underlying: float,
                      mark: float) -> float:
    """Mark in coin per coin: the given mark (quote currency) / U, else the model."""
    if math.isfinite(mark):
        return mark / underlying
    t = max(year_fraction(market.as_of, inst.expiry), _MIN_TIME)
    vol = market.vol_surface(inst.underlying).vol(
        time=np.asarray(t), log_moneyness=np.log(inst.strike / underlying)).item()
    return float(inverse_option_premium(underlying=underlying, strike=inst.strike, time=t,
                                        rate=discount_rate(market, inst.currency), vol=vol,
                                        is_call=inst.is_call))


def contract_terms(instruments: Sequence[Instrument], *, marks: FloatArray,
                   market: MarketSnapshot, futures: Mapping[str, FuturesRates],
                   options: Mapping[str, OptionRates]) -> ContractTerms:
    r"""Gather the standard-margin inputs of each instrument.

    Parameters
    ----------
    instruments : sequence of Instrument, shape (n,)
        Covered instruments only (spot, perpetuals, crypto futures and options).
    marks : FloatArray, shape (n,)
        Price per unit in the instrument's quote currency, NaN where absent.
    market : MarketSnapshot
    futures, options : mapping
        Rates by underlying coin.

    Notes
    -----
    A perpetual's price is its mark, else the underlying's snapshot price; a future's
    its mark, else the forward :math:`P e^{(r-q)T}`. An option's underlying price
    :math:`U` is the forward of its expiry; its mark in coin is the given mark divided
    by :math:`U` (a mark is per unit in the quote currency), else the Black-76 premium
    in coin of `crossmargin.pricing.inverse_option_premium`. An inverse contract of face
    :math:`f` is :math:`f/F` coins; a linear one is its multiplier in coins.

    Raises
    ------
    MissingDataError
        A price, FX rate, interest rate or volatility surface needed is absent.
    InputError
        A contract expired before the valuation date, or a price is not positive.
    """
    n = len(instruments)
    kind = np.zeros(n, dtype=np.int64)
    num = {k: np.zeros(n) for k in ("coins", "coin_value", "price", "initial", "maintenance",
                                   "increase", "strike", "mark", "initial_rate",
                                   "initial_floor", "maintenance_rate")}
    is_call = np.zeros(n, dtype=bool)
    currency: list[str] = []
    for i, inst in enumerate(instruments):
        inverse = getattr(inst, "settlement", None) is Settlement.INVERSE
        currency.append(inst.underlying_symbol if inverse else inst.currency)
        mark = float(marks[i])
        if isinstance(inst, CryptoSpot):
            kind[i] = Kind.SPOT
            price = mark_or_model(mark, partial(price_in, market, symbol=inst.asset,
                                                currency=inst.currency), inst.label)
            num["coins"][i], num["coin_value"][i], num["price"][i] = 1.0, price, price
        elif isinstance(inst, Option):
            kind[i] = Kind.OPTION
            u = forward_price(market, symbol=inst.underlying, currency=inst.currency,
                              expiry=inst.expiry, what=inst.label)
            rates = options[inst.underlying]
            num["coins"][i], num["price"][i], num["strike"][i] = inst.multiplier, u, inst.strike
            num["coin_value"][i] = 1.0 if inverse else u
            num["mark"][i] = _option_mark_coin(inst, market, u, mark)
            is_call[i] = inst.is_call
            num["initial_rate"][i] = rates.initial_rate
            num["initial_floor"][i] = rates.initial_floor
            num["maintenance_rate"][i] = rates.maintenance_rate
        else:
            assert isinstance(inst, Future | Perpetual)
            kind[i] = Kind.DELTA_ONE
            model = (partial(price_in, market, symbol=inst.underlying, currency=inst.currency)
                     if isinstance(inst, Perpetual) else
                     partial(forward_price, market, symbol=inst.underlying,
                             currency=inst.currency, expiry=inst.expiry, what=inst.label))
            price = mark_or_model(mark, model, inst.label)
            rates_f = futures[inst.underlying]
            num["price"][i] = price
            num["coins"][i] = inst.multiplier / price if inverse else inst.multiplier
            num["coin_value"][i] = 1.0 if inverse else price
            num["initial"][i] = rates_f.initial
            num["maintenance"][i] = rates_f.maintenance
            num["increase"][i] = rates_f.increase
    return ContractTerms(kind=kind, currency=tuple(currency), is_call=is_call, **num)
