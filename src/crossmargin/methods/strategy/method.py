r"""Strategy-based margin of stocks and listed equity options: Reg T, FINRA 4210, Cboe.

Positions held alone pay the Reg T / FINRA rates (stock) or the Cboe option rules;
positions that combine into recognised strategies (spreads, straddles, covered calls and
puts, protective puts and calls, collars and reversals, butterflies, iron condors, boxes)
pay the strategy's requirement instead, and the combination chosen is the one that
minimises the account's requirement, solved as an integer program.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from crossmargin.book.book import Book
from crossmargin.core.errors import InputError
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import ceil_cents, in_scope, method_result
from crossmargin.methods.strategy.allocation import allocate, explain, sum_by
from crossmargin.methods.strategy.holdings import net_holdings
from crossmargin.methods.strategy.pairing import pair_requirements
from crossmargin.methods.strategy.rules import OptionRule, StockRule, unit_requirements
from crossmargin.methods.strategy.strategies import candidate_strategies, capacity
from crossmargin.methods.strategy.terms import covers, instrument_terms
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.results.margin import MarginResult, SegmentCharges

__all__ = ["StrategyBased"]

CONVENTION = ("strategy requirements count short sale proceeds (short stock 150%, short "
              "options their value plus margin); the equity to deposit is the requirement "
              "less the short_proceeds component")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StrategyBased:
    r"""Strategy-based margin: Reg T initial, FINRA 4210 maintenance, Cboe option rules.

    Parameters
    ----------
    params : ParamSet
        The parameter set the rates came from (id, version, source).
    stock : StockRule
        Reg T and FINRA 4210(c) rates of stock and ETF positions.
    options : OptionRule
        Cboe Rule 10.3 rates of listed equity and index options.

    Notes
    -----
    Requirements count the proceeds of short sales (the Reg T and Cboe statement): a
    short sale requires 150% of its market value, an uncovered short option its current
    value plus margin; the component ``short_proceeds`` is the current value of the short
    positions, and the equity the customer must deposit is the requirement less it.

    Each account's holdings are netted per instrument and grouped by underlying. With
    :math:`a_h` the requirement of one unit of holding :math:`h` held alone
    (:mod:`.rules`), :math:`r_c` that of one instance of candidate strategy :math:`c`
    (:mod:`.strategies`) and :math:`x_c` the instances formed,

    .. math::
        R = \sum_h a_h \Big(|q_h| - \sum_c u_{hc} x_c\Big) + \sum_c r_c x_c,

    where :math:`x` minimises :math:`R` over whole numbers of instances that use no more
    units than held (:mod:`.pairing`). The initial and the maintenance requirement are
    each minimised over the pairings; an initial requirement is never below the
    maintenance requirement of the same position or strategy.

    Components (initial requirement): ``stock``, ``long_options`` and ``short_options``
    held alone, ``strategies`` (the instances formed) and ``short_proceeds``, the part of
    the total that the short positions' current value covers. ``detail`` reports each
    account's pairing for both requirements.

    References
    ----------
    .. [1] Regulation T, 12 CFR 220.12 (supplement: margin requirements).
    .. [2] FINRA Rule 4210(c) and (f)(2), maintenance and options.
    .. [3] Cboe, "Strategy-based Margin" (Cboe Rule 10.3); Cboe Margin Manual (April 2000).
    .. [4] FINRA Regulatory Notice 12-44 (2012); SEC Release No. 34-67752 (2012): the
       maximum potential loss of a spread.
    """

    name: ClassVar[str] = "strategy"
    params: ParamSet
    stock: StockRule
    options: OptionRule

    @classmethod
    def from_params(cls, params: ParamSet | None = None) -> StrategyBased:
        """Build the method from a parameter set (the latest bundled one by default)."""
        params = params or load_params("strategy")
        try:
            return cls(params=params, stock=StockRule.from_mapping(params.parameters),
                       options=OptionRule.from_mapping(params.parameters))
        except InputError as err:
            raise err.located(params.path or params.id) from None

    def compute(self, book: Book, market: MarketSnapshot) -> MarginResult:
        """Return every account's strategy-based requirements.

        Raises
        ------
        MissingDataError
            When a held instrument cannot be valued.
        InputError
            When an option has expired or a product class has no rate.
        """
        scope = in_scope(book, covers, method=self.name,
                         what="stocks, ETFs and listed equity and index options")
        held = scope.book
        terms = instrument_terms(book=held, market=market, rule=self.options,
                                 source=self.params.path or self.params.id)
        unit = unit_requirements(
            is_stock=terms.is_stock, is_call=terms.is_call, value=terms.value,
            spot=terms.spot, strike=terms.strike, multiplier=terms.multiplier,
            pct=terms.pct, marginable=terms.marginable, stock=self.stock,
            option=self.options)
        holdings = net_holdings(held, terms.underlying)
        candidates = candidate_strategies(holdings=holdings, terms=terms, unit=unit,
                                          stock=self.stock, option=self.options)
        inst = holdings.instrument
        is_long = holdings.quantity > 0
        x_im, x_mm = pair_requirements(candidates=candidates,
                                       capacity=capacity(holdings.quantity),
                                       holding_key=inst * 2 + is_long,
                                       segment_offsets=holdings.segment_offsets)
        allocations = {
            "initial": allocate(holdings=holdings, candidates=candidates, instances=x_im,
                                cost=candidates.initial,
                                alone_cost=np.where(is_long, unit.long_initial[inst],
                                                    unit.short_initial[inst])),
            "maintenance": allocate(holdings=holdings, candidates=candidates,
                                    instances=x_mm, cost=candidates.maintenance,
                                    alone_cost=np.where(is_long, unit.long_maintenance[inst],
                                                        unit.short_maintenance[inst])),
        }
        n = book.n_accounts
        initial = allocations["initial"]
        stock_held = terms.is_stock[inst]
        components = {
            name: sum_by(holdings.account, initial.alone * mask, n)
            for name, mask in (("stock", stock_held),
                               ("long_options", ~stock_held & is_long),
                               ("short_options", ~stock_held & ~is_long))}
        components["strategies"] = sum_by(holdings.segment_account[candidates.segment],
                                          initial.paired, n)
        components["short_proceeds"] = sum_by(
            holdings.account, np.where(is_long, 0.0, -holdings.quantity * terms.value[inst]), n)
        charge = initial.per_segment(holdings, candidates)
        labels = tuple(i.label for i in held.instruments)
        return method_result(
            self, book, market,
            initial_margin=ceil_cents(initial.per_account(holdings, candidates, n)),
            maintenance_margin=ceil_cents(
                allocations["maintenance"].per_account(holdings, candidates, n)),
            components=components,
            segments=SegmentCharges(
                account=holdings.segment_account, group=holdings.segment_underlying,
                group_names=terms.underlying_names, charge=charge, loss=charge,
                scenario=np.zeros(charge.size, dtype=np.int64)),
            scenario_names=("strategy rules",),
            describe=lambda group, _: f"{group}: strategy-based rules (no price scenario)",
            notes=(*scope.notes, CONVENTION),
            detail=lambda row: explain(row, holdings=holdings, candidates=candidates,
                                       allocations=allocations, labels=labels),
        )
