r"""Backtest of a margin method or arrangement on the bundled real history.

Each business day the book's initial margin is computed with only the market known that
day and set against the P&L the same positions realised over the margin period of risk
(:mod:`crossmargin.analytics.rolling`). An *exception* is a day on which an account's
realised loss exceeded its initial margin. The exceptions are tested per account and
for the book in aggregate (the accounts' observations and exceptions summed, their
transition counts pooled) with Kupiec's proportion of failures, Christoffersen's
independence and conditional coverage tests and the Basel traffic light over each
account's most recent observations (:mod:`crossmargin.analytics.statistics`).

References
----------
.. [1] CPMI-IOSCO (April 2012), "Principles for financial market infrastructures",
   principle 6, key considerations 3 and 6 (99% coverage, daily backtesting).
.. [2] P. H. Kupiec (1995), "Techniques for verifying the accuracy of risk measurement
   models", Journal of Derivatives 3(2), 73-84.
.. [3] P. F. Christoffersen (1998), "Evaluating interval forecasts", International
   Economic Review 39(4), 841-862.
.. [4] Basel Committee on Banking Supervision (January 1996), "Supervisory framework for
   the use of 'backtesting' in conjunction with the internal models approach to market
   risk capital requirements".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from crossmargin.analytics.rolling import (
    Margining,
    MarginPeriod,
    Progress,
    ReferenceCalendar,
    RollingMargin,
    arrangement_margining,
    frame_records,
    method_margining,
    roll,
)
from crossmargin.analytics.statistics import (
    NO_ZONE,
    ZONES,
    LikelihoodRatio,
    TrafficLight,
    Transitions,
    christoffersen_conditional_coverage,
    christoffersen_independence,
    kupiec_pof,
    transitions,
)
from crossmargin.book.book import Book
from crossmargin.book.instruments import AssetClass
from crossmargin.core.errors import InputError
from crossmargin.core.typing import BoolArray, FloatArray, IntArray
from crossmargin.core.values import parse_number
from crossmargin.params.loader import ParamSet, load_params

__all__ = [
    "BacktestParameters",
    "BacktestResult",
    "CoverageTests",
    "coverage_tests",
    "run_backtest",
]


def _whole(value: object, field: str) -> int:
    number = parse_number(value, field=field, positive=True, allow_zero=False)
    if number != int(number):
        raise InputError("must be a whole number", field=field, value=value)
    return int(number)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BacktestParameters:
    """The backtest's numbers, from its versioned parameter file.

    Attributes
    ----------
    params : ParamSet
    confidence : float
        Coverage tested: exceptions are expected on :math:`1 - c` of the days.
    reference : str
        Series whose observation days are the business days.
    continuous : frozenset of AssetClass
        Classes whose margin period counts calendar days.
    mpor_days : mapping of str to int
        Margin period by method or arrangement name; ``default`` for the others.
    window : int
        Observations of the traffic light (the most recent of each account).
    yellow, red : float
        Cumulative binomial probabilities where the yellow and red zones begin.
    horizons : tuple of int
        Days of the largest margin increases (procyclicality).
    """

    params: ParamSet
    confidence: float
    reference: str
    continuous: frozenset[AssetClass]
    mpor_days: Mapping[str, int]
    window: int
    yellow: float
    red: float
    horizons: tuple[int, ...]

    @classmethod
    def from_params(cls, params: ParamSet | None = None) -> BacktestParameters:
        """Read the parameters (the latest bundled set by default)."""
        params = params or load_params("backtest")
        p = params.parameters
        try:
            calendar, mpor = dict(p.get("calendar", {})), dict(p.get("mpor_days", {}))
            light, pro = dict(p.get("traffic_light", {})), dict(p.get("procyclicality", {}))
            try:
                continuous = frozenset(AssetClass(c) for c in calendar.get("continuous", []))
            except ValueError as exc:
                raise InputError(str(exc), field="calendar.continuous") from None
            days = {"default": _whole(mpor.get("default"), "mpor_days.default")}
            days.update({str(k): _whole(v, f"mpor_days.methods.{k}")
                         for k, v in dict(mpor.get("methods", {})).items()})
            out = cls(params=params,
                      confidence=parse_number(p.get("confidence"), field="confidence"),
                      reference=str(calendar.get("reference", "")), continuous=continuous,
                      mpor_days=days, window=_whole(light.get("window"),
                                                    "traffic_light.window"),
                      yellow=parse_number(light.get("yellow"), field="traffic_light.yellow"),
                      red=parse_number(light.get("red"), field="traffic_light.red"),
                      horizons=tuple(_whole(h, "procyclicality.horizons")
                                     for h in pro.get("horizons", [])))
            out.traffic_light(out.confidence)
        except InputError as err:
            raise err.located(params.path or params.id) from None
        return out

    def period(self, name: str, days: int | None = None) -> MarginPeriod:
        """Return the margin period of ``name`` (``days`` overrides the file)."""
        return MarginPeriod(days=days if days is not None else
                            self.mpor_days.get(name, self.mpor_days["default"]),
                            continuous=self.continuous)

    def traffic_light(self, confidence: float) -> TrafficLight:
        """Return the traffic light at ``confidence``."""
        return TrafficLight(confidence=confidence, yellow=self.yellow, red=self.red)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CoverageTests:
    """Coverage statistics of one or many series of exceptions.

    Each attribute has shape (n,) (one per series) or () (pooled).

    Attributes
    ----------
    observations, exceptions : IntArray
    coverage : FloatArray
        Share of observations without an exception (1 without observations).
    kupiec, independence, conditional : LikelihoodRatio
        Kupiec's proportion of failures, Christoffersen's independence and conditional
        coverage.
    window_observations, window_exceptions : IntArray
        The most recent observations the traffic light counts, and their exceptions.
    zone : IntArray
        Traffic-light zone code (index of ``ZONES``; ``NO_ZONE`` without observations).
    cumulative : FloatArray
        Binomial probability of at most the window's exceptions.
    """

    observations: IntArray
    exceptions: IntArray
    coverage: FloatArray
    kupiec: LikelihoodRatio
    independence: LikelihoodRatio
    conditional: LikelihoodRatio
    window_observations: IntArray
    window_exceptions: IntArray
    zone: IntArray
    cumulative: FloatArray

    def row(self, index: int | None = None) -> dict[str, Any]:
        """Return the JSON object of series ``index`` (``None``: the pooled scalars)."""

        def at(values: Any) -> Any:
            return np.asarray(values)[()] if index is None else np.asarray(values)[index]

        zone = int(at(self.zone))
        return {
            "observations": int(at(self.observations)),
            "exceptions": int(at(self.exceptions)),
            "coverage": float(at(self.coverage)),
            "kupiec_lr": float(at(self.kupiec.statistic)),
            "kupiec_p": float(at(self.kupiec.p_value)),
            "christoffersen_lr_ind": float(at(self.independence.statistic)),
            "christoffersen_p_ind": float(at(self.independence.p_value)),
            "christoffersen_lr_cc": float(at(self.conditional.statistic)),
            "christoffersen_p_cc": float(at(self.conditional.p_value)),
            "traffic_light": None if zone == NO_ZONE else ZONES[zone].value,
            "traffic_light_observations": int(at(self.window_observations)),
            "traffic_light_exceptions": int(at(self.window_exceptions)),
            "traffic_light_cumulative_probability": float(at(self.cumulative)),
        }


def _tests(*, observations: IntArray, exceptions: IntArray, counts: Transitions,
           window_observations: IntArray, window_exceptions: IntArray,
           light: TrafficLight) -> CoverageTests:
    pof = kupiec_pof(exceptions=exceptions, observations=observations,
                     confidence=light.confidence)
    ind = christoffersen_independence(counts)
    coverage = 1.0 - np.divide(exceptions, observations, out=np.zeros(observations.shape),
                               where=observations > 0)
    return CoverageTests(
        observations=observations, exceptions=exceptions, coverage=np.asarray(coverage),
        kupiec=pof, independence=ind,
        conditional=christoffersen_conditional_coverage(pof=pof, independence=ind),
        window_observations=window_observations, window_exceptions=window_exceptions,
        zone=light.zones(exceptions=window_exceptions, observations=window_observations),
        cumulative=light.cumulative(exceptions=window_exceptions,
                                    observations=window_observations))


def coverage_tests(*, hits: BoolArray, observed: BoolArray, light: TrafficLight,
                   window: int) -> tuple[CoverageTests, CoverageTests]:
    """Test each series of exceptions, and all of them pooled.

    Parameters
    ----------
    hits, observed : BoolArray, shape (n_series, n_days)
        Exceptions, and the days that count, of each series in time order.
    light : TrafficLight
    window : int
        The traffic light counts each series' last ``window`` observations.

    Returns
    -------
    tuple of CoverageTests
        Per series (shape (n_series,)) and pooled (shape ()): observations, exceptions,
        transition counts and traffic-light counts summed over the series.
    """
    hit = hits & observed
    t = observed.sum(axis=1).astype(np.int64)
    x = hit.sum(axis=1).astype(np.int64)
    from_end = np.cumsum(observed[:, ::-1], axis=1)[:, ::-1]
    recent = observed & (from_end <= window)
    tw = recent.sum(axis=1).astype(np.int64)
    xw = (hit & recent).sum(axis=1).astype(np.int64)
    counts = transitions(hit, observed=observed)
    each = _tests(observations=t, exceptions=x, counts=counts, window_observations=tw,
                  window_exceptions=xw, light=light)
    pooled = _tests(observations=np.asarray(t.sum()), exceptions=np.asarray(x.sum()),
                    counts=counts.total(), window_observations=np.asarray(tw.sum()),
                    window_exceptions=np.asarray(xw.sum()), light=light)
    return each, pooled


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BacktestResult:
    """A backtest: the rolled margins and P&L, and their coverage statistics.

    Attributes
    ----------
    kind : str
        ``method`` or ``arrangement``.
    rolling : RollingMargin
        Margins (initial margin) and realised P&L by day and account.
    confidence : float
    window : int
        Traffic-light observations per account.
    light : TrafficLight
    params : mapping
        ``{"id", "version", "source"}`` of the backtest's parameter set.
    """

    kind: str
    rolling: RollingMargin
    confidence: float
    window: int
    light: TrafficLight
    params: Mapping[str, str]

    @property
    def exceptions(self) -> BoolArray:
        """Where an account's realised loss exceeded its margin, shape (n_days, n_accounts)."""
        pnl = self.rolling.pnl
        assert pnl is not None
        with np.errstate(invalid="ignore"):
            out: BoolArray = self.rolling.observed & (-pnl > self.rolling.margin)
        return out

    def tests(self) -> tuple[CoverageTests, CoverageTests]:
        """Return the statistics per account and for the book in aggregate."""
        return coverage_tests(hits=self.exceptions.T, observed=self.rolling.observed.T,
                              light=self.light, window=self.window)

    def shortfall(self) -> FloatArray:
        """Return realised loss minus margin, NaN where not observed, (n_days, n_accounts)."""
        pnl = self.rolling.pnl
        assert pnl is not None
        out: FloatArray = np.where(self.rolling.observed, -pnl - self.rolling.margin, np.nan)
        return out

    def worst_shortfall(self) -> dict[str, Any]:
        """Return the largest realised loss minus margin, its account and day.

        Negative when every loss stayed within its margin (the smallest cushion).
        """
        gap = self.shortfall()
        k = int(np.nanargmax(gap))
        day, acct = divmod(k, gap.shape[1])
        return {"amount": round(float(gap[day, acct]), 2),
                "account": self.rolling.account_ids[acct],
                "date": self.rolling.dates[day].isoformat()}

    def to_frame(self) -> pd.DataFrame:
        """Return the book's series by day: margin, realised P&L, exceptions, accounts."""
        return self.rolling.to_frame()

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON of ``crossmargin backtest``.

        Shape: ``{"kind", "name", "currency", "from", "to", "confidence", "mpor_days",
        "margin", "observations", "exceptions", "coverage", "kupiec_lr", "kupiec_p",
        "christoffersen_lr_ind", "christoffersen_p_ind", "christoffersen_lr_cc",
        "christoffersen_p_cc", "traffic_light", "traffic_light_window",
        "traffic_light_observations", "traffic_light_exceptions",
        "traffic_light_cumulative_probability", "traffic_light_bounds",
        "traffic_light_accounts", "worst_shortfall", "days", "skipped_days", "params",
        "notes", "accounts": [{"account", ...the same statistics..., "worst_shortfall"}],
        "series": [{"date", "margin", "realised_pnl", "exceptions", "accounts"}]}``; the
        top-level statistics are the book's in aggregate.
        """
        roll_ = self.rolling
        each, pooled = self.tests()
        yellow, red = self.light.bounds(pooled.window_observations)
        zones = [ZONES[int(z)].value for z in each.zone if z != NO_ZONE]
        gap = self.shortfall()
        has = roll_.observed.any(axis=0)
        worst_day = np.argmax(np.where(roll_.observed, gap, -np.inf), axis=0)
        accounts = []
        for a in np.flatnonzero(has):
            row = {"account": roll_.account_ids[a], **each.row(int(a)),
                   "worst_shortfall": {"amount": round(float(gap[worst_day[a], a]), 2),
                                       "date": roll_.dates[worst_day[a]].isoformat()}}
            accounts.append(row)
        return {
            "kind": self.kind, "name": roll_.label, "currency": roll_.currency,
            "from": roll_.dates[0].isoformat(), "to": roll_.dates[-1].isoformat(),
            "confidence": self.confidence, "mpor_days": roll_.mpor_days,
            "margin": "initial margin",
            **pooled.row(),
            "traffic_light_window": self.window,
            "traffic_light_bounds": {"yellow_from": int(yellow), "red_from": int(red)},
            "traffic_light_accounts": {z.value: zones.count(z.value) for z in ZONES},
            "worst_shortfall": self.worst_shortfall(),
            "days": len(roll_.dates),
            "skipped_days": [{"date": d.isoformat(), "reason": r} for d, r in roll_.skipped],
            "params": dict(self.params),
            "notes": list(roll_.notes),
            "accounts": accounts,
            "series": frame_records(self.to_frame()),
        }


def run_backtest(book: Book, *, start: date, end: date, method: str | None = None,
                 arrangement: str | None = None, confidence: float | None = None,
                 mpor_days: int | None = None,
                 max_stale_days: Mapping[str, int] | None = None,
                 method_options: Mapping[str, Mapping[str, Any]] | None = None,
                 params: ParamSet | None = None,
                 progress: Progress | None = None) -> BacktestResult:
    """Backtest a method or an arrangement on ``book`` from ``start`` to ``end``.

    Parameters
    ----------
    book : Book
    start, end : date
    method, arrangement : str, optional
        Exactly one of them.
    confidence : float, optional
        Coverage tested (the parameter file's 0.99 by default).
    mpor_days : int, optional
        Margin period of risk of the realised P&L (the file's value for the method by
        default: business days, calendar days for crypto).
    max_stale_days : mapping, optional
        Staleness limits of the history by kind.
    method_options : mapping, optional
        Method name -> inputs (``{"span": {"span_file": ...}}``).
    params : ParamSet, optional
        The backtest's parameters (the latest bundled set by default).
    progress : callable, optional
        ``progress(days_done, days_total)``.

    Raises
    ------
    InputError
        Neither or both of method and arrangement, an unknown name, no business day in
        the range, or a book that cannot be priced on any day.
    """
    if (method is None) == (arrangement is None):
        raise InputError("give one --method or one --arrangement", field="--method",
                         value=method)
    settings = BacktestParameters.from_params(params)
    level = settings.confidence if confidence is None else confidence
    light = settings.traffic_light(level)
    options = dict(method_options or {})
    model: Margining
    if method is not None:
        model = method_margining(method, options=options.get(method, {}))
    else:
        assert arrangement is not None
        model = arrangement_margining(arrangement, method_options=options)
    (rolled,) = roll(book, [model], start=start, end=end,
                     calendar=ReferenceCalendar.from_history(settings.reference),
                     period=settings.period(model.name, mpor_days),
                     max_stale_days=max_stale_days, progress=progress)
    if not rolled.observed.any():
        raise InputError(f"no account holds a position on any business day from {start} "
                         f"to {end}", source=book.source, field="--from",
                         value=start.isoformat())
    return BacktestResult(kind="method" if method is not None else "arrangement",
                          rolling=rolled, confidence=level, window=settings.window,
                          light=light, params=settings.params.info())

