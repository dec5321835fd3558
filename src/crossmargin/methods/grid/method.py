"""A generic scenario-grid portfolio margin: price range x vol shocks per group.

Each group (an underlying with everything written on it, or a yield curve) is
revalued at equidistant points across its price range plus the current price, each
with the implied volatility unchanged, shocked up and shocked down. A group's charge is
its largest loss over these scenarios (floored at zero); groups do not offset each
other; the account's initial margin is the sum of its group charges and maintenance is
a fixed fraction of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from crossmargin.book.book import Book
from crossmargin.book.instruments import AssetClass, Bond, Instrument
from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_number
from crossmargin.kernels import MaxLoss, reduce_segments
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import (
    ceil_cents,
    floor_residue,
    method_result,
    scenario_risk,
    segment_positions,
)
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.pricing.revalue import revalue
from crossmargin.results.margin import MarginResult, SegmentCharges
from crossmargin.scenarios.base import ScenarioSet, VolShift
from crossmargin.scenarios.valuation_points import (
    ValuationPoints,
    parse_ranges,
    parse_valuation_points,
    range_move,
    vol_label,
)

__all__ = ["ScenarioGrid"]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Group:
    name: str
    kind: str  # "price" or "curve"
    range_key: str
    has_vol: bool


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ScenarioGrid:
    r"""Scenario-grid margin (FINRA 4210(g) style valuation points, per-group maxima).

    Parameters
    ----------
    params : ParamSet
        The parameter set the numbers came from (id, version, source).
    points : int
        Equidistant valuation points across each range; the current price is added.
    vol_shocks : tuple of float
        Relative implied-volatility shocks applied at every price point, besides none.
    maintenance_factor : float
        Maintenance margin as a fraction of initial margin.
    price_ranges : mapping of str to (float, float)
        Relative (down, up) price range by product class (``single-stock``,
        ``broad-based-high-cap``...) or asset class (``crypto``, ``commodity``).
    curve_shifts : mapping of str to (float, float)
        Parallel yield shift range (decimals) by asset class (``treasury``, ``rates``).

    Notes
    -----
    For group :math:`g` with range :math:`[d_g, u_g]` and valuation fraction
    :math:`f \in \{-1, \dots, 1\}`, the move is :math:`u_g f` for :math:`f \ge 0` and
    :math:`-d_g f` otherwise. With :math:`L_{a,g,s}` the loss of account :math:`a`'s
    positions in group :math:`g` under scenario :math:`s`,

    .. math:: IM_a = \sum_g \max(0, \max_s L_{a,g,s}), \qquad MM_a = m \cdot IM_a .

    References
    ----------
    .. [1] FINRA Rule 4210(g)(2), portfolio margin valuation points and ranges.
    .. [2] Deribit, "Portfolio margin" (price range and maintenance = 0.8 x initial).
    """

    name: ClassVar[str] = "grid"
    params: ParamSet
    points: int = 10
    vol_shocks: tuple[float, ...] = (0.25, -0.25)
    maintenance_factor: float = 0.8
    price_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    curve_shifts: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.valuation_points()  # validates points and vol_shocks
        if not 0 < self.maintenance_factor <= 1:
            raise InputError("must be in (0, 1]", field="maintenance_factor",
                             value=self.maintenance_factor)

    @classmethod
    def from_params(cls, params: ParamSet | None = None) -> ScenarioGrid:
        """Build the method from a parameter set (the latest bundled one by default)."""
        params = params or load_params("grid")
        p: Mapping[str, Any] = params.parameters
        try:
            points = parse_valuation_points(p)
            return cls(
                params=params,
                points=points.points,
                vol_shocks=points.vol_shocks,
                maintenance_factor=parse_number(p.get("maintenance_factor"),
                                                field="maintenance_factor", positive=True),
                price_ranges=parse_ranges(p.get("price_ranges", {}), "price_ranges"),
                curve_shifts=parse_ranges(p.get("curve_shifts", {}), "curve_shifts"),
            )
        except InputError as err:
            raise err.located(params.path or params.id) from None

    # -- scenarios -------------------------------------------------------------------
    def valuation_points(self) -> ValuationPoints:
        """Return the grid's valuation points (range fractions x vol shocks)."""
        return ValuationPoints(points=self.points, vol_shocks=self.vol_shocks)

    def _group_of(self, inst: Instrument) -> _Group:
        has_vol = inst.kind in ("option", "future_option")
        if isinstance(inst, Bond) or inst.asset_class in (AssetClass.TREASURY, AssetClass.RATES):
            key = inst.asset_class.value
            return _Group(name=inst.underlying_symbol, kind="curve", range_key=key,
                          has_vol=False)
        if inst.asset_class in (AssetClass.CRYPTO, AssetClass.COMMODITY):
            key = inst.asset_class.value
        else:
            key = refdata().product_class_of(inst.underlying_symbol).value
        return _Group(name=inst.underlying_symbol, kind="price", range_key=key,
                      has_vol=has_vol)

    def _range(self, group: _Group) -> tuple[float, float]:
        table = self.curve_shifts if group.kind == "curve" else self.price_ranges
        if group.range_key not in table:
            raise InputError(f"no range for {group.range_key} in the parameter set",
                             source=self.params.path or self.params.id,
                             field=f"{'curve_shifts' if group.kind == 'curve' else 'price_ranges'}"
                                   f".{group.range_key}")
        return table[group.range_key]

    def scenario_set(self, groups: Sequence[_Group]) -> ScenarioSet:
        """Build the grid's scenario set for ``groups``."""
        points = self.valuation_points()
        f, v = points.axes()
        spot: dict[str, np.ndarray] = {}
        curve: dict[str, np.ndarray] = {}
        vol: dict[str, np.ndarray] = {}
        for g in groups:
            down, up = self._range(g)
            (curve if g.kind == "curve" else spot)[g.name] = range_move(f, down=down, up=up)
            if g.has_vol:
                vol[g.name] = v
        return ScenarioSet(names=points.labels(), spot=spot, vol=vol, curve=curve,
                           vol_shift=VolShift.RELATIVE, strict=False,
                           source=f"grid {self.params.version}")

    def describe(self, group: str, scenario: int, groups: Mapping[str, _Group]) -> str:
        """Return scenario ``scenario`` as it moves ``group``."""
        f, v = self.valuation_points().point(scenario)
        down, up = self._range(groups[group])
        move = float(range_move(f, down=down, up=up))
        what = f"yield {move * 1e4:+.0f} bp" if groups[group].kind == "curve" else \
            f"price {move:+.2%}"
        return f"{group} {what}, {vol_label(v)}"

    # -- margin ----------------------------------------------------------------------
    def compute(self, book: Book, market: MarketSnapshot) -> MarginResult:
        """Return every account's grid margin.

        Raises
        ------
        MissingDataError
            When a held instrument cannot be priced.
        """
        inst_groups = [self._group_of(i) for i in book.instruments]
        names = sorted({g.name for g in inst_groups})
        index = {n: k for k, n in enumerate(names)}
        by_name: dict[str, _Group] = {}
        for g in inst_groups:
            prev = by_name.get(g.name)
            by_name[g.name] = g if prev is None else _Group(
                name=g.name, kind=g.kind, range_key=g.range_key,
                has_vol=prev.has_vol or g.has_vol)
        scenarios = self.scenario_set([by_name[n] for n in names])
        reval = revalue(book.instruments, market=market, scenarios=scenarios,
                        currency=book.currency, marks=book.marks)
        group_of_inst = np.asarray([index[g.name] for g in inst_groups], dtype=np.int64)
        seg = segment_positions(book, group_of_inst, max(len(names), 1))
        reduced = reduce_segments(pnl=reval.pnl, seg_offsets=seg.offsets,
                                  pos_instrument=seg.instrument, pos_quantity=seg.quantity,
                                  reduction=MaxLoss())
        charge = floor_residue(reduced.value, seg, reval.pnl)
        im = ceil_cents(np.bincount(seg.account, weights=charge, minlength=book.n_accounts)
                        .astype(np.float64))
        mm = ceil_cents(im * self.maintenance_factor)
        return method_result(
            self, book, market,
            initial_margin=im,
            maintenance_margin=mm,
            components={"scanning_risk": im},
            segments=SegmentCharges(account=seg.account, group=seg.group,
                                    group_names=tuple(names), charge=charge,
                                    loss=reduced.value, scenario=reduced.driver),
            scenario_names=scenarios.names,
            describe=lambda group, s: self.describe(group, s, by_name),
            scenario_risk=scenario_risk(seg, pnl=reval.pnl, driver=reduced.driver,
                                        charge=charge),
        )
