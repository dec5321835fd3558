r"""Procyclicality of margin models: how far and how fast requirements rise in stress.

Each model's margin of the whole book is rolled through the bundled history
(:func:`crossmargin.analytics.rolling.roll`, margins only), and its series of daily
totals :math:`M_1, \dots, M_T` (the days it could be computed) is measured by

- the peak-to-trough ratio :math:`\max_t M_t / \min_t M_t`;
- for each horizon :math:`n` (1 and 5 days in the parameter file) the largest
  :math:`n`-day increase :math:`\max_t (M_t - M_{t-n})` and the largest relative
  increase :math:`\max_t (M_t - M_{t-n}) / M_{t-n}` over :math:`M_{t-n} > 0`.

The unified FHS model is measured as configured and with its anti-procyclicality tools
(EMIR article 28: the buffer, the weight on stressed observations, the ten-year floor)
all off and each alone on, built by editing the parameter set in memory; so are the
arrangements that run it (the unified portfolio, the conservative rule).

References
----------
.. [1] Commission Delegated Regulation (EU) No 153/2013, article 28 (anti-procyclicality).
.. [2] CPMI-IOSCO (April 2012), "Principles for financial market infrastructures",
   principle 6, key consideration 3 (margin that limits procyclical changes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from crossmargin.analytics.backtest import BacktestParameters
from crossmargin.analytics.rolling import (
    Margining,
    Progress,
    ReferenceCalendar,
    RollingMargin,
    arrangement_margining,
    frame_records,
    method_margining,
    roll,
)
from crossmargin.arrangements.conservative import ConservativeArrangement
from crossmargin.arrangements.unified import UnifiedArrangement
from crossmargin.book.book import Book
from crossmargin.core.errors import InputError
from crossmargin.params.loader import ParamSet, load_params

__all__ = [
    "Increase",
    "ProcyclicalityMeasures",
    "ProcyclicalityReport",
    "measure_procyclicality",
    "run_procyclicality",
    "tool_variants",
]

#: The method whose anti-procyclicality tools are switched, and its parameter section.
TOOLED_METHOD = "fhs"
TOOLS_SECTION = "anti_procyclicality"


def _day(index: pd.Index, k: int) -> date:
    stamp: pd.Timestamp = index[k]
    return stamp.date()


@dataclass(frozen=True, slots=True, kw_only=True)
class Increase:
    """The largest margin increase over ``horizon`` observation days.

    Attributes
    ----------
    horizon : int
    absolute : float or None
        Largest :math:`M_t - M_{t-n}` (negative when the margin only fell); ``None`` with
        fewer than :math:`n + 1` observations.
    absolute_date : date or None
        Day :math:`t` of it.
    relative : float or None
        Largest :math:`(M_t - M_{t-n}) / M_{t-n}` over :math:`M_{t-n} > 0`.
    relative_date : date or None
    """

    horizon: int
    absolute: float | None
    absolute_date: date | None
    relative: float | None
    relative_date: date | None

    def to_json(self) -> dict[str, Any]:
        """Return ``{"horizon", "absolute", "absolute_date", "relative", "relative_date"}``."""
        return {"horizon": self.horizon,
                "absolute": None if self.absolute is None else round(self.absolute, 2),
                "absolute_date": None if self.absolute_date is None
                else self.absolute_date.isoformat(),
                "relative": self.relative,
                "relative_date": None if self.relative_date is None
                else self.relative_date.isoformat()}


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcyclicalityMeasures:
    r"""Procyclicality measures of one model's margin series.

    Attributes
    ----------
    label : str
    observations : int
        Days in the series.
    peak, trough : float
        Largest and smallest total margin.
    peak_date, trough_date : date
    peak_to_trough : float or None
        :math:`\max M / \min M`; ``None`` when the smallest margin is zero.
    increases : tuple of Increase
        One per horizon.
    """

    label: str
    observations: int
    peak: float
    peak_date: date
    trough: float
    trough_date: date
    peak_to_trough: float | None
    increases: tuple[Increase, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the measures as a JSON object."""
        return {"label": self.label, "observations": self.observations,
                "peak": round(self.peak, 2), "peak_date": self.peak_date.isoformat(),
                "trough": round(self.trough, 2), "trough_date": self.trough_date.isoformat(),
                "peak_to_trough": self.peak_to_trough,
                "increases": [i.to_json() for i in self.increases]}


def measure_procyclicality(series: pd.Series, *, label: str, horizons: Sequence[int]
                           ) -> ProcyclicalityMeasures:
    """Measure a margin series (one total per day, in time order).

    Parameters
    ----------
    series : pandas.Series
        Margins indexed by a ``DatetimeIndex``; days that could not be computed left out
        (an :math:`n`-day increase then spans :math:`n` observations).
    label : str
    horizons : sequence of int
        Observation days of the increases.

    Raises
    ------
    InputError
        An empty series, a non-finite or negative margin, or a horizon below 1.
    """
    m = series.to_numpy(dtype=np.float64)
    if m.size == 0:
        raise InputError("no margin to measure", field="series", value=label)
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise InputError("margins must be finite and non-negative", field="series",
                         value=label)
    index = series.index
    peak, trough = int(np.argmax(m)), int(np.argmin(m))
    increases = []
    for n in horizons:
        if n < 1:
            raise InputError("must be at least 1", field="procyclicality.horizons", value=n)
        if m.size <= n:
            increases.append(Increase(horizon=n, absolute=None, absolute_date=None,
                                      relative=None, relative_date=None))
            continue
        change = m[n:] - m[:-n]
        k = int(np.argmax(change))
        base = m[:-n]
        rel = np.divide(change, base, out=np.full(change.shape, -np.inf), where=base > 0)
        j = int(np.argmax(rel))
        has_rel = bool(np.isfinite(rel[j]))
        increases.append(Increase(
            horizon=n, absolute=float(change[k]), absolute_date=_day(index, k + n),
            relative=float(rel[j]) if has_rel else None,
            relative_date=_day(index, j + n) if has_rel else None))
    return ProcyclicalityMeasures(
        label=label, observations=int(m.size), peak=float(m[peak]),
        peak_date=_day(index, peak), trough=float(m[trough]),
        trough_date=_day(index, trough),
        peak_to_trough=float(m[peak] / m[trough]) if m[trough] > 0 else None,
        increases=tuple(increases))


def tool_variants(params: ParamSet) -> dict[str, ParamSet]:
    """Return ``params`` with every anti-procyclicality tool off, and with each alone on.

    Keys: ``"no tools"`` and ``"<tool> only"`` for each tool of the parameter set's
    ``anti_procyclicality`` section (``buffer``, ``stressed_weight``, ``ten_year_floor``).
    """
    tools = params.parameters.get(TOOLS_SECTION)
    if not isinstance(tools, Mapping) or not tools:
        raise InputError("has no anti-procyclicality tools", source=params.path or params.id,
                         field=TOOLS_SECTION)

    def with_on(on: str | None) -> ParamSet:
        section = {name: {**dict(spec), "enabled": name == on}
                   for name, spec in tools.items()}
        return ParamSet(id=params.id, version=params.version, effective=params.effective,
                        source=params.source, path=params.path,
                        parameters=MappingProxyType({**params.parameters,
                                                     TOOLS_SECTION: section}))

    return {"no tools": with_on(None), **{f"{name} only": with_on(name) for name in tools}}


def _runs_tooled_method(arrangement: str) -> bool:
    """Whether an arrangement runs the method whose tools are switched."""
    if arrangement == "unified":
        return UnifiedArrangement.from_params().method == TOOLED_METHOD
    if arrangement == "conservative":
        return TOOLED_METHOD in ConservativeArrangement.from_params().models
    return False


def procyclicality_models(*, methods: Sequence[str], arrangements: Sequence[str],
                          tools: bool) -> list[Margining]:
    """Return the models to roll: each as configured, and its tool variants if asked."""
    variants = tool_variants(load_params(TOOLED_METHOD)) if tools else {}
    out: list[Margining] = []
    for name in methods:
        out.append(method_margining(name))
        if name == TOOLED_METHOD:
            out.extend(method_margining(name, label=f"{name} ({key})",
                                        options={"params": p})
                       for key, p in variants.items())
    for name in arrangements:
        out.append(arrangement_margining(name))
        if variants and _runs_tooled_method(name):
            out.extend(arrangement_margining(
                name, label=f"{name} ({TOOLED_METHOD} {key})",
                method_options={TOOLED_METHOD: {"params": p}}) for key, p in variants.items())
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ProcyclicalityReport:
    """Every model's margin series and its procyclicality measures.

    Attributes
    ----------
    rolls : tuple of RollingMargin
    measures : tuple of ProcyclicalityMeasures
        In the order of ``rolls``.
    horizons : tuple of int
    params : mapping
        ``{"id", "version", "source"}`` of the backtest's parameter set.
    """

    rolls: tuple[RollingMargin, ...]
    measures: tuple[ProcyclicalityMeasures, ...]
    horizons: tuple[int, ...]
    params: Mapping[str, str]

    def to_frame(self) -> pd.DataFrame:
        """Return the book's total margin by day (rows) and model (columns)."""
        return pd.concat([r.book_margin() for r in self.rolls], axis=1)

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON of ``crossmargin procyclicality``.

        Shape: ``{"currency", "from", "to", "horizons", "params", "models": [{"label",
        "observations", "peak", "peak_date", "trough", "trough_date", "peak_to_trough",
        "increases": [{"horizon", "absolute", "absolute_date", "relative",
        "relative_date"}], "skipped_days", "notes"}], "series": [{"date", <label>: margin,
        ...}]}``.
        """
        first = self.rolls[0]
        return {
            "currency": first.currency, "from": first.dates[0].isoformat(),
            "to": first.dates[-1].isoformat(), "horizons": list(self.horizons),
            "params": dict(self.params),
            "models": [{**m.to_json(), "skipped_days": len(r.skipped), "notes": list(r.notes)}
                       for m, r in zip(self.measures, self.rolls, strict=True)],
            "series": frame_records(self.to_frame()),
        }


def run_procyclicality(book: Book, *, start: date, end: date,
                       methods: Sequence[str] = (), arrangements: Sequence[str] = (),
                       tools: bool = True, max_stale_days: Mapping[str, int] | None = None,
                       params: ParamSet | None = None,
                       progress: Progress | None = None) -> ProcyclicalityReport:
    """Roll the margins of ``book`` and measure their procyclicality.

    Parameters
    ----------
    book : Book
    start, end : date
    methods, arrangements : sequence of str
        The models (``fhs`` alone when neither is given).
    tools : bool
        Also measure the FHS model (and the arrangements running it) with its
        anti-procyclicality tools all off and each alone on.
    max_stale_days : mapping, optional
    params : ParamSet, optional
        The backtest's parameters (horizons, reference calendar).
    progress : callable, optional
    """
    settings = BacktestParameters.from_params(params)
    if not methods and not arrangements:
        methods = (TOOLED_METHOD,)
    models = procyclicality_models(methods=methods, arrangements=arrangements, tools=tools)
    rolls = roll(book, models, start=start, end=end,
                 calendar=ReferenceCalendar.from_history(settings.reference), period=None,
                 max_stale_days=max_stale_days, progress=progress)
    measures = tuple(measure_procyclicality(r.book_margin(), label=r.label,
                                            horizons=settings.horizons) for r in rolls)
    return ProcyclicalityReport(rolls=rolls, measures=measures, horizons=settings.horizons,
                                params=settings.params.info())
