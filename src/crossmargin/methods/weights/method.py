"""Linear-weight cross margin for a whole book: weighted health at three thresholds.

Each account's balances (collateral and spot coins, one net balance per asset) count at
an asset weight when positive and a liability weight when negative, each perpetual
position is held against a margin fraction of its notional, and open orders count at
their worst-case fill. The weighted sum is the account's health; the requirement is the
part of the equity the weights hold back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crossmargin.book.book import Book
from crossmargin.book.instruments import CryptoSpot, Instrument, Perpetual, Settlement
from crossmargin.core.errors import InputError
from crossmargin.core.typing import BoolArray, FloatArray, IntArray
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import ceil_cents, in_scope, method_result
from crossmargin.methods.crypto_standard.conversion import price_in, reporting_rates
from crossmargin.methods.crypto_standard.holdings import (
    Holdings,
    OpenOrders,
    account_sums,
    collateral_balances,
    net_holdings,
    open_orders,
)
from crossmargin.methods.crypto_standard.params import exact_keys, per_underlying
from crossmargin.methods.crypto_standard.terms import mark_or_model
from crossmargin.methods.weights.formulas import (
    size_discount_asset_weight,
    size_premium_liability_weight,
)
from crossmargin.methods.weights.params import (
    THRESHOLDS,
    AssetWeights,
    PerpWeights,
    SizeAdjustment,
)
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.results.margin import MarginResult

__all__ = ["LinearWeightMargin"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Groups:
    """Balances of each weighted asset, then each perpetual market, as groups.

    Attributes
    ----------
    names : tuple of str, shape (n_groups,)
    of_instrument : IntArray, shape (n_instruments,)
        Group of each instrument (a spot coin's asset, a perpetual's own market).
    coins : FloatArray, shape (n_instruments,)
        Coins per unit of each instrument.
    is_perp : BoolArray, shape (n_groups,)
    asset, liability, fraction, pnl : mapping of str to FloatArray, shape (n_groups,)
        Base asset weight, liability weight, margin fraction and profit weight of each
        group by threshold (1, 1, 0 and 1 where a weight does not apply).
    imf, pnl_imf : FloatArray, shape (n_groups,)
        Initial margin factors of the size adjustments.
    """

    names: tuple[str, ...]
    of_instrument: IntArray
    coins: FloatArray
    is_perp: BoolArray
    asset: Mapping[str, FloatArray]
    liability: Mapping[str, FloatArray]
    fraction: Mapping[str, FloatArray]
    pnl: Mapping[str, FloatArray]
    imf: FloatArray
    pnl_imf: FloatArray


def _groups(instruments: Sequence[Instrument], assets: Mapping[str, AssetWeights],
            perps: Mapping[str, PerpWeights]) -> _Groups:
    names = sorted(assets)
    index = {a: k for k, a in enumerate(names)}
    spot = [assets[a] for a in names]
    perp: list[PerpWeights] = []
    of_instrument = np.zeros(len(instruments), dtype=np.int64)
    coins = np.ones(len(instruments))
    for i, inst in enumerate(instruments):
        if isinstance(inst, CryptoSpot):
            of_instrument[i] = index[inst.asset]
        elif isinstance(inst, Perpetual):
            of_instrument[i] = len(names)
            coins[i] = inst.multiplier
            perp.append(perps[inst.underlying])
            names.append(inst.label)

    def column(assets_part: list[float], perps_part: list[float]) -> FloatArray:
        return np.asarray([*assets_part, *perps_part], dtype=np.float64)

    return _Groups(
        names=tuple(names), of_instrument=of_instrument, coins=coins,
        is_perp=np.r_[np.zeros(len(spot), bool), np.ones(len(perp), bool)],
        asset={t: column([e.asset_weight.at(t) for e in spot], [1.0] * len(perp))
               for t in THRESHOLDS},
        liability={t: column([e.liability_weight.at(t) for e in spot], [1.0] * len(perp))
                   for t in THRESHOLDS},
        fraction={t: column([0.0] * len(spot), [e.margin_fraction.at(t) for e in perp])
                  for t in THRESHOLDS},
        pnl={t: column([1.0] * len(spot), [e.pnl_weight.at(t) for e in perp])
             for t in THRESHOLDS},
        imf=column([e.imf for e in spot], [e.imf for e in perp]),
        pnl_imf=column([0.0] * len(spot), [e.pnl_imf for e in perp]),
    )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Segments:
    """Everything the weighting needs per (account, group) segment, in reporting terms.

    Attributes
    ----------
    holdings : Holdings
        Net coins held and ordered per segment.
    price : FloatArray, shape (n_segments,)
        Value of one coin in the reporting currency.
    settle : FloatArray, shape (n_segments,)
        Value of one unit of a perpetual's settlement currency (1 for balances).
    spot : BoolArray, shape (n_segments,)
        True for a balance, false for a perpetual.
    buy_pnl, sell_pnl : FloatArray, shape (n_segments,)
        Gain of filling every buy (every sell) order at its limit, valued at ``price``.
    """

    holdings: Holdings
    price: FloatArray
    settle: FloatArray
    spot: BoolArray
    buy_pnl: FloatArray
    sell_pnl: FloatArray


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LinearWeightMargin:
    r"""Linear asset/liability-weight cross margin, as open-source venues run it.

    Parameters
    ----------
    params : ParamSet
        The parameter set the weights came from (id, version, source).
    assets : mapping of str to AssetWeights
        Weights of each collateral asset (coins, stablecoins, cash).
    perps : mapping of str to PerpWeights
        Weights of the linear perpetual market on each coin.
    size : SizeAdjustment
        Constants of the square-root size premium and discount.

    Notes
    -----
    For threshold :math:`t` (initial, liquidation end, maintenance), with :math:`P` the
    value of one coin in the reporting currency:

    *Balances.* An account's net balance :math:`b` of asset :math:`j` (collateral plus
    spot positions) is held back by

    .. math::
        h_t(b) = |b| P\,\big(1 - w^{A}_t(|b|)\big) \text{ if } b \ge 0, \qquad
        h_t(b) = |b| P\,\big(w^{L}_t(|b|) - 1\big) \text{ if } b < 0,

    with :math:`w^{A}_t(s) = \min(w^{A}_t, \nu/(1 + f_j\sqrt{s}))` and
    :math:`w^{L}_t(s) = \max(w^{L}_t, \lambda w^{L}_t + f_j\sqrt{s})`.

    *Perpetuals.* A net position of :math:`q` coins is held back by
    :math:`h_t(q) = |q| P\,m_t(|q|)`, the margin fraction raised for size like a
    liability weight: :math:`m_t(s) = \max(m_t, \lambda m_t + f\sqrt{s})`.

    *Open orders* count at their worst-case fill: per segment, the held-back amount is
    the largest of the holding as it is, with every buy order filled (:math:`q + B`)
    and with every sell order filled (:math:`q - A`), each fill at its limit price (the
    market value for a market order). A fill's gain :math:`g` at today's value counts
    in full for balances (the coins bought are themselves weighted) and at a reduced
    weight for perpetuals, where it is unsettled profit:
    :math:`\min(u_t, \nu/(1 + f_u\sqrt{g}))\,g` (losses count in full).

    *Requirement.* With equity :math:`E` (balances at market value; perpetuals are
    settled to their marks, so add nothing) and health
    :math:`H_t = E - \sum_{\text{segments}} h_t`, the requirement at threshold
    :math:`t` is

    .. math:: R_t = E - H_t = \sum_{\text{segments}} h_t \ \ge 0,

    so that an account passes the threshold (:math:`H_t \ge 0`) exactly when its equity
    covers :math:`R_t`. ``initial_margin`` is :math:`R_{initial}`,
    ``maintenance_margin`` :math:`R_{maintenance}`; the components give all three. The
    weights are ordered so that :math:`R_{initial} \ge R_{liquidation\ end} \ge
    R_{maintenance}`: an account enters liquidation when :math:`H_{maintenance} < 0` and
    leaves it only once :math:`H_{liquidation\ end} \ge 0`. Requirements are rounded up
    to the cent.

    The book carries no entry prices: positions are taken as settled to their marks
    (profit and loss already in the settlement balance), so unsettled profit arises
    from order fills only.

    References
    ----------
    .. [1] Drift Protocol v2 (open source, programs/drift/src/math/margin.rs): size
       premium and discount, unrealised-PnL asset weight, initial / fill / maintenance
       margin types.
    .. [2] Drift Protocol documentation, "Cross-collateral deposits" (asset and
       liability weights and IMF factors per asset).
    .. [3] Mango Markets v4 (open source, programs/mango-v4/src/health/cache.rs): init,
       liquidation-end and maintenance health; worst case of all bids or all asks filled;
       positive perpetual PnL at an overall asset weight.
    """

    name: ClassVar[str] = "weights"
    params: ParamSet
    assets: Mapping[str, AssetWeights]
    perps: Mapping[str, PerpWeights]
    size: SizeAdjustment

    @classmethod
    def from_params(cls, params: ParamSet | None = None) -> LinearWeightMargin:
        """Build the method from a parameter set (the latest bundled one by default)."""
        params = params or load_params("weights")
        try:
            p = exact_keys(params.parameters, field="",
                           names=("size_adjustment", "assets", "perps"))
            return cls(params=params,
                       assets=per_underlying(p["assets"], field="assets",
                                             build=AssetWeights.parse),
                       perps=per_underlying(p["perps"], field="perps", build=PerpWeights.parse),
                       size=SizeAdjustment.parse(p["size_adjustment"], "size_adjustment"))
        except InputError as err:
            raise err.located(params.path or params.id) from None

    def covers(self, inst: Instrument) -> bool:
        """Return whether ``inst`` is a spot coin or linear perpetual the set weighs."""
        if isinstance(inst, CryptoSpot):
            return inst.asset in self.assets
        return (isinstance(inst, Perpetual) and inst.settlement is Settlement.LINEAR
                and inst.underlying in self.perps)

    def compute(self, book: Book, market: MarketSnapshot) -> MarginResult:
        """Return every account's requirements at the three thresholds.

        Raises
        ------
        MissingDataError
            A price or FX rate needed to value a balance, position or order is absent.
        InputError
            Two marks of one coin disagree.
        """
        what = (f"balances in {', '.join(sorted(self.assets))} and linear perpetuals on "
                f"{', '.join(sorted(self.perps))}")
        scope = in_scope(book, self.covers, method=self.name, what=what)
        orders = open_orders(scope.book, covers=self.covers, method=self.name)
        groups = _groups(orders.instruments, self.assets, self.perps)
        seg, balance_notes = self._segments(scope.book, orders, groups, market)
        h = seg.holdings
        n = book.n_accounts
        held: dict[str, FloatArray] = {}
        for t in THRESHOLDS:
            held[t] = np.maximum.reduce([
                self._held_back(h.quantity, seg, groups, t),
                self._held_back(h.quantity + h.bids, seg, groups, t)
                - self._credit(seg.buy_pnl, seg, groups, t),
                self._held_back(h.quantity - h.asks, seg, groups, t)
                - self._credit(seg.sell_pnl, seg, groups, t),
            ])
        required = {t: ceil_cents(account_sums(h.account, held[t], n)) for t in THRESHOLDS}
        equity = account_sums(h.account, np.where(seg.spot, h.quantity * seg.price, 0.0), n)
        detail = _Detail(segments=seg, held=held, equity=equity, names=groups.names)
        return method_result(
            self, book, market,
            initial_margin=required["initial"],
            maintenance_margin=required["maintenance"],
            components=required,
            notes=(*scope.notes, *orders.notes, *balance_notes, *self._settled_note(groups)),
            detail=detail.account,
        )

    def _settled_note(self, groups: _Groups) -> tuple[str, ...]:
        """Say, where perpetuals are held, that they count as settled to their marks."""
        if not groups.is_perp.any():
            return ()
        return (f"{self.name}: the book carries no entry prices, so perpetuals count as "
                "settled to their marks; unsettled profit arises from order fills only",)

    def _segments(self, book: Book, orders: OpenOrders, groups: _Groups,
                  market: MarketSnapshot) -> tuple[_Segments, tuple[str, ...]]:
        """Net every account's coins per group and value them in the reporting currency."""
        bal = collateral_balances(book)
        asset_group = pd.Index(groups.names[:len(self.assets)]).get_indexer(pd.Index(bal.asset))
        known = asset_group >= 0
        notes: tuple[str, ...] = ()
        if not known.all():
            other = sorted(set(bal.asset[~known]))
            notes = (f"{self.name} weighs balances in {', '.join(sorted(self.assets))}; "
                     f"{int((~known).sum())} balance(s) in {', '.join(other)} are left out "
                     "of its equity and health",)
        order_coins = orders.quantity * groups.coins[orders.instrument]
        h = net_holdings(
            n_groups=len(groups.names),
            account=np.r_[book.pos_account, bal.account[known]],
            group=np.r_[groups.of_instrument[book.pos_instrument],
                        asset_group[known].astype(np.int64)],
            quantity=np.r_[book.pos_quantity * groups.coins[book.pos_instrument],
                           bal.amount[known]],
            order_account=orders.account, order_group=groups.of_instrument[orders.instrument],
            order_quantity=order_coins)
        marks = np.r_[book.marks, np.full(len(orders.instruments) - len(book.instruments),
                                          np.nan)]
        price, settle, quote = self._prices(orders.instruments, marks, groups,
                                            np.unique(h.group), market, book.currency)
        limit = orders.limit_price * quote[orders.instrument]
        fill = np.where(np.isnan(limit), price[groups.of_instrument[orders.instrument]], limit)
        buy_cost, sell_proceeds = h.order_sums(np.abs(order_coins) * fill)
        p = price[h.group]
        return _Segments(holdings=h, price=p, settle=settle[h.group],
                         spot=~groups.is_perp[h.group],
                         buy_pnl=h.bids * p - buy_cost, sell_pnl=sell_proceeds - h.asks * p
                         ), notes

    def _prices(self, instruments: Sequence[Instrument], marks: FloatArray, groups: _Groups,
                used: IntArray, market: MarketSnapshot, currency: str
                ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return the values in ``currency`` of coins, settlement units and quote units.

        One coin per group, one settlement unit per group, one quote unit per
        instrument; NaN where nothing needs a value.
        """
        n_groups = len(groups.names)
        price = np.full(n_groups, np.nan)
        settle = np.ones(n_groups)
        quote = np.full(len(instruments), np.nan)
        fx = reporting_rates(market, (i.currency for i in instruments), to=currency)
        for k in used[used < len(self.assets)]:
            price[k] = market.fx_rate(groups.names[int(k)], to=currency)
        for i, inst in enumerate(instruments):
            quote[i] = fx[inst.currency]
            g = int(groups.of_instrument[i])
            if isinstance(inst, Perpetual):
                p = mark_or_model(float(marks[i]), partial(
                    price_in, market, symbol=inst.underlying, currency=inst.currency),
                    inst.label)
                price[g], settle[g] = p * quote[i], quote[i]
            elif np.isfinite(marks[i]):
                marked = marks[i] * quote[i]
                if g in used and not np.isclose(marked, price[g], rtol=1e-6):
                    raise InputError(f"disagrees with the value of {groups.names[g]} "
                                     f"({price[g]:g} {currency})", field=f"{inst.label}.mark",
                                     value=float(marks[i]))
        return price, settle, quote

    def _held_back(self, q: FloatArray, seg: _Segments, groups: _Groups, t: str
                   ) -> FloatArray:
        """Return what net holdings ``q`` (coins, one per segment) hold back at ``t``."""
        g = seg.holdings.group
        size = np.abs(q)
        value = size * seg.price
        imf = groups.imf[g]
        asset = size_discount_asset_weight(weight=groups.asset[t][g], imf=imf, size=size,
                                           numerator=self.size.asset_numerator)
        liability = size_premium_liability_weight(weight=groups.liability[t][g], imf=imf,
                                                  size=size,
                                                  factor=self.size.liability_factor)
        fraction = size_premium_liability_weight(weight=groups.fraction[t][g], imf=imf,
                                                 size=size, factor=self.size.liability_factor)
        out: FloatArray = np.where(
            seg.spot, np.where(q >= 0, value * (1.0 - asset), value * (liability - 1.0)),
            value * fraction)
        return out

    def _credit(self, gain: FloatArray, seg: _Segments, groups: _Groups, t: str
                ) -> FloatArray:
        """Return the part of a fill's ``gain`` that counts at ``t``."""
        g = seg.holdings.group
        weight = size_discount_asset_weight(weight=groups.pnl[t][g], imf=groups.pnl_imf[g],
                                            size=np.maximum(gain, 0.0) / seg.settle,
                                            numerator=self.size.asset_numerator)
        out: FloatArray = np.where(seg.spot | (gain <= 0), gain, gain * weight)
        return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Detail:
    """Per-account explanation: equity, health and each segment's held-back amounts."""

    segments: _Segments
    held: Mapping[str, FloatArray]
    equity: FloatArray
    names: tuple[str, ...]

    def account(self, row: int) -> Mapping[str, Any]:
        """Return the JSON-ready detail of account ``row``."""
        seg = self.segments
        h = seg.holdings
        lo, hi = (int(x) for x in np.searchsorted(h.account, [row, row + 1]))
        required = {t: float(self.held[t][lo:hi].sum()) for t in THRESHOLDS}
        equity = float(self.equity[row])
        return {
            "equity": equity,
            "health": {t: equity - r for t, r in required.items()},
            "required": required,
            "holdings": sorted((
                {
                    "balance" if seg.spot[s] else "perpetual": self.names[int(h.group[s])],
                    "coins": float(h.quantity[s]),
                    "open_buys": float(h.bids[s]),
                    "open_sells": float(h.asks[s]),
                    "coin_value": float(seg.price[s]),
                    "held_back": {t: float(self.held[t][s]) for t in THRESHOLDS},
                }
                for s in range(lo, hi)
            ), key=lambda row: (row.get("perpetual", ""), row.get("balance", ""))),
        }
