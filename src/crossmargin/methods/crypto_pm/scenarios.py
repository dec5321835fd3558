r"""The scenario axis of crypto portfolio margin: a price grid x vol states, then tail rows.

Every underlying shares one axis of ``3 n + m`` scenarios: ``n`` evenly spaced price
points across its own range (zero included), each with the implied volatility unchanged,
shocked up and shocked down, then ``m`` tail moves with the volatility shocked up. The
axis is common so that one P&L matrix serves every underlying; the moves, vol shocks and
tail weights of a scenario depend on the underlying (and the weights on the margin pool).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from crossmargin.core.errors import InputError
from crossmargin.core.typing import BoolArray, FloatArray, IntArray
from crossmargin.methods.crypto_pm.params import UnderlyingParams

__all__ = ["TIE", "ScenarioTable", "VolState", "vega_multiplier"]

#: Relative amount by which tail weights are rounded down, so that in floating point too a
#: position linear in the pool's unit loses less in a tail row than at the regular edge
#: (which is then named as the driver), never more.
TIE = 1e-12


class VolState(IntEnum):
    """How a scenario moves implied volatility."""

    SAME = 0
    UP = 1
    DOWN = 2


def vega_multiplier(*, dte: float, reference_days: float, floor_days: float,
                    short_power: float, long_power: float) -> float:
    r"""Return the scaling of the vol shocks for an option ``dte`` days from expiry.

    Notes
    -----
    .. math:: m(D) = \left(\frac{R}{\max(D, D_{min})}\right)^{p}, \qquad
       p = p_{short} \text{ if } D \le R \text{ else } p_{long},

    with :math:`R` the reference days (30): short-dated options get larger shocks.

    References
    ----------
    .. [1] Deribit, "Portfolio Margin" and API ``private/pme/simulate``
       (short_term_vega_power 0.3, long_term_vega_power 0.13).
    .. [2] Derive v2-core, ``PMRMLib_2._addVolShocks`` (power switch at 30 days, floor).
    """
    days = max(float(dte), floor_days)
    power = short_power if days <= reference_days else long_power
    return float((reference_days / days) ** power)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ScenarioTable:
    r"""The shared scenario axis and its per-underlying moves, vol shocks and weights.

    Parameters
    ----------
    points : int
        Price points across the range, an odd number so that zero is one of them.
    tail_moves : tuple of float
        Relative price moves of the tail rows, each beyond every underlying's range.
    reference_days : float
        Days to expiry at which the vol shocks apply unscaled (30).
    floor_days : float
        Smallest days to expiry used in the scaling.

    Notes
    -----
    Scenario :math:`s = 3j + v` moves the price by :math:`f_j e` (:math:`f_j` evenly
    spaced in :math:`[-1, 1]`, :math:`e` the underlying's range) with vol state
    :math:`v \in` {same, up, down}; the tail rows :math:`s \ge 3n` move it by
    :math:`r_k` with vol up. A tail row counts with weight

    .. math:: w_k = \frac{|\rho(\pm e)|}{|\rho(r_k)|},

    where :math:`\pm e` is the range edge on the side of :math:`r_k` and :math:`\rho` is
    the move in the margin pool's own unit: :math:`\rho(r) = r` for a pool in the quote
    currency, :math:`\rho(r) = -r / (1 + r)` (the move of the quote currency's value in
    coin) for a coin-margined pool. A position linear in the pool's unit (a linear perp
    in USDC, an inverse perp in BTC) thus never loses more in a tail row than at the
    regular edge, while short options far out of the money do. The weights are rounded
    down by ``TIE`` (relative) so that this holds in floating point as well.

    References
    ----------
    .. [1] Deribit, "Portfolio Margin" help article (9 price points x vol up/same/down;
       extended table -66% to +500%, vol up only, a fraction of the P&L).
    .. [2] Paradex, "Portfolio Margin" documentation, scenario table (tail weight x
       move = 16%).
    """

    points: int
    tail_moves: tuple[float, ...]
    reference_days: float
    floor_days: float

    def __post_init__(self) -> None:
        if self.points < 3 or self.points % 2 == 0:
            raise InputError("must be an odd number of at least 3 (zero is a point)",
                             field="price_points", value=self.points)
        for k, move in enumerate(self.tail_moves):
            if move <= -1 or move == 0:
                raise InputError("a tail move must be above -100% and not zero",
                                 field=f"tail_moves[{k}]", value=move)
        for name, key in (("reference_days", "vega_reference_days"),
                          ("floor_days", "dte_floor_days")):
            if not getattr(self, name) > 0:
                raise InputError("must be positive", field=key, value=getattr(self, name))

    @property
    def size(self) -> int:
        """Number of scenarios: ``3 points + len(tail_moves)``."""
        return 3 * self.points + len(self.tail_moves)

    @property
    def is_tail(self) -> BoolArray:
        """True for the tail rows, shape (size,)."""
        out: BoolArray = np.arange(self.size) >= 3 * self.points
        return out

    @property
    def vol_state(self) -> IntArray:
        """:class:`VolState` of each scenario, shape (size,)."""
        regular = np.tile(np.array([VolState.SAME, VolState.UP, VolState.DOWN]), self.points)
        tail = np.full(len(self.tail_moves), VolState.UP)
        out: IntArray = np.r_[regular, tail].astype(np.int64)
        return out

    def moves(self, params: UnderlyingParams) -> FloatArray:
        """Relative price move of each scenario for an underlying, shape (size,)."""
        grid = np.repeat(np.linspace(-1.0, 1.0, self.points), 3) * params.price_range
        out: FloatArray = np.r_[grid, np.asarray(self.tail_moves, dtype=np.float64)]
        return out

    def check(self, params: UnderlyingParams, *, field: str) -> None:
        """Raise unless every tail move lies beyond the underlying's range."""
        for k, move in enumerate(self.tail_moves):
            if abs(move) < params.price_range:
                raise InputError(f"tail move inside the price range of {field}",
                                 field=f"tail_moves[{k}]", value=move)

    def weights(self, params: UnderlyingParams, *, coin_margined: bool) -> FloatArray:
        """Weight of each scenario's loss in a pool, shape (size,): 1 for regular rows."""
        tail = np.asarray(self.tail_moves, dtype=np.float64)
        edge = np.where(tail > 0, params.price_range, -params.price_range)
        # the move in the pool's unit: r in the quote currency, -r / (1 + r) in coin
        ratio = (edge / (1 + edge)) / (tail / (1 + tail)) if coin_margined else edge / tail
        out: FloatArray = np.r_[np.ones(3 * self.points), np.abs(ratio) * (1 - TIE)]
        return out

    def vol_shocks(self, params: UnderlyingParams, *, dte: float) -> FloatArray:
        r"""Relative vol shock of each scenario for an option ``dte`` days out, (size,).

        Notes
        -----
        Up: :math:`u\,m(D)`; down: :math:`-\min(d\,m(D), 1)` (a volatility never goes
        below zero); with :math:`m` from :func:`vega_multiplier`.
        """
        m = vega_multiplier(dte=dte, reference_days=self.reference_days,
                            floor_days=self.floor_days,
                            short_power=params.short_term_vega_power,
                            long_power=params.long_term_vega_power)
        shock = np.array([0.0, params.vol_range_up * m,
                          -min(params.vol_range_down * m, 1.0)])
        out: FloatArray = shock[self.vol_state]
        return out

    def names(self) -> tuple[str, ...]:
        """Labels of the scenarios independent of the underlying."""
        state = ("vol unchanged", "vol up", "vol down")
        fractions = np.linspace(-1.0, 1.0, self.points)
        regular = [f"range x {f:+.2f}, {state[v]}" for f in fractions for v in range(3)]
        return (*regular, *(f"tail {m:+.0%}, vol up" for m in self.tail_moves))

    def describe(self, *, underlying: str, params: UnderlyingParams, coin_margined: bool,
                 scenario: int) -> str:
        """Return scenario ``scenario`` as it moves ``underlying`` (30-day vol multiplier).

        Examples: ``"BTC -16.00%, vol up x1.50 (30-day)"``,
        ``"BTC +300% (tail, weight 0.05), vol up x1.50 (30-day)"``.
        """
        move = float(self.moves(params)[scenario])
        state = VolState(int(self.vol_state[scenario]))
        ref = f"({self.reference_days:g}-day)"
        vol = {VolState.SAME: "vol unchanged",
               VolState.UP: f"vol up x{1 + params.vol_range_up:.2f} {ref}",
               VolState.DOWN: f"vol down x{1 - min(params.vol_range_down, 1.0):.2f} {ref}",
               }[state]
        if not self.is_tail[scenario]:
            return f"{underlying} {move:+.2%}, {vol}"
        weight = float(self.weights(params, coin_margined=coin_margined)[scenario])
        return f"{underlying} {move:+.0%} (tail, weight {weight:.2f}), {vol}"
