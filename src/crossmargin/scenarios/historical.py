r"""Historical scenarios: overlapping margin-period-of-risk moves aligned on one date axis.

Every risk factor (a price, an implied-volatility index, a par yield) moves on its own
market's calendar: the days it has an observation. An exchange-traded factor's
``h``-day move ending at its observation :math:`j` is :math:`x_j - x_{j-h}` (log prices,
or yields), over its own trading days; a continuous (24/7) market is observed every
calendar day, so the same rule with no tolerance for missing days gives calendar-day
windows. Windows overlap (one per observation).

The scenarios of a joint history are the days of a reference calendar (the business days
of the reference equity index) in the look-back, plus every such day of the named
stressed windows (appended when the look-back does not reach them). A factor's move on a
scenario date :math:`d` is its window ending at its last observation on or before
:math:`d`, provided that observation is at most ``stale_days`` calendar days old (a
market closed on :math:`d` for a holiday could not move that day) and the window spans
at most ``h + stale_days`` calendar days. Anything else leaves the factor without a move
on that date (``NaN``): never a zero, never a filled return.

A coin's window ending on a Monday therefore covers Saturday to Monday: every scenario
is a true calendar-day window of the coin, joined to the exchange-traded markets' windows
ending that day; windows ending on a weekend, which no exchange-traded market shares,
are not sampled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.core.typing import BoolArray, FloatArray, IntArray
from crossmargin.scenarios.filtering import VolatilityFilter

__all__ = [
    "Change",
    "FactorHistory",
    "FactorMoves",
    "ScenarioDates",
    "StressedWindow",
    "lookback_dates",
    "recent_dates",
]

Days = npt.NDArray[np.datetime64]


def _day(value: date) -> np.datetime64:
    return np.datetime64(value, "D")


class Change(StrEnum):
    """How a factor moves: ``log`` (prices, volatilities) or ``difference`` (yields)."""

    LOG = "log"
    DIFFERENCE = "difference"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FactorMoves:
    """One factor's historical moves on a date axis.

    Attributes
    ----------
    move : FloatArray, shape (n_dates,)
        The unscaled window move (log return or yield change); NaN where none.
    sigma : FloatArray, shape (n_dates,)
        Filtered one-step volatility at the start of each window (known when it opened).
    """

    move: FloatArray
    sigma: FloatArray

    @property
    def valid(self) -> BoolArray:
        """Dates with a move, shape (n_dates,)."""
        out: BoolArray = np.isfinite(self.move)
        return out

    @property
    def standardised(self) -> FloatArray:
        r"""Devolatilised moves :math:`z_d = m_d / \sigma_d` (NaN where no move)."""
        out: FloatArray = self.move / self.sigma
        return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FactorHistory:
    r"""One risk factor's observations up to the as-of date and their filtered volatility.

    Attributes
    ----------
    name : str
        Series id.
    dates : ndarray of datetime64[D], shape (n_obs,)
        Observation dates, increasing.
    level : FloatArray, shape (n_obs,)
        Log price (``Change.LOG``) or the value itself (``Change.DIFFERENCE``).
    sigma : FloatArray, shape (n_obs,)
        One-step volatility forecast for the step after each observation.
    step_end : IntArray, shape (n_steps,)
        Observation that ends each one-step change the filter saw.
    step : FloatArray, shape (n_steps,)
        Those one-step changes.
    stale_days : int
        Calendar days a step or window may exceed its length (weekends, holidays).

    Notes
    -----
    One-step changes between observations more than ``1 + stale_days`` calendar days
    apart (a gap in the data) are left out of the filter: its variance is not updated
    across a gap. With :math:`v` the filter's forecasts over the kept steps, the
    volatility after observation :math:`j` is :math:`\sqrt{v_{c_j}}`, :math:`c_j` the
    number of kept steps ending at or before :math:`j`.
    """

    name: str
    dates: Days
    level: FloatArray
    sigma: FloatArray
    step_end: IntArray
    step: FloatArray
    stale_days: int

    @classmethod
    def build(cls, name: str, series: pd.Series, *, as_of: date, change: Change,
              stale_days: int, filter: VolatilityFilter) -> FactorHistory:
        """Filter ``series`` (a calendar-day series, NaN where not observed) up to ``as_of``.

        Raises
        ------
        MissingDataError
            Fewer than three observations on or before ``as_of``.
        InputError
            A non-positive price under ``Change.LOG``.
        """
        observed = series.loc[: pd.Timestamp(as_of)].dropna()
        if observed.size < 3:
            raise MissingDataError(
                f"{name} has {observed.size} observation(s) on or before {as_of}",
                field=f"history.{name}")
        values = observed.to_numpy(dtype=np.float64)
        if change is Change.LOG:
            if np.any(values <= 0):
                raise InputError("a price history must be positive", field=f"history.{name}")
            values = np.log(values)
        dates = observed.index.to_numpy().astype("datetime64[D]")
        gaps = np.diff(dates).astype(np.int64)
        kept = gaps <= 1 + stale_days
        step_end = (np.flatnonzero(kept) + 1).astype(np.int64)
        step = np.diff(values)[kept]
        forecasts = filter.variances(step, label=name)
        counts = np.searchsorted(step_end, np.arange(dates.size), side="right")
        return cls(name=name, dates=dates, level=values, sigma=np.sqrt(forecasts[counts]),
                   step_end=step_end, step=step, stale_days=stale_days)

    @property
    def first(self) -> date:
        """First observation date."""
        return pd.Timestamp(self.dates[0]).date()

    @property
    def last(self) -> date:
        """Last observation date (on or before the as-of date)."""
        return pd.Timestamp(self.dates[-1]).date()

    @property
    def sigma_now(self) -> float:
        """Today's one-step volatility forecast (after the last observation)."""
        return float(self.sigma[-1])

    def mean_sigma(self, *, start: date) -> float:
        """Mean filtered volatility of the observations from ``start`` on (NaN if none)."""
        lo = int(np.searchsorted(self.dates, _day(start)))
        return float(self.sigma[lo:].mean()) if lo < self.sigma.size else float("nan")

    def rms_step(self, *, start: date) -> float:
        """Root mean square of the one-step changes ending from ``start`` on (NaN if none)."""
        lo = int(np.searchsorted(self.dates, _day(start)))
        recent = self.step[self.step_end >= lo]
        return float(np.sqrt(np.mean(recent**2))) if recent.size else float("nan")

    def moves(self, dates: Days, *, horizon: int) -> FactorMoves:
        """Return the ``horizon``-step moves on the scenario ``dates`` (see module notes)."""
        if horizon < 1:
            raise InputError("must be at least 1", field="mpor_days", value=horizon)
        end = np.searchsorted(self.dates, dates, side="right") - 1
        start = end - horizon
        ok = start >= 0
        end_c, start_c = np.where(ok, end, 0), np.where(ok, start, 0)
        age = (dates - self.dates[end_c]).astype(np.int64)
        span = (self.dates[end_c] - self.dates[start_c]).astype(np.int64)
        ok &= (age <= self.stale_days) & (span <= horizon + self.stale_days)
        move = np.where(ok, self.level[end_c] - self.level[start_c], np.nan)
        sigma = np.where(ok, self.sigma[start_c], np.nan)
        return FactorMoves(move=move, sigma=sigma)


@dataclass(frozen=True, slots=True, kw_only=True)
class StressedWindow:
    """A named period of market stress whose scenarios every look-back keeps."""

    name: str
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InputError("a stressed window must end on or after its start",
                             field=f"stressed_windows.{self.name}", value=self.end.isoformat())


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ScenarioDates:
    """The scenario date axis: one scenario per window end date.

    Attributes
    ----------
    dates : ndarray of datetime64[D], shape (n,)
        Increasing.
    window : tuple of str, shape (n,)
        Name of the stressed window each date belongs to, ``""`` outside them.
    start : date
        First day of the look-back proper (before any appended stressed dates).
    as_of : date
    """

    dates: Days
    window: tuple[str, ...]
    start: date
    as_of: date

    @property
    def size(self) -> int:
        """Number of scenario dates."""
        return int(self.dates.size)

    @property
    def stressed(self) -> BoolArray:
        """Dates inside a stressed window, shape (n,)."""
        return np.asarray([bool(w) for w in self.window], dtype=bool)

    @property
    def names(self) -> tuple[str, ...]:
        """ISO dates, one per scenario."""
        return tuple(str(d) for d in self.dates)


def _reference(reference: Days, as_of: date) -> Days:
    upto: Days = reference[reference <= _day(as_of)]
    if upto.size == 0:
        raise InputError("no reference-calendar day on or before the as-of date",
                         field="as_of", value=as_of.isoformat())
    return upto


def lookback_dates(reference: Days, *, as_of: date, lookback: int,
                   windows: Sequence[StressedWindow]) -> ScenarioDates:
    """Return the last ``lookback`` reference days up to ``as_of`` plus the stressed days.

    Every reference day of every stressed window on or before ``as_of`` is a scenario
    (windows, or parts of windows, after ``as_of`` are not history yet).

    Raises
    ------
    InputError
        Fewer than ``lookback`` reference days up to ``as_of``, or no stressed window
        with a day on or before ``as_of``: the look-back must contain a stressed period.
    """
    days = _reference(reference, as_of)
    if lookback < 1 or days.size < lookback:
        raise InputError(f"the history has {days.size} reference days up to {as_of}",
                         field="lookback_days", value=lookback)
    chosen = days[-lookback:]
    label = np.full(days.size, "", dtype=object)
    for w in windows:
        inside = (days >= _day(w.start)) & (days <= _day(w.end))
        label[inside] = w.name
    stressed = label != ""
    if not stressed.any():
        raise InputError(f"no stressed window has a day on or before {as_of}; the "
                         "look-back must contain a stressed period", field="stressed_windows")
    keep = stressed.copy()
    keep[-lookback:] = True
    return ScenarioDates(dates=days[keep], window=tuple(str(s) for s in label[keep]),
                         start=pd.Timestamp(chosen[0]).date(), as_of=as_of)


def recent_dates(reference: Days, *, as_of: date, years: int) -> ScenarioDates:
    """Return every reference day in the ``years`` calendar years up to ``as_of``."""
    days = _reference(reference, as_of)
    try:
        start = as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February
        start = as_of.replace(year=as_of.year - years, day=28)
    start += timedelta(days=1)
    if days[0] > _day(start):
        raise InputError(f"the reference history starts on {days[0]}, after {start}",
                         field="ten_year_floor.years", value=years)
    chosen = days[days >= _day(start)]
    return ScenarioDates(dates=chosen, window=("",) * chosen.size, start=start, as_of=as_of)
