r"""Add-ons to the unified margin: liquidity, the diversification cap, anti-procyclicality.

Each add-on is a separate component of the requirement, per account, so that the
result shows what it added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from crossmargin.book.book import Book
from crossmargin.book.instruments import FutureOption, Instrument, Option
from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.methods.base import RESIDUE

__all__ = ["AntiProcyclicality", "DiversificationCap", "LiquidityAddOn"]


def _share(value: float, name: str, *, upper: float = 1.0) -> None:
    if not 0.0 <= value <= upper:
        raise InputError(f"must be in [0, {upper:g}]", field=name, value=value)


@dataclass(frozen=True, slots=True, kw_only=True)
class DiversificationCap:
    r"""Offsets across asset classes credited up to a share of the gross.

    Parameters
    ----------
    share : float
        Largest share :math:`c` of the gross that cross-class offsets may save.

    Notes
    -----
    With :math:`R_u` the unified (all-classes) requirement and :math:`R_k` the
    standalone requirement of asset class :math:`k`,

    .. math:: M = \max\Big(R_u, (1 - c) \sum_k R_k\Big),

    and the component is :math:`M - R_u \ge 0`.

    References
    ----------
    .. [1] CME Group / FICC cross-margining arrangement: customer savings capped at 80%
       (METHODOLOGY.md section 6).
    """

    share: float

    def __post_init__(self) -> None:
        _share(self.share, "diversification_cap")

    def component(self, *, unified: FloatArray, gross: FloatArray) -> FloatArray:
        """Return the top-up of each account, shape (n_accounts,)."""
        out: FloatArray = np.maximum((1.0 - self.share) * gross - unified, 0.0)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class AntiProcyclicality:
    r"""The EMIR anti-procyclicality tools, each optional (``None`` leaves it off).

    Parameters
    ----------
    buffer : float or None
        Buffer :math:`b` as a share of the calculated margin (at least 25% in EMIR).
    stressed_weight : float or None
        Weight :math:`w` of the stressed observations (at least 25% in EMIR).
    floor_years : int or None
        Look-back of the long-run floor in years (10 in EMIR).

    Notes
    -----
    With :math:`M` the margin before these tools, :math:`S` the expected shortfall of
    the stressed scenarios alone and :math:`F` the requirement with volatility estimated
    over the long look-back, the components are

    .. math::
       c_w = \max(0, w (S - M)), \quad c_f = \max(0, F - M - c_w), \quad
       c_b = b (M + c_w + c_f),

    so that the margin is :math:`\max(M, (1 - w) M + w S)`, floored at :math:`F`, plus
    the buffer. None of them lowers a requirement. The buffer is charged in full: its
    release in periods of sharply rising margins is a decision over time that one
    computation cannot take.

    References
    ----------
    .. [1] Commission Delegated Regulation (EU) No 153/2013, article 28(1)(a)-(c),
       19 December 2012.
    """

    buffer: float | None = None
    stressed_weight: float | None = None
    floor_years: int | None = None

    def __post_init__(self) -> None:
        if self.buffer is not None:
            _share(self.buffer, "anti_procyclicality.buffer.share", upper=10.0)
        if self.stressed_weight is not None:
            _share(self.stressed_weight, "anti_procyclicality.stressed_weight.weight")
        if self.floor_years is not None and self.floor_years < 1:
            raise InputError("must be at least 1", field="anti_procyclicality."
                             "ten_year_floor.years", value=self.floor_years)

    def components(self, *, margin: FloatArray, stressed: FloatArray | None,
                   floor: FloatArray | None) -> dict[str, FloatArray]:
        """Return the enabled components, each shape (n_accounts,)."""
        out: dict[str, FloatArray] = {}
        level = margin
        if self.stressed_weight is not None and stressed is not None:
            out["stressed_weight"] = np.maximum(self.stressed_weight * (stressed - level), 0.0)
            level = level + out["stressed_weight"]
        if self.floor_years is not None and floor is not None:
            out["ten_year_floor"] = np.maximum(floor - level, 0.0)
            level = level + out["ten_year_floor"]
        if self.buffer is not None:
            out["buffer"] = self.buffer * level
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class LiquidityAddOn:
    r"""Cost of closing out: the bid/ask half-spread, and a charge for concentration.

    Parameters
    ----------
    half_spread : mapping of str to float
        Half-spread as a share of value, by asset class (``equity``, ``crypto``...), and
        ``option`` for options (a share of the premium).
    adv : mapping of str to float
        Average daily volume in the reporting currency, by asset class.
    adv_by_symbol : mapping of str to float
        Average daily volume by underlying symbol, where known (overrides ``adv``).
    adv_share : float
        Share :math:`\theta` of the daily volume beyond which a position is concentrated.
    impact : float
        Extra cost :math:`\kappa` per unit of value beyond that share.

    Notes
    -----
    With :math:`q_{a,i}` the net quantity of instrument :math:`i` in account :math:`a`,
    :math:`v_i` its value per unit, :math:`h_i` its half-spread and :math:`u(i)` its
    underlying,

    .. math::
       C_a = \sum_i h_i |q_{a,i} v_i|
       + \kappa \sum_u \max\Big(0, \Big|\sum_{i : u(i) = u} q_{a,i} v_i\Big|
       - \theta\, \mathrm{ADV}_u\Big).

    Concentration is measured on the net value held on each underlying (options by their
    premium), a simplification of delta-equivalent measures.

    References
    ----------
    .. [1] METHODOLOGY.md section 4 (liquidity add-ons of CCP VaR models: bid/ask
       close-out cost and concentration against average daily volume).
    """

    half_spread: Mapping[str, float]
    adv: Mapping[str, float]
    adv_by_symbol: Mapping[str, float] = field(default_factory=dict)
    adv_share: float = 0.1
    impact: float = 0.0

    def __post_init__(self) -> None:
        for table, name in ((self.half_spread, "half_spread"), (self.adv, "adv"),
                            (self.adv_by_symbol, "adv_by_symbol")):
            for key, value in table.items():
                if not (np.isfinite(value) and value >= 0):
                    raise InputError("must be a non-negative number",
                                     field=f"liquidity.{name}.{key}", value=value)
        _share(self.adv_share, "liquidity.concentration.adv_share")
        _share(self.impact, "liquidity.concentration.impact")

    def _spread(self, inst: Instrument) -> float:
        key = "option" if isinstance(inst, Option | FutureOption) else inst.asset_class.value
        if key not in self.half_spread:
            raise InputError("no half-spread for this class", field=f"liquidity.half_spread."
                             f"{key}")
        return self.half_spread[key]

    def _adv(self, inst: Instrument) -> float:
        symbol = inst.underlying_symbol
        if symbol in self.adv_by_symbol:
            return self.adv_by_symbol[symbol]
        key = inst.asset_class.value
        if key not in self.adv:
            raise InputError("no average daily volume for this class",
                             field=f"liquidity.adv.{key}")
        return self.adv[key]

    def charge(self, book: Book, *, value: FloatArray) -> FloatArray:
        """Return each account's liquidity add-on, shape (n_accounts,).

        Parameters
        ----------
        book : Book
        value : FloatArray, shape (n_instruments,)
            Value of one unit of each instrument in the reporting currency.
        """
        n_acc = book.n_accounts
        if book.n_positions == 0:
            return np.zeros(n_acc)
        costs = self._costs(book, value=value, account=book.pos_account,
                            positions=slice(None))
        cost = np.bincount(costs.held.key // costs.n_inst, weights=costs.spread,
                           minlength=n_acc)
        cost += np.bincount(costs.exposure.key // costs.n_symbols, weights=costs.impact,
                            minlength=n_acc)
        out: FloatArray = cost.astype(np.float64)
        return out

    def by_position(self, book: Book, *, value: FloatArray, account: int) -> FloatArray:
        r"""Return account ``account``'s add-on shared by its positions, in book order.

        Parameters
        ----------
        book : Book
        value : FloatArray, shape (n_instruments,)
            Value of one unit of each instrument in the reporting currency.
        account : int
            The account's row.

        Returns
        -------
        FloatArray, shape (n_positions of the account,)
            Sums to the account's :meth:`charge`.

        Notes
        -----
        A position :math:`p` on instrument :math:`i` (underlying :math:`u`) carries its
        share :math:`q_p / q_{a,i}` of the holding's bid/ask cost and the share
        :math:`q_p v_i / E_{a,u}` of the concentration cost of the net exposure
        :math:`E_{a,u} = \sum_{i : u(i) = u} q_{a,i} v_i` (a position against the net
        exposure carries a negative share of it).
        """
        lo, hi = int(book.account_offsets[account]), int(book.account_offsets[account + 1])
        if hi == lo:
            return np.zeros(0)
        costs = self._costs(book, value=value, account=np.zeros(hi - lo, dtype=np.int64),
                            positions=slice(lo, hi))
        held, exposure = costs.held, costs.exposure
        total = held.total[held.which]
        share = np.divide(book.pos_quantity[lo:hi], total, out=np.zeros(hi - lo),
                          where=total != 0)
        net = exposure.total[exposure.which]
        impact = np.divide(costs.worth * costs.impact[exposure.which], net,
                           out=np.zeros(net.size), where=net != 0)
        out: FloatArray = share * (costs.spread + impact)[held.which]
        return out

    def _costs(self, book: Book, *, value: FloatArray, account: IntArray,
               positions: slice) -> _Costs:
        """Net holdings of the positions ``positions`` (accounts ``account``), their costs."""
        n_inst = len(book.instruments)
        spread = np.fromiter((self._spread(i) for i in book.instruments), float, n_inst)
        adv = np.fromiter((self._adv(i) for i in book.instruments), float, n_inst)
        symbols = sorted({i.underlying_symbol for i in book.instruments})
        under = np.asarray([symbols.index(i.underlying_symbol) for i in book.instruments],
                           dtype=np.int64)
        held = _net(account * n_inst + book.pos_instrument[positions],
                    book.pos_quantity[positions])
        inst = held.key % n_inst
        worth = held.total * value[inst]
        exposure = _net(held.key // n_inst * len(symbols) + under[inst], worth)
        adv_of = np.zeros(len(symbols))
        adv_of[under] = adv
        limit = self.adv_share * adv_of[exposure.key % len(symbols)]
        excess = np.maximum(np.abs(exposure.total) - limit, 0.0)
        return _Costs(n_inst=n_inst, n_symbols=len(symbols), held=held, exposure=exposure,
                      worth=worth, spread=spread[inst] * np.abs(worth),
                      impact=self.impact * excess)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Net:
    """Distinct keys (sorted), their totals, and the key of each summed item."""

    key: IntArray
    total: FloatArray
    which: IntArray


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Costs:
    """Liquidity costs of net holdings and of net exposures.

    ``held`` sums positions by (account, instrument), ``exposure`` holdings by (account,
    underlying); ``spread`` is each holding's bid/ask cost, ``impact`` each exposure's
    concentration cost.
    """

    n_inst: int
    n_symbols: int
    held: _Net
    exposure: _Net
    worth: FloatArray
    spread: FloatArray
    impact: FloatArray


def _net(key: IntArray, amount: FloatArray) -> _Net:
    """Sum ``amount`` by ``key``: the distinct keys (sorted) and their totals.

    A total within ``RESIDUE`` of the summed magnitudes is the rounding residue of
    offsetting amounts (+q and -q), and counts as zero.
    """
    keys, which = np.unique(key, return_inverse=True)
    which = which.ravel().astype(np.int64, copy=False)
    total = np.bincount(which, weights=amount, minlength=keys.size)
    gross = np.bincount(which, weights=np.abs(amount), minlength=keys.size)
    return _Net(key=keys.astype(np.int64),
                total=np.where(np.abs(total) > RESIDUE * gross, total, 0.0), which=which)
