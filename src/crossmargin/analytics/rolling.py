r"""The margin of a book through time, and the losses it had to cover.

Each business day :math:`d` of the reference calendar, the market known that day is
built from the bundled history (:func:`~crossmargin.market.build.snapshot_from_history`,
with its staleness limits), and every margin model (a method or an arrangement) is
computed for the whole book at once. The loss the margin had to cover is the realised
P&L of the same positions over the margin period of risk: from :math:`d` to the
:math:`h`-th business day after it (calendar day :math:`d + h` for the continuous
markets, crypto), by full revaluation at the later market.

Positions are held constant through the period. A position whose instrument expires (or
matures) leaves the book on that day; over a margin period that it does not outlive it is
valued at its expiry. Model prices are used throughout (a mark in the portfolio file
belongs to the file's date, not to the history's days). A day on which the book cannot be
priced is skipped and counted; a run in which no day can be priced fails with the first
day's reason.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from crossmargin.arrangements.compare import ARRANGEMENTS
from crossmargin.arrangements.conservative import ConservativeArrangement
from crossmargin.arrangements.silo import SiloArrangement
from crossmargin.arrangements.unified import UnifiedArrangement
from crossmargin.book.book import Book
from crossmargin.book.instruments import AssetClass, Instrument
from crossmargin.core.errors import CrossmarginError, InputError, MissingDataError
from crossmargin.core.typing import BoolArray, FloatArray
from crossmargin.market.build import snapshot_from_history
from crossmargin.market.history import load_history
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import MarginMethod
from crossmargin.methods.registry import METHODS, method_for
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet

__all__ = [
    "DayMargin",
    "MarginPeriod",
    "Margining",
    "ReferenceCalendar",
    "RollingMargin",
    "arrangement_margining",
    "frame_records",
    "market_move",
    "method_margining",
    "roll",
]

#: Progress callback: ``progress(days_done, days_total)``.
Progress = Callable[[int, int], None]


# -- what is rolled ------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DayMargin:
    """One day's requirements of every account and the caveats that came with them.

    Attributes
    ----------
    initial_margin : FloatArray, shape (n_accounts,)
    notes : tuple of str
    """

    initial_margin: FloatArray
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Margining:
    """A margin model rolled through time: a method or an arrangement, by name.

    Attributes
    ----------
    label : str
        How the model is shown (``fhs``, ``unified``, ``fhs (buffer only)``).
    name : str
        The method or arrangement name (for its margin period of risk).
    compute : callable
        ``compute(book, market) -> DayMargin``: the initial margin of every account.
    """

    label: str
    name: str
    compute: Callable[[Book, MarketSnapshot], DayMargin]


def method_margining(name: str, *, label: str | None = None,
                     options: Mapping[str, Any] | None = None) -> Margining:
    """Return method ``name`` as a rolled model.

    A method whose parameters do not depend on the day is built once and reused; one
    built for the book and the day (SPAN publishes its risk parameters from the history
    known that day) is built again each day, unless ``options`` fix its inputs (a SPAN
    file).

    Parameters
    ----------
    name : str
        A key of :data:`~crossmargin.methods.registry.METHODS`.
    label : str, optional
    options : mapping, optional
        Method inputs (``{"params": ParamSet}``, a SPAN file...).
    """
    if name not in METHODS:
        raise InputError(f"unknown method (known: {', '.join(sorted(METHODS))})",
                         field="method", value=name)
    extra = dict(options or {})
    built: list[MarginMethod] = []

    def compute(book: Book, market: MarketSnapshot) -> DayMargin:
        if built:
            method = built[0]
        else:
            method = method_for(name, book, market, **extra)
            if extra or not hasattr(type(method), "for_book"):
                built.append(method)
        result = method.compute(book, market)
        return DayMargin(initial_margin=result.initial_margin, notes=result.notes)

    return Margining(label=label or name, name=name, compute=compute)


def arrangement_margining(name: str, *, label: str | None = None,
                          method_options: Mapping[str, Mapping[str, Any]] | None = None
                          ) -> Margining:
    """Return arrangement ``name`` (its initial margin) as a rolled model.

    Parameters
    ----------
    name : str
        ``silo``, ``conservative`` or ``unified``.
    label : str, optional
    method_options : mapping, optional
        Method name -> inputs of that method (``{"fhs": {"params": ParamSet}}``).
    """
    options = dict(method_options or {})
    arrangement: SiloArrangement | ConservativeArrangement | UnifiedArrangement
    if name == "silo":
        arrangement = SiloArrangement.from_params(method_options=options)
    elif name == "conservative":
        arrangement = ConservativeArrangement.from_params(method_options=options)
    elif name == "unified":
        arrangement = UnifiedArrangement.from_params(method_options=options)
    else:
        raise InputError(f"unknown arrangement (known: {', '.join(ARRANGEMENTS)})",
                         field="arrangement", value=name)

    def compute(book: Book, market: MarketSnapshot) -> DayMargin:
        result = arrangement.compute(book, market)
        return DayMargin(initial_margin=result.initial_margin, notes=result.notes)

    return Margining(label=label or name, name=name, compute=compute)


# -- calendar and margin period ------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ReferenceCalendar:
    """The business days of the backtest: the days a reference series was observed.

    Attributes
    ----------
    symbol : str
        The reference series (``SPX``: the days the S&P 500 closed).
    days : numpy.ndarray of datetime64[D], shape (n_days,)
        Increasing.
    """

    symbol: str
    days: np.ndarray[Any, np.dtype[np.datetime64]]

    @classmethod
    def from_history(cls, symbol: str) -> ReferenceCalendar:
        """Return the days ``symbol`` has an observation in the bundled history."""
        history = load_history()
        if symbol not in history.columns:
            raise InputError("not a series of the bundled history",
                             field="calendar.reference", value=symbol)
        seen = history[symbol].dropna().index
        return cls(symbol=symbol, days=np.asarray(seen.values, dtype="datetime64[D]"))

    def between(self, start: date, end: date) -> list[date]:
        """Return the business days from ``start`` to ``end``, both included."""
        lo, hi = np.searchsorted(self.days, [np.datetime64(start), np.datetime64(end)],
                                 side="left")
        hi += int(hi < self.days.size and self.days[hi] == np.datetime64(end))
        return [d.item() for d in self.days[lo:hi]]

    def following(self, day: date, n: int) -> list[date]:
        """Return the first ``n`` business days on or after ``day`` (fewer at the end)."""
        lo = int(np.searchsorted(self.days, np.datetime64(day), side="left"))
        return [d.item() for d in self.days[lo:lo + n]]

    def after(self, day: date, n: int) -> date | None:
        """Return the ``n``-th business day after ``day`` (``None`` past the history)."""
        k = int(np.searchsorted(self.days, np.datetime64(day), side="right")) + n - 1
        return self.days[k].item() if k < self.days.size else None


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginPeriod:
    """The margin period of risk of the realised P&L.

    Attributes
    ----------
    days : int
        Length :math:`h`: business days of the reference calendar, or calendar days for
        the continuous asset classes.
    continuous : frozenset of AssetClass
        Classes that trade every day (crypto).
    """

    days: int
    continuous: frozenset[AssetClass] = frozenset()

    def __post_init__(self) -> None:
        if self.days < 1:
            raise InputError("must be at least 1", field="mpor_days", value=self.days)

    def ends(self, instruments: Sequence[Instrument], *, day: date,
             calendar: ReferenceCalendar) -> list[date]:
        """Return the day each instrument's period ends, at its expiry if that is sooner.

        Raises
        ------
        InputError
            The period of a business-day instrument runs past the bundled history.
        """
        business = calendar.after(day, self.days)
        continuous = day + timedelta(days=self.days)
        out: list[date] = []
        for inst in instruments:
            end = continuous if inst.asset_class in self.continuous else business
            if end is None:
                raise InputError("the margin period of risk ends after the bundled history",
                                 field="date", value=day.isoformat())
            last = lifetime_end(inst)
            out.append(min(end, last) if last is not None else end)
        return out


def lifetime_end(instrument: Instrument) -> date | None:
    """Return the expiry or maturity of ``instrument`` (``None`` when it has none)."""
    end = getattr(instrument, "expiry", None) or getattr(instrument, "maturity", None)
    return end if isinstance(end, date) else None


# -- realised P&L ---------------------------------------------------------------------
def _atm(market: MarketSnapshot, underlying: str) -> float:
    surface = market.vols[underlying]
    return float(surface.vol(time=np.asarray(1.0), log_moneyness=np.asarray(0.0)))


def market_move(start: MarketSnapshot, end: MarketSnapshot, *, currencies: Iterable[str]
                ) -> ScenarioSet:
    r"""Return the move from ``start`` to ``end`` as one scenario of ``start``.

    Revaluing instruments on ``start`` under this scenario values them on ``end``'s
    prices, volatilities, curves and FX rates, with the days between them passed.

    Parameters
    ----------
    start, end : MarketSnapshot
    currencies : iterable of str
        Currencies whose value moves (those of the instruments and the reporting one).

    Notes
    -----
    Prices move by :math:`S_1 / S_0 - 1`, volatilities by :math:`\sigma_1 / \sigma_0 - 1`
    (at the money, one year: whole surfaces scale), each curve tenor by :math:`y_1 - y_0`
    (the later curve read at the earlier tenors), FX by the ratio of values. Short rates,
    dividends and funding stay at ``start``'s. A strict set: an instrument whose price,
    volatility or curve ``end`` lacks cannot be valued.
    """
    spot = {s: np.array([end.prices[s] / p - 1.0]) for s, p in start.prices.items()
            if s in end.prices}
    vol = {u: np.array([_atm(end, u) / _atm(start, u) - 1.0]) for u in start.vols
           if u in end.vols}
    curve = {n: (np.array([end.curves[n].par_yield(float(t)) for t in c.tenors])
                 - c.yields)[None, :] for n, c in start.curves.items() if n in end.curves}
    base = start.base_currency
    fx = {c: np.array([end.fx_rate(c, to=base) / start.fx_rate(c, to=base) - 1.0])
          for c in set(currencies) if c != base}
    return ScenarioSet(names=(f"{start.as_of} to {end.as_of}",), spot=spot, vol=vol,
                       curve=curve, fx=fx, horizon_days=float((end.as_of - start.as_of).days),
                       source=f"the market move from {start.as_of} to {end.as_of}")


#: Where a strict scenario set names a missing move, the later market's own look-up.
_LOOKUP: Mapping[str, Callable[[MarketSnapshot, str], object]] = {
    "spot": MarketSnapshot.price, "vol": MarketSnapshot.vol_surface,
    "curve": MarketSnapshot.curve}


def _unit_pnl(instruments: Sequence[Instrument], *, start: MarketSnapshot,
              end: MarketSnapshot, currency: str) -> FloatArray:
    """Return the P&L per unit of each instrument from ``start`` to ``end``."""
    move = market_move(start, end, currencies={currency, *(i.currency for i in instruments)})
    try:
        reval = revalue(instruments, market=start, scenarios=move, currency=currency)
    except MissingDataError as err:
        kind, _, key = (err.field or "").partition(".")
        if kind in _LOOKUP:
            _LOOKUP[kind](end, key)  # raises the later market's error, with its coverage
        raise
    out: FloatArray = reval.pnl[:, 0]
    return out


# -- the rolling engine ---------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RollingMargin:
    """One model's margin of a book through time, and the realised P&L it faced.

    Attributes
    ----------
    label : str
        The model (method or arrangement) as shown.
    name : str
        The method or arrangement name.
    currency : str
    account_ids : tuple of str, shape (n_accounts,)
    dates : tuple of date, shape (n_days,)
        Business days of the run (skipped days included).
    margin : FloatArray, shape (n_days, n_accounts)
        Initial margin; NaN on a skipped day.
    pnl : FloatArray or None, shape (n_days, n_accounts)
        Realised P&L over the margin period from each day (losses negative); NaN on a
        skipped day; ``None`` when the run computed margins only.
    observed : BoolArray, shape (n_days, n_accounts)
        Days that count for each account: computed, with positions held.
    mpor_days : int or None
        The margin period of the realised P&L (``None`` without it).
    skipped : tuple of (date, str)
        Days that could not be computed, and why.
    notes : tuple of str
        Caveats of the run and of the model's results (alike notes of several days once).
    seconds : mapping of str to float
        Wall-clock time spent on ``market``, ``realised`` and ``margin``.
    """

    label: str
    name: str
    currency: str
    account_ids: tuple[str, ...]
    dates: tuple[date, ...]
    margin: FloatArray
    pnl: FloatArray | None
    observed: BoolArray
    mpor_days: int | None
    skipped: tuple[tuple[date, str], ...]
    notes: tuple[str, ...]
    seconds: Mapping[str, float] = field(default_factory=dict)

    @property
    def computed(self) -> BoolArray:
        """Days on which the model was computed, shape (n_days,)."""
        skipped = {day for day, _ in self.skipped}
        out: BoolArray = np.asarray([d not in skipped for d in self.dates], dtype=bool)
        return out

    def book_margin(self) -> pd.Series:
        """Return the book's total margin on each computed day (skipped days left out)."""
        index = pd.DatetimeIndex([pd.Timestamp(d) for d in self.dates], name="date")
        total = np.where(self.observed, self.margin, 0.0).sum(axis=1)
        return pd.Series(total, index=index, name=self.label)[self.computed]

    def to_frame(self) -> pd.DataFrame:
        """Return the book's series by day: margin, realised P&L, exceptions, accounts.

        One row per computed day (``date`` index): the total margin of the accounts
        holding positions and their number; with P&L, their total ``realised_pnl`` and
        ``exceptions``, the accounts whose realised loss exceeded their margin.
        """
        margin = self.book_margin()
        keep = self.computed
        obs = self.observed[keep]
        frame = pd.DataFrame({"margin": margin, "accounts": obs.sum(axis=1)},
                             index=margin.index)
        if self.pnl is not None:
            pnl = self.pnl[keep]
            frame["realised_pnl"] = np.where(obs, pnl, 0.0).sum(axis=1)
            frame["exceptions"] = (obs & (-pnl > self.margin[keep])).sum(axis=1)
        return frame


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return a by-day frame as JSON records: ``date`` first, amounts to the cent, no NaN."""
    rounded = frame.round(2).astype(object)
    rounded = rounded.where(frame.notna(), None)
    dates = pd.DatetimeIndex(frame.index).strftime("%Y-%m-%d")
    return [{"date": day, **{str(k): v for k, v in row.items()}} for day, row in
            zip(dates, rounded.to_dict("records"), strict=True)]


class _NoteLog:
    """Notes of many days, alike notes (differing only in numbers and dates) once."""

    _NUMBERS = re.compile(r"\d[\d.,:-]*")

    def __init__(self) -> None:
        self._first: dict[str, str] = {}
        self._count: dict[str, int] = {}

    def add(self, notes: Iterable[str]) -> None:
        for note in dict.fromkeys(notes):
            key = self._NUMBERS.sub("#", note)
            self._first.setdefault(key, note)
            self._count[key] = self._count.get(key, 0) + 1

    def notes(self) -> tuple[str, ...]:
        return tuple(text if self._count[key] == 1
                     else f"{text} (and alike on {self._count[key] - 1} more days)"
                     for key, text in self._first.items())


class _Markets:
    """Snapshots of the bundled history by day, forgotten once the run has passed them."""

    def __init__(self, max_stale_days: Mapping[str, int] | None) -> None:
        self._limits = dict(max_stale_days or {})
        self._cache: dict[date, MarketSnapshot] = {}
        self.seconds = 0.0

    def at(self, day: date) -> MarketSnapshot:
        if day not in self._cache:
            t0 = time.perf_counter()
            self._cache[day] = snapshot_from_history(day, max_stale_days=self._limits)
            self.seconds += time.perf_counter() - t0
        return self._cache[day]

    def forget_before(self, day: date) -> None:
        for old in [d for d in self._cache if d < day]:
            del self._cache[old]


class _LiveBook:
    """The book on a day: positions whose instruments have not expired, model prices."""

    def __init__(self, book: Book) -> None:
        self.book = book
        ends = [lifetime_end(i) for i in book.instruments]
        self._end = np.array([np.datetime64(e) if e else np.datetime64("9999-12-31")
                              for e in ends], dtype="datetime64[D]")
        self._alive: BoolArray | None = None
        self._part = book

    def on(self, day: date) -> Book:
        alive = self._end > np.datetime64(day)
        if self._alive is None or not np.array_equal(alive, self._alive):
            self._alive = alive
            keep = alive[self.book.pos_instrument]
            self._part = self.book if keep.all() else self.book.select_positions(keep)
        part = self._part
        return Book(as_of=day, currency=part.currency, account_ids=part.account_ids,
                    instruments=part.instruments, account_offsets=part.account_offsets,
                    pos_instrument=part.pos_instrument, pos_quantity=part.pos_quantity,
                    marks=np.full(len(part.instruments), np.nan),
                    collateral=part.collateral, orders=part.orders, source=part.source,
                    members=part.members)

    def notes(self) -> tuple[str, ...]:
        out = []
        if np.isfinite(self.book.marks).any():
            out.append("marks of the portfolio file are not used: each day is valued at "
                       "model prices of the bundled history")
        if self._alive is not None and not self._alive.all():
            gone = int((~self._alive[self.book.pos_instrument]).sum())
            out.append(f"{gone} position(s) expired during the run and left the book on "
                       "their expiry")
        return tuple(out)


def _realised(live: Book, *, day: date, market: MarketSnapshot, markets: _Markets,
              period: MarginPeriod, calendar: ReferenceCalendar) -> FloatArray:
    """Return each account's P&L from ``day`` over the margin period, shape (n_accounts,)."""
    ends = period.ends(live.instruments, day=day, calendar=calendar)
    unit = np.zeros(len(live.instruments))
    for end in sorted(set(ends)):
        rows = [i for i, e in enumerate(ends) if e == end]
        unit[rows] = _unit_pnl([live.instruments[i] for i in rows], start=market,
                               end=markets.at(end), currency=live.currency)
    out: FloatArray = np.bincount(live.pos_account,
                                  weights=live.pos_quantity * unit[live.pos_instrument],
                                  minlength=live.n_accounts).astype(np.float64)
    return out


def _skip_reason(err: CrossmarginError) -> str:
    return " ".join(str(err).split())


def roll(book: Book, models: Sequence[Margining], *, start: date, end: date,
         calendar: ReferenceCalendar, period: MarginPeriod | None,
         max_stale_days: Mapping[str, int] | None = None,
         progress: Progress | None = None) -> tuple[RollingMargin, ...]:
    """Roll ``models`` through the business days from ``start`` to ``end``.

    Parameters
    ----------
    book : Book
        Positions held constant through the run.
    models : sequence of Margining
        Computed each day on the same market.
    start, end : date
        First and last day (business days of ``calendar`` in between are used).
    calendar : ReferenceCalendar
    period : MarginPeriod or None
        The margin period of the realised P&L; ``None`` computes margins only
        (procyclicality).
    max_stale_days : mapping, optional
        Staleness limits of the history by kind (``curve=500``...).
    progress : callable, optional
        Called with ``(days_done, days_total)`` after each day.

    Returns
    -------
    tuple of RollingMargin
        One per model, in order.

    Raises
    ------
    InputError
        No business day in the range, or a model that could not be computed on any day
        (the message gives the first day's reason).
    """
    if end < start:
        raise InputError(f"is before --from {start.isoformat()}", field="--to",
                         value=end.isoformat())
    if not models:
        raise InputError("give at least one method or arrangement", field="method")
    days = calendar.between(start, end)
    if not days:
        raise InputError(f"no business day of {calendar.symbol} in the bundled history "
                         f"from {start} to {end}", field="--from", value=start.isoformat())
    n_days, n = len(days), book.n_accounts
    margin = [np.full((n_days, n), np.nan) for _ in models]
    observed = [np.zeros((n_days, n), dtype=bool) for _ in models]
    pnl = None if period is None else np.full((n_days, n), np.nan)
    skipped: list[list[tuple[date, str]]] = [[] for _ in models]
    logs = [_NoteLog() for _ in models]
    markets, live_book = _Markets(max_stale_days), _LiveBook(book)
    seconds = {"realised": 0.0, "margin": 0.0}
    for k, day in enumerate(days):
        live = live_book.on(day)
        held = np.diff(live.account_offsets) > 0
        market = markets.at(day)
        t0 = time.perf_counter()
        failed = None
        if pnl is not None and period is not None:
            try:
                pnl[k] = _realised(live, day=day, market=market, markets=markets,
                                   period=period, calendar=calendar)
            except CrossmarginError as err:
                failed = f"realised P&L: {_skip_reason(err)}"
        seconds["realised"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        for m, model in enumerate(models):
            if failed is not None:
                skipped[m].append((day, failed))
                continue
            try:
                result = model.compute(live, market)
            except CrossmarginError as err:
                skipped[m].append((day, _skip_reason(err)))
                continue
            margin[m][k] = result.initial_margin
            observed[m][k] = held
            logs[m].add(result.notes)
        seconds["margin"] += time.perf_counter() - t0
        markets.forget_before(day)
        if progress is not None:
            progress(k + 1, n_days)
    seconds["market"] = markets.seconds
    out = []
    for m, model in enumerate(models):
        if len(skipped[m]) == n_days:
            first_day, reason = skipped[m][0]
            raise InputError(f"{model.label} could not be computed on any business day from "
                             f"{days[0]} to {days[-1]}; on {first_day}: {reason}",
                             field="--from", value=start.isoformat())
        notes = [*live_book.notes(), *logs[m].notes()]
        if skipped[m]:
            first_day, reason = skipped[m][0]
            notes.insert(0, f"{len(skipped[m])} of {n_days} business days skipped (the book "
                            f"could not be priced); first {first_day}: {reason}")
        out.append(RollingMargin(
            label=model.label, name=model.name, currency=book.currency,
            account_ids=book.account_ids, dates=tuple(days), margin=margin[m], pnl=pnl,
            observed=observed[m], mpor_days=None if period is None else period.days,
            skipped=tuple(skipped[m]),
            notes=tuple(notes), seconds=dict(seconds)))
    return tuple(out)
