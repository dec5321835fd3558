"""The numbers of the report's risk sections, in the shape the figures draw them.

Each section of the evidence report holds plain tables (pandas) built from the results
of the analytics that produced them (backtests, procyclicality measures, stress tests),
so the figures and the page depend on these shapes only. A section the report could not
fill is :class:`Unavailable`, with the reason, and the page says so instead of a figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossmargin.analytics.backtest import BacktestResult
from crossmargin.analytics.procyclicality import ProcyclicalityMeasures
from crossmargin.analytics.rolling import RollingMargin
from crossmargin.analytics.statistics import ZONES
from crossmargin.analytics.stress import StressResult

__all__ = [
    "BACKTEST_COLUMNS",
    "BacktestEvidence",
    "ProcyclicalityEvidence",
    "StressEvidence",
    "Unavailable",
]

#: Columns of :attr:`BacktestEvidence.table`, in the order the page shows them.
BACKTEST_COLUMNS = (
    "observations", "exceptions", "coverage", "kupiec_lr", "kupiec_p",
    "christoffersen_lr_ind", "christoffersen_p_ind", "christoffersen_lr_cc",
    "christoffersen_p_cc", "traffic_light", "worst_shortfall",
)
#: Separator of the member names of a Cover-n.
_AND = ", "


@dataclass(frozen=True, slots=True, kw_only=True)
class Unavailable:
    """A section the report could not fill; ``reason`` is shown in its place."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BacktestEvidence:
    """Backtests of each margin model (method or arrangement) over real history.

    Attributes
    ----------
    table : DataFrame
        Indexed by model: the book's pooled statistics in ``BACKTEST_COLUMNS`` (the
        exceptions of every account and day), ``mpor_days``, and the number of accounts
        in each traffic-light zone (``green``, ``yellow``, ``red``).
    series : mapping of str to DataFrame
        Model -> a frame indexed by date: ``margin`` (the book's total requirement known
        that day), ``loss`` (the book's total loss realised over the margin period of
        risk that followed; a gain negative) and ``exceptions`` (accounts whose own loss
        exceeded their margin).
    confidence : float
        The coverage the margin targets.
    notes : tuple of str
        The models' caveats, each once.
    """

    table: pd.DataFrame
    series: Mapping[str, pd.DataFrame]
    confidence: float
    notes: tuple[str, ...] = ()

    @classmethod
    def from_results(cls, results: Sequence[BacktestResult]) -> BacktestEvidence:
        """Return the section of backtests of one book (one result per model)."""
        rows, series, notes = [], {}, list[str]()
        for res in results:
            each, pooled = res.tests()
            row = {k: v for k, v in pooled.row().items() if k in BACKTEST_COLUMNS}
            row["worst_shortfall"] = res.worst_shortfall()["amount"]
            row["mpor_days"] = res.rolling.mpor_days
            zone = np.asarray(each.zone)
            row.update({z.value: int(np.count_nonzero(zone == k)) for k, z in enumerate(ZONES)})
            rows.append({"model": res.rolling.label, **row})
            frame = res.to_frame()
            series[res.rolling.label] = pd.DataFrame(
                {"margin": frame["margin"], "loss": -frame["realised_pnl"],
                 "exceptions": frame["exceptions"]}, index=frame.index)
            notes += res.rolling.notes
        return cls(table=pd.DataFrame(rows).set_index("model"), series=series,
                   confidence=results[0].confidence if results else np.nan,
                   notes=tuple(dict.fromkeys(notes)))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ProcyclicalityEvidence:
    """Margin over time with and without the anti-procyclicality tools.

    Attributes
    ----------
    series : DataFrame
        Indexed by date, one column per model (the arrangements, and the unified model
        with its tools switched): the book's total margin that day.
    table : DataFrame
        Indexed by model: ``observations``, ``peak``, ``trough``, ``peak_to_trough``
        (their ratio; NaN when the trough is zero) and, for each horizon ``n``,
        ``increase_<n>d`` (the largest rise over ``n`` days, relative to the margin
        before it) and ``increase_<n>d_date``.
    horizons : tuple of int
    notes : tuple of str
    """

    series: pd.DataFrame
    table: pd.DataFrame
    horizons: tuple[int, ...]
    notes: tuple[str, ...] = ()

    @classmethod
    def from_rolls(cls, rolls: Sequence[RollingMargin],
                   measures: Sequence[ProcyclicalityMeasures]) -> ProcyclicalityEvidence:
        """Return the section of margin series and their measures (in the same order)."""
        rows = []
        for m in measures:
            row: dict[str, object] = {
                "model": m.label, "observations": m.observations, "peak": m.peak,
                "trough": m.trough,
                "peak_to_trough": np.nan if m.peak_to_trough is None else m.peak_to_trough}
            for inc in m.increases:
                row[f"increase_{inc.horizon}d"] = np.nan if inc.relative is None \
                    else inc.relative
                row[f"increase_{inc.horizon}d_date"] = "-" if inc.relative_date is None \
                    else inc.relative_date.isoformat()
            rows.append(row)
        horizons = tuple(i.horizon for i in measures[0].increases) if measures else ()
        return cls(series=pd.concat([r.book_margin() for r in rolls], axis=1),
                   table=pd.DataFrame(rows).set_index("model"), horizons=horizons,
                   notes=tuple(dict.fromkeys(n for r in rolls for n in r.notes)))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StressEvidence:
    """Stressed losses beyond margin and collateral, and Cover-1 / Cover-2.

    Attributes
    ----------
    scenarios : DataFrame
        Indexed by scenario name: ``title``, ``kind``, ``loss`` (the sum of the losses
        of the accounts that lose) and ``accounts_losing``.
    uncovered : DataFrame
        Indexed by (scenario, model): ``uncovered`` (the sum over accounts of the loss
        beyond margin and collateral), ``accounts_uncovered``, ``cover_1`` and
        ``cover_2`` (the uncovered losses of the one and two members with the largest)
        and ``cover_1_members``, ``cover_2_members`` (their names).
    cover : DataFrame
        Indexed by model: the largest ``cover_1`` and ``cover_2`` over the scenarios,
        the scenario (``cover_1_scenario``...) and the members.
    members : int
        Clearing members in the population (each account its own when none named).
    notes : tuple of str
    """

    scenarios: pd.DataFrame
    uncovered: pd.DataFrame
    cover: pd.DataFrame
    members: int
    notes: tuple[str, ...] = ()

    @classmethod
    def from_results(cls, results: Mapping[str, StressResult]) -> StressEvidence:
        """Return the section of stress runs of one book, one per model (by name)."""
        first = next(iter(results.values()))
        names = [s.name for s in first.scenarios]
        losing = np.maximum(first.loss, 0.0)
        scenarios = pd.DataFrame(
            {"title": [s.title for s in first.scenarios],
             "kind": [s.kind.value for s in first.scenarios],
             "loss": losing.sum(axis=0),
             "accounts_losing": np.count_nonzero(first.loss > 0, axis=0)},
            index=pd.Index(names, name="scenario"))
        rows, worst, notes = [], [], list(first.notes)
        for model, res in results.items():
            covers = {n: res.cover(n) for n in (1, 2)}
            who = {n: [_AND.join(res.members[int(m)] for m, v in
                                 zip(c.members[s], c.losses[s], strict=True)
                                 if m >= 0 and v > 0) or "-" for s in range(len(names))]
                   for n, c in covers.items()}
            for s, name in enumerate(names):
                rows.append({"scenario": name, "model": model,
                             "uncovered": float(res.uncovered[:, s].sum()),
                             "accounts_uncovered": int(np.count_nonzero(res.uncovered[:, s])),
                             **{f"cover_{n}": float(c.amount[s]) for n, c in covers.items()},
                             **{f"cover_{n}_members": who[n][s] for n in covers}})
            worst.append({"model": model, **{
                k: v for n, c in covers.items() for k, v in (
                    (f"cover_{n}", float(c.amount[c.worst])),
                    (f"cover_{n}_scenario", names[c.worst]),
                    (f"cover_{n}_members", who[n][c.worst]))}})
            notes += [n for n in res.notes if n not in notes]
        return cls(scenarios=scenarios,
                   uncovered=pd.DataFrame(rows).set_index(["scenario", "model"]),
                   cover=pd.DataFrame(worst).set_index("model"),
                   members=len(first.members), notes=tuple(notes))
