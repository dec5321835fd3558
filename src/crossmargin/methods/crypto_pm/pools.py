r"""Scenario P&L of crypto instruments in the currency of their margin pool.

A venue margins each settlement currency separately: inverse (coin-settled) contracts in
their coin, linear ones in their quote currency (USDT, USDC, USD). This module prices
every instrument under the crypto portfolio-margin scenarios with
:func:`~crossmargin.pricing.revalue.revalue`, in expiry buckets (the vol shock of an
option depends on its days to expiry, a scenario set's vol shocks only on the
underlying), and expresses each P&L in its pool's currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

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
from crossmargin.core.typing import FloatArray
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.crypto_pm.params import UnderlyingParams
from crossmargin.methods.crypto_pm.scenarios import ScenarioTable
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet, VolShift

__all__ = ["PoolPnL", "is_delta_one", "is_inverse", "margin_currency", "pool_pnl"]


def is_inverse(inst: Instrument) -> bool:
    """Return whether ``inst`` is a coin-settled (inverse) perpetual, future or option."""
    return getattr(inst, "settlement", None) is Settlement.INVERSE


def is_delta_one(inst: Instrument) -> bool:
    """Return whether ``inst`` is spot, a perpetual or a future (no optionality)."""
    return isinstance(inst, CryptoSpot | Perpetual | Future)


def margin_currency(inst: Instrument) -> str:
    """Return the currency of the pool that margins ``inst``.

    Raises
    ------
    InputError
        An inverse contract quoted in its own coin (its face has no other currency).
    """
    if not is_inverse(inst):
        return inst.currency
    if inst.currency == inst.underlying_symbol:
        raise InputError("an inverse contract's face must be in a currency other than its "
                         "coin", field="currency", value=inst.label)
    return inst.underlying_symbol


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PoolPnL:
    """Per-unit scenario P&L of instruments, each in its margin pool's currency.

    Attributes
    ----------
    pool : tuple of str, shape (n_instruments,)
        Margin currency of each instrument (the coin for inverse contracts).
    pnl : FloatArray, shape (n_instruments, n_scenarios)
        Gain per unit under each scenario, in the pool's currency.
    notional : FloatArray, shape (n_instruments,)
        Today's notional per unit in the pool's currency: a linear contract's value
        (multiplier x price), an inverse contract's face in coin (face / price), an
        option's underlying amount (multiplier coins, or their value in the quote).
    """

    pool: tuple[str, ...]
    pnl: FloatArray
    notional: FloatArray


@dataclass(frozen=True, slots=True, kw_only=True)
class _Item:
    """One thing to price: a held instrument, or the conversion twin of an inverse one."""

    instrument: Instrument
    mark: float
    row: int
    twin: bool


def _twin(inst: Instrument) -> Instrument:
    """Return the linear contract whose price converts ``inst``'s quote into coin.

    An inverse perpetual converts at the perpetual's price, an inverse future at its own
    forward, an inverse option at the forward of its expiry (Black-76's underlying).
    """
    if isinstance(inst, Perpetual):
        return Perpetual(underlying=inst.underlying, settlement=Settlement.LINEAR,
                         currency=inst.currency)
    assert isinstance(inst, Future | Option)
    return Future(symbol=f"{inst.underlying} forward {inst.expiry.isoformat()}",
                  underlying=inst.underlying, expiry=inst.expiry,
                  settlement=Settlement.LINEAR, asset_class=inst.asset_class,
                  currency=inst.currency)


def _bucket(item: _Item) -> tuple[date | None, str]:
    inst = item.instrument
    return (inst.expiry if isinstance(inst, Option) else None), inst.currency


def _scenario_set(*, table: ScenarioTable, params: Mapping[str, UnderlyingParams],
                  underlyings: Sequence[str], dte: float | None, source: str) -> ScenarioSet:
    spot = {u: table.moves(params[u]) for u in underlyings}
    vol = {} if dte is None else {u: table.vol_shocks(params[u], dte=dte)
                                  for u in underlyings}
    return ScenarioSet(names=table.names(), spot=spot, vol=vol, vol_shift=VolShift.RELATIVE,
                       source=source)


def pool_pnl(instruments: Sequence[Instrument], *, marks: FloatArray,
             market: MarketSnapshot, table: ScenarioTable,
             params: Mapping[str, UnderlyingParams], source: str) -> PoolPnL:
    r"""Price ``instruments`` under ``table``'s scenarios, in their pools' currencies.

    Parameters
    ----------
    instruments : sequence of Instrument, shape (n,)
        Crypto spot, perpetuals, futures and options whose underlyings ``params`` holds.
    marks : FloatArray, shape (n,)
        Price per unit in each instrument's quote currency, NaN where the model prices.
    market : MarketSnapshot
    table : ScenarioTable
    params : mapping of str to UnderlyingParams
    source : str
        Names the parameter set in the scenario sets (for error messages).

    Returns
    -------
    PoolPnL

    Raises
    ------
    MissingDataError
        A price, volatility or rate a held instrument needs is absent.

    Notes
    -----
    With :math:`P_0, P_s` today's and scenario :math:`s`'s price of the conversion twin
    (the perpetual, the future, or the forward of an option's expiry) and :math:`N` the
    face of one inverse contract, the coin P&L per unit is, at each scenario's own price,

    .. math:: \text{delta one: } N\left(\frac{1}{P_0} - \frac{1}{P_s}\right), \qquad
       \text{option: } \frac{V_s}{P_s} - \frac{V_0}{P_0},

    :math:`V` the option's value in the quote currency (Black-76 on the forward, so
    :math:`V/P` is Deribit's coin premium). Linear instruments keep their P&L in their
    quote currency. A mark is in the instrument's quote currency; an inverse perpetual's
    or future's mark is its price and marks its twin.

    References
    ----------
    .. [1] Deribit, "Inverse options" and "Inverse futures" contract specifications
       (premium and P&L in the coin; Black-76 mark on the expiry's forward).
    .. [2] Deribit API v2.1.1, ``private/pme/simulate`` example: the BTC-PERPETUAL risk
       vector is the coin P&L face (1/P_0 - 1/P_s) at each price point.
    """
    n = len(instruments)
    pool = tuple(margin_currency(i) for i in instruments)
    items: list[_Item] = []
    for row, inst in enumerate(instruments):
        mark = float(marks[row])
        inverse = is_inverse(inst)
        if not (inverse and is_delta_one(inst)):
            items.append(_Item(instrument=inst, mark=mark, row=row, twin=False))
        if inverse:
            items.append(_Item(instrument=_twin(inst), row=row, twin=True,
                               mark=mark if is_delta_one(inst) else float("nan")))
    buckets: dict[tuple[date | None, str], list[_Item]] = {}
    for item in items:
        buckets.setdefault(_bucket(item), []).append(item)
    size = table.size
    value0, value = np.full(n, np.nan), np.full((n, size), np.nan)
    price0, price = np.full(n, np.nan), np.full((n, size), np.nan)
    for (expiry, currency), group in buckets.items():
        insts = [g.instrument for g in group]
        dte = None if expiry is None else float((expiry - market.as_of).days)
        scenarios = _scenario_set(table=table, params=params, source=source, dte=dte,
                                  underlyings=sorted({i.underlying_symbol for i in insts}))
        rev = revalue(insts, market=market, scenarios=scenarios, currency=currency,
                      marks=np.array([g.mark for g in group]))
        rows = np.array([g.row for g in group])
        twin = np.array([g.twin for g in group])
        value0[rows[~twin]] = rev.base_value[~twin]
        value[rows[~twin]] = rev.base_value[~twin, None] + rev.pnl[~twin]
        price0[rows[twin]] = rev.base_value[twin]
        price[rows[twin]] = rev.base_value[twin, None] + rev.pnl[twin]
    return _in_pool_currency(instruments, market=market, pool=pool, value0=value0,
                             value=value, price0=price0, price=price)


def _in_pool_currency(instruments: Sequence[Instrument], *, market: MarketSnapshot,
                      pool: tuple[str, ...], value0: FloatArray, value: FloatArray,
                      price0: FloatArray, price: FloatArray) -> PoolPnL:
    """Assemble per-unit P&L and notionals in pool currency from quote-currency prices."""
    inverse = np.array([is_inverse(i) for i in instruments], dtype=bool)
    delta_one = np.array([is_delta_one(i) for i in instruments], dtype=bool)
    multiplier = np.array([getattr(i, "multiplier", 1.0) for i in instruments])
    pnl = value - value0[:, None]
    notional = np.where(delta_one, value0, 0.0)
    inv_d1 = np.flatnonzero(inverse & delta_one)
    pnl[inv_d1] = multiplier[inv_d1, None] * (1.0 / price0[inv_d1, None] - 1.0 / price[inv_d1])
    notional[inv_d1] = multiplier[inv_d1] / price0[inv_d1]
    inv_opt = np.flatnonzero(inverse & ~delta_one)
    pnl[inv_opt] = value[inv_opt] / price[inv_opt] - (value0[inv_opt] / price0[inv_opt])[:, None]
    notional[inv_opt] = multiplier[inv_opt]
    lin_opt = np.flatnonzero(~inverse & ~delta_one)
    coin_value = np.array([market.fx_rate(instruments[int(i)].underlying_symbol,
                                          to=pool[int(i)]) for i in lin_opt])
    notional[lin_opt] = multiplier[lin_opt] * coin_value
    return PoolPnL(pool=pool, pnl=np.ascontiguousarray(pnl), notional=notional)
