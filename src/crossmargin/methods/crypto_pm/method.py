"""Crypto exchange scenario portfolio margin: one pool per settlement currency.

Each account's crypto positions are split into segments by margin currency (the coin for
inverse contracts, the quote currency for linear ones) and underlying. A segment is
revalued on a price grid x vol up/same/down plus weighted tail rows; its requirement is
its worst weighted loss plus delta, roll and naked short option contingencies, in the
pool's currency, converted into the reporting currency at today's rate. Pools never
offset each other; maintenance is a fixed fraction of initial margin.
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
)
from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.core.values import parse_number
from crossmargin.kernels import MaxLoss, reduce_segments
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import (
    ceil_cents,
    floor_residue,
    in_scope,
    method_result,
    scenario_risk,
    segment_positions,
)
from crossmargin.methods.crypto_pm.contingencies import contingencies
from crossmargin.methods.crypto_pm.params import UnderlyingParams, parse_underlyings
from crossmargin.methods.crypto_pm.pools import PoolPnL, pool_pnl
from crossmargin.methods.crypto_pm.scenarios import ScenarioTable
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.results.margin import MarginResult, SegmentCharges

__all__ = ["CryptoPortfolioMargin"]

#: Names of the requirement's parts, in the order they add up.
COMPONENTS = ("scanning_risk", "delta_contingency", "roll_contingency", "option_contingency")


def _covers(inst: Instrument) -> bool:
    return (inst.asset_class is AssetClass.CRYPTO
            and isinstance(inst, CryptoSpot | Perpetual | Future | Option))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Pool:
    """A segment group: the positions on one underlying margined in one currency."""

    currency: str
    underlying: str

    @property
    def name(self) -> str:
        return f"{self.underlying} in {self.currency}"

    @property
    def coin_margined(self) -> bool:
        return self.currency == self.underlying


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Layout:
    """The pools of a book and each instrument's pool."""

    pools: tuple[_Pool, ...]
    of_instrument: IntArray

    @classmethod
    def of(cls, book: Book, pnl: PoolPnL) -> _Layout:
        keys = [_Pool(currency=c, underlying=i.underlying_symbol)
                for c, i in zip(pnl.pool, book.instruments, strict=True)]
        pools = tuple(sorted(set(keys), key=lambda p: (p.underlying, p.currency)))
        index = {p: k for k, p in enumerate(pools)}
        return cls(pools=pools,
                   of_instrument=np.array([index[k] for k in keys], dtype=np.int64))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CryptoPortfolioMargin:
    r"""Crypto exchange portfolio margin (Deribit segregated PM, Derive PMRM).

    Parameters
    ----------
    params : ParamSet
        The parameter set the numbers came from (id, version, source).
    scenarios : ScenarioTable
        The shared scenario axis (price points, tail moves, vol-shock scaling).
    underlyings : mapping of str to UnderlyingParams
        Price range, vol shocks and contingency rates per underlying coin.
    maintenance_factor : float
        Maintenance margin as a fraction of initial margin.

    Notes
    -----
    For account :math:`a`, pool :math:`c` (margin currency) and underlying :math:`u`,
    with :math:`L_{s}` the segment's loss in :math:`c` under scenario :math:`s` and
    :math:`w_s` the scenario's weight (1 on the grid, the tail weight of
    :class:`~crossmargin.methods.crypto_pm.scenarios.ScenarioTable` on the tail rows),

    .. math::
       R_{a,c,u} = \max\bigl(0, \max_s w_s L_s\bigr) + C^{\Delta} + C^{roll} + C^{opt},

    .. math:: IM_a = \sum_{c,u} X_c R_{a,c,u}, \qquad MM_a = m \cdot IM_a,

    :math:`X_c` today's value of one unit of :math:`c` in the reporting currency. The
    weights are folded into the P&L rows (:math:`w_{u,s}\,\mathrm{pnl}_{i,s}`, since a
    weight depends on the underlying's range and the pool) and the shared kernel takes
    the maximum. Inverse contracts lose in coin at each scenario's own price
    (:func:`~crossmargin.methods.crypto_pm.pools.pool_pnl`); the coin requirement is then
    valued at today's price. Contingencies: :func:`~crossmargin.methods.crypto_pm.
    contingencies.contingencies`.

    References
    ----------
    .. [1] Deribit, "Portfolio Margin" help article (segregated PM per settlement
       currency; 9 price points x 3 vol states; extended table) and API v2.1.1
       ``private/pme/simulate`` (price_range 0.16, vol ranges 0.5 / 0.25, vega powers
       0.3 / 0.13, annualised_move_risk 0.075, mm_factor 0.8).
    .. [2] Derive v2-core, ``PMRMLib_2`` (vol shock scaling, perpetual and naked short
       option contingencies); Paradex, "Portfolio Margin" (tail weights).
    """

    name: ClassVar[str] = "crypto-pm"
    params: ParamSet
    scenarios: ScenarioTable
    underlyings: Mapping[str, UnderlyingParams] = field(default_factory=dict)
    maintenance_factor: float = 0.8

    def __post_init__(self) -> None:
        if not 0 < self.maintenance_factor <= 1:
            raise InputError("must be in (0, 1]", field="maintenance_factor",
                             value=self.maintenance_factor)
        for symbol, p in self.underlyings.items():
            self.scenarios.check(p, field=f"underlyings.{symbol}")

    @classmethod
    def from_params(cls, params: ParamSet | None = None) -> CryptoPortfolioMargin:
        """Build the method from a parameter set (the latest bundled one by default)."""
        params = params or load_params("crypto-pm")
        p: Mapping[str, Any] = params.parameters
        try:
            tails = p.get("tail_moves")
            if not isinstance(tails, list):
                raise InputError("must be a list of relative moves", field="tail_moves",
                                 value=tails)
            return cls(
                params=params,
                scenarios=ScenarioTable(
                    points=int(parse_number(p.get("price_points"), field="price_points")),
                    tail_moves=tuple(parse_number(m, field=f"tail_moves[{k}]")
                                     for k, m in enumerate(tails)),
                    reference_days=parse_number(p.get("vega_reference_days"),
                                                field="vega_reference_days"),
                    floor_days=parse_number(p.get("dte_floor_days"), field="dte_floor_days"),
                ),
                underlyings=parse_underlyings(p.get("underlyings")),
                maintenance_factor=parse_number(p.get("maintenance_factor"),
                                                field="maintenance_factor"),
            )
        except InputError as err:
            raise err.located(params.path or params.id) from None

    def _params_of(self, symbol: str) -> UnderlyingParams:
        try:
            return self.underlyings[symbol]
        except KeyError:
            raise InputError(f"no parameters for this underlying (known: "
                             f"{', '.join(sorted(self.underlyings))})",
                             source=self.params.path or self.params.id,
                             field=f"underlyings.{symbol}") from None

    def describe(self, pool: _Pool, scenario: int) -> str:
        """Return scenario ``scenario`` as it moves ``pool``'s underlying."""
        return self.scenarios.describe(underlying=pool.underlying,
                                       params=self._params_of(pool.underlying),
                                       coin_margined=pool.coin_margined, scenario=scenario)

    def scenario_pnl(self, book: Book, market: MarketSnapshot) -> PoolPnL:
        """Return the per-unit scenario P&L of ``book``'s instruments in pool currency.

        Raises
        ------
        InputError
            An underlying without parameters (located in the parameter file).
        MissingDataError
            A price, volatility or rate a held instrument needs is absent.
        """
        params = {u: self._params_of(u) for u in {i.underlying_symbol
                                                   for i in book.instruments}}
        return pool_pnl(book.instruments, marks=book.marks, market=market,
                        table=self.scenarios, params=params,
                        source=f"{self.name} {self.params.version}")

    def compute(self, book: Book, market: MarketSnapshot) -> MarginResult:
        """Return every account's crypto portfolio margin.

        Positions outside crypto (equities, Treasuries...) are left out with a note.

        Raises
        ------
        InputError
            An underlying without parameters.
        MissingDataError
            A held instrument cannot be priced or a pool currency has no FX rate.
        """
        scope = in_scope(book, _covers, method=self.name,
                         what="crypto spot, perpetuals, futures and options")
        crypto = scope.book
        pnl = self.scenario_pnl(crypto, market)
        layout = _Layout.of(crypto, pnl)
        pool_params = [self._params_of(p.underlying) for p in layout.pools]
        weights = np.array([self.scenarios.weights(q, coin_margined=p.coin_margined)
                            for p, q in zip(layout.pools, pool_params, strict=True)]
                           ).reshape(len(layout.pools), self.scenarios.size)
        weighted = np.ascontiguousarray(pnl.pnl * weights[layout.of_instrument])
        seg = segment_positions(crypto, layout.of_instrument, max(len(layout.pools), 1))
        reduced = reduce_segments(pnl=weighted, seg_offsets=seg.offsets,
                                  pos_instrument=seg.instrument, pos_quantity=seg.quantity,
                                  reduction=MaxLoss())
        rates = np.array([(q.delta_contingency, q.annualised_move_risk, q.option_contingency)
                          for q in pool_params]).reshape(len(pool_params), 3)[seg.group]
        extra = contingencies(segments=seg, instruments=crypto.instruments,
                              notional=pnl.notional, as_of=market.as_of,
                              delta_rate=rates[:, 0], roll_rate=rates[:, 1],
                              option_rate=rates[:, 2])
        parts = np.stack([floor_residue(reduced.value, seg, weighted), extra.delta,
                          extra.roll, extra.option])
        fx = np.array([market.fx_rate(p.currency, to=book.currency) for p in layout.pools])
        seg_fx = fx[seg.group]
        per_account = [np.bincount(seg.account, weights=part * seg_fx,
                                   minlength=book.n_accounts).astype(np.float64)
                       for part in parts]
        im = ceil_cents(np.sum(per_account, axis=0))
        by_name = {p.name: p for p in layout.pools}
        return method_result(
            self, book, market,
            initial_margin=im,
            maintenance_margin=ceil_cents(im * self.maintenance_factor),
            components=dict(zip(COMPONENTS, per_account, strict=True)),
            segments=SegmentCharges(account=seg.account, group=seg.group,
                                    group_names=tuple(p.name for p in layout.pools),
                                    charge=parts.sum(axis=0) * seg_fx,
                                    loss=reduced.value * seg_fx, scenario=reduced.driver),
            scenario_names=self.scenarios.names(),
            describe=lambda group, s: self.describe(by_name[group], s),
            notes=scope.notes,
            detail=_Detail(layout=layout, account=seg.account, group=seg.group, parts=parts,
                           fx=fx, currency=book.currency),
            scenario_risk=scenario_risk(
                seg, pnl=weighted, driver=reduced.driver, charge=parts[0], scale=seg_fx,
                scope=scope, adjustments=dict(zip(COMPONENTS[1:], per_account[1:],
                                                  strict=True))),
        )


def _conversion(pool: _Pool, rate: float, currency: str) -> str:
    """Say how a pool's requirement was measured and converted."""
    how = ("P&L of inverse contracts in coin at each scenario's own price; "
           if pool.coin_margined else "")
    return (f"{how}requirement in {pool.currency} valued at today's 1 {pool.currency} = "
            f"{rate:,.2f} {currency}")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Detail:
    """Per-account explanation: each pool's charges in its own currency and the rate."""

    layout: _Layout
    account: IntArray
    group: IntArray
    parts: FloatArray
    fx: FloatArray
    currency: str

    def __call__(self, row: int) -> Mapping[str, Any]:
        lo, hi = np.searchsorted(self.account, [row, row + 1])
        pools = []
        for s in range(int(lo), int(hi)):
            pool = self.layout.pools[int(self.group[s])]
            amounts = {name: float(self.parts[k, s]) for k, name in enumerate(COMPONENTS)}
            total = sum(amounts.values())
            rate = float(self.fx[int(self.group[s])])
            pools.append({
                "pool": pool.name,
                "margin_currency": pool.currency,
                **amounts,
                "total": total,
                "rate": rate,
                f"total_{self.currency}": total * rate,
                "conversion": _conversion(pool, rate, self.currency),
            })
        return {"pools": pools}
