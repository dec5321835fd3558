r"""Volatility filters of filtered historical simulation: EWMA and GARCH(1,1).

A filter turns a factor's one-step changes :math:`x_0, \dots, x_{n-1}` into variance
forecasts :math:`v_0, \dots, v_n`: :math:`v_m` is the variance of :math:`x_m` forecast
from :math:`x_0, \dots, x_{m-1}`, and :math:`v_n` is the forecast for the first step
after the data (today's volatility). Filtered historical simulation divides each
historical move by the volatility of its time and multiplies it by today's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from arch import arch_model
from arch.univariate import EWMAVariance
from arch.utility.exceptions import ConvergenceWarning
from scipy.signal import lfilter

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray

__all__ = ["EWMAFilter", "GARCHFilter", "VolatilityFilter"]

#: Fewest one-step changes a filter accepts.
MIN_STEPS = 2


def _steps(steps: FloatArray, label: str) -> FloatArray:
    x = np.asarray(steps, dtype=np.float64)
    if x.ndim != 1 or x.size < MIN_STEPS:
        raise InputError(f"needs at least {MIN_STEPS} one-step changes to filter",
                         field=f"history.{label}", value=int(x.size))
    if not np.all(np.isfinite(x)):
        raise InputError("one-step changes must be finite", field=f"history.{label}")
    return x


def _constant(label: str) -> InputError:
    return InputError("filtered variance is zero (constant history); cannot rescale its "
                      "moves", field=f"history.{label}")


def _positive(variances: FloatArray, label: str) -> FloatArray:
    if not np.all(variances > 0):
        raise _constant(label)
    return variances


@dataclass(frozen=True, slots=True, kw_only=True)
class EWMAFilter:
    r"""Exponentially weighted moving-average variance (RiskMetrics).

    Parameters
    ----------
    lam : float
        Decay factor :math:`\lambda \in (0, 1)` (0.94 in RiskMetrics daily; about 0.97
        at CCPs).

    Notes
    -----
    .. math:: v_{m+1} = \lambda v_m + (1 - \lambda) x_m^2 ,

    started at the backcast of the ``arch`` package's EWMA process (an exponentially
    weighted mean of the first squared changes), so that the output equals
    ``arch_model(x, mean="Zero", vol=EWMAVariance(lam))`` bit for bit up to rounding.
    The recursion runs as one linear filter over all steps.

    References
    ----------
    .. [1] J.P. Morgan/Reuters, "RiskMetrics - Technical Document", 4th ed., 1996,
       section 5.2.
    .. [2] K. Sheppard, ``arch`` documentation, "Volatility processes: EWMAVariance".
    """

    lam: float

    def __post_init__(self) -> None:
        if not 0.0 < self.lam < 1.0:
            raise InputError("must be strictly between 0 and 1", field="filter.lambda",
                             value=self.lam)

    def variances(self, steps: FloatArray, *, label: str) -> FloatArray:
        """Return the variance forecasts, shape (n_steps + 1,), of ``steps``."""
        x = _steps(steps, label)
        v0 = float(EWMAVariance(self.lam).backcast(x))
        out, _ = lfilter([1.0 - self.lam], [1.0, -self.lam], x * x, zi=[self.lam * v0])
        return _positive(np.r_[v0, np.asarray(out, dtype=np.float64)], label)


@dataclass(frozen=True, slots=True, kw_only=True)
class GARCHFilter:
    r"""GARCH(1,1) variance with zero mean and normal innovations, fitted by ``arch``.

    Notes
    -----
    .. math:: v_{m+1} = \omega + \alpha x_m^2 + \beta v_m ,

    with :math:`(\omega, \alpha, \beta)` estimated by maximum likelihood on the factor's
    whole history up to the as-of date. The changes are scaled to unit sample variance
    for the fit and the variances scaled back (GARCH is scale-equivariant). A fit that
    does not converge is an error, never a silent fallback.

    References
    ----------
    .. [1] T. Bollerslev (1986), "Generalized autoregressive conditional
       heteroskedasticity", Journal of Econometrics 31, 307-327.
    .. [2] K. Sheppard, ``arch`` documentation, "Volatility processes: GARCH".
    """

    def variances(self, steps: FloatArray, *, label: str) -> FloatArray:
        """Return the variance forecasts, shape (n_steps + 1,), of ``steps``."""
        x = _steps(steps, label)
        scale = float(np.std(x))
        if scale == 0.0:
            raise _constant(label)
        model = arch_model(x / scale, mean="Zero", vol="GARCH", p=1, q=1, rescale=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = model.fit(disp="off", show_warning=True)
        if fit.convergence_flag != 0 or any(
            issubclass(w.category, ConvergenceWarning) for w in caught
        ):
            raise InputError("GARCH(1,1) fit did not converge; use the ewma filter",
                             field=f"history.{label}")
        fitted = np.asarray(fit.conditional_volatility, dtype=np.float64) ** 2
        ahead = fit.forecast(horizon=1, reindex=False).variance.to_numpy()[-1, 0]
        return _positive(np.r_[fitted, float(ahead)] * scale**2, label)


VolatilityFilter: TypeAlias = EWMAFilter | GARCHFilter
