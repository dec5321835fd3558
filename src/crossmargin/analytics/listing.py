"""Listed contract terms on a date: expiry calendars, strike grids and contract symbols.

Pure functions of dates and numbers, used by the population generator to write the
contracts an exchange would have listed on the as-of date.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from crossmargin.core.typing import FloatArray

__all__ = [
    "contract_symbol",
    "front_expiry",
    "last_friday",
    "monthly_expiries",
    "strike_grid",
    "third_friday",
]

#: Futures month codes, January to December (the exchanges' convention).
MONTH_CODES = "FGHJKMNQUVXZ"
_FRIDAY = 4


def third_friday(year: int, month: int) -> date:
    """Return the third Friday of ``month`` (listed equity options and index futures)."""
    first = date(year, month, 1)
    return first + timedelta(days=(_FRIDAY - first.weekday()) % 7 + 14)


def last_friday(year: int, month: int) -> date:
    """Return the last Friday of ``month`` (crypto options and CME bitcoin futures)."""
    nxt = date(year + month // 12, month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - _FRIDAY) % 7)


def _month_after(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def monthly_expiries(as_of: date, months: Sequence[int], *, rule: str = "third") -> list[date]:
    """Return the expiry ``m`` months after ``as_of``'s month for each ``m`` of ``months``.

    ``rule`` is ``third`` (third Friday) or ``last`` (last Friday). An expiry that would
    fall on or before ``as_of`` moves to the next month.
    """
    pick = third_friday if rule == "third" else last_friday
    out = []
    for m in months:
        expiry = pick(*_month_after(as_of, m))
        if expiry <= as_of:
            expiry = pick(*_month_after(as_of, m + 1))
        out.append(expiry)
    return out


def front_expiry(as_of: date, *, min_days: int, rule: str = "third", cycle: int = 1
                 ) -> date:
    """Return the first expiry at least ``min_days`` after ``as_of``.

    ``cycle`` is 1 for monthly contracts and 3 for the March quarterly cycle (March,
    June, September, December); ``rule`` as in :func:`monthly_expiries`.
    """
    pick = third_friday if rule == "third" else last_friday
    month = 0
    while True:
        year, mon = _month_after(as_of, month)
        if mon % cycle == 0:
            expiry = pick(year, mon)
            if (expiry - as_of).days >= min_days:
                return expiry
        month += 1


def contract_symbol(root: str, expiry: date) -> str:
    """Return ``root`` + month code + two-digit year, e.g. ``ESU18``."""
    return f"{root}{MONTH_CODES[expiry.month - 1]}{expiry.year % 100:02d}"


def _nice_step(size: float) -> float:
    """Return the largest of 1, 2, 2.5 or 5 times a power of ten not above ``size``."""
    power = 10.0 ** math.floor(math.log10(size))
    return max(m * power for m in (1.0, 2.0, 2.5, 5.0) if m * power <= size * (1 + 1e-12))


def strike_grid(spot: float, moneyness: npt.ArrayLike) -> FloatArray:
    r"""Return listed strikes near ``spot * (1 + m)`` for each relative offset ``m``.

    Parameters
    ----------
    spot : float
        Price of the underlying.
    moneyness : array_like, shape (n,)
        Increasing relative offsets from the spot (``-0.1`` is 10% below it).

    Returns
    -------
    FloatArray, shape (n,)
        Distinct, increasing, positive strikes.

    Notes
    -----
    The strike increment is the largest "nice" number (1, 2, 2.5 or 5 times a power of
    ten) not above half the smallest gap between two targets,
    :math:`h \le \tfrac12 S \min_j (m_{j+1} - m_j)`, so that rounding each target to a
    multiple of :math:`h` never merges two strikes.
    """
    m = np.asarray(moneyness, dtype=np.float64)
    gap = float(np.min(np.diff(m))) if m.size > 1 else 0.05
    step = _nice_step(0.5 * spot * gap)
    strikes: FloatArray = np.round(spot * (1.0 + m) / step) * step
    # a strike is quoted to the increment's decimals, not a binary float's tail
    decimals = max(0, -math.floor(math.log10(step)) + 2)
    return np.maximum(np.round(strikes, decimals), step)
