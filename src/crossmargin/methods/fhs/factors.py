r"""The joint history of risk factors across asset classes and the scenario sets it gives.

Risk factors are the bundled series: prices of equity indexes, stocks, ETFs, commodities
and coins (log moves), implied-volatility indexes ``IV_<symbol>`` (log moves; ``IV_SPX``
is VIX/100 where VIX is bundled), and the Treasury par-yield tenors ``UST_*`` (yield
differences). Each factor is filtered on its own calendar
(:class:`~crossmargin.scenarios.historical.FactorHistory`) and its margin-period-of-risk
moves are aligned on one scenario date axis, so that one scenario moves every asset
class as it moved on that historical date.

Filtered move of factor :math:`f` on scenario date :math:`d` (window opened with
filtered volatility :math:`\sigma_{f,d}`):

.. math::
   \tilde m_{f,d} = z_{f,d}\, s_f\, k_{f,d}, \qquad z_{f,d} = m_{f,d} / \sigma_{f,d},

with the scaling volatility :math:`s_f = \max(\sigma_{f,T}, \phi\, \bar\sigma_f)`
(today's forecast, floored at the share :math:`\phi` of its mean over the look-back), and
:math:`k_{f,d} = \max(1, \sigma_{f,d} / s_f)` on stressed dates (a stressed move is never
scaled below its historical size), 1 elsewhere. For the ten-year floor
:math:`s_f` is the root mean square of the one-step changes of the last ten years (those
the factor has) and :math:`k = 1`.

A factor with a short history (a coin) can be *resampled*: on the scenario dates where
the donor factor the parameter file names for it (``resample``, e.g. BTC for every coin
and coin volatility) has no move, it takes its own standardised move :math:`z` (and
:math:`k`) of a donor date, the dates where the donor moved taken in chronological order
and cycled. All factors resampled from one donor share the same donor dates, so their
joint moves (BTC against ETH) are kept, while their moves against the other asset
classes on the filled dates are those of unrelated days: no correlation with equities is
invented for years in which the coin did not trade.

A factor without a move on some scenario dates (after resampling) takes, on those dates
only, the standardised move :math:`z` (and :math:`k`) of the proxy the parameter file names for it
(chains allowed), scaled by its own :math:`s_f`; a factor with no move on any date is
its proxy entirely, and a factor whose history ends before the last scenario date
(beyond its tolerance) takes its proxy's :math:`s` (its volatility of today is unknown).
Every use of a proxy is reported in the notes; a factor with neither history nor proxy
raises :class:`~crossmargin.core.errors.MissingDataError` naming its coverage. Yield
tenors have no proxy: a tenor without a move on a date takes the shift interpolated from
that date's observed tenors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import numpy as np
import pandas as pd

from crossmargin.book.instruments import AssetClass, FutureOption, Instrument, Option
from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.core.typing import BoolArray, FloatArray
from crossmargin.market.history import CURVE_TENORS
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.scenarios.base import ScenarioSet, VolShift
from crossmargin.scenarios.filtering import VolatilityFilter
from crossmargin.scenarios.historical import (
    Change,
    Days,
    FactorHistory,
    ScenarioDates,
)

__all__ = ["Block", "FactorNeeds", "JointHistory", "Scaling"]

#: Currencies worth one US dollar in the bundled history (stablecoins at their peg).
_USD_LIKE = frozenset({"USD"})
_CURVES = {"UST": CURVE_TENORS}
_TENORS = frozenset(c for tenors in _CURVES.values() for c, _ in tenors)
_MIN_TENORS = 2


class Scaling(StrEnum):
    """How a block of scenarios scales standardised moves (see the module notes)."""

    FILTERED = "filtered"
    LONG_RUN = "long-run"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Block:
    """A scenario date axis and how its moves are scaled."""

    dates: ScenarioDates
    scaling: Scaling


@dataclass(frozen=True, slots=True, kw_only=True)
class FactorNeeds:
    """What a set of instruments needs moved: prices, volatilities, curves, currencies."""

    spots: frozenset[str]
    vols: frozenset[str]
    curves: frozenset[str]
    currencies: frozenset[str]

    @classmethod
    def of(cls, instruments: Sequence[Instrument]) -> FactorNeeds:
        """Return the factors ``instruments`` depend on."""
        curves = refdata().curves
        under = {i.underlying_symbol for i in instruments}
        return cls(spots=frozenset(under - curves), curves=frozenset(under & curves),
                   vols=frozenset(i.underlying_symbol for i in instruments
                                  if isinstance(i, Option | FutureOption)),
                   currencies=frozenset(i.currency for i in instruments))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Resolved:
    """Standardised moves of one factor on a block, proxies applied (NaN: no move)."""

    z: FloatArray
    ratio: FloatArray  # window-start volatility over the scaling volatility
    scale: float
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class JointHistory:
    r"""Filtered risk-factor histories on one scenario date axis.

    Parameters
    ----------
    frame : pandas.DataFrame
        Calendar-day history, one column per series id, NaN where not observed
        (:func:`crossmargin.market.history.load_history`).
    filter : VolatilityFilter
    reference : str
        Series whose observation days are the scenario dates (the business days).
    stale_days : int
        Tolerance in calendar days of exchange-traded factors (weekend plus holiday).
    continuous : frozenset of AssetClass
        Markets observed every calendar day (tolerance 0: calendar-day windows).
    vol_floor : float
        Share :math:`\phi` of the look-back's mean filtered volatility that the scaling
        volatility never falls below.
    proxies : mapping of str to str
        Factor -> factor whose standardised moves stand in where it has none.
    resample : mapping of str to str
        Factor -> donor factor: where the donor has no move, the factor's own moves of
        the donor's dates are resampled in (see module notes); before any proxy.
    vol_factors : mapping of str to str
        Underlying -> its implied-volatility factor (default ``IV_<underlying>``).
    """

    frame: pd.DataFrame
    filter: VolatilityFilter
    reference: str
    stale_days: int
    continuous: frozenset[AssetClass]
    vol_floor: float
    proxies: Mapping[str, str] = field(default_factory=dict)
    resample: Mapping[str, str] = field(default_factory=dict)
    vol_factors: Mapping[str, str] = field(default_factory=dict)
    _cache: dict[tuple[str, date], FactorHistory | None] = field(default_factory=dict,
                                                                  repr=False)

    # -- factors -------------------------------------------------------------------------
    def vol_factor(self, underlying: str) -> str:
        """Return the implied-volatility factor of ``underlying``."""
        return self.vol_factors.get(underlying, f"IV_{underlying}")

    def factor(self, name: str, *, as_of: date) -> FactorHistory | None:
        """Return factor ``name`` filtered up to ``as_of`` (``None`` if not bundled)."""
        key = (name, as_of)
        if any(day != as_of for _, day in self._cache):
            self._cache.clear()  # one as-of date at a time: a backtest must not pile up
        if key not in self._cache:
            history: FactorHistory | None = None
            if name in self.frame.columns:
                is_curve = name in _TENORS
                market = AssetClass.TREASURY if is_curve else \
                    refdata().asset_class_of(name.removeprefix("IV_"))
                stale = 0 if market in self.continuous else self.stale_days
                try:
                    history = FactorHistory.build(
                        name, self.frame[name], as_of=as_of, filter=self.filter,
                        change=Change.DIFFERENCE if is_curve else Change.LOG,
                        stale_days=stale)
                except MissingDataError:
                    history = None
            self._cache[key] = history
        return self._cache[key]

    def reference_days(self, as_of: date) -> Days:
        """Return the scenario calendar: the reference series' observation days."""
        if self.reference not in self.frame.columns:
            raise InputError("the reference series is not in the history",
                             field="calendar.reference", value=self.reference)
        column = self.frame[self.reference]
        days: Days = column.index[column.notna()].to_numpy().astype("datetime64[D]")
        return days

    def _scale(self, history: FactorHistory, block: Block) -> float:
        if block.scaling is Scaling.LONG_RUN:
            return history.rms_step(start=block.dates.start)
        floor = self.vol_floor * history.mean_sigma(start=block.dates.start)
        return float(np.fmax(history.sigma_now, floor))

    def _coverage(self, name: str, history: FactorHistory | None, missing: int,
                  block: Block, first: str, horizon: int) -> MissingDataError:
        where = (f"the bundled {name} covers {history.first} to {history.last}"
                 if history is not None else f"no bundled history for {name}")
        return MissingDataError(
            f"no {horizon}-day move on {missing} of {block.dates.size} scenario dates "
            f"(first {first}); {where}; name a proxy in the parameter file",
            field=f"history.{name}")

    def _resolve(self, name: str, *, horizon: int, block: Block, required: bool,
                 seen: tuple[str, ...] = ()) -> _Resolved:
        n = block.dates.size
        history = self.factor(name, as_of=block.dates.as_of)
        z, sigma, scale = np.full(n, np.nan), np.full(n, np.nan), float("nan")
        if history is not None:
            moves = history.moves(block.dates.dates, horizon=horizon)
            if moves.valid.any():
                z, sigma = moves.standardised, moves.sigma
                age = (block.dates.dates[-1] - history.dates[-1]).astype(np.int64)
                if age <= history.stale_days:  # else today's volatility is unknown
                    scale = self._scale(history, block)
        ratio = sigma / scale
        notes: tuple[str, ...] = ()
        donor = self.resample.get(name)
        if donor is not None and np.isfinite(scale):
            notes = self._resampled(name, donor, z=z, ratio=ratio, horizon=horizon,
                                    block=block)
        missing = ~np.isfinite(z)
        if not missing.any():
            return _Resolved(z=z, ratio=ratio, scale=scale, notes=notes)
        proxy = self.proxies.get(name)
        if proxy is None:
            if not required:
                return _Resolved(z=z, ratio=ratio, scale=scale, notes=notes)
            first = block.dates.names[int(np.argmax(missing))]
            raise self._coverage(name, history, int(missing.sum()), block, first, horizon)
        if proxy in (*seen, name):
            raise InputError("proxies form a cycle", field=f"proxies.{name}", value=proxy)
        sub = self._resolve(proxy, horizon=horizon, block=block, required=True,
                            seen=(*seen, name))
        if not np.isfinite(scale):
            scale = sub.scale
            ratio = sigma / scale
        z[missing], ratio[missing] = sub.z[missing], sub.ratio[missing]
        note = (f"{name}: {int(missing.sum())} of {n} scenario dates use {proxy}'s "
                f"standardised {horizon}-day moves (proxy)")
        return _Resolved(z=z, ratio=ratio, scale=scale, notes=(*notes, note, *sub.notes))

    def _resampled(self, name: str, donor: str, *, z: FloatArray, ratio: FloatArray,
                   horizon: int, block: Block) -> tuple[str, ...]:
        """Fill ``z`` and ``ratio`` in place on the donor's missing dates; return a note."""
        history = self.factor(donor, as_of=block.dates.as_of)
        if history is None:
            return ()
        donor_moves = history.moves(block.dates.dates, horizon=horizon)
        has = np.isfinite(donor_moves.standardised)
        gaps, pool = np.flatnonzero(~has), np.flatnonzero(has)
        if gaps.size == 0 or pool.size == 0:
            return ()
        source = pool[np.arange(gaps.size) % pool.size]
        fill = ~np.isfinite(z[gaps]) & np.isfinite(z[source])
        z[gaps[fill]], ratio[gaps[fill]] = z[source[fill]], ratio[source[fill]]
        if not fill.any():
            return ()
        return (f"{name}: {int(fill.sum())} of {block.dates.size} scenario dates resample "
                f"its own standardised {horizon}-day moves of the {pool.size} dates "
                f"{donor} moved (history too short)",)

    def _scaled(self, resolved: _Resolved, block: Block) -> FloatArray:
        stretch = np.ones(block.dates.size)
        if block.scaling is Scaling.FILTERED:
            stressed = block.dates.stressed
            stretch[stressed] = np.maximum(1.0, resolved.ratio[stressed])
        out: FloatArray = resolved.z * resolved.scale * stretch
        return out

    def moves(self, name: str, *, horizon: int, block: Block
              ) -> tuple[FloatArray, tuple[str, ...]]:
        """Return factor ``name``'s scaled ``horizon``-day moves on ``block``, and notes.

        Returns
        -------
        moves : FloatArray, shape (n_dates,)
            Log moves or yield changes.
        notes : tuple of str
            The proxies used.

        Raises
        ------
        MissingDataError
            Some date has no move from the factor or its proxies.
        """
        resolved = self._resolve(name, horizon=horizon, block=block, required=True)
        return self._scaled(resolved, block), resolved.notes

    # -- scenario sets ---------------------------------------------------------------
    def _too_few(self, curve: str, have: BoolArray, block: Block,
                 columns: Sequence[str]) -> None:
        short = have.sum(axis=1) < _MIN_TENORS
        if not short.any():
            return
        first = block.dates.names[int(np.argmax(short))]
        held = [h for c in columns if (h := self.factor(c, as_of=block.dates.as_of))]
        cover = (f"the bundled tenors cover {min(h.first for h in held)} to "
                 f"{max(h.last for h in held)}") if held else "no tenor is bundled"
        raise MissingDataError(
            f"fewer than {_MIN_TENORS} tenors move on {int(short.sum())} of "
            f"{block.dates.size} scenario dates (first {first}); {cover}",
            field=f"history.{curve}")

    def curve_shifts(self, curve: str, *, tenors: FloatArray, horizon: int, block: Block
                     ) -> tuple[FloatArray, tuple[str, ...]]:
        """Return the yield shifts of ``curve`` at the market's ``tenors``, shape (n, t).

        A tenor counts on the dates it has a move, and only if its history reaches the
        last scenario date (else today's volatility of it is unknown).
        """
        columns = [(c, t) for c, t in _CURVES.get(curve, ()) if c in self.frame.columns]
        if not columns:
            raise MissingDataError(f"no bundled history for curve {curve}",
                                   field=f"history.{curve}")
        names = [c for c, _ in columns]
        resolved = [self._resolve(c, horizon=horizon, block=block, required=False)
                    for c in names]
        moved = np.isfinite(np.stack([r.z for r in resolved], axis=1))
        self._too_few(curve, moved, block, names)
        have = moved & np.isfinite([r.scale for r in resolved])[None, :]
        self._too_few(curve, have, block, names)
        shifts = np.stack([self._scaled(r, block) for r in resolved], axis=1)
        grid = np.asarray([t for _, t in columns])
        patterns, which = np.unique(have, axis=0, return_inverse=True)
        out = np.empty((block.dates.size, tenors.size))
        for p, pattern in enumerate(patterns):
            rows = which.ravel() == p
            weights = np.stack([np.interp(tenors, grid[pattern], unit)
                                for unit in np.eye(int(pattern.sum()))])
            out[rows] = shifts[rows][:, pattern] @ weights
        partial = int((~have.all(axis=1)).sum())
        notes = (f"{curve}: on {partial} scenario dates tenors without history take the shift "
                 "interpolated from the observed tenors",) if partial else ()
        return out, notes

    def scenario_set(self, needs: FactorNeeds, *, horizon: int, block: Block,
                     market: MarketSnapshot, currency: str, label: str
                     ) -> tuple[ScenarioSet, tuple[str, ...]]:
        r"""Return the historical scenario set moving ``needs`` over ``horizon`` days.

        Prices and coins used as currencies move by :math:`e^{\tilde m} - 1`, implied
        volatilities relatively by :math:`e^{\tilde m} - 1` (the whole surface), curves
        by their tenors' shifts; ``horizon`` days pass in every scenario.

        Raises
        ------
        MissingDataError
            A factor without history or proxy, a currency without FX history.
        """
        notes: list[str] = []

        def relative(name: str) -> FloatArray:
            move, used = self.moves(name, horizon=horizon, block=block)
            notes.extend(used)
            out: FloatArray = np.expm1(move)
            return out

        spot = {s: relative(s) for s in sorted(needs.spots)}
        vol = {u: relative(self.vol_factor(u)) for u in sorted(needs.vols)}
        notes.extend(f"{u} implied volatilities move with {self.vol_factor(u)} (relative "
                     f"{horizon}-day moves, whole surface"
                     + (", mapped in the parameter file)" if u in self.vol_factors else ")")
                     for u in sorted(needs.vols))
        curve: dict[str, FloatArray] = {}
        for name in sorted(needs.curves):
            curve[name], used = self.curve_shifts(
                name, tenors=market.curve(name).tenors, horizon=horizon, block=block)
            notes.extend(used)
        pegged = _USD_LIKE | refdata().stablecoins
        fx: dict[str, FloatArray] = {}
        for ccy in sorted(needs.currencies | {currency}):
            if ccy in pegged:
                continue
            if ccy not in refdata().coins:
                raise MissingDataError(f"no FX history for {ccy} (the bundled history is in "
                                       "USD; stablecoins at their peg)", field=f"fx.{ccy}")
            fx[ccy] = spot[ccy] if ccy in spot else relative(ccy)
        scenarios = ScenarioSet(names=block.dates.names, spot=spot, vol=vol,
                                vol_shift=VolShift.RELATIVE, curve=curve, fx=fx,
                                horizon_days=float(horizon), strict=True, source=label)
        return scenarios, tuple(notes)
