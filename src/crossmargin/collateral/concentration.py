"""Concentration limits: the share of an account's collateral one asset may make up."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray

__all__ = ["ConcentrationLimit", "concentration_excess"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConcentrationLimit:
    """How much of one asset counts in full.

    Parameters
    ----------
    max_share : float
        Largest share of the account's recognised collateral the asset may make up, in
        (0, 1]; 1 means no limit.
    exempt_below : float
        Value (in the schedule's currency) that always counts, whatever its share.
    """

    max_share: float = 1.0
    exempt_below: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < self.max_share <= 1:
            raise InputError("must be in (0, 1]", field="max_share", value=self.max_share)
        if not 0 <= self.exempt_below < np.inf:
            raise InputError("must be a non-negative finite amount", field="exempt_below",
                             value=self.exempt_below)


def concentration_excess(*, value: FloatArray, account: IntArray, n_accounts: int,
                         max_share: FloatArray, exempt_below: FloatArray) -> FloatArray:
    r"""Return the part of each holding above its concentration limit.

    Parameters
    ----------
    value : FloatArray, shape (n_holdings,)
        Recognised value of each holding after haircuts (negative values are
        liabilities: they neither count towards the total nor have an excess).
    account : IntArray, shape (n_holdings,)
        Account row of each holding.
    n_accounts : int
    max_share : FloatArray, shape (n_holdings,)
        The holding's limit as a share of its account's total (1: none).
    exempt_below : FloatArray, shape (n_holdings,)
        The holding's exempt amount, in the reporting currency.

    Returns
    -------
    FloatArray, shape (n_holdings,)

    Notes
    -----
    With :math:`v_j^+ = \max(v_j, 0)` and :math:`T_a = \sum_{j \in a} v_j^+` the
    account's recognised collateral before the limits,

    .. math:: E_j = \max\big(v_j^+ - \max(c_j T_a,\ e_j),\ 0\big).

    The total is taken before any excess is removed, so the limit is not circular.
    """
    positive = np.maximum(value, 0.0)
    total = np.bincount(account, weights=positive, minlength=n_accounts)
    allowed = np.maximum(max_share * total[account], exempt_below)
    out: FloatArray = np.maximum(positive - allowed, 0.0)
    return out
