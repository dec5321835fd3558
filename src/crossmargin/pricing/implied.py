"""Implied volatility: the volatility at which a model reproduces a given price."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray

__all__ = ["implied_vol"]

_VOL_LO = 1e-4
_VOL_HI = 10.0


def implied_vol(
    price_fn: Callable[[FloatArray], FloatArray],
    *,
    target: FloatArray,
    iterations: int = 80,
    tolerance: float = 1e-10,
    labels: list[str] | None = None,
) -> FloatArray:
    r"""Solve ``price_fn(vol) = target`` for each element by bisection.

    Parameters
    ----------
    price_fn : callable
        Maps a volatility array of shape (n,) to model prices of shape (n,); it must be
        increasing in volatility (true of European and American options).
    target : FloatArray, shape (n,)
        Prices to reproduce.
    iterations : int
        Bisection steps (each halves the bracket [1e-4, 10]).
    tolerance : float
        Relative price tolerance accepted at the bracket ends.
    labels : list of str, optional
        Instrument labels for the error message.

    Returns
    -------
    FloatArray, shape (n,)

    Raises
    ------
    InputError
        When a target lies outside the prices the model reaches (below intrinsic value
        or above the no-arbitrage bound).

    Notes
    -----
    Bisection on the bracket :math:`[\sigma_{lo}, \sigma_{hi}] = [10^{-4}, 10]`; the
    option price is monotone in :math:`\sigma` (positive vega), so the root is unique.
    """
    target = np.asarray(target, dtype=np.float64)
    lo = np.full(target.shape, _VOL_LO)
    hi = np.full(target.shape, _VOL_HI)
    p_lo, p_hi = price_fn(lo), price_fn(hi)
    scale = np.maximum(np.abs(target), 1e-12)
    bad = (target < p_lo - tolerance * scale) | (target > p_hi + tolerance * scale)
    if bad.any():
        k = int(np.argmax(bad))
        name = labels[k] if labels else f"instrument {k}"
        raise InputError(
            f"price is outside what any volatility gives for {name} "
            f"(between {p_lo[k]:.6g} and {p_hi[k]:.6g})",
            field="mark",
            value=float(target[k]),
        )
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = price_fn(mid) > target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    result: FloatArray = 0.5 * (lo + hi)
    return result
