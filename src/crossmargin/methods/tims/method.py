r"""FINRA Rule 4210(g) portfolio margin, computed as OCC's TIMS computes it.

Every class group (an underlying with its options, security futures and, for a
broad-based index, its index futures and their options) is revalued at 10 equidistant
valuation points across the range of its product class plus the current price, each
with implied volatility unchanged, shocked up and shocked down. Within a class group
gains and losses offset in full; a class group's requirement is its largest loss, and
at least $.375 x the multiplier per contract. Between the class groups of a product
group (related broad-based indexes) a fraction of gains offsets losses at each valuation
point; single stocks never offset each other. An optional concentration add-on raises
an account to the loss of its largest class group under a wider move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from crossmargin.book.book import Book
from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError
from crossmargin.core.money import check_currency
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.core.values import parse_number
from crossmargin.kernels import MaxLoss, reduce_segments
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import (
    Segments,
    ceil_cents,
    floor_residue,
    in_scope,
    method_result,
    scenario_risk,
    segment_positions,
)
from crossmargin.methods.tims.explain import Explanation
from crossmargin.methods.tims.groups import (
    ClassGroups,
    ProductGroup,
    is_eligible,
    parse_product_groups,
)
from crossmargin.methods.tims.minimum import MinimumTopUp, contract_minimum, segment_minimum
from crossmargin.methods.tims.offsets import OffsetRuns, offset_losses, offset_runs
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.pricing.revalue import revalue
from crossmargin.results.margin import MarginResult, SegmentCharges
from crossmargin.scenarios.base import ScenarioSet, VolShift
from crossmargin.scenarios.valuation_points import (
    ValuationPoints,
    parse_range,
    parse_ranges,
    parse_valuation_points,
    range_move,
)

__all__ = ["Concentration", "TheoreticalIntermarketMargin"]

#: What the method covers, for the scope note.
COVERS = ("equities, ETFs, equity and index options, security futures and equity index "
          "futures and their options")


@dataclass(frozen=True, slots=True, kw_only=True)
class Concentration:
    """The optional concentration add-on: a wider move of each class group.

    Attributes
    ----------
    enabled : bool
    range : (float, float)
        Relative (down, up) move of the stress, e.g. ``(-0.30, 0.30)``; none by default.
    """

    enabled: bool = False
    range: tuple[float, float] = (0.0, 0.0)


def _sum_by(index: IntArray, values: FloatArray, size: int) -> FloatArray:
    """Return ``values`` summed by ``index`` (entries with ``index < 0`` left out)."""
    keep = index >= 0
    out: FloatArray = np.bincount(index[keep], weights=values[keep],
                                  minlength=size).astype(np.float64)
    return out


def _account_max(seg_account: IntArray, values: FloatArray, n_accounts: int) -> FloatArray:
    """Return each account's largest non-negative segment value (0 without segments)."""
    best = np.zeros(n_accounts)
    if values.size:
        starts = np.flatnonzero(np.r_[True, seg_account[1:] != seg_account[:-1]])
        best[seg_account[starts]] = np.maximum.reduceat(values, starts)
    return best


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class TheoreticalIntermarketMargin:
    r"""FINRA 4210(g) / OCC TIMS portfolio margin with product-group offsets.

    Parameters
    ----------
    params : ParamSet
        The parameter set the numbers came from (id, version, source).
    valuation : ValuationPoints
        Equidistant valuation points across each range (plus the current price) and the
        relative implied-volatility shocks taken at each.
    maintenance_factor : float
        Maintenance margin as a fraction of the requirement (1: portfolio margin is
        both the initial and the maintenance requirement).
    price_ranges : mapping of str to (float, float)
        Relative (down, up) range by product class (``single-stock``,
        ``narrow-index``, ``broad-based``, ``broad-based-high-cap``).
    minimum_per_contract : float
        Minimum per contract per unit of multiplier ($.375), in ``minimum_currency``.
    minimum_currency : str
    product_groups : tuple of ProductGroup
        Related broad-based class groups and their offset fraction.
    concentration : Concentration
        The optional concentration add-on (off by default).

    Notes
    -----
    Scenario :math:`s` moves class group :math:`c` (range :math:`[d_c, u_c]`) by
    :math:`u_c f_s` for :math:`f_s \ge 0` and :math:`-d_c f_s` otherwise, with volatility
    shock :math:`v_s`. With :math:`L_{a,c,s}` the loss of account :math:`a`'s positions in
    class group :math:`c` under :math:`s` (full revaluation), the class-group charge is

    .. math:: R_{a,c} = \max\Big(\max\big(0, \max_s L_{a,c,s}\big),\ m_{a,c}\Big),

    :math:`m_{a,c} = \sum_i |n_{a,c,i}| \, 0.375 \, M_i` over the net contracts of each
    option, future and futures option (capped at the market value for a long option).
    A product group :math:`P` (offset :math:`\theta_P`) held in two or more class groups
    is charged

    .. math:: R_{a,P} = \max\Big(\max\big(0, \max_s \sum_{c \in P} [L_{a,c,s}^+
              - \theta_P L_{a,c,s}^-]\big),\ \sum_{c \in P} m_{a,c}\Big)

    instead of :math:`\sum_{c \in P} R_{a,c}`; the difference is the product-group
    credit :math:`C_{a,P} \ge 0`. The requirement is
    :math:`IM_a = \sum_c R_{a,c} - \sum_P C_{a,P} + A_a` with the concentration add-on
    :math:`A_a = \max(0, \max_c \max_{s'} L_{a,c,s'} - (IM_a - A_a))` over the wider
    moves :math:`s'` (0 unless enabled), and :math:`MM_a = \mu \, IM_a`. Every term is
    homogeneous of degree 1 in the quantities.

    References
    ----------
    .. [1] FINRA Rule 4210(g), portfolio margin: valuation point ranges, class and
       product groups, minimum margin of $.375 x multiplier per contract.
    .. [2] OCC, Theoretical Intermarket Margin System (TIMS): Customer Portfolio Margin
       disclosure, "Overview of Portfolio Margining" (offsets at each price point).
    .. [3] SEC Rule 15c3-1a (Appendix A to the Net Capital Rule), product-group offsets.
    """

    name: ClassVar[str] = "tims"
    params: ParamSet
    valuation: ValuationPoints = field(default_factory=lambda: ValuationPoints(points=10))
    maintenance_factor: float = 1.0
    price_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    minimum_per_contract: float
    minimum_currency: str = "USD"
    product_groups: tuple[ProductGroup, ...] = ()
    concentration: Concentration = field(default_factory=Concentration)

    def __post_init__(self) -> None:
        if not 0 < self.maintenance_factor <= 1:
            raise InputError("must be in (0, 1]", field="maintenance_factor",
                             value=self.maintenance_factor)
        if not (np.isfinite(self.minimum_per_contract) and self.minimum_per_contract >= 0):
            raise InputError("must be a non-negative number", field="minimum.per_contract",
                             value=self.minimum_per_contract)
        check_currency(self.minimum_currency, field="minimum.currency")

    @classmethod
    def from_params(cls, params: ParamSet | None = None) -> TheoreticalIntermarketMargin:
        """Build the method from a parameter set (the latest bundled one by default)."""
        params = params or load_params("tims")
        p: Mapping[str, Any] = params.parameters
        try:
            minimum = dict(p.get("minimum") or {})
            conc = dict(p.get("concentration") or {})
            return cls(
                params=params,
                valuation=parse_valuation_points(p),
                maintenance_factor=parse_number(p.get("maintenance_factor"),
                                                field="maintenance_factor", positive=True),
                price_ranges=parse_ranges(p.get("price_ranges", {}), "price_ranges"),
                minimum_per_contract=parse_number(minimum.get("per_contract"),
                                                  field="minimum.per_contract",
                                                  positive=True),
                minimum_currency=str(minimum.get("currency", "USD")),
                product_groups=parse_product_groups(p.get("product_groups", {})),
                concentration=Concentration(
                    enabled=bool(conc.get("enabled", False)),
                    range=parse_range(conc.get("range"), "concentration.range"),
                ) if conc else Concentration(),
            )
        except InputError as err:
            raise err.located(params.path or params.id) from None

    # -- scenarios -------------------------------------------------------------------
    def class_range(self, class_group: str) -> tuple[float, float]:
        """Return the (down, up) range of ``class_group``'s product class."""
        key = refdata().product_class_of(class_group).value
        if key not in self.price_ranges:
            raise InputError(f"no range for {key} in the parameter set",
                             source=self.params.path or self.params.id,
                             field=f"price_ranges.{key}")
        return self.price_ranges[key]

    def stress_points(self) -> ValuationPoints:
        """Return the concentration stress points: the wider range's ends x vol shocks."""
        return ValuationPoints(points=2, vol_shocks=self.valuation.vol_shocks)

    def scenario_set(self, class_groups: Sequence[str]) -> ScenarioSet:
        """Build the valuation points of ``class_groups`` (then the stress points, if on).

        Every class group moves by the same fraction of its own range in a scenario, so
        that scenario ``s`` is one valuation point for all of them.
        """
        f, v = self.valuation.axes()
        names = self.valuation.labels()
        stress = self.stress_points() if self.concentration.enabled else None
        spot: dict[str, FloatArray] = {}
        for name in class_groups:
            down, up = self.class_range(name)
            spot[name] = range_move(f, down=down, up=up)
        vol = np.asarray(v)
        if stress is not None:
            fs, vs = stress.axes()
            down, up = self.concentration.range
            spot = {k: np.r_[m, range_move(fs, down=down, up=up)] for k, m in spot.items()}
            vol = np.r_[vol, vs]
            names = (*names, *(f"concentration {s}" for s in stress.labels()))
        return ScenarioSet(names=names, spot=spot, vol=dict.fromkeys(class_groups, vol),
                           vol_shift=VolShift.RELATIVE, strict=False,
                           source=f"tims {self.params.version}")

    # -- margin ----------------------------------------------------------------------
    def compute(self, book: Book, market: MarketSnapshot) -> MarginResult:
        """Return every account's portfolio margin.

        Raises
        ------
        MissingDataError
            When a held instrument cannot be priced.
        """
        scope = in_scope(book, is_eligible, method=self.name, what=COVERS)
        covered = scope.book
        groups = ClassGroups.of(covered.instruments, self.product_groups)
        scenarios = self.scenario_set(groups.names)
        reval = revalue(covered.instruments, market=market, scenarios=scenarios,
                        currency=book.currency, marks=covered.marks)
        n_points = self.valuation.size
        pnl = np.ascontiguousarray(reval.pnl[:, :n_points])
        seg = segment_positions(covered, groups.of_instrument, max(groups.size, 1))
        reduced = reduce_segments(pnl=pnl, seg_offsets=seg.offsets,
                                  pos_instrument=seg.instrument, pos_quantity=seg.quantity,
                                  reduction=MaxLoss())
        risk = floor_residue(reduced.value, seg, pnl)
        fx = 1.0 if book.currency == self.minimum_currency else \
            market.fx_rate(self.minimum_currency, to=book.currency)
        short, long = contract_minimum(instruments=covered.instruments,
                                       base_value=reval.base_value,
                                       per_contract=self.minimum_per_contract * fx)
        minimum = segment_minimum(seg, short=short, long=long)
        charge = np.maximum(risk, minimum)
        runs = offset_runs(seg_account=seg.account,
                           seg_product_group=groups.product_group[seg.group])
        seg_run = runs.segment_run(seg.account.size)
        run_requirement, run_credit, run_loss, run_scenario = self._offsets(
            pnl=pnl, seg=seg, runs=runs, seg_run=seg_run, risk=risk, minimum=minimum,
            charge=charge)
        n_acc = book.n_accounts
        requirement = (_sum_by(np.where(seg_run < 0, seg.account, -1), charge, n_acc)
                       + _sum_by(runs.account, run_requirement, n_acc))
        components: dict[str, FloatArray] = {
            "class_groups": _sum_by(seg.account, charge, n_acc),
            "product_group_credit": 0.0 - _sum_by(runs.account, run_credit, n_acc),
        }
        stress_loss, stress_scenario = np.zeros(0), np.zeros(0, dtype=np.int64)
        if self.concentration.enabled:
            stressed = np.ascontiguousarray(reval.pnl[:, n_points:])
            ext = reduce_segments(pnl=stressed, seg_offsets=seg.offsets,
                                  pos_instrument=seg.instrument, pos_quantity=seg.quantity,
                                  reduction=MaxLoss())
            stress_loss, stress_scenario = floor_residue(ext.value, seg, stressed), ext.driver
            add_on = np.maximum(_account_max(seg.account, stress_loss, n_acc) - requirement,
                                0.0)
            components["concentration"] = add_on
            requirement = requirement + add_on
        im = ceil_cents(requirement)
        explanation = Explanation(
            points=self.valuation, stress_points=self.stress_points(),
            range_of=self.class_range, stress_range=self.concentration.range,
            product_groups=self.product_groups, class_groups=groups.names, segments=seg,
            loss=reduced.value, minimum=minimum, charge=charge, scenario=reduced.driver,
            runs=runs, run_loss=run_loss, run_requirement=run_requirement,
            run_credit=run_credit, run_scenario=run_scenario, stress_loss=stress_loss,
            stress_scenario=stress_scenario)
        return method_result(
            self, book, market,
            initial_margin=im,
            maintenance_margin=ceil_cents(im * self.maintenance_factor),
            components=components,
            segments=SegmentCharges(account=seg.account, group=seg.group,
                                    group_names=groups.names, charge=charge,
                                    loss=reduced.value, scenario=reduced.driver),
            scenario_names=scenarios.names[:n_points],
            describe=explanation.describe,
            notes=scope.notes,
            detail=explanation.detail,
            scenario_risk=scenario_risk(
                seg, pnl=pnl, driver=reduced.driver, charge=risk, scope=scope,
                adjustments={k: v for k, v in components.items() if k != "class_groups"},
                position_addons=MinimumTopUp(segments=seg, short=short, long=long,
                                             minimum=minimum, risk=risk)),
        )

    def _offsets(self, *, pnl: FloatArray, seg: Segments, runs: OffsetRuns,
                 seg_run: IntArray, risk: FloatArray, minimum: FloatArray,
                 charge: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
        """Return each run's requirement, credit, offset loss and driving scenario."""
        theta = np.asarray([pg.offset for pg in self.product_groups] or [0.0])
        loss, scenario = offset_losses(pnl=pnl, segments=seg, runs=runs,
                                       offset=theta[runs.product_group])
        # the offset loss never exceeds the sum of the class-group maxima (exactly);
        # the clamp removes rounding residue of the two summation orders
        offset_risk = np.minimum(np.maximum(loss, 0.0), _sum_by(seg_run, risk, runs.size))
        requirement = np.maximum(offset_risk, _sum_by(seg_run, minimum, runs.size))
        credit = np.maximum(_sum_by(seg_run, charge, runs.size) - requirement, 0.0)
        return requirement, credit, loss, scenario
