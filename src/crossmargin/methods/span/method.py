r"""CME SPAN margin from a SPAN 4 XML risk-parameter file.

The file is the method's market data: it gives each contract's risk array, composite
delta and price, and the combined commodities' tiers, spreads, delivery month charges
and short option minimums. The method matches the book's futures and options to the
file's contracts, computes every account's SPAN requirement at once
(:func:`~crossmargin.methods.span.algorithm.span_charges`) and reports it per combined
commodity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from crossmargin.book.book import Book
from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.core.values import parse_number
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import ceil_cents, in_scope, method_result
from crossmargin.methods.span.algorithm import HeldContracts, SpanCharges, span_charges
from crossmargin.methods.span.matching import ContractIndex
from crossmargin.methods.span.model import OPTION, SCENARIOS, RiskParameters, ScanPoints
from crossmargin.methods.span.parser import read_risk_parameters
from crossmargin.methods.span.publisher import RiskParameterPublisher
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.results.margin import MarginResult, SegmentCharges

__all__ = ["StandardPortfolioAnalysisOfRisk"]

#: Components of the result, in the order SPAN adds them up.
COMPONENTS = ("scanning_risk", "intra_spread_charge", "delivery_charge",
              "inter_spread_credit", "short_option_minimum", "net_option_value")


def _with_file(params: ParamSet, risk: RiskParameters) -> ParamSet:
    """Return ``params`` extended with the identity of the risk-parameter file."""
    name = Path(risk.source).name
    org = risk.clearing_org or "clearing organisation unnamed"
    return ParamSet(
        id=params.id, version=params.version, effective=params.effective,
        source=f"{params.source} Risk parameters: {name} ({org}, "
               f"{risk.business_date or 'no date'}, SHA-256 {risk.sha256[:16]}).",
        parameters=MappingProxyType({**params.parameters, "risk_parameter_file": name,
                                     "risk_parameter_sha256": risk.sha256}),
        path=params.path)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StandardPortfolioAnalysisOfRisk:
    r"""CME SPAN (Standard Portfolio Analysis of Risk) from a risk-parameter file.

    Parameters
    ----------
    params : ParamSet
        The method's parameter set, extended with the file's name and SHA-256.
    risk_parameters : RiskParameters
        The parsed SPAN file.
    initial_to_maintenance : float
        Initial requirement as a multiple of maintenance (the file gives maintenance).
    scenario_weights : FloatArray, shape (16,)
        Weight of each risk array value in the scanning risk (1: published arrays
        already hold the extreme moves' covered fraction).
    scan_points : ScanPoints
        The file's ``pointDef``, else the standard 16 scenarios of the parameter set.

    Notes
    -----
    For each account :math:`a` and combined commodity :math:`g` the requirement is

    .. math:: R_{a,g} = \max(S + C^{intra} + C^{spot} - K^{inter}, M^{som}),

    scanning risk :math:`S` (the largest weighted loss of the 16 risk-array scenarios,
    through the shared segment kernel), intra-commodity spread charge, delivery month
    charge, inter-commodity spread credit and short option minimum; then

    .. math:: MM_a = \max(0, \textstyle\sum_g R_{a,g} - NOV_a), \qquad
              IM_a = \max(0, \rho \textstyle\sum_g R_{a,g} - NOV_a),

    :math:`NOV_a` the net value of premium-style options (long minus short) and
    :math:`\rho` ``initial_to_maintenance``; both rounded up to the cent. See
    :mod:`crossmargin.methods.span.algorithm` for each charge.

    References
    ----------
    .. [1] CME Group, "CME SPAN methodology overview" (scan risk + intra-commodity
       spread charge + delivery risk - inter-commodity spread credit, at least the short
       option minimum, less net option value).
    .. [2] CME Group, "Inter Spread / Intra Spread Calculations",
       cmegroup.com/clearing/margins/spread-calc.html (worked examples).
    .. [3] CME Clearing advisory 13-479, 11 October 2013 (speculator initial 110% of
       maintenance).
    """

    name: ClassVar[str] = "span"
    params: ParamSet
    risk_parameters: RiskParameters
    initial_to_maintenance: float = 1.1
    scenario_weights: FloatArray = field(default_factory=lambda: np.ones(SCENARIOS))
    scan_points: ScanPoints | None = None
    _index: ContractIndex = field(init=False, repr=False)
    _pf_cc: IntArray = field(init=False, repr=False)
    _tier_period: IntArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.initial_to_maintenance >= 1:
            raise InputError("must be at least 1", field="initial_to_maintenance",
                             value=self.initial_to_maintenance)
        weights = np.asarray(self.scenario_weights, dtype=np.float64)
        if weights.shape != (SCENARIOS,) or np.any(weights < 0) or \
                not np.all(np.isfinite(weights)):
            raise InputError(f"must be {SCENARIOS} non-negative numbers",
                             field="scenario_weights")
        object.__setattr__(self, "scenario_weights", weights)
        if self.risk_parameters.scan_points is not None:
            object.__setattr__(self, "scan_points", self.risk_parameters.scan_points)
        if self.scan_points is None:
            raise InputError("the file has no pointDef and no default scan points are given",
                             source=self.risk_parameters.source, field="pointDef")
        object.__setattr__(self, "_index", ContractIndex(self.risk_parameters))
        object.__setattr__(self, "_pf_cc", self.risk_parameters.portfolio_cc())
        object.__setattr__(self, "_tier_period", self.risk_parameters.tier_periods())

    @classmethod
    def from_params(cls, params: ParamSet | None = None, *,
                    span_file: str | Path | None = None,
                    risk_parameters: RiskParameters | None = None
                    ) -> StandardPortfolioAnalysisOfRisk:
        """Build the method from a parameter set and a SPAN file (or a parsed model).

        Raises
        ------
        InputError
            No file given, a bad file, or a bad parameter (located in its file).
        """
        params = params or load_params("span")
        if risk_parameters is None:
            if span_file is None:
                raise InputError("the span method needs a SPAN risk-parameter file "
                                 "(--span-file)", field="span_file")
            risk_parameters = read_risk_parameters(span_file)
        p: Mapping[str, Any] = params.parameters
        try:
            weights = p.get("scenario_weights")
            if not isinstance(weights, list):
                raise InputError("must be a list of 16 numbers", field="scenario_weights",
                                 value=weights)
            return cls(
                params=_with_file(params, risk_parameters),
                risk_parameters=risk_parameters,
                initial_to_maintenance=parse_number(p.get("initial_to_maintenance"),
                                                    field="initial_to_maintenance"),
                scenario_weights=np.asarray([parse_number(w, field=f"scenario_weights[{k}]")
                                             for k, w in enumerate(weights)]),
                scan_points=ScanPoints.from_parameters(p.get("scan_points"),
                                                       where="scan_points"),
            )
        except InputError as err:
            if err.source:
                raise
            raise err.located(params.path or params.id) from None

    @classmethod
    def for_book(cls, book: Book, market: MarketSnapshot, *,
                 span_file: str | Path | None = None,
                 risk_parameters: RiskParameters | None = None,
                 ) -> StandardPortfolioAnalysisOfRisk:
        """Build the method for ``book``: from a file when given, else publish one.

        Without a file, the risk parameters of every future and option on a future the
        book holds are published from ``market`` and the bundled history
        (:class:`~crossmargin.methods.span.publisher.RiskParameterPublisher`, calibrated
        by the ``publisher`` section of the parameter set), so the patchwork's futures
        silo can be SPAN-margined on any date the history covers.
        """
        if span_file is None and risk_parameters is None:
            risk_parameters = RiskParameterPublisher.from_params().publish(
                book.instruments, market=market)
        return cls.from_params(span_file=span_file, risk_parameters=risk_parameters)

    def snapshot(self) -> MarketSnapshot:
        """Return the market the file alone gives: its date and currency conversions.

        Raises
        ------
        InputError
            When the file has no ``pointInTime/date``.
        """
        risk = self.risk_parameters
        if risk.business_date is None:
            raise InputError("the file has no date: give --as-of or --market",
                             source=risk.source, field="pointInTime/date")
        fx: dict[str, float] = {}
        for conv in risk.conversions:
            if conv.target == "USD":
                fx[conv.source] = conv.factor
            elif conv.source == "USD":
                fx[conv.target] = 1.0 / conv.factor
        return MarketSnapshot(
            as_of=risk.business_date, prices={}, fx=fx, source=risk.source,
            notes={"span": f"market data: the SPAN risk-parameter file "
                           f"{Path(risk.source).name} of {risk.business_date}"})

    # -- margin ------------------------------------------------------------------------
    def _held(self, book: Book, rows: IntArray, market: MarketSnapshot) -> HeldContracts:
        risk, c = self.risk_parameters, self.risk_parameters.contracts
        pf_cc = self._pf_cc[c.portfolio[rows]]
        if np.any(pf_cc < 0):
            pf = risk.portfolios[int(c.portfolio[rows[np.argmax(pf_cc < 0)]])]
            raise InputError("portfolio belongs to no combined commodity (ccDef/pfLink)",
                             source=risk.source, field=f"{pf.type.element}[pfCode={pf.code}]",
                             value=book.instruments[int(np.argmax(pf_cc < 0))].label)
        used, cc = np.unique(pf_cc, return_inverse=True)
        commodities = tuple(risk.combined[int(g)] for g in used)

        def fx(currency: str) -> float:
            return 1.0 if currency == book.currency else \
                market.fx_rate(currency, to=book.currency)

        pf_fx = np.asarray([fx(risk.portfolios[int(k)].currency) for k in c.portfolio[rows]],
                           dtype=np.float64)
        is_option = c.kind[rows] == OPTION
        futures_style = np.asarray([risk.portfolios[int(k)].value_method.upper() == "FUT"
                                    for k in c.portfolio[rows]], dtype=bool)
        premium = is_option & ~futures_style
        price = c.price[rows]
        if np.any(premium & np.isnan(price)):
            k = int(np.argmax(premium & np.isnan(price)))
            raise InputError("an option needs its price p for the net option value",
                             source=risk.source, field="opt/p", value=book.instruments[k].label)
        return HeldContracts(
            commodities=commodities,
            fx=np.asarray([fx(g.currency) for g in commodities], dtype=np.float64),
            cc=cc.astype(np.int64), losses=c.arrays[rows] * pf_fx[:, None],
            delta=c.delta[rows] * c.scaling[rows], tier_period=self._tier_period[rows],
            is_option=is_option, right=c.right[rows],
            value=np.where(premium, np.nan_to_num(price) * c.cvf[rows] * pf_fx, 0.0))

    def compute(self, book: Book, market: MarketSnapshot) -> MarginResult:
        """Return every account's SPAN requirement.

        Raises
        ------
        InputError
            A held future or option the file has no contract for (or of another size).
        MissingDataError
            An exchange rate for a portfolio currency other than the book's.
        """
        scope = in_scope(book, self._index.covers, method=self.name,
                         what="futures and options on the products of its risk-parameter "
                              "file")
        sub = scope.book
        rows = np.asarray([self._index.find(i) for i in sub.instruments], dtype=np.int64)
        held = self._held(sub, rows, market)
        assert self.scan_points is not None
        source = self.risk_parameters.source
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # checked below
                charges = span_charges(sub, held, points=self.scan_points,
                                       weights=self.scenario_weights,
                                       rate_id=self.risk_parameters.maintenance_rate(),
                                       inter_spreads=self.risk_parameters.inter_spreads)
        except InputError as err:  # a parameter of the file the algorithm cannot use
            raise (err if err.source else err.located(source)) from None
        acct, n = charges.segments.account, book.n_accounts
        names = tuple(g.code for g in held.commodities)
        parts = (charges.scan, charges.intra, charges.delivery, charges.inter, charges.som,
                 charges.nov)
        finite = np.isfinite(np.vstack([*parts, charges.risk])).all(axis=0)
        if not finite.all():
            g = int(np.argmax(~finite))
            raise InputError("the file's values overflow: a charge is not a finite number",
                             source=source, field=f"ccDef[cc={names[charges.segments.group[g]]}]",
                             value=book.account_ids[int(acct[g])])

        def per_account(values: FloatArray) -> FloatArray:
            out: FloatArray = np.asarray(np.bincount(acct, weights=values, minlength=n),
                                         dtype=np.float64)
            return out

        risk, nov = per_account(charges.risk), per_account(charges.nov)
        points = self.scan_points
        return method_result(
            self, book, market,
            initial_margin=ceil_cents(np.maximum(self.initial_to_maintenance * risk - nov,
                                                 0.0)),
            maintenance_margin=ceil_cents(np.maximum(risk - nov, 0.0)),
            notes=(*scope.notes, *self._notes(book)),
            components={k: per_account(v) for k, v in zip(COMPONENTS, parts, strict=True)},
            segments=SegmentCharges(account=acct, group=charges.segments.group,
                                    group_names=names, charge=charges.risk,
                                    loss=charges.loss, scenario=charges.driver),
            scenario_names=tuple(points.label(s) for s in range(SCENARIOS)),
            describe=lambda group, s: f"{group} {points.label(s)}",
            detail=lambda a: _detail(charges, names, a),
        )

    def _notes(self, book: Book) -> tuple[str, ...]:
        day = self.risk_parameters.business_date
        if book.as_of is not None and day is not None and book.as_of != day:
            return (f"span: the risk-parameter file is of {day}, the book of {book.as_of}",)
        return ()


def _detail(charges: SpanCharges, names: tuple[str, ...], account: int) -> dict[str, Any]:
    """Return one account's SPAN charges by combined commodity (JSON-ready)."""
    acct = charges.segments.account
    lo, hi = np.searchsorted(acct, [account, account + 1])
    out: dict[str, Any] = {}
    for r in range(int(lo), int(hi)):
        out[names[int(charges.segments.group[r])]] = {
            "scanning_risk": round(float(charges.scan[r]), 2),
            "scenario": int(charges.driver[r]) + 1,
            "intra_spread_charge": round(float(charges.intra[r]), 2),
            "delivery_charge": round(float(charges.delivery[r]), 2),
            "inter_spread_credit": round(float(charges.inter[r]), 2),
            "short_option_minimum": round(float(charges.som[r]), 2),
            "risk": round(float(charges.risk[r]), 2),
            "net_option_value": round(float(charges.nov[r]), 2),
        }
    return {"combined_commodities": out}
