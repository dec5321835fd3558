r"""Stress scenarios: windows of the bundled history and hypothetical shocks.

A *historical* window replays the actual moves of every risk factor between two dates
of the bundled history: a price or implied-volatility series moves by its relative
change from its close on the first day to its close on the last (the last observation
within ``stale_days`` of each), a Treasury tenor by its yield change. A factor the window
does not move takes the move of the stand-in the parameter file names for it; without
one the window cannot move the book (:class:`UncoveredWindowError`): never a zero move.

A *hypothetical* shock moves what it names, by symbol, asset class or ``all`` (a symbol
wins over its class, a class over ``all``): relative price moves, implied-volatility
multipliers, yield-curve shifts (parallel, or by tenor), FX moves (a stablecoin depeg)
and a futures basis shock; what it does not name stays unchanged.

Scenario files are read strictly: an unknown key, a move at or below -100%, a yield
shift written in basis points, a non-positive volatility multiplier, a duplicate name
each fail with one line naming the file, the field and the value.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crossmargin.book.instruments import AssetClass
from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.core.typing import FloatArray
from crossmargin.core.values import parse_date, parse_number
from crossmargin.core.yamlio import read_yaml
from crossmargin.market.history import CURVE_TENORS, load_history, series_info

__all__ = [
    "FILE_KEYS",
    "HistoricalWindow",
    "HypotheticalShock",
    "ScenarioKind",
    "ScenarioMoves",
    "StressScenario",
    "UncoveredWindowError",
    "WindowReplay",
    "check_keys",
    "currency_moves",
    "parse_names",
    "parse_scenarios",
    "parse_whole",
    "read_scenarios",
    "window_moves",
]

_ALL = "all"
_CLASSES = frozenset(c.value for c in AssetClass)
_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")
_TENOR = re.compile(r"^(\d+(?:\.\d+)?)([MY])$")
#: Curves of the bundled history and their tenor columns.
_CURVES: Mapping[str, tuple[tuple[str, float], ...]] = {"UST": CURVE_TENORS}
_RATE_COLUMNS = frozenset(c for tenors in _CURVES.values() for c, _ in tenors)
_SHOCK_KEYS = ("name", "title", "prices", "vols", "curves", "fx", "basis")
_WINDOW_KEYS = ("name", "title", "start", "end", "required")
#: The lists a scenario file (and the stress parameter file) may hold.
FILE_KEYS = ("historical", "hypothetical")
#: Largest relative move (1000 is +100,000%) and volatility multiplier a hypothetical
#: shock may give: beyond them a figure is a typo, not a scenario, and revaluing it
#: would overflow.
MAX_MOVE = 1000.0


class ScenarioKind(StrEnum):
    """Where a stress scenario's moves come from."""

    HISTORICAL = "historical"
    HYPOTHETICAL = "hypothetical"


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoricalWindow:
    """A named period of the bundled history whose moves are replayed on today's book.

    ``required``: a factor the window cannot move (even through a stand-in) is an error;
    otherwise the window is left out for that book, with a note.
    """

    name: str
    title: str
    start: date
    end: date
    required: bool = True


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class HypotheticalShock:
    """User-defined shocks; keys are symbols, asset classes or ``all``.

    Attributes
    ----------
    prices : mapping of str to float
        Relative price move (``-0.3``: a 30% fall).
    vols : mapping of str to float
        Implied-volatility multiplier (``2``: doubled), the whole surface.
    curves : mapping of str to (FloatArray, FloatArray)
        Curve name -> (tenors in years, yield shifts as decimals), interpolated linearly
        and flat beyond the ends (one point: a parallel shift).
    fx : mapping of str to float
        Relative move of a currency's value in the market's base currency (a stablecoin
        depeg); a coin moves with ``prices``.
    basis : mapping of str to float
        Futures and perpetuals on the underlying trade this much above (below, if
        negative) their model price under the scenario: a hedge's legs part.
    """

    name: str
    title: str
    prices: Mapping[str, float] = field(default_factory=dict)
    vols: Mapping[str, float] = field(default_factory=dict)
    curves: Mapping[str, tuple[FloatArray, FloatArray]] = field(default_factory=dict)
    fx: Mapping[str, float] = field(default_factory=dict)
    basis: Mapping[str, float] = field(default_factory=dict)

    @staticmethod
    def lookup(table: Mapping[str, float], symbol: str, *, default: float) -> float:
        """Return the shock of ``symbol``: its own, else its asset class's, else ``all``."""
        if symbol in table:
            return table[symbol]
        klass = refdata().asset_class_of(symbol).value
        return table.get(klass, table.get(_ALL, default))

    def idle_keys(self, *, spots: AbstractSet[str], vols: AbstractSet[str],
                  currencies: AbstractSet[str]) -> list[str]:
        """Return the symbols this shock names that nothing held depends on.

        Asset classes and ``all`` apply to whatever is held. A scenario file may serve
        other books, so a symbol that matches nothing is reported, not refused; a
        misspelt symbol would otherwise move nothing unseen.

        Returns
        -------
        list of str
            Entries such as ``"prices.ZZZZ"``, in the order of the file.
        """
        held = {"prices": spots, "basis": spots, "vols": vols, "fx": currencies}
        return [f"{what}.{key}" for what, symbols in held.items()
                for key in getattr(self, what)
                if key not in symbols and key != _ALL and key not in _CLASSES]

    def curve_shift(self, curve: str, tenors: FloatArray) -> FloatArray:
        """Return the yield shift of ``curve`` at ``tenors`` (zero if not shocked)."""
        if curve not in self.curves:
            return np.zeros(tenors.size)
        at, shift = self.curves[curve]
        out: FloatArray = np.interp(tenors, at, shift)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class StressScenario:
    """One scenario of a stress run, as reported."""

    name: str
    kind: ScenarioKind
    title: str
    start: date | None = None
    end: date | None = None


# -- parsing -------------------------------------------------------------------------------
def _mapping(raw: object, *, field: str) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InputError("must be a mapping", field=field, value=raw, has_value=True)
    return raw


def check_keys(raw: Mapping[str, Any], known: Sequence[str], *, field: str) -> None:
    """Raise on the first key of ``raw`` that is not one of ``known``."""
    for key in raw:
        if key not in known:
            raise InputError(f"unknown key (known: {', '.join(known)})",
                             field=f"{field}.{key}" if field else str(key))


def _shock_key(key: object, *, field: str) -> str:
    text = str(key)
    if text in _CLASSES or text == _ALL or _SYMBOL.match(text):
        return text
    raise InputError(f"not a symbol, an asset class ({', '.join(sorted(_CLASSES))}) or "
                     f"{_ALL}", field=f"{field}.{text}")


def _moves(raw: object, *, field: str, multiplier: bool = False) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in _mapping(raw, field=field).items():
        name = _shock_key(key, field=field)
        number = parse_number(value, field=f"{field}.{name}")
        if multiplier and number <= 0:
            raise InputError("a volatility multiplier must be positive",
                             field=f"{field}.{name}", value=value)
        if not multiplier and number <= -1:
            raise InputError("a relative move must stay above -100%",
                             field=f"{field}.{name}", value=value)
        if number > MAX_MOVE:
            what = "a volatility multiplier" if multiplier else "a relative move (a decimal)"
            raise InputError(f"{what} must be at most {MAX_MOVE:g}", field=f"{field}.{name}",
                             value=value)
        out[name] = number
    return out


def _tenor(key: object, *, field: str) -> float:
    match = _TENOR.match(str(key))
    if not match:
        raise InputError("a tenor is a number of months or years (3M, 10Y)",
                         field=f"{field}.{key}")
    years = float(match.group(1)) / (12.0 if match.group(2) == "M" else 1.0)
    if years <= 0:
        raise InputError("a tenor must be positive", field=f"{field}.{key}")
    return years


def _shift(value: object, *, field: str) -> float:
    shift = parse_number(value, field=field)
    if abs(shift) >= 1:
        raise InputError("a yield shift is a decimal (100 bp is 0.01)", field=field,
                         value=value)
    return shift


def _curves(raw: object, *, field: str) -> dict[str, tuple[FloatArray, FloatArray]]:
    out: dict[str, tuple[FloatArray, FloatArray]] = {}
    for key, value in _mapping(raw, field=field).items():
        name = str(key)
        if name not in refdata().curves:
            raise InputError(f"unknown curve (known: {', '.join(sorted(refdata().curves))})",
                             field=f"{field}.{name}")
        here = f"{field}.{name}"
        if isinstance(value, Mapping):
            if not value:
                raise InputError("needs at least one tenor", field=here)
            points = sorted((_tenor(k, field=here), _shift(v, field=f"{here}.{k}"))
                            for k, v in value.items())
            out[name] = (np.array([t for t, _ in points]), np.array([s for _, s in points]))
        else:
            out[name] = (np.ones(1), np.array([_shift(value, field=here)]))
    return out


def _name(raw: Mapping[str, Any], *, field: str) -> str:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError("needs a name", field=f"{field}.name", value=name, has_value=True)
    return name.strip()


def _shock(raw: object, *, field: str) -> HypotheticalShock:
    entry = _mapping(raw, field=field)
    check_keys(entry, _SHOCK_KEYS, field=field)
    name = _name(entry, field=field)
    fx = _moves(entry.get("fx"), field=f"{field}.fx")
    coins = sorted(set(fx) & refdata().coins)
    if coins:
        raise InputError("a coin moves with prices, not fx", field=f"{field}.fx.{coins[0]}")
    shock = HypotheticalShock(
        name=name, title=str(entry.get("title") or name),
        prices=_moves(entry.get("prices"), field=f"{field}.prices"),
        vols=_moves(entry.get("vols"), field=f"{field}.vols", multiplier=True),
        curves=_curves(entry.get("curves"), field=f"{field}.curves"),
        fx=fx, basis=_moves(entry.get("basis"), field=f"{field}.basis"))
    if not (shock.prices or shock.vols or shock.curves or shock.fx or shock.basis):
        raise InputError("shocks nothing (give prices, vols, curves, fx or basis)",
                         field=field, value=name)
    return shock


def _window(raw: object, *, field: str, known: Mapping[str, HistoricalWindow]
            ) -> HistoricalWindow:
    if isinstance(raw, str):
        if raw not in known:
            raise InputError(f"unknown historical window (known: {', '.join(known)})",
                             field=field, value=raw)
        return known[raw]
    entry = _mapping(raw, field=field)
    check_keys(entry, _WINDOW_KEYS, field=field)
    name = _name(entry, field=field)
    required = entry.get("required", known[name].required if name in known else True)
    if not isinstance(required, bool):
        raise InputError("must be true or false", field=f"{field}.required", value=required)
    if name in known and "start" not in entry and "end" not in entry:
        window = known[name]
        return dataclasses.replace(window, title=str(entry.get("title") or window.title),
                                   required=required)
    start = parse_date(entry.get("start"), field=f"{field}.start")
    end = parse_date(entry.get("end"), field=f"{field}.end")
    if end <= start:
        raise InputError("a window must end after it starts", field=f"{field}.end",
                         value=end.isoformat())
    return HistoricalWindow(name=name, title=str(entry.get("title") or name), start=start,
                            end=end, required=required)


def parse_scenarios(raw: Mapping[str, Any], *, field: str,
                    known: Mapping[str, HistoricalWindow]
                    ) -> tuple[tuple[HistoricalWindow, ...], tuple[HypotheticalShock, ...]]:
    """Parse the ``historical`` and ``hypothetical`` lists of ``raw``.

    A historical entry is the name of a window of ``known``, a mapping ``{name, title,
    start, end, required}``, or the name of a known window with only ``title`` or
    ``required`` changed; a hypothetical entry a mapping ``{name, title,
    prices, vols, curves, fx, basis}``. Names must be unique and at least one scenario
    given.
    """
    prefix = f"{field}." if field else ""
    lists = {}
    for key in FILE_KEYS:
        value = raw.get(key) or []
        if not isinstance(value, list):
            raise InputError("must be a list", field=f"{prefix}{key}")
        lists[key] = value
    windows = tuple(_window(w, field=f"{prefix}historical[{k}]", known=known)
                    for k, w in enumerate(lists["historical"]))
    shocks = tuple(_shock(s, field=f"{prefix}hypothetical[{k}]")
                   for k, s in enumerate(lists["hypothetical"]))
    names = [w.name for w in windows] + [s.name for s in shocks]
    if not names:
        raise InputError("no scenarios (give historical windows or hypothetical shocks)",
                         field=field or None)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError("two scenarios have this name", field=field or "name", value=name)
        seen.add(name)
    return windows, shocks


def parse_whole(value: object, *, field: str, minimum: int) -> int:
    """Return ``value`` as a whole number of at least ``minimum``."""
    number = parse_number(value, field=field)
    if number != int(number) or number < minimum:
        raise InputError(f"must be a whole number of at least {minimum}", field=field,
                         value=value)
    return int(number)


def parse_names(raw: object, *, field: str) -> dict[str, str]:
    """Return a mapping of series names (``vol_factors``, ``stand_ins``)."""
    out: dict[str, str] = {}
    for key, value in _mapping(raw, field=field).items():
        if not isinstance(value, str) or not value:
            raise InputError("must name a series", field=f"{field}.{key}", value=value,
                             has_value=True)
        out[str(key)] = value
    return out


# -- scenario moves ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ScenarioMoves:
    """One scenario's moves of every factor a book needs."""

    scenario: StressScenario
    spot: Mapping[str, float]
    vol: Mapping[str, float]
    curve: Mapping[str, FloatArray]
    fx: Mapping[str, float]
    basis: Callable[[str], float] | None = None


def window_moves(window: HistoricalWindow, stale_days: int) -> pd.Series:
    r"""Return every bundled series' move over ``window``, by series id.

    Notes
    -----
    With :math:`x_0` and :math:`x_1` the last observations on or before the window's
    start and end, at most ``stale_days`` calendar days old: :math:`x_1 / x_0 - 1` for
    prices and volatilities, :math:`x_1 - x_0` for yields; NaN where either is missing.
    """
    return _window_moves(window, stale_days).copy()


@functools.lru_cache(maxsize=64)
def _window_moves(window: HistoricalWindow, stale_days: int) -> pd.Series:
    frame = load_history()
    first, last = frame.index[0].date(), frame.index[-1].date()
    if window.start < first or window.end > last:
        raise InputError(f"outside the bundled history ({first} to {last})",
                         field=f"historical.{window.name}", value=window.start.isoformat())

    def close(day: date) -> pd.Series:
        stamp = pd.Timestamp(day)
        return frame.loc[stamp - pd.Timedelta(days=stale_days):stamp].ffill().iloc[-1]

    lo, hi = close(window.start), close(window.end)
    move = hi / lo - 1.0
    rates = [c for c in frame.columns if c in _RATE_COLUMNS]
    move[rates] = hi[rates] - lo[rates]
    return move


class UncoveredWindowError(MissingDataError):
    """A window that cannot move a factor; ``what`` says which, without the remedy."""

    def __init__(self, what: str, *, source: str, field: str) -> None:
        self.what = what
        super().__init__(f"{what}; leave the window out (a scenario file) or, for a price or "
                         "volatility series, name a stand-in in the parameter file",
                         source=source, field=field)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class WindowReplay:
    """Moves of one window, stand-ins applied, with the notes they leave."""

    window: HistoricalWindow
    moves: pd.Series
    stand_ins: Mapping[str, str]
    source: str
    notes: list[str] = field(default_factory=list)
    used: set[tuple[str, str]] = field(default_factory=set)

    def uncovered(self, what: str, *, series: Sequence[str]) -> UncoveredWindowError:
        """Return the error of a factor this window cannot move, with its coverage."""
        info = series_info()
        known = [c for c in series if c in info.index]
        names = series[0] if len(series) == 1 else f"{series[0]}..{series[-1]}"
        cover = (f"bundled {names} cover{'s' if len(series) == 1 else ''} "
                 f"{str(info.loc[known, 'first_date'].min())[:10]} to "
                 f"{str(info.loc[known, 'last_date'].max())[:10]}" if known
                 else f"no bundled history for {names}")
        w = self.window
        return UncoveredWindowError(
            f"{w.name} ({w.start} to {w.end}) does not move {what} ({cover})",
            source=self.source, field=f"historical.{w.name}")

    def factor(self, name: str, *, seen: tuple[str, ...] = ()) -> float:
        """Return the move of series ``name``, or of its stand-in (chains allowed)."""
        value = float(self.moves.get(name, np.nan))
        if np.isfinite(value):
            return value
        proxy = self.stand_ins.get(name)
        if proxy is None:
            raise self.uncovered(name, series=(name,))
        if proxy in (*seen, name):
            raise InputError("stand-ins form a cycle", source=self.source,
                             field=f"stand_ins.{name}", value=proxy)
        value = self.factor(proxy, seen=(*seen, name))
        self.used.add((name, proxy))
        return value

    def curve(self, name: str, tenors: FloatArray) -> FloatArray:
        """Return the yield shifts of curve ``name`` at ``tenors``, interpolated linearly."""
        columns = _CURVES.get(name, ())
        grid = np.array([t for _, t in columns])
        shift = np.array([float(self.moves.get(c, np.nan)) for c, _ in columns])
        have = np.isfinite(shift)
        if have.sum() < 2:
            raise self.uncovered(f"the {name} curve", series=[c for c, _ in columns] or [name])
        if not have.all():
            self.notes.append(f"{self.window.name}: {name} tenors without a move take the "
                              "shift interpolated from the others")
        out: FloatArray = np.interp(tenors, grid[have], shift[have])
        return out


def currency_moves(currencies: frozenset[str], spot: Mapping[str, float], *, base: str,
                   other: Callable[[str], float]) -> dict[str, float]:
    """Return each currency's move: base 0, a coin its price's, the rest ``other``."""
    coins = refdata().coins
    return {c: 0.0 if c == base else spot[c] if c in coins else other(c)
            for c in sorted(currencies)}


def read_scenarios(path: Path, *, known: Mapping[str, HistoricalWindow]
                   ) -> tuple[tuple[HistoricalWindow, ...], tuple[HypotheticalShock, ...]]:
    """Read a scenario file: ``historical`` and ``hypothetical`` lists, nothing else."""
    raw = read_yaml(path, what="scenario file")
    try:
        entries = _mapping(raw, field="scenarios")
        check_keys(entries, FILE_KEYS, field="")
        return parse_scenarios(entries, field="", known=known)
    except InputError as err:
        raise err.located(str(path)) from None


