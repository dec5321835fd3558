"""Crypto exchange standard margin, Deribit style, for a whole book at once.

Each net position in one contract is margined on its own: futures and perpetuals at a
rate that grows with the position's size in coin, options by the venue's formula in coin
(premium included), spot bought outright. Requirements are computed in the currency the
venue holds them in (the coin for inverse contracts, the quote stablecoin for linear
ones) and converted into the book's reporting currency at the snapshot's rates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from crossmargin.book.book import Book
from crossmargin.book.instruments import (
    AssetClass,
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
from crossmargin.methods.base import ceil_cents, in_scope, method_result
from crossmargin.methods.crypto_standard.conversion import reporting_rates
from crossmargin.methods.crypto_standard.holdings import (
    Holdings,
    account_sums,
    net_holdings,
    open_orders,
)
from crossmargin.methods.crypto_standard.params import (
    FuturesRates,
    OptionRates,
    exact_keys,
    per_underlying,
)
from crossmargin.methods.crypto_standard.rates import short_option_margin, size_scaled_rate
from crossmargin.methods.crypto_standard.terms import ContractTerms, Kind, contract_terms
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.results.margin import MarginResult

__all__ = ["DeribitStandardMargin"]

_KIND_NAMES = {Kind.DELTA_ONE: "futures", Kind.OPTION: "options", Kind.SPOT: "spot"}
_CRYPTO_SETTLEMENT = (Settlement.LINEAR, Settlement.INVERSE)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Requirement:
    """Initial and maintenance requirement of segments, in each segment's currency."""

    initial: FloatArray
    maintenance: FloatArray


def _requirement(quantity: FloatArray, t: ContractTerms, inst: IntArray) -> _Requirement:
    """Return the requirements of net ``quantity`` of instruments ``inst``, native ccy."""
    kind = t.kind[inst]
    coins = np.abs(quantity) * t.coins[inst]
    value = t.coin_value[inst]
    im_rate = size_scaled_rate(base=t.initial[inst], increase=t.increase[inst], size=coins)
    mm_rate = size_scaled_rate(base=t.maintenance[inst], increase=t.increase[inst], size=coins)
    short = short_option_margin(
        underlying=t.price[inst], strike=t.strike[inst], mark=t.mark[inst],
        is_call=t.is_call[inst], initial_rate=t.initial_rate[inst],
        initial_floor=t.initial_floor[inst], maintenance_rate=t.maintenance_rate[inst])
    is_short = quantity < 0
    option_im = np.where(is_short, short.initial, t.mark[inst])
    option_mm = np.where(is_short, short.maintenance, t.mark[inst])
    spot = np.maximum(quantity, 0.0) * t.coins[inst]
    initial = np.select([kind == Kind.DELTA_ONE, kind == Kind.OPTION],
                        [coins * im_rate, coins * option_im], spot)
    maintenance = np.select([kind == Kind.DELTA_ONE, kind == Kind.OPTION],
                            [coins * mm_rate, coins * option_mm], spot)
    return _Requirement(initial=initial * value, maintenance=maintenance * value)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DeribitStandardMargin:
    r"""Standard (per-position) margin of a crypto derivatives venue, Deribit style.

    Parameters
    ----------
    params : ParamSet
        The parameter set the rates came from (id, version, source).
    futures : mapping of str to FuturesRates
        Size-scaled rates of futures and perpetuals, linear and inverse, by coin.
    options : mapping of str to OptionRates
        Short-option rates by coin.

    Notes
    -----
    Each account's net position :math:`q` in each contract is margined alone (no
    offsets between contracts), in the contract's margin currency.

    *Futures and perpetuals.* With :math:`s = |q|\,n` the size in coin (:math:`n` coins
    per contract: the multiplier of a linear contract, face :math:`/F` of an inverse
    one),

    .. math:: IM = s\,(r_{IM} + k\,s)\,v, \qquad MM = s\,(r_{MM} + k\,s)\,v,

    :math:`v = 1` for inverse contracts (the amount is in coin) and :math:`v = F` for
    linear ones (in the quote currency). "Size" is always the position in the underlying
    coin, as the venue states the rule (BTC for BTC contracts).

    *Options*, per coin of underlying, :math:`U` the underlying price and :math:`m` the
    mark in coin: a short call needs :math:`\max(a - o/U, b) + m` initial and
    :math:`c + m` maintenance, a short put :math:`\max(\max(a - o/U, b) + m, MM)` and
    :math:`\max(c, c\,m) + m` (see `short_option_margin`); a long option pays its premium,
    :math:`m` for both. Inverse options are margined in coin (:math:`v = 1`), linear ones
    in the quote currency (:math:`v = U`, the same formula in USD terms).

    *Spot* is bought outright: :math:`IM = MM = q P` in the quote currency. Standard
    margin lends no coin: a sell order can sell at most the holding, and a short spot
    position is not margined by this method (the result's notes name it).

    *Open orders* add to initial margin at their worst-case fill: the initial margin of
    a segment is the largest of those of :math:`q`, :math:`q + B` (all buys filled) and
    :math:`q - A` (all sells filled); maintenance counts held positions only. Orders are
    valued at the mark, not their limit prices.

    Each amount is converted into the reporting currency at the snapshot's value of its
    currency (``market.fx_rate``: a coin at its price, a stablecoin at its FX rate),
    summed per account and rounded up to the cent.

    References
    ----------
    .. [1] Deribit, "11 January 2022" margin change: BTC initial 2% + size x 0.005%,
       maintenance 1% + size x 0.005%; ETH 2% / 1% + size x 0.0004% (size in coin).
    .. [2] Deribit, "Linear Perpetual" help article (standard margin IM and MM worked
       examples for BTC_USDC and SOL_USDC).
    .. [3] Deribit, standard margin for options (short call initial margin
       max(0.15 - OTM / underlying mark price, 0.1) + mark, maintenance 0.075 + mark;
       short put alike with maintenance max(0.075, 0.075 x mark) + mark).
    .. [4] Deribit, "Futures leverage and margin" (total initial margin = that of the
       positions plus that of the open orders).
    """

    name: ClassVar[str] = "crypto-standard"
    params: ParamSet
    futures: Mapping[str, FuturesRates] = field(default_factory=dict)
    options: Mapping[str, OptionRates] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: ParamSet | None = None) -> DeribitStandardMargin:
        """Build the method from a parameter set (the latest bundled one by default)."""
        params = params or load_params("crypto-standard")
        try:
            p = exact_keys(params.parameters, field="", names=("futures", "options"))
            return cls(params=params,
                       futures=per_underlying(p["futures"], field="futures",
                                              build=FuturesRates.parse),
                       options=per_underlying(p["options"], field="options",
                                              build=OptionRates.parse))
        except InputError as err:
            raise err.located(params.path or params.id) from None

    def covers(self, inst: Instrument) -> bool:
        """Return whether ``inst`` is a crypto contract this parameter set has rates for."""
        if isinstance(inst, CryptoSpot):
            return True
        if isinstance(inst, Perpetual):
            return inst.underlying in self.futures
        if isinstance(inst, Future):
            return (inst.asset_class is AssetClass.CRYPTO and inst.underlying in self.futures
                    and inst.settlement in _CRYPTO_SETTLEMENT)
        return (isinstance(inst, Option) and inst.asset_class is AssetClass.CRYPTO
                and inst.settlement in _CRYPTO_SETTLEMENT and inst.underlying in self.options)

    def _what(self) -> str:
        return (f"crypto spot, futures and perpetuals on {', '.join(sorted(self.futures))} "
                f"and options on {', '.join(sorted(self.options))}")

    def compute(self, book: Book, market: MarketSnapshot) -> MarginResult:
        """Return every account's standard margin.

        Raises
        ------
        MissingDataError
            A price, FX rate, rate or volatility needed by a held contract is absent.
        InputError
            A contract expired before the valuation date, or a price is not positive.
        """
        scope = in_scope(book, self.covers, method=self.name, what=self._what())
        covered = scope.book
        orders = open_orders(covered, covers=self.covers, method=self.name)
        n_inst = len(orders.instruments)
        marks = np.r_[covered.marks, np.full(n_inst - len(covered.instruments), np.nan)]
        terms = contract_terms(orders.instruments, marks=marks, market=market,
                               futures=self.futures, options=self.options)
        h = net_holdings(n_groups=max(n_inst, 1), account=covered.pos_account,
                         group=covered.pos_instrument, quantity=covered.pos_quantity,
                         order_account=orders.account, order_group=orders.instrument,
                         order_quantity=orders.quantity)
        short_spot, spot_notes = self._short_spot(h, terms, orders.instruments)
        held = _requirement(h.quantity, terms, h.group)
        initial = np.where(short_spot, 0.0, np.maximum.reduce([
            held.initial,
            _requirement(h.quantity + h.bids, terms, h.group).initial,
            _requirement(h.quantity - h.asks, terms, h.group).initial,
        ]))
        fx = reporting_rates(market, (terms.currency[int(i)] for i in np.unique(h.group)),
                             to=book.currency)
        to_rep = np.asarray([fx.get(c, np.nan) for c in terms.currency])[h.group]
        im_rep, mm_rep = initial * to_rep, held.maintenance * to_rep
        kind = terms.kind[h.group]
        n = book.n_accounts
        components = {
            name: ceil_cents(account_sums(h.account, np.where(kind == k, im_rep, 0.0), n))
            for k, name in _KIND_NAMES.items()
        }
        detail = _Detail(holdings=h, terms=terms, instruments=orders.instruments,
                         initial=initial, maintenance=held.maintenance, to_reporting=to_rep,
                         currency=book.currency)
        return method_result(
            self, book, market,
            initial_margin=ceil_cents(account_sums(h.account, im_rep, n)),
            maintenance_margin=ceil_cents(account_sums(h.account, mm_rep, n)),
            components=components,
            notes=(*scope.notes, *orders.notes, *spot_notes),
            detail=detail.account,
        )

    def _short_spot(self, h: Holdings, terms: ContractTerms,
                    instruments: tuple[Instrument, ...]) -> tuple[BoolArray, tuple[str, ...]]:
        """Find short spot holdings, which standard margin does not margin, and say so."""
        short = (terms.kind[h.group] == Kind.SPOT) & (h.quantity < 0)
        if not short.any():
            return short, ()
        names = sorted({instruments[int(i)].label for i in h.group[short]})
        return short, (f"{self.name} lends no coin: {int(short.sum())} short spot "
                       f"position(s) ({', '.join(names)}) are not margined by it",)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Detail:
    """Per-account explanation: each contract's requirement in its own currency."""

    holdings: Holdings
    terms: ContractTerms
    instruments: tuple[Instrument, ...]
    initial: FloatArray
    maintenance: FloatArray
    to_reporting: FloatArray
    currency: str

    def account(self, row: int) -> Mapping[str, Any]:
        """Return the JSON-ready detail of account ``row``."""
        h, t = self.holdings, self.terms
        lo, hi = np.searchsorted(h.account, [row, row + 1])
        contracts = []
        by_currency: dict[str, dict[str, float]] = {}
        for s in sorted(range(int(lo), int(hi)),
                        key=lambda s: self.instruments[int(h.group[s])].label):
            i = int(h.group[s])
            ccy = t.currency[i]
            initial, maintenance = float(self.initial[s]), float(self.maintenance[s])
            contracts.append({
                "instrument": self.instruments[i].label,
                "kind": _KIND_NAMES[Kind(int(t.kind[i]))],
                "quantity": float(h.quantity[s]),
                "open_buys": float(h.bids[s]),
                "open_sells": float(h.asks[s]),
                "margin_currency": ccy,
                "initial": initial,
                "maintenance": maintenance,
                f"{ccy}_to_{self.currency}": float(self.to_reporting[s]),
            })
            if t.kind[i] == Kind.OPTION:
                contracts[-1].update(underlying_price=float(t.price[i]),
                                     mark_in_coin=float(t.mark[i]))
            total = by_currency.setdefault(ccy, {"initial": 0.0, "maintenance": 0.0})
            total["initial"] += initial
            total["maintenance"] += maintenance
        return {"contracts": contracts, "by_currency": dict(sorted(by_currency.items()))}
