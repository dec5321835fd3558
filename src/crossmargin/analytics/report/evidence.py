"""Gather the numbers of the evidence report: one population, every computation.

:func:`gather_evidence` runs, on one book and the market of its date, the arrangements
side by side (capital freed), then the backtests, the procyclicality measures and the
stress tests over the bundled history, and collects the parameter sets and data they
used. Each risk section comes from its own analytics module; a section that cannot be
computed (the bundled history not covering what it needs, a parameter file at fault)
is :class:`~crossmargin.analytics.report.sections.Unavailable` with the one-line reason,
never a zero. Capital freed is the report's subject: when the arrangements cannot
margin the population on its date, the report fails with that reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

import pandas as pd

from crossmargin.analytics.populations import load_population, sidecar
from crossmargin.analytics.report.capital import CapitalFreed, capital_freed
from crossmargin.analytics.report.history import History, roll_history
from crossmargin.analytics.report.provenance import (
    Provenance,
    arrangement_parameter_ids,
    provenance,
)
from crossmargin.analytics.report.sections import (
    BacktestEvidence,
    ProcyclicalityEvidence,
    StressEvidence,
    Unavailable,
)
from crossmargin.analytics.stress import MarginHeld, StressTest
from crossmargin.arrangements.compare import Comparison, compare
from crossmargin.book.book import Book
from crossmargin.book.io import load_portfolio
from crossmargin.core.errors import CrossmarginError, InputError
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.params.loader import load_params
from crossmargin.results.hashing import input_hash

__all__ = [
    "STAGES",
    "WINDOW_DAYS",
    "Evidence",
    "LabelledBook",
    "Population",
    "default_window",
    "gather_evidence",
    "read_population",
]

#: Business days of the default backtest window, ending on the as-of date.
WINDOW_DAYS = 250
#: The computations of a report, in the order they run: the arrangements on the as-of
#: date, one pass over the window's history (backtests and procyclicality), stress.
STAGES = ("compare", "history", "stress")
#: ``on_progress(stage, done, total)``: a stage's progress (``done`` of ``total`` steps).
ProgressCallback = Callable[[str, int, int], None]
S = TypeVar("S")


@dataclass(frozen=True, slots=True, kw_only=True)
class Population:
    """What the report was computed on.

    Attributes
    ----------
    source : str
        The population file.
    as_of : date
    currency : str
    accounts, positions, instruments, members : int
        Sizes of the book (``members``: clearing members named, 0 when none).
    input_hash : str
        SHA-256 of the book, the market and the arrangements' parameter sets.
    market : str
        Where the market came from.
    """

    source: str
    as_of: date
    currency: str
    accounts: int
    positions: int
    instruments: int
    members: int
    input_hash: str
    market: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Evidence:
    """Everything the report shows, computed once.

    Attributes
    ----------
    population : Population
    window : tuple of date
        First and last day of the backtest and procyclicality window.
    capital : CapitalFreed
    backtest, procyclicality, stress : section or Unavailable
    provenance : Provenance
    seconds : mapping of str to float
        Wall-clock seconds of each stage of ``STAGES``.
    history_seconds : mapping of str to float
        The ``history`` stage's split (``market``, ``realised``, ``margin``); empty when
        it could not run.
    """

    population: Population
    window: tuple[date, date]
    capital: CapitalFreed
    backtest: BacktestEvidence | Unavailable
    procyclicality: ProcyclicalityEvidence | Unavailable
    stress: StressEvidence | Unavailable
    provenance: Provenance
    seconds: Mapping[str, float]
    history_seconds: Mapping[str, float] = field(default_factory=dict)

    def unavailable(self) -> dict[str, str]:
        """Return the sections that could not be computed, with the reason."""
        sections = {"backtest": self.backtest, "procyclicality": self.procyclicality,
                    "stress": self.stress}
        return {k: v.reason for k, v in sections.items() if isinstance(v, Unavailable)}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LabelledBook:
    """A population's book and each account's strategy, where the file records it.

    Attributes
    ----------
    book : Book
    strategies : tuple of str or None, shape (n_accounts,)
        The archetype each account was generated as; ``None`` when not recorded.
    source : str
        Where the labels come from.
    """

    book: Book
    strategies: tuple[str, ...] | None
    source: str


def read_population(path: Path, *, as_of: date | None) -> LabelledBook:
    """Read a population file and, from its accounts sidecar if any, the archetypes.

    A file written by the population generator has ``<stem>.accounts.parquet`` beside
    it with each account's archetype; any other portfolio file is read as it is, its
    accounts then labelled by their holdings.
    """
    side = sidecar(path, "accounts")
    if side.is_file():
        pop = load_population(path, as_of=as_of)
        return LabelledBook(book=pop.book, strategies=pop.labels(),
                            source=f"the archetype each account was generated as "
                                   f"({side.name})")
    return LabelledBook(book=load_portfolio(path, as_of=as_of), strategies=None, source="")


def default_window(as_of: date, *, days: int = WINDOW_DAYS) -> tuple[date, date]:
    """Return the ``days`` business days ending on ``as_of`` (first and last)."""
    if days < 1:
        raise InputError("must be at least 1", field="days", value=days)
    first = pd.bdate_range(end=as_of, periods=days)[0]
    return first.date(), as_of


def _window(as_of: date, start: date | None, end: date | None) -> tuple[date, date]:
    end = end or as_of
    start = start or default_window(end)[0]
    if start > end:
        raise InputError(f"is after --to {end.isoformat()}", field="--from",
                         value=start.isoformat())
    return start, end


class _Clock:
    """Wall-clock seconds of each stage, with a callback as each one advances."""

    def __init__(self, on_progress: ProgressCallback | None) -> None:
        self.seconds: dict[str, float] = {}
        self._on_progress = on_progress

    def progress(self, name: str) -> Callable[[int, int], None]:
        """Return the ``(done, total)`` callback of stage ``name``."""
        def report(done: int, total: int) -> None:
            if self._on_progress is not None:
                self._on_progress(name, done, total)
        return report

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.progress(name)(0, 1)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - start


def _stress(book: Book, market: MarketSnapshot, cmp: Comparison) -> StressEvidence:
    """Stress the book against the margin and collateral of each arrangement."""
    test = StressTest.from_params()
    return StressEvidence.from_results({
        r.arrangement: test.run(book, market, margin=MarginHeld(
            label=f"arrangement {r.arrangement}", initial_margin=r.initial_margin,
            collateral_value=r.collateral_value, params=cmp.params, notes=r.notes))
        for r in cmp.results})


def _section(run: Callable[[], S]) -> S | Unavailable:
    """Run a section; bad or uncovered input makes it unavailable with the reason."""
    try:
        return run()
    except CrossmarginError as err:
        return Unavailable(reason=" ".join(str(err).split()))


def gather_evidence(book: Book, market: MarketSnapshot, *, start: date | None = None,
                    end: date | None = None, strategies: Sequence[str] | None = None,
                    strategy_source: str = "",
                    max_stale_days: Mapping[str, int] | None = None,
                    on_progress: ProgressCallback | None = None) -> Evidence:
    """Compute every section of the evidence report on ``book``.

    Parameters
    ----------
    book : Book
        The population.
    market : MarketSnapshot
        The market of the as-of date (capital freed and stress are computed on it).
    start, end : date, optional
        The backtest window (default: ``WINDOW_DAYS`` business days ending on the
        as-of date).
    strategies : sequence of str, optional, shape (n_accounts,)
        Each account's strategy label (see :mod:`~crossmargin.analytics.report.capital`).
    strategy_source : str
        Where the labels come from.
    max_stale_days : mapping of str to int, optional
        Staleness limits of the history by kind, for the days of the window.
    on_progress : callable, optional
        ``on_progress(stage, done, total)`` as each stage of ``STAGES`` advances.

    Raises
    ------
    InputError, MissingDataError
        When the arrangements cannot margin the population on the as-of date. A risk
        section that cannot be computed is :class:`Unavailable` with the reason.
    """
    window = _window(market.as_of, start, end)
    stale = dict(max_stale_days or {})
    clock = _Clock(on_progress)
    arrangements = load_params("arrangements")
    with clock.stage("compare"):
        cmp = compare(book, market, params=arrangements)
        capital = capital_freed(cmp, book, strategies=strategies,
                                strategy_source=strategy_source)
    with clock.stage("history"):
        history = _section(lambda: roll_history(book, window, arrangements=arrangements,
                                                max_stale_days=stale,
                                                progress=clock.progress("history")))
    backtest, procyclicality = (history.backtest, history.procyclicality) \
        if isinstance(history, History) else (history, history)
    with clock.stage("stress"):
        stress = _section(lambda: _stress(book, market, cmp))
    population = Population(
        source=book.source, as_of=market.as_of, currency=book.currency,
        accounts=book.n_accounts, positions=book.n_positions,
        instruments=len(book.instruments), members=len(set(book.members)),
        input_hash=input_hash(book, market, [arrangements]), market=market.source)
    param_ids = [*arrangement_parameter_ids(arrangements), "backtest", "stress"]
    notes = [*cmp.notes, *(n for section in (backtest, procyclicality, stress)
                           if not isinstance(section, Unavailable) for n in section.notes)]
    return Evidence(population=population, window=window, capital=capital,
                    backtest=backtest, procyclicality=procyclicality, stress=stress,
                    provenance=provenance(param_ids=param_ids, notes=notes),
                    seconds=clock.seconds,
                    history_seconds=history.seconds if isinstance(history, History) else {})
