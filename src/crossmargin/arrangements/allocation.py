r"""Allocating one account's collateral across margin silos by linear programming.

Under today's patchwork each silo (securities, futures, crypto) is margined alone and must
be covered by collateral posted to it. An account that holds several assets decides where
each goes; the allocation that minimises the account's total shortfall is a small linear
program, solved here for many accounts at once as one block-diagonal problem per chunk
with HiGHS (:func:`scipy.optimize.linprog`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from crossmargin.core.errors import CrossmarginError, InputError
from crossmargin.core.typing import FloatArray

__all__ = ["Allocation", "allocate_collateral"]

#: Accounts per block-diagonal linear program (bounds the solver's memory).
CHUNK = 2000
#: Objective cost of posting one unit of collateral value (shortfall costs 1 per unit).
POSTING_COST = 1e-6


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Allocation:
    r"""Collateral allocated to silos.

    Attributes
    ----------
    share : FloatArray, shape (n_accounts, n_assets, n_silos)
        Fraction of each asset's balance posted to each silo.
    covered : FloatArray, shape (n_accounts, n_silos)
        Collateral value (after the silo's haircut) posted to each silo.
    shortfall : FloatArray, shape (n_accounts, n_silos)
        Requirement not covered, :math:`\max(0, R_s - C_s)`.
    excess : FloatArray, shape (n_accounts,)
        Collateral value left over after covering every silo, valued at each asset's
        best haircut among the silos it is eligible in (0 for an ineligible asset).
    """

    share: FloatArray
    covered: FloatArray
    shortfall: FloatArray
    excess: FloatArray


def _check(values: FloatArray, requirement: FloatArray) -> None:
    if values.ndim != 3 or requirement.ndim != 2 or values.shape[0] != requirement.shape[0] \
            or values.shape[2] != requirement.shape[1]:
        raise InputError("values must be (accounts, assets, silos) and requirement "
                         "(accounts, silos)", field="values", value=values.shape)
    for name, arr in (("values", values), ("requirement", requirement)):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise InputError("must be finite and non-negative", field=name)


def _solve_chunk(values: FloatArray, requirement: FloatArray) -> FloatArray:
    """Solve one block-diagonal program; return the shares (n, assets, silos)."""
    n, m, s = values.shape
    nf = n * m * s  # share variables f[a, i, j], then shortfall variables u[a, j]
    # Coverage rows: -sum_i v[a,i,j] f[a,i,j] - u[a,j] <= -R[a,j]
    acc = np.repeat(np.arange(n), m * s)
    silo = np.tile(np.repeat(np.arange(s)[None, :], m, axis=0).ravel(), n)
    cover_rows = acc * s + silo
    cover = sp.csr_matrix((-values.ravel(), (cover_rows, np.arange(nf))), shape=(n * s, nf))
    shortfall = -sp.identity(n * s, format="csr")
    # Balance rows: sum_j f[a,i,j] <= 1
    bal_rows = np.repeat(np.arange(n * m), s)
    balance = sp.csr_matrix((np.ones(nf), (bal_rows, np.arange(nf))), shape=(n * m, nf))
    a_ub = sp.vstack([sp.hstack([cover, shortfall]),
                      sp.hstack([balance, sp.csr_matrix((n * m, n * s))])], format="csr")
    b_ub = np.r_[-requirement.ravel(), np.ones(n * m)]
    # Minimise total shortfall; a small cost per unit of value posted keeps each silo's
    # collateral to what it needs (the rest stays free). Posting one unit of value saves
    # one unit of shortfall at most and costs POSTING_COST < 1, so the optimal shortfall
    # is unchanged.
    cost = np.r_[POSTING_COST * values.ravel(), np.ones(n * s)]
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if res.status != 0:
        raise CrossmarginError(f"collateral allocation did not solve: {res.message}")
    share: FloatArray = np.clip(res.x[:nf].reshape(n, m, s), 0.0, 1.0)
    return share


def allocate_collateral(*, values: FloatArray, requirement: FloatArray) -> Allocation:
    r"""Allocate each account's collateral to silos, minimising total shortfall.

    Parameters
    ----------
    values : FloatArray, shape (n_accounts, n_assets, n_silos)
        Value of each asset's whole balance if posted to each silo, after that silo's
        haircut (0 where the silo does not accept it), in the reporting currency.
    requirement : FloatArray, shape (n_accounts, n_silos)
        Each silo's requirement, in the reporting currency.

    Returns
    -------
    Allocation

    Notes
    -----
    For each account, with :math:`f_{ij} \in [0, 1]` the share of asset :math:`i` posted
    to silo :math:`j`:

    .. math:: \min \sum_j u_j \quad \text{s.t.} \quad
              \sum_i v_{ij} f_{ij} + u_j \ge R_j, \quad \sum_j f_{ij} \le 1, \quad
              f, u \ge 0 .

    A small cost :math:`\epsilon v_{ij} f_{ij}` (``POSTING_COST``, far below the unit
    cost of a shortfall) keeps unneeded collateral unposted. Accounts are independent,
    so chunks of ``CHUNK`` accounts are solved as one block-diagonal program.

    References
    ----------
    .. [1] CFTC and SEC, joint request for comment on portfolio margining (June 2026):
       collateral held in separate silos under the current regimes.
    """
    values = np.asarray(values, dtype=np.float64)
    requirement = np.asarray(requirement, dtype=np.float64)
    _check(values, requirement)
    n, m, s = values.shape
    share = np.zeros((n, m, s))
    active = np.flatnonzero((requirement > 0).any(axis=1) & (values > 0).any(axis=(1, 2)))
    for lo in range(0, active.size, CHUNK):
        rows = active[lo:lo + CHUNK]
        share[rows] = _solve_chunk(values[rows], requirement[rows])
    covered = np.einsum("aij,aij->aj", share, values)
    short = np.maximum(requirement - covered, 0.0)
    left = np.clip(1.0 - share.sum(axis=2), 0.0, 1.0)
    best = values.max(axis=2) if s else np.zeros((n, m))
    excess = (left * best).sum(axis=1) + np.maximum(covered - requirement, 0.0).sum(axis=1)
    return Allocation(share=share, covered=covered, shortfall=short, excess=excess)
