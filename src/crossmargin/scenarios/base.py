"""Scenario sets: explicit shocks to underlyings, volatilities, curves and FX.

A scenario set is the explicit scenario axis of every scenario method: each scenario
moves prices (relative returns), implied volatilities (relative or absolute shifts),
yield curves (parallel shifts, or one shift per curve tenor) and FX rates, and lets a
number of days pass. Revaluing each instrument under it gives the
``pnl[instrument, scenario]`` matrix of the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

import numpy as np

from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.core.typing import FloatArray

__all__ = ["ScenarioSet", "VolShift"]


class VolShift(StrEnum):
    """How a volatility shock applies: ``relative`` (σ·(1+v)) or ``absolute`` (σ+v)."""

    RELATIVE = "relative"
    ABSOLUTE = "absolute"


def _rows(shocks: Mapping[str, FloatArray], n: int, what: str) -> Mapping[str, FloatArray]:
    out: dict[str, FloatArray] = {}
    for key, value in shocks.items():
        arr = np.ascontiguousarray(value, dtype=np.float64)
        if arr.shape[0] != n:
            raise InputError(f"{what} shock rows must have one entry per scenario",
                             field=f"{what}.{key}", value=arr.shape)
        if not np.all(np.isfinite(arr)):
            raise InputError(f"{what} shocks must be finite", field=f"{what}.{key}")
        arr.setflags(write=False)
        out[key] = arr
    return MappingProxyType(out)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ScenarioSet:
    """An explicit set of market scenarios.

    Attributes
    ----------
    names : tuple of str, shape (n_scenarios,)
        A label per scenario (a grid point, a historical date).
    spot : mapping of str to FloatArray, shape (n_scenarios,)
        Relative price move per symbol: ``S' = S · (1 + r)``.
    vol : mapping of str to FloatArray, shape (n_scenarios,)
        Implied-volatility shock per underlying, applied as ``vol_shift`` says.
    vol_shift : VolShift
        Relative or absolute volatility shocks.
    curve : mapping of str to FloatArray, shape (n_scenarios,) or (n_scenarios, n_tenors)
        Yield shifts (decimals) per curve: parallel, or per tenor of the curve.
    fx : mapping of str to FloatArray, shape (n_scenarios,)
        Relative move of each currency's value in the base currency.
    horizon_days : float
        Calendar days that pass in every scenario (time decay, carry, funding).
    weights : FloatArray, shape (n_scenarios,)
        Fraction of each scenario's loss that counts (1 for regular scenarios; e.g. 0.35
        for SPAN extreme moves).
    strict : bool
        When true a held underlying that the set does not shock is an error; when false
        it stays unchanged (for grids that shock one group at a time).
    source : str
        What produced the set (method, parameters, dates).
    """

    names: tuple[str, ...]
    spot: Mapping[str, FloatArray] = field(default_factory=dict)
    vol: Mapping[str, FloatArray] = field(default_factory=dict)
    vol_shift: VolShift = VolShift.RELATIVE
    curve: Mapping[str, FloatArray] = field(default_factory=dict)
    fx: Mapping[str, FloatArray] = field(default_factory=dict)
    horizon_days: float = 0.0
    weights: FloatArray | None = None
    strict: bool = True
    source: str = "<memory>"

    def __post_init__(self) -> None:
        n = len(self.names)
        if n == 0:
            raise InputError("a scenario set needs at least one scenario", field="names")
        object.__setattr__(self, "spot", _rows(self.spot, n, "spot"))
        object.__setattr__(self, "vol", _rows(self.vol, n, "vol"))
        object.__setattr__(self, "curve", _rows(self.curve, n, "curve"))
        object.__setattr__(self, "fx", _rows(self.fx, n, "fx"))
        if np.any(np.concatenate([v for v in self.spot.values()] or [np.zeros(1)]) <= -1):
            raise InputError("a relative price move must stay above -100%", field="spot")
        weights = np.ones(n) if self.weights is None else np.asarray(self.weights, float)
        if weights.shape != (n,) or np.any(weights < 0) or not np.all(np.isfinite(weights)):
            raise InputError("weights must be one non-negative number per scenario",
                             field="weights")
        weights.setflags(write=False)
        object.__setattr__(self, "weights", weights)
        if not np.isfinite(self.horizon_days) or self.horizon_days < 0:
            raise InputError("must be a non-negative number of days", field="horizon_days",
                             value=self.horizon_days)

    @property
    def size(self) -> int:
        """Number of scenarios."""
        return len(self.names)

    def _row(self, table: Mapping[str, FloatArray], key: str, what: str) -> FloatArray:
        row = table.get(key)
        if row is not None:
            return row
        if self.strict:
            raise MissingDataError(f"scenario set has no {what} shock for {key}",
                                   source=self.source, field=f"{what}.{key}")
        return np.zeros(self.size)

    def spot_returns(self, symbol: str) -> FloatArray:
        """Relative price moves of ``symbol``, shape (n_scenarios,)."""
        return self._row(self.spot, symbol, "spot")

    def vol_shocks(self, underlying: str) -> FloatArray:
        """Volatility shocks of ``underlying``, shape (n_scenarios,).

        Absent from a strict set, the volatility stays unchanged only if the set shocks
        no volatility at all (a pure price set); otherwise that is an error.
        """
        if not self.vol and self.strict:
            return np.zeros(self.size)
        return self._row(self.vol, underlying, "vol")

    def curve_shifts(self, curve: str) -> FloatArray:
        """Yield shifts of ``curve``, shape (n_scenarios,) or (n_scenarios, n_tenors)."""
        return self._row(self.curve, curve, "curve")

    def fx_returns(self, currency: str) -> FloatArray:
        """Relative moves of ``currency``'s value; zero where the set leaves it fixed."""
        return self.fx.get(currency, np.zeros(self.size))
