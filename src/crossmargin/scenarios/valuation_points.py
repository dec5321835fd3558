r"""Valuation points: equidistant moves across a price range, each with volatility shocks.

Portfolio margin in the FINRA Rule 4210(g) / OCC TIMS style, and the grid methods
modelled on it, revalue every group of positions at equidistant points across the
group's price range plus the current price, each taken with implied volatility
unchanged and shocked. The points are fractions of the range, so that one scenario axis
serves groups with different ranges: scenario ``k`` moves every group by the same
fraction of its own range, with the same volatility shock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray
from crossmargin.core.values import parse_number

__all__ = [
    "ValuationPoints",
    "parse_range",
    "parse_ranges",
    "parse_valuation_points",
    "range_move",
    "vol_label",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ValuationPoints:
    r"""Equidistant valuation points across a range, crossed with volatility shocks.

    Parameters
    ----------
    points : int
        Equidistant valuation points across the range (ends included); the current
        price is added when it is not one of them.
    vol_shocks : tuple of float
        Relative implied-volatility shocks taken at every point, besides none.

    Notes
    -----
    The fractions of the range are :math:`f_j = -1 + 2j / (n - 1)`,
    :math:`j = 0, \dots, n - 1`, and :math:`0`; with the volatility shocks
    :math:`v_0 = 0, v_1, \dots, v_{V-1}`, scenario :math:`k` is the point
    :math:`(f_{\lfloor k / V \rfloor}, v_{k \bmod V})`. A group with range
    :math:`[d, u]` (:math:`d \le 0 \le u`) moves by :math:`u f` for :math:`f \ge 0` and
    by :math:`-d f` otherwise (see :func:`range_move`).

    References
    ----------
    .. [1] FINRA Rule 4210(g), definition of theoretical gains and losses: 10 equidistant
       valuation points across the range of the underlying's assumed move.
    """

    points: int = 10
    vol_shocks: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.points < 2:
            raise InputError("needs at least 2 valuation points", field="points",
                             value=self.points)
        if any(v <= -1 for v in self.vol_shocks):
            raise InputError("a relative vol shock must stay above -100%", field="vol_shocks",
                             value=self.vol_shocks)

    @property
    def vols(self) -> tuple[float, ...]:
        """The volatility shocks of each point, ``0.0`` (unchanged) first."""
        return (0.0, *self.vol_shocks)

    @property
    def size(self) -> int:
        """Number of scenarios: points (with the current price) x volatility shocks."""
        return int(self.fractions().size) * len(self.vols)

    def fractions(self) -> FloatArray:
        """Return the valuation fractions of the range: equidistant points plus zero."""
        out: FloatArray = np.unique(np.r_[np.linspace(-1.0, 1.0, self.points), 0.0])
        return out

    def axes(self) -> tuple[FloatArray, FloatArray]:
        """Return each scenario's range fraction and volatility shock, shapes (size,)."""
        fractions = self.fractions()
        vols = np.asarray(self.vols, dtype=np.float64)
        return np.repeat(fractions, vols.size), np.tile(vols, fractions.size)

    def point(self, scenario: int) -> tuple[float, float]:
        """Return scenario ``scenario``'s range fraction and volatility shock."""
        n_vols = len(self.vols)
        return float(self.fractions()[scenario // n_vols]), self.vols[scenario % n_vols]

    def labels(self) -> tuple[str, ...]:
        """Return a label per scenario: ``"range x -1.00, vol +25%"``."""
        f, v = self.axes()
        return tuple(f"range x {a:+.2f}, vol {b:+.0%}" for a, b in zip(f, v, strict=True))


def range_move(fraction: FloatArray | float, *, down: float, up: float) -> FloatArray:
    r"""Return the relative move at ``fraction`` of the range ``[down, up]``.

    Notes
    -----
    :math:`u f` for :math:`f \ge 0`, :math:`-d f` otherwise: the range's ends are reached
    at :math:`f = \pm 1` even when it is asymmetric (+6% / -8%).
    """
    f = np.asarray(fraction, dtype=np.float64)
    out: FloatArray = np.where(f >= 0, up * f, -down * f)
    return out


def vol_label(shock: float) -> str:
    """Return a volatility shock as words: ``"vol +25%"`` or ``"vol unchanged"``."""
    return f"vol {shock:+.0%}" if shock else "vol unchanged"


def parse_range(value: object, field: str) -> tuple[float, float]:
    """Return a ``[down, up]`` range from a parameter file, ``down <= 0 <= up``.

    Raises
    ------
    InputError
        When ``value`` is not a pair of numbers with ``down <= 0 <= up``.
    """
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise InputError("must be a pair [down, up]", field=field, value=value)
    down = parse_number(value[0], field=f"{field}[0]")
    up = parse_number(value[1], field=f"{field}[1]")
    if down > 0 or up < 0:
        raise InputError("the range must be [down <= 0, up >= 0]", field=field, value=value)
    return down, up


def parse_ranges(value: object, field: str) -> dict[str, tuple[float, float]]:
    """Return a parameter file's mapping of name to ``[down, up]`` range.

    Raises
    ------
    InputError
        When ``value`` is not a mapping, or one of its ranges is malformed.
    """
    if not isinstance(value, Mapping):
        raise InputError("must be a mapping of name to [down, up]", field=field, value=value)
    return {str(k): parse_range(v, f"{field}.{k}") for k, v in value.items()}


def parse_valuation_points(parameters: Mapping[str, object]) -> ValuationPoints:
    """Return the ``points`` and ``vol_shocks`` of a parameter file as valuation points.

    Raises
    ------
    InputError
        When ``points`` is not a positive number, a shock is not a number, or either is
        out of range (see :class:`ValuationPoints`).
    """
    shocks = parameters.get("vol_shocks", [])
    if not isinstance(shocks, Sequence) or isinstance(shocks, str):
        raise InputError("must be a list of relative shocks", field="vol_shocks", value=shocks)
    return ValuationPoints(
        points=int(parse_number(parameters.get("points"), field="points", positive=True)),
        vol_shocks=tuple(parse_number(v, field="vol_shocks") for v in shocks),
    )
