"""Fixed-coupon bullet bonds (US Treasury notes and bonds) priced off a zero curve.

Prices are per 1 unit of face value. Times are year fractions from the valuation
date: the maturity is given as one (see `year_fraction`) and coupon dates are laid on
a regular grid back from it, ``maturity - k / frequency``. That stands in for the
actual/actual (ICMA) calendar of Treasury coupons: a real half-year is 181 to 184
days, i.e. 0.496 to 0.504 years of 365.25 days, so coupon times are off by up to
about two days (a price difference of the order of 1e-5 per unit face on a 10-year
note); the principal's time is exact. Because of that error, a coupon whose grid time
is within two days of the valuation date is treated as already paid (as it is when the
valuation date is the coupon date, and as it is for a buyer at T+1 settlement the day
before): a bond maturing exactly N years after a coupon date then has the right
number of coupons, whatever the leap days.

Every function broadcasts ``coupon`` and ``maturity`` against each other (the bond
shape ``B``) and takes a curve ``(tenors, zero_rates)`` whose ``zero_rates`` has
leading scenario axes ``S``; results have shape ``S + B``.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import numpy.typing as npt

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray
from crossmargin.pricing._inputs import as_float, check_nonnegative, check_positive
from crossmargin.pricing.curves import discount_factors

__all__ = [
    "accrued_interest",
    "bond_cash_flows",
    "bond_clean_price",
    "bond_dirty_price",
    "dv01",
    "modified_duration",
    "year_fraction",
]

_DAYS_PER_YEAR = 365.25
_PAID_WITHIN = 2.0 / _DAYS_PER_YEAR  # a coupon due this soon counts as paid


def year_fraction(start: date, end: date) -> float:
    """Year fraction between two dates, actual days / 365.25.

    Parameters
    ----------
    start, end : datetime.date
        Valuation date and a later (or earlier: the result is then negative) date.

    Returns
    -------
    float
        ``(end - start).days / 365.25``.

    Notes
    -----
    A single-basis approximation of actual/actual: the average year length over a
    leap cycle. It is exact on average but can differ from ISDA or ICMA
    actual/actual by up to about 0.2% of a year fraction.

    References
    ----------
    .. [1] ISDA, 2006 ISDA Definitions, section 4.16 (day count fractions).
    """
    return (end - start).days / _DAYS_PER_YEAR


def _bond_inputs(
    coupon: npt.ArrayLike, maturity: npt.ArrayLike, frequency: int
) -> tuple[FloatArray, FloatArray]:
    if not isinstance(frequency, int) or isinstance(frequency, bool) or frequency <= 0:
        raise InputError("must be a positive integer", field="frequency", value=frequency)
    c = as_float(coupon, field="coupon")
    m = as_float(maturity, field="maturity")
    check_nonnegative(c, field="coupon")
    check_positive(m, field="maturity")
    if not np.all(np.isfinite(m)):
        raise InputError("must be finite", field="maturity", value=m[~np.isfinite(m)].tolist())
    c, m = np.broadcast_arrays(c, m)
    return c, m


def bond_cash_flows(
    *, coupon: npt.ArrayLike, maturity: npt.ArrayLike, frequency: int = 2
) -> tuple[FloatArray, FloatArray]:
    r"""Remaining cash flows of bullet bonds, padded to a common length.

    Parameters
    ----------
    coupon : array_like
        Annual coupon rate as a decimal (4.125% is 0.04125), >= 0.
    maturity : array_like
        Years from the valuation date to maturity, > 0.
    frequency : int, default 2
        Coupons per year (2 for Treasury notes and bonds).

    Returns
    -------
    times : numpy.ndarray, shape B + (n,)
        Payment times in years, descending from the maturity; 0 where padded.
    amounts : numpy.ndarray, shape B + (n,)
        Payment per unit face (``coupon / frequency``, plus 1 at maturity); 0 where
        padded.

    Raises
    ------
    InputError
        On a negative coupon, a non-positive maturity or a bad frequency.

    Notes
    -----
    Coupon times are :math:`t_k = T - k/f` for :math:`k = 0, 1, \ldots` while
    :math:`t_k` is more than two days (2/365.25 years) away, the maturity payment
    always included (a coupon due on the valuation date, or within the grid's error of
    it, counts as paid); ``n`` is the largest count over the bonds.

    References
    ----------
    .. [1] F. J. Fabozzi, Bond Markets, Analysis, and Strategies, 9th ed., Pearson,
       2015, chapter 2.
    """
    c, m = _bond_inputs(coupon, maturity, frequency)
    n = max(1, math.ceil((float(np.max(m, initial=0.0)) - _PAID_WITHIN) * frequency))
    k = np.arange(n, dtype=np.float64)
    times = m[..., np.newaxis] - k / frequency
    due = (times > _PAID_WITHIN) | (k == 0.0)  # the maturity flow is always due
    times = np.where(due, times, 0.0)
    amounts = np.where(due, c[..., np.newaxis] / frequency, 0.0)
    amounts[..., 0] += 1.0
    return np.asarray(times, dtype=np.float64), np.asarray(amounts, dtype=np.float64)


def accrued_interest(
    *, coupon: npt.ArrayLike, maturity: npt.ArrayLike, frequency: int = 2
) -> FloatArray:
    r"""Accrued interest per unit face since the last coupon date.

    Parameters
    ----------
    coupon, maturity, frequency
        As in `bond_cash_flows`.

    Returns
    -------
    numpy.ndarray
        Shape of the broadcast ``coupon`` and ``maturity``.

    Notes
    -----
    With :math:`t_1` the time to the next coupon,
    :math:`AI = \frac{c}{f}\,(1 - f\,t_1)`: the coupon times the fraction of the
    current period already elapsed (the same year-fraction basis as the coupon grid).

    References
    ----------
    .. [1] F. J. Fabozzi, Bond Markets, Analysis, and Strategies, 9th ed., Pearson,
       2015, chapter 2 (accrued interest, full and clean prices).
    """
    c, m = _bond_inputs(coupon, maturity, frequency)
    periods = np.maximum(np.ceil((m - _PAID_WITHIN) * frequency), 1.0)  # remaining coupons
    next_coupon = m - (periods - 1.0) / frequency
    elapsed = np.clip(1.0 - frequency * next_coupon, 0.0, 1.0)
    return np.asarray(c / frequency * elapsed, dtype=np.float64)


def _pv_parts(
    coupon: npt.ArrayLike,
    maturity: npt.ArrayLike,
    tenors: npt.ArrayLike,
    zero_rates: npt.ArrayLike,
    frequency: int,
) -> tuple[FloatArray, FloatArray]:
    """Discounted cash flows and their time-weighted sum, shapes ``S + B``."""
    times, amounts = bond_cash_flows(coupon=coupon, maturity=maturity, frequency=frequency)
    df = discount_factors(tenors=tenors, zero_rates=zero_rates, times=times)
    pv = amounts * df
    return np.sum(pv, axis=-1), np.sum(pv * times, axis=-1)


def bond_dirty_price(
    *,
    coupon: npt.ArrayLike,
    maturity: npt.ArrayLike,
    tenors: npt.ArrayLike,
    zero_rates: npt.ArrayLike,
    frequency: int = 2,
) -> FloatArray:
    r"""Full (dirty) price per unit face, discounted on a zero curve.

    Parameters
    ----------
    coupon, maturity, frequency
        As in `bond_cash_flows`.
    tenors : array_like, shape (n_tenors,)
        Curve nodes in years.
    zero_rates : array_like, shape S + (n_tenors,)
        Continuously compounded zero rates, e.g. from
        `crossmargin.pricing.bootstrap_zero_curve`; leading axes are scenarios.

    Returns
    -------
    numpy.ndarray
        Shape ``S + B``.

    Notes
    -----
    :math:`P = \sum_k CF_k\, e^{-z(t_k) t_k}` over the remaining cash flows of
    `bond_cash_flows`, with :math:`z(t)` linear in the zero rate between nodes and
    flat outside (`crossmargin.pricing.discount_factors`). Settlement is the
    valuation date.

    References
    ----------
    .. [1] J. C. Hull, Options, Futures, and Other Derivatives, 10th ed., Pearson,
       2018, section 4.4 (bond pricing from zero rates).
    """
    price, _ = _pv_parts(coupon, maturity, tenors, zero_rates, frequency)
    return np.asarray(price, dtype=np.float64)


def bond_clean_price(
    *,
    coupon: npt.ArrayLike,
    maturity: npt.ArrayLike,
    tenors: npt.ArrayLike,
    zero_rates: npt.ArrayLike,
    frequency: int = 2,
) -> FloatArray:
    """Clean (quoted) price per unit face: dirty price minus accrued interest.

    Parameters
    ----------
    coupon, maturity, tenors, zero_rates, frequency
        As in `bond_dirty_price`.

    Returns
    -------
    numpy.ndarray
        Shape ``S + B``.

    Notes
    -----
    :math:`P_{clean} = P_{dirty} - AI` (`accrued_interest`).

    References
    ----------
    .. [1] F. J. Fabozzi, Bond Markets, Analysis, and Strategies, 9th ed., Pearson,
       2015, chapter 2.
    """
    dirty = bond_dirty_price(
        coupon=coupon, maturity=maturity, tenors=tenors, zero_rates=zero_rates, frequency=frequency
    )
    ai = accrued_interest(coupon=coupon, maturity=maturity, frequency=frequency)
    return np.asarray(dirty - ai, dtype=np.float64)


def modified_duration(
    *,
    coupon: npt.ArrayLike,
    maturity: npt.ArrayLike,
    tenors: npt.ArrayLike,
    zero_rates: npt.ArrayLike,
    frequency: int = 2,
) -> FloatArray:
    r"""Duration for a parallel shift of the continuously compounded zero curve.

    Parameters
    ----------
    coupon, maturity, tenors, zero_rates, frequency
        As in `bond_dirty_price`.

    Returns
    -------
    numpy.ndarray
        Years, shape ``S + B``.

    Notes
    -----
    :math:`D = -\frac{1}{P}\frac{\partial P}{\partial s}
    = \frac{1}{P}\sum_k t_k CF_k e^{-z(t_k)t_k}` for a shift :math:`z \to z + s`
    (Fisher-Weil duration). With continuous compounding the modified and Macaulay
    durations coincide; a duration against the semiannual yield to maturity is
    larger by the factor :math:`1 + y/2`.

    References
    ----------
    .. [1] L. Fisher and R. L. Weil, "Coping with the risk of interest-rate
       fluctuations", Journal of Business 44(4), 1971.
    .. [2] J. C. Hull, Options, Futures, and Other Derivatives, 10th ed., Pearson,
       2018, section 4.8.
    """
    price, weighted = _pv_parts(coupon, maturity, tenors, zero_rates, frequency)
    return np.asarray(weighted / price, dtype=np.float64)


def dv01(
    *,
    coupon: npt.ArrayLike,
    maturity: npt.ArrayLike,
    tenors: npt.ArrayLike,
    zero_rates: npt.ArrayLike,
    frequency: int = 2,
) -> FloatArray:
    r"""Price value of a basis point per unit face (positive for a long bond).

    Parameters
    ----------
    coupon, maturity, tenors, zero_rates, frequency
        As in `bond_dirty_price`.

    Returns
    -------
    numpy.ndarray
        Shape ``S + B``.

    Notes
    -----
    :math:`DV01 = -\partial P/\partial s \times 10^{-4} = D \cdot P \cdot 10^{-4}`
    for a parallel shift :math:`s` of the zero curve (`modified_duration`).

    References
    ----------
    .. [1] B. Tuckman and A. Serrat, Fixed Income Securities, 3rd ed., Wiley, 2011,
       chapter 4.
    """
    _, weighted = _pv_parts(coupon, maturity, tenors, zero_rates, frequency)
    return np.asarray(weighted * 1e-4, dtype=np.float64)
