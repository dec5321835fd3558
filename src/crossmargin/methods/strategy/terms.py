"""Terms and values of the instruments the strategy method margins, as arrays.

One entry per instrument of the book (stocks, ETFs and listed equity or index options):
the contract terms the strategy templates compare, and the values the rules take a
percentage of, all in the book's reporting currency.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import numpy as np

from crossmargin.book.book import Book
from crossmargin.book.instruments import AssetClass, Equity, Instrument, Option
from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError
from crossmargin.core.typing import BoolArray, FloatArray, IntArray
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.strategy.rules import OptionRule
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet

__all__ = ["InstrumentTerms", "covers", "instrument_terms"]

#: Asset classes of the options the method margins (listed equity and index options).
_OPTION_CLASSES = (AssetClass.EQUITY, AssetClass.EQUITY_INDEX)


def covers(inst: Instrument) -> bool:
    """Return whether the strategy method margins ``inst`` (stock, ETF, equity option)."""
    return isinstance(inst, Equity) or (isinstance(inst, Option)
                                        and inst.asset_class in _OPTION_CLASSES)


def add_months(day: date, months: int) -> date:
    """Return ``day`` plus ``months`` calendar months (clipped to the month's end)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class InstrumentTerms:
    """Terms and values of a book's instruments (one entry per instrument).

    Attributes
    ----------
    is_stock : BoolArray, shape (n,)
    is_call : BoolArray, shape (n,)
        False for stock.
    strike : FloatArray, shape (n,)
        Exercise price per share in the reporting currency (zero for stock).
    expiry : IntArray, shape (n,)
        Proleptic ordinal of the expiry date (zero for stock).
    multiplier : FloatArray, shape (n,)
        Shares per contract (one for stock).
    value : FloatArray, shape (n,)
        Value of one unit (a share, or a contract) in the reporting currency: the mark
        the book gives, else the market price (stock) or the model price (options).
    spot : FloatArray, shape (n,)
        Price per share of the underlying in the reporting currency (a stock's own value).
    underlying : IntArray, shape (n,)
        Index into ``underlying_names``.
    underlying_names : tuple of str
    currency : IntArray, shape (n,)
        Index of the instrument's currency: the legs of one strategy share it.
    pct : FloatArray, shape (n,)
        Uncovered-writer percentage of the underlying's product class (zero for stock).
    marginable : BoolArray, shape (n,)
        Options with more than the marginable months to expiry.
    """

    is_stock: BoolArray
    is_call: BoolArray
    strike: FloatArray
    expiry: IntArray
    multiplier: FloatArray
    value: FloatArray
    spot: FloatArray
    underlying: IntArray
    underlying_names: tuple[str, ...]
    currency: IntArray
    pct: FloatArray
    marginable: BoolArray

    def take(self, index: IntArray) -> InstrumentTerms:
        """Return the terms of instruments ``index`` (one entry per index)."""
        arrays = {name: getattr(self, name)[index] for name in self.__dataclass_fields__
                  if name != "underlying_names"}
        return InstrumentTerms(underlying_names=self.underlying_names, **arrays)


def _pct(rule: OptionRule, underlying: str, source: str) -> float:
    product_class = refdata().product_class_of(underlying).value
    try:
        return rule.underlying_pct[product_class]
    except KeyError:
        raise InputError(f"no uncovered-writer rate for {underlying}'s product class",
                         source=source, field=f"options.underlying_pct.{product_class}"
                         ) from None


def instrument_terms(*, book: Book, market: MarketSnapshot, rule: OptionRule,
                     source: str) -> InstrumentTerms:
    """Return the terms and values of ``book``'s instruments on ``market``.

    Parameters
    ----------
    book : Book
        A book holding only instruments the method covers (see :func:`covers`).
    market : MarketSnapshot
    rule : OptionRule
        For the uncovered-writer rates and the marginable horizon.
    source : str
        The parameter file, named in errors about its rates.

    Raises
    ------
    MissingDataError
        A price (or, for an option without a mark, a volatility or rate) is missing.
    InputError
        An option expired before the valuation date, or an instrument is out of scope.
    """
    insts = book.instruments
    n = len(insts)
    names = tuple(sorted({i.underlying_symbol for i in insts}))
    und_index = {s: k for k, s in enumerate(names)}
    currencies = sorted({i.currency for i in insts})
    fx = {c: market.fx_rate(c, to=book.currency) for c in currencies}
    horizon = add_months(market.as_of, rule.marginable_months)
    is_stock = np.zeros(n, dtype=bool)
    is_call = np.zeros(n, dtype=bool)
    marginable = np.zeros(n, dtype=bool)
    strike, multiplier, value, spot, pct = (np.zeros(n) for _ in range(5))
    expiry = np.zeros(n, dtype=np.int64)
    modelled: list[int] = []
    for k, inst in enumerate(insts):
        rate = fx[inst.currency]
        if isinstance(inst, Equity):
            is_stock[k] = True
            multiplier[k] = 1.0
            price = book.marks[k] if np.isfinite(book.marks[k]) else market.price(inst.symbol)
            value[k] = spot[k] = price * rate
            continue
        if not isinstance(inst, Option) or not covers(inst):
            raise InputError("outside the strategy method's scope", field="instrument",
                             value=inst.label)
        if inst.expiry < market.as_of:
            raise InputError(f"{inst.label} expired before the valuation date "
                             f"{market.as_of.isoformat()}", field="expiry",
                             value=inst.expiry.isoformat())
        is_call[k] = inst.is_call
        strike[k] = inst.strike * rate
        expiry[k] = inst.expiry.toordinal()
        multiplier[k] = inst.multiplier
        spot[k] = market.price(inst.underlying) * rate
        pct[k] = _pct(rule, inst.underlying, source)
        marginable[k] = inst.expiry > horizon
        if np.isfinite(book.marks[k]):
            value[k] = book.marks[k] * inst.multiplier * rate
        else:
            modelled.append(k)
    if modelled:
        today = ScenarioSet(names=("today",), strict=False, source="strategy premiums")
        priced = revalue([insts[k] for k in modelled], market=market, scenarios=today,
                         currency=book.currency)
        value[modelled] = priced.base_value
    return InstrumentTerms(
        is_stock=is_stock, is_call=is_call,
        strike=strike, expiry=expiry, multiplier=multiplier, value=value, spot=spot,
        underlying=np.asarray([und_index[i.underlying_symbol] for i in insts],
                              dtype=np.int64),
        underlying_names=names,
        currency=np.asarray([currencies.index(i.currency) for i in insts], dtype=np.int64),
        pct=pct, marginable=marginable,
    )
