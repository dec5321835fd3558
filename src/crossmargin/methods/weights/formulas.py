r"""Size-adjusted weights of linear-weight cross margin, vectorised.

A large balance is worth less as collateral and a large liability costs more: both
adjustments grow with the square root of the size, scaled by the initial margin factor
(IMF) of the asset or market.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from crossmargin.core.typing import FloatArray

__all__ = ["size_discount_asset_weight", "size_premium_liability_weight"]


def size_premium_liability_weight(*, weight: npt.ArrayLike, imf: npt.ArrayLike,
                                  size: npt.ArrayLike, factor: float) -> FloatArray:
    r"""Return a liability weight (or margin fraction) raised for large positions.

    Parameters
    ----------
    weight : array_like
        The base liability weight :math:`w` (1.2 for 120%), or a perpetual's margin
        fraction (0.05 for 5%).
    imf : array_like
        Initial margin factor :math:`f` (0.105 for 0.105).
    size : array_like
        Position size in units of the asset or market (coins; the sign is ignored).
    factor : float
        Share :math:`\lambda` of the base weight kept under the premium (0.8).

    Returns
    -------
    FloatArray
        The weight, shape of the broadcast inputs.

    Notes
    -----
    .. math:: w(s) = \max\big(w,\ \lambda w + f\sqrt{|s|}\big).

    Non-decreasing in :math:`|s|` and in :math:`w`: larger positions and more
    conservative thresholds never cost less.

    References
    ----------
    .. [1] Drift Protocol v2, ``calculate_size_premium_liability_weight``
       (programs/drift/src/math/margin.rs): liability weight minus a fifth of it plus
       sqrt(size) x imf factor, at least the liability weight.
    .. [2] Drift Protocol documentation, "Cross-collateral deposits" (IMF factor).
    """
    w = np.asarray(weight, dtype=np.float64)
    out: FloatArray = np.maximum(w, factor * w + np.asarray(imf, dtype=np.float64)
                                 * np.sqrt(np.abs(np.asarray(size, dtype=np.float64))))
    return out


def size_discount_asset_weight(*, weight: npt.ArrayLike, imf: npt.ArrayLike,
                               size: npt.ArrayLike, numerator: float) -> FloatArray:
    r"""Return an asset weight lowered for large balances.

    Parameters
    ----------
    weight : array_like
        The base asset weight :math:`w` (0.8 for 80%).
    imf : array_like
        Initial margin factor :math:`f`.
    size : array_like
        Balance in units of the asset (the sign is ignored); for unsettled profit, its
        amount in the settlement currency.
    numerator : float
        :math:`\nu` of the discount (1.1).

    Returns
    -------
    FloatArray
        The weight, shape of the broadcast inputs.

    Notes
    -----
    .. math:: w(s) = \min\Big(w,\ \frac{\nu}{1 + f\sqrt{|s|}}\Big).

    Non-increasing in :math:`|s|` and non-decreasing in :math:`w`.

    References
    ----------
    .. [1] Drift Protocol v2, ``calculate_size_discount_asset_weight``
       (programs/drift/src/math/margin.rs).
    .. [2] Drift Protocol documentation, "Cross-collateral deposits": initial asset
       weight of 2,000 SOL = min(0.80, 1.1 / (1 + 0.003 sqrt(2000))) = 0.80.
    """
    discount = numerator / (1.0 + np.asarray(imf, dtype=np.float64)
                            * np.sqrt(np.abs(np.asarray(size, dtype=np.float64))))
    out: FloatArray = np.minimum(np.asarray(weight, dtype=np.float64), discount)
    return out
