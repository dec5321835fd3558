r"""Coverage tests of a margin model: Kupiec, Christoffersen and the Basel traffic light.

A backtest records, for each day, whether the realised loss over the margin period of
risk exceeded the margin (an *exception*). These statistics ask whether the exceptions
are as rare as the model's confidence level promises (Kupiec's proportion of failures),
whether they come independently of each other rather than in clusters (Christoffersen's
independence test) and both at once (conditional coverage), and in which supervisory
zone their number falls (the Basel traffic light).

Every function works on arrays, one value per series (account), so that a book of many
accounts is tested in one call; scalars give 0-d arrays. The boundary cases (no
exception, nothing but exceptions, no transition out of an exception) take the limits
of the likelihoods (:math:`0 \ln 0 = 0`), never NaN.

References
----------
.. [1] P. H. Kupiec (1995), "Techniques for verifying the accuracy of risk measurement
   models", Journal of Derivatives 3(2), 73-84.
.. [2] P. F. Christoffersen (1998), "Evaluating interval forecasts", International
   Economic Review 39(4), 841-862.
.. [3] Basel Committee on Banking Supervision (January 1996), "Supervisory framework for
   the use of 'backtesting' in conjunction with the internal models approach to market
   risk capital requirements".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy.special import xlogy
from scipy.stats import binom, chi2

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray

__all__ = [
    "NO_ZONE",
    "ZONES",
    "LikelihoodRatio",
    "TrafficLight",
    "Transitions",
    "Zone",
    "christoffersen_conditional_coverage",
    "christoffersen_independence",
    "kupiec_pof",
    "transitions",
]


def _probability(confidence: float) -> float:
    """Return the exception probability :math:`p = 1 - c` of a confidence level."""
    if not 0.0 < confidence < 1.0:
        raise InputError("must be strictly between 0 and 1", field="confidence",
                         value=confidence)
    return 1.0 - confidence


def _counts(values: npt.ArrayLike, field: str) -> FloatArray:
    out = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(out)) or np.any(out < 0) or np.any(out != np.round(out)):
        raise InputError("counts must be non-negative whole numbers", field=field)
    return out


def _rate(hits: FloatArray, trials: FloatArray) -> FloatArray:
    """Return ``hits / trials``, zero where there are no trials (its terms then vanish)."""
    out: FloatArray = np.divide(hits, trials, out=np.zeros_like(hits), where=trials > 0)
    return out


def _bernoulli(hits: FloatArray, misses: FloatArray, rate: FloatArray | float) -> FloatArray:
    r"""Return :math:`x \ln \pi + (n - x) \ln(1 - \pi)` with :math:`0 \ln 0 = 0`."""
    out: FloatArray = xlogy(hits, rate) + xlogy(misses, 1.0 - np.asarray(rate))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class LikelihoodRatio:
    r"""A likelihood-ratio statistic and its asymptotic :math:`\chi^2` p-value.

    Attributes
    ----------
    statistic : FloatArray, shape (n,) or ()
        :math:`LR \ge 0`, one per series.
    p_value : FloatArray, same shape
        :math:`P(\chi^2_{\text{dof}} > LR)`.
    dof : int
        Degrees of freedom of the asymptotic distribution.
    """

    statistic: FloatArray
    p_value: FloatArray
    dof: int

    @classmethod
    def of(cls, statistic: FloatArray, *, dof: int) -> LikelihoodRatio:
        """Return the test of ``statistic`` (rounding residue below zero set to zero)."""
        lr = np.asarray(np.maximum(np.asarray(statistic, dtype=np.float64), 0.0))
        return cls(statistic=lr, p_value=np.asarray(chi2.sf(lr, dof), dtype=np.float64),
                   dof=dof)


def kupiec_pof(*, exceptions: npt.ArrayLike, observations: npt.ArrayLike,
               confidence: float) -> LikelihoodRatio:
    r"""Kupiec's proportion-of-failures test of unconditional coverage.

    Parameters
    ----------
    exceptions : array_like of int, shape (n,) or ()
        Exceptions :math:`x` of each series.
    observations : array_like of int, same shape
        Observations :math:`T` of each series.
    confidence : float
        The model's confidence level :math:`c`; :math:`p = 1 - c`.

    Returns
    -------
    LikelihoodRatio
        One degree of freedom.

    Notes
    -----
    .. math::
       LR_{pof} = -2 \ln \frac{(1 - p)^{T - x} p^x}
                              {(1 - \hat\pi)^{T - x} \hat\pi^x},
       \qquad \hat\pi = x / T,

    asymptotically :math:`\chi^2(1)` under the null hypothesis that exceptions occur with
    probability :math:`p`. With :math:`0 \ln 0 = 0`: :math:`x = 0` gives
    :math:`-2 T \ln(1 - p)`, :math:`x = T` gives :math:`-2 T \ln p`, :math:`T = 0` gives 0.

    References
    ----------
    .. [1] P. H. Kupiec (1995), "Techniques for verifying the accuracy of risk measurement
       models", Journal of Derivatives 3(2), 73-84.
    """
    p = _probability(confidence)
    x = _counts(exceptions, "exceptions")
    t = _counts(observations, "observations")
    if np.any(x > t):
        raise InputError("exceptions cannot outnumber observations", field="exceptions")
    restricted = _bernoulli(x, t - x, p)
    unrestricted = _bernoulli(x, t - x, _rate(x, t))
    return LikelihoodRatio.of(-2.0 * (restricted - unrestricted), dof=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transitions:
    r"""Counts :math:`n_{ij}` of days in state :math:`j` after a day in state :math:`i`.

    State 1 is an exception, 0 none. Each attribute has shape (n,) (one per series) or ().

    Attributes
    ----------
    n00, n01, n10, n11 : IntArray
    """

    n00: IntArray
    n01: IntArray
    n10: IntArray
    n11: IntArray

    def total(self) -> Transitions:
        """Return the counts summed over the series (pooled)."""
        return Transitions(n00=np.asarray(self.n00.sum()), n01=np.asarray(self.n01.sum()),
                           n10=np.asarray(self.n10.sum()), n11=np.asarray(self.n11.sum()))


def transitions(hits: npt.ArrayLike, *, observed: npt.ArrayLike | None = None) -> Transitions:
    """Count the transitions between consecutive observations of each series.

    Parameters
    ----------
    hits : array_like of bool, shape (n_series, n_days) or (n_days,)
        Whether each day is an exception.
    observed : array_like of bool, same shape, optional
        Days that count (all by default). A series' sequence is its observed days in
        order: a day left out joins the days either side of it.

    Returns
    -------
    Transitions
        Shape (n_series,), or () for one sequence.
    """
    h = np.asarray(hits, dtype=bool)
    one = h.ndim == 1
    h = np.atleast_2d(h)
    mask = np.ones_like(h) if observed is None else np.atleast_2d(np.asarray(observed, bool))
    if mask.shape != h.shape or h.ndim != 2:
        raise InputError("hits and observed must be (series, days) arrays of one shape",
                         field="observed", value=mask.shape)
    series, _ = np.nonzero(mask)  # row-major: each series' observed days in order
    seq = h[mask].astype(np.int64)
    same = series[1:] == series[:-1]
    state = 2 * seq[:-1][same] + seq[1:][same]  # 0: 00, 1: 01, 2: 10, 3: 11
    counts = np.bincount(series[1:][same] * 4 + state,
                         minlength=4 * h.shape[0]).reshape(h.shape[0], 4)
    if one:
        counts = counts[0]
    return Transitions(n00=counts[..., 0], n01=counts[..., 1], n10=counts[..., 2],
                       n11=counts[..., 3])


def christoffersen_independence(counts: Transitions) -> LikelihoodRatio:
    r"""Christoffersen's test that exceptions do not cluster (first-order Markov).

    Parameters
    ----------
    counts : Transitions

    Returns
    -------
    LikelihoodRatio
        One degree of freedom.

    Notes
    -----
    With :math:`\pi_0 = n_{01} / (n_{00} + n_{01})`, :math:`\pi_1 = n_{11} / (n_{10} +
    n_{11})` and :math:`\pi = (n_{01} + n_{11}) / (n_{00} + n_{01} + n_{10} + n_{11})`,

    .. math::
       LR_{ind} = -2 \ln \frac{(1 - \pi)^{n_{00} + n_{10}} \pi^{n_{01} + n_{11}}}
                  {(1 - \pi_0)^{n_{00}} \pi_0^{n_{01}} (1 - \pi_1)^{n_{10}} \pi_1^{n_{11}}},

    asymptotically :math:`\chi^2(1)` under independence. A state never left (no
    transition out of an exception, say) contributes nothing (:math:`0 \ln 0 = 0`), so a
    sequence without exceptions, or with fewer than two observations, gives 0.

    References
    ----------
    .. [1] P. F. Christoffersen (1998), "Evaluating interval forecasts", International
       Economic Review 39(4), 841-862, section 3.
    """
    n00, n01, n10, n11 = (np.asarray(c, dtype=np.float64)
                          for c in (counts.n00, counts.n01, counts.n10, counts.n11))
    pi0 = _rate(n01, n00 + n01)
    pi1 = _rate(n11, n10 + n11)
    pi = _rate(n01 + n11, n00 + n01 + n10 + n11)
    restricted = _bernoulli(n01 + n11, n00 + n10, pi)
    unrestricted = _bernoulli(n01, n00, pi0) + _bernoulli(n11, n10, pi1)
    return LikelihoodRatio.of(-2.0 * (restricted - unrestricted), dof=1)


def christoffersen_conditional_coverage(*, pof: LikelihoodRatio,
                                        independence: LikelihoodRatio) -> LikelihoodRatio:
    r"""Christoffersen's joint test of coverage and independence.

    Notes
    -----
    :math:`LR_{cc} = LR_{pof} + LR_{ind}`, asymptotically :math:`\chi^2(2)`.

    References
    ----------
    .. [1] P. F. Christoffersen (1998), "Evaluating interval forecasts", International
       Economic Review 39(4), 841-862, section 3.
    """
    return LikelihoodRatio.of(pof.statistic + independence.statistic, dof=2)


class Zone(StrEnum):
    """The Basel traffic-light zones."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


#: Zones by code: ``ZONES[code]`` (codes from :meth:`TrafficLight.zones`).
ZONES: tuple[Zone, ...] = (Zone.GREEN, Zone.YELLOW, Zone.RED)
#: The code of a series with no observation (no zone).
NO_ZONE = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficLight:
    r"""The Basel traffic light: zones by the cumulative binomial probability.

    Parameters
    ----------
    confidence : float
        The model's confidence level :math:`c` (exceptions have probability
        :math:`p = 1 - c` under the null).
    yellow : float
        Cumulative probability at which the yellow zone begins (0.95 in BCBS 1996).
    red : float
        Cumulative probability at which the red zone begins (0.9999 in BCBS 1996).

    Notes
    -----
    With :math:`X \sim \mathrm{Binomial}(T, p)`, a count :math:`x` lies in the yellow zone
    from the smallest :math:`x` with :math:`P(X \le x) \ge 0.95` and in the red zone from
    the smallest :math:`x` with :math:`P(X \le x) \ge 0.9999`; below, in the green zone.
    For :math:`T = 250` at 99% this gives green 0-4, yellow 5-9, red 10 or more. No
    exception is green whatever :math:`T` (in a window so short that
    :math:`P(X = 0)` reaches 95%, none still shows no excess of exceptions).

    References
    ----------
    .. [1] Basel Committee on Banking Supervision (January 1996), "Supervisory framework
       for the use of 'backtesting' in conjunction with the internal models approach to
       market risk capital requirements", section III and table 2.
    """

    confidence: float
    yellow: float
    red: float

    def __post_init__(self) -> None:
        _probability(self.confidence)
        if not 0.0 < self.yellow < self.red < 1.0:
            raise InputError("need 0 < yellow < red < 1", field="traffic_light",
                             value=(self.yellow, self.red))

    def bounds(self, observations: npt.ArrayLike) -> tuple[IntArray, IntArray]:
        """Return the first yellow and the first red exception count for ``observations``.

        Parameters
        ----------
        observations : array_like of int, shape (n,) or ()
        """
        t = _counts(observations, "observations")
        p = _probability(self.confidence)
        yellow = np.maximum(np.asarray(binom.ppf(self.yellow, t, p), dtype=np.float64), 1.0)
        red = np.maximum(np.asarray(binom.ppf(self.red, t, p), dtype=np.float64), 1.0)
        return yellow.astype(np.int64), red.astype(np.int64)

    def cumulative(self, *, exceptions: npt.ArrayLike, observations: npt.ArrayLike
                   ) -> FloatArray:
        r"""Return :math:`P(X \le x)` for :math:`X \sim \mathrm{Binomial}(T, p)`."""
        out: FloatArray = np.asarray(
            binom.cdf(_counts(exceptions, "exceptions"), _counts(observations, "observations"),
                      _probability(self.confidence)), dtype=np.float64)
        return out

    def zones(self, *, exceptions: npt.ArrayLike, observations: npt.ArrayLike) -> IntArray:
        """Return each series' zone code (index of ``ZONES``; ``NO_ZONE`` without data).

        Parameters
        ----------
        exceptions, observations : array_like of int, shape (n,) or ()
        """
        x = _counts(exceptions, "exceptions")
        t = _counts(observations, "observations")
        yellow, red = self.bounds(t)
        code = (x >= yellow).astype(np.int64) + (x >= red).astype(np.int64)
        out: IntArray = np.where(t > 0, code, NO_ZONE)
        return out

