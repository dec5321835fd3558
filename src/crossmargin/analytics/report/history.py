"""The report's pass over history: every arrangement backtested, its margin over time.

The three arrangements are rolled through the window's business days together
(:func:`crossmargin.analytics.rolling.roll`): each day's market and realised P&L are
built once, and each day's computations are shared between the arrangements that need
them. The silo result serves the conservative rule too; the unified model's result
(the unified arrangement's requirement is its method's) serves the conservative rule,
which runs the same method, and gives the unified margin without its anti-procyclicality
tools (the requirement less the tools' components), so that no day prices the book
under the historical scenarios twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from crossmargin.analytics.backtest import BacktestParameters, BacktestResult
from crossmargin.analytics.procyclicality import TOOLS_SECTION, measure_procyclicality
from crossmargin.analytics.report.sections import BacktestEvidence, ProcyclicalityEvidence
from crossmargin.analytics.rolling import DayMargin, Margining, ReferenceCalendar, roll
from crossmargin.arrangements.compare import ARRANGEMENTS
from crossmargin.arrangements.conservative import ConservativeArrangement
from crossmargin.arrangements.result import ArrangementResult
from crossmargin.arrangements.silo import SiloArrangement
from crossmargin.arrangements.unified import UnifiedArrangement
from crossmargin.book.book import Book
from crossmargin.core.errors import InputError
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import MarginMethod, ceil_cents
from crossmargin.methods.registry import method_for
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.results.margin import MarginResult

__all__ = ["NO_TOOLS", "History", "history_models", "roll_history"]

#: Label of the unified margin without its anti-procyclicality tools.
NO_TOOLS = "unified (no anti-procyclicality tools)"


@dataclass(eq=False)
class _Day:
    """One day's results, shared by the models rolled that day.

    The rolling engine hands every model the same book and market objects on a day; a
    new pair starts a new day.
    """

    silo: SiloArrangement
    book: Book | None = None
    market: MarketSnapshot | None = None
    silo_result: ArrangementResult | None = None
    results: dict[str, MarginResult] = field(default_factory=dict)
    built: dict[str, MarginMethod] = field(default_factory=dict)

    def _on(self, book: Book, market: MarketSnapshot) -> None:
        if book is not self.book or market is not self.market:
            self.book, self.market, self.silo_result = book, market, None
            self.results = {}

    def silo_of(self, book: Book, market: MarketSnapshot) -> ArrangementResult:
        """Return the silo arrangement's result on the day."""
        self._on(book, market)
        if self.silo_result is None:
            self.silo_result = self.silo.compute(book, market)
        return self.silo_result

    def method(self, name: str, book: Book, market: MarketSnapshot) -> MarginResult:
        """Return method ``name``'s result on the day (built once unless it is per book)."""
        self._on(book, market)
        if name not in self.results:
            method = self.built.get(name) or method_for(name, book, market)
            if not hasattr(type(method), "for_book"):
                self.built[name] = method
            self.results[name] = method.compute(book, market)
        return self.results[name]


def _without_tools(result: MarginResult, tools: frozenset[str]) -> DayMargin:
    """Return the requirement less its anti-procyclicality components, to the cent."""
    kept = [v for k, v in result.components.items() if k not in tools]
    total = np.sum(np.stack(kept), axis=0) if kept else np.zeros_like(result.initial_margin)
    return DayMargin(initial_margin=ceil_cents(total), notes=result.notes)


def history_models(arrangements: ParamSet) -> list[Margining]:
    """Return the models of the report's pass over history, sharing each day's results.

    The three arrangements (silo, conservative, unified) and, when the unified method
    has anti-procyclicality tools enabled, the unified margin without them.
    """
    day = _Day(silo=SiloArrangement.from_params(arrangements))
    conservative = ConservativeArrangement.from_params(arrangements)
    unified = UnifiedArrangement.from_params(arrangements).method

    def silo(book: Book, market: MarketSnapshot) -> DayMargin:
        r = day.silo_of(book, market)
        return DayMargin(initial_margin=r.initial_margin, notes=r.notes)

    def cons(book: Book, market: MarketSnapshot) -> DayMargin:
        r = conservative.combine(book, market, silo=day.silo_of(book, market),
                                 results=[day.method(m, book, market)
                                          for m in conservative.models])
        return DayMargin(initial_margin=r.initial_margin, notes=r.notes)

    def uni(book: Book, market: MarketSnapshot) -> DayMargin:
        r = day.method(unified, book, market)
        return DayMargin(initial_margin=r.initial_margin, notes=r.notes)

    models = [Margining(label=name, name=name, compute=fn) for name, fn in
              zip(ARRANGEMENTS, (silo, cons, uni), strict=True)]
    section = load_params(unified).parameters.get(TOOLS_SECTION)
    tools = frozenset(k for k, v in dict(section or {}).items()
                      if isinstance(v, Mapping) and v.get("enabled"))
    if tools:
        models.append(Margining(
            label=NO_TOOLS, name="unified",
            compute=lambda book, market: _without_tools(day.method(unified, book, market),
                                                        tools)))
    return models


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class History:
    """The backtest and procyclicality sections of the report.

    ``seconds``: the pass's wall-clock split between building each day's ``market``,
    the ``realised`` P&L and the ``margin`` computations.
    """

    backtest: BacktestEvidence
    procyclicality: ProcyclicalityEvidence
    seconds: Mapping[str, float] = field(default_factory=dict)


def roll_history(book: Book, window: tuple[date, date], *, arrangements: ParamSet,
                 max_stale_days: Mapping[str, int],
                 progress: Callable[[int, int], None] | None = None) -> History:
    """Roll the report's models through ``window``: backtests and margin series.

    Raises
    ------
    InputError
        No business day in the window, a model that cannot be computed on any day, or
        arrangements with different margin periods of risk (backtest those one by one).
    """
    settings = BacktestParameters.from_params()
    periods = {settings.period(name).days for name in ARRANGEMENTS}
    if len(periods) != 1:
        raise InputError("the arrangements' margin periods of risk differ; backtest them "
                         "one by one (crossmargin backtest)", field="mpor_days",
                         value=sorted(periods))
    rolled = roll(book, history_models(arrangements), start=window[0], end=window[1],
                  calendar=ReferenceCalendar.from_history(settings.reference),
                  period=settings.period(ARRANGEMENTS[0]), max_stale_days=max_stale_days,
                  progress=progress)
    light = settings.traffic_light(settings.confidence)
    backtest = BacktestEvidence.from_results([
        BacktestResult(kind="arrangement", rolling=r, confidence=settings.confidence,
                       window=settings.window, light=light, params=settings.params.info())
        for r in rolled[:len(ARRANGEMENTS)]])
    measures = [measure_procyclicality(r.book_margin(), label=r.label,
                                       horizons=settings.horizons) for r in rolled]
    return History(backtest=backtest,
                   procyclicality=ProcyclicalityEvidence.from_rolls(rolled, measures),
                   seconds=dict(rolled[0].seconds))
