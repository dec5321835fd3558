"""The market on one date: prices, volatilities, curves, rates, FX and funding.

A snapshot is an immutable value. Every look-up of something absent raises
:class:`~crossmargin.core.errors.MissingDataError` naming the item and where it was
looked for: a missing price never becomes a zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

import numpy as np

from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.core.typing import FloatArray

__all__ = ["Curve", "MarketSnapshot", "VolSurface"]


def _finite(values: object, name: str) -> FloatArray:
    """Return ``values`` as a float array, or raise naming ``name`` when not finite numbers."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("must be numbers", field=name, value=values) from None
    if not np.all(np.isfinite(array)):
        raise InputError("must be finite", field=name, value=array.tolist())
    return array


def _axis(values: object, name: str, *, positive: bool) -> FloatArray:
    """Return a grid axis: a non-empty, finite, strictly increasing 1-D float array.

    Parameters
    ----------
    values : object
        The axis points (tenors, expiries or log-moneyness).
    name : str
        Field name used in the error.
    positive : bool
        Whether the points must also be positive (times in years).
    """
    axis = _finite(values, name)
    if axis.ndim != 1 or axis.size == 0:
        raise InputError("must be a non-empty list of numbers", field=name,
                         value=axis.tolist())
    if np.any(np.diff(axis) <= 0):
        raise InputError("must be strictly increasing", field=name, value=axis.tolist())
    if positive and axis[0] <= 0:
        raise InputError("must be positive", field=name, value=axis.tolist())
    return axis


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Curve:
    """A par-yield curve: tenors in years, yields as decimals (semiannual par yields).

    Attributes
    ----------
    tenors : FloatArray, shape (n,)
        Strictly increasing, positive.
    yields : FloatArray, shape (n,)
    """

    tenors: FloatArray
    yields: FloatArray

    def __post_init__(self) -> None:
        t = _axis(self.tenors, "tenors", positive=True)
        y = _finite(self.yields, "yields")
        if t.size < 2 or t.shape != y.shape:
            raise InputError("a curve needs at least two tenors with one yield each",
                             field="curve")
        object.__setattr__(self, "tenors", t)
        object.__setattr__(self, "yields", y)

    def par_yield(self, years: float) -> float:
        """Par yield at ``years``, linearly interpolated, flat beyond the ends."""
        return float(np.interp(years, self.tenors, self.yields))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class VolSurface:
    """Implied volatility by time to expiry and log-moneyness ``ln(K / F)``.

    A flat surface has one expiry and one moneyness point. Interpolation is bilinear in
    (expiry, log-moneyness) with flat extrapolation.

    Attributes
    ----------
    expiries : FloatArray, shape (n_t,)
        Years to expiry: positive, finite, strictly increasing.
    moneyness : FloatArray, shape (n_m,)
        Log-moneyness points: finite, strictly increasing.
    vols : FloatArray, shape (n_t, n_m)
        Annualised implied volatilities (decimals), positive and finite.

    Raises
    ------
    InputError
        When an axis is unsorted, repeated, empty or not finite, or the grid does not
        match the axes: interpolating such a surface would give silent garbage or NaN.
    """

    expiries: FloatArray
    moneyness: FloatArray
    vols: FloatArray

    @classmethod
    def flat(cls, vol: float) -> VolSurface:
        """Return a surface with the same volatility everywhere."""
        return cls(expiries=np.array([1.0]), moneyness=np.array([0.0]),
                   vols=np.array([[vol]], dtype=np.float64))

    def __post_init__(self) -> None:
        t = _axis(self.expiries, "expiries", positive=True)
        m = _axis(self.moneyness, "moneyness", positive=False)
        v = _finite(self.vols, "vols")
        if v.shape != (t.size, m.size):
            raise InputError(f"vols must be a grid of {t.size} expiries x {m.size} "
                             f"moneyness points, not of shape {v.shape}", field="vols")
        if np.any(v <= 0):
            raise InputError("volatilities must be positive", field="vols",
                             value=float(v.min()))
        object.__setattr__(self, "expiries", t)
        object.__setattr__(self, "moneyness", m)
        object.__setattr__(self, "vols", v)

    def vol(self, *, time: FloatArray, log_moneyness: FloatArray) -> FloatArray:
        """Interpolate volatilities at ``time`` (years) and ``ln(K/F)`` (broadcast)."""
        t = np.asarray(time, dtype=np.float64)
        m = np.asarray(log_moneyness, dtype=np.float64)
        t, m = np.broadcast_arrays(t, m)
        # interpolate along moneyness for each expiry row, then along expiry
        rows = np.stack([np.interp(m, self.moneyness, row) for row in self.vols], axis=0)
        if len(self.expiries) == 1:
            flat: FloatArray = rows[0]
            return flat
        ti = np.clip(t, self.expiries[0], self.expiries[-1])
        j = np.clip(np.searchsorted(self.expiries, ti) - 1, 0, len(self.expiries) - 2)
        t0, t1 = self.expiries[j], self.expiries[j + 1]
        w = (ti - t0) / (t1 - t0)
        lo = np.take_along_axis(rows, j[None, ...], axis=0)[0]
        hi = np.take_along_axis(rows, (j + 1)[None, ...], axis=0)[0]
        out: FloatArray = (1 - w) * lo + w * hi
        return out


def _frozen(mapping: Mapping[str, object] | None) -> Mapping[str, object]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MarketSnapshot:
    """Everything needed to value instruments on ``as_of``.

    Attributes
    ----------
    as_of : date
    prices : mapping of str to float
        Price per unit of each symbol in its quote currency (USD for the bundled data).
    vols : mapping of str to VolSurface
        Implied volatility by underlying.
    rates : mapping of str to float
        Continuously compounded short rate by currency.
    curves : mapping of str to Curve
        Par-yield curves by name (``UST``).
    fx : mapping of str to float
        Value of one unit of the currency or coin in ``base_currency``.
    dividends : mapping of str to float
        Continuous dividend (or carry) yield by symbol; absent means zero, recorded.
    funding : mapping of str to float
        Annualised perpetual funding rate by underlying.
    base_currency : str
        Currency the ``fx`` table is expressed in.
    source : str
        Where the snapshot came from (a file, or the bundled history and date).
    notes : mapping of str to str
        Provenance notes: assumptions (stablecoin pegs), stale items and their age.
    """

    as_of: date
    prices: Mapping[str, float]
    vols: Mapping[str, VolSurface] = field(default_factory=dict)
    rates: Mapping[str, float] = field(default_factory=dict)
    curves: Mapping[str, Curve] = field(default_factory=dict)
    fx: Mapping[str, float] = field(default_factory=dict)
    dividends: Mapping[str, float] = field(default_factory=dict)
    funding: Mapping[str, float] = field(default_factory=dict)
    base_currency: str = "USD"
    source: str = "<memory>"
    notes: Mapping[str, str] = field(default_factory=dict)
    hints: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("prices", "fx"):
            for key, value in getattr(self, name).items():
                if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                    raise InputError("must be a positive finite number", source=self.source,
                                     field=f"{name}.{key}", value=value)
        for name in ("rates", "dividends", "funding"):
            for key, value in getattr(self, name).items():
                if not (isinstance(value, int | float) and math.isfinite(value)):
                    raise InputError("must be a finite number", source=self.source,
                                     field=f"{name}.{key}", value=value)
        for name in ("prices", "vols", "rates", "curves", "fx", "dividends", "funding",
                     "notes", "hints"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def _missing(self, what: str, key: str) -> MissingDataError:
        hint = self.hints.get(key)
        reason = f"no {what} for {key} on {self.as_of.isoformat()}"
        if hint:
            reason += f" ({hint})"
        return MissingDataError(reason, source=self.source, field=f"{what}s.{key}")

    def price(self, symbol: str) -> float:
        """Price of ``symbol``; raises :class:`MissingDataError` when absent."""
        try:
            return float(self.prices[symbol])
        except KeyError:
            raise self._missing("price", symbol) from None

    def vol_surface(self, underlying: str) -> VolSurface:
        """Implied-volatility surface of ``underlying``; raises when absent."""
        try:
            return self.vols[underlying]
        except KeyError:
            raise self._missing("vol", underlying) from None

    def rate(self, currency: str) -> float:
        """Continuously compounded short rate of ``currency``; raises when absent."""
        try:
            return float(self.rates[currency])
        except KeyError:
            raise self._missing("rate", currency) from None

    def curve(self, name: str) -> Curve:
        """Par-yield curve ``name``; raises when absent."""
        try:
            return self.curves[name]
        except KeyError:
            raise self._missing("curve", name) from None

    def fx_rate(self, currency: str, *, to: str) -> float:
        """Units of ``to`` per unit of ``currency``.

        Notes
        -----
        ``fx[c]`` is the value of one ``c`` in the base currency; a coin without an ``fx``
        entry is valued at its ``prices`` entry. The rate is ``value(c) / value(to)``.
        """
        return self._value(currency) / self._value(to)

    def _value(self, code: str) -> float:
        if code == self.base_currency:
            return 1.0
        if code in self.fx:
            return float(self.fx[code])
        if code in self.prices:
            return float(self.prices[code])
        raise self._missing("fx", code)

    def dividend(self, symbol: str) -> float:
        """Dividend or carry yield of ``symbol`` (zero when the snapshot gives none)."""
        return float(self.dividends.get(symbol, 0.0))
