"""What each holding and each strategy instance costs once the pairing is chosen.

One :class:`Allocation` per requirement (initial, maintenance): the units of each holding
that no strategy uses are margined alone, each instance formed costs its requirement;
the account's requirement is the sum. :func:`explain` turns one account's allocations
into the JSON-ready pairing report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from crossmargin.core.money import round_up
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.methods.strategy.holdings import Holdings
from crossmargin.methods.strategy.strategies import STRATEGIES, Candidates

__all__ = ["Allocation", "allocate", "explain", "sum_by"]


def sum_by(index: IntArray, amounts: FloatArray, size: int) -> FloatArray:
    """Return the sums of ``amounts`` by ``index`` (0 to ``size - 1``), shape (size,)."""
    out: FloatArray = np.bincount(index, weights=amounts, minlength=size).astype(np.float64)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Allocation:
    """One requirement, split between holdings held alone and strategy instances.

    Attributes
    ----------
    instances : FloatArray, shape (n_candidates,)
        Instances of each candidate formed.
    left : FloatArray, shape (n_holdings,)
        Units of each holding no instance uses (unsigned).
    alone : FloatArray, shape (n_holdings,)
        Requirement of those units, held alone.
    paired : FloatArray, shape (n_candidates,)
        Requirement of the instances formed.
    """

    instances: FloatArray
    left: FloatArray
    alone: FloatArray
    paired: FloatArray

    def per_account(self, holdings: Holdings, candidates: Candidates, n_accounts: int
                    ) -> FloatArray:
        """Return the requirement of every account, shape (n_accounts,)."""
        return sum_by(holdings.account, self.alone, n_accounts) + sum_by(
            holdings.segment_account[candidates.segment], self.paired, n_accounts)

    def per_segment(self, holdings: Holdings, candidates: Candidates) -> FloatArray:
        """Return the requirement of every (account, underlying) segment."""
        n = holdings.segment_account.size
        return sum_by(holdings.segment, self.alone, n) + sum_by(candidates.segment,
                                                                   self.paired, n)


def allocate(*, holdings: Holdings, candidates: Candidates, instances: FloatArray,
             cost: FloatArray, alone_cost: FloatArray) -> Allocation:
    """Return the allocation of one requirement.

    Parameters
    ----------
    holdings : Holdings
    candidates : Candidates
    instances : FloatArray, shape (n_candidates,)
        The pairing chosen for this requirement.
    cost : FloatArray, shape (n_candidates,)
        Requirement of one instance.
    alone_cost : FloatArray, shape (n_holdings,)
        Requirement of one unit of each holding held alone.
    """
    leg_candidate = np.repeat(np.arange(candidates.size), np.diff(candidates.leg_offsets))
    used = np.bincount(candidates.leg_holding, minlength=holdings.size,
                       weights=np.abs(candidates.leg_units) * instances[leg_candidate])
    left = np.maximum(np.abs(holdings.quantity) - used, 0.0)
    return Allocation(instances=instances, left=left, alone=left * alone_cost,
                      paired=instances * cost)


def _money(value: float) -> float:
    return round_up(float(value))


def _report(allocation: Allocation, *, holdings: Holdings, candidates: Candidates,
            labels: tuple[str, ...], rows: IntArray, cands: IntArray) -> dict[str, Any]:
    sign = np.sign(holdings.quantity)
    strategies = []
    for c in cands[allocation.instances[cands] > 0]:
        lo, hi = candidates.leg_offsets[c], candidates.leg_offsets[c + 1]
        strategies.append({
            "strategy": STRATEGIES[int(candidates.strategy[c])],
            "quantity": int(allocation.instances[c]),
            "legs": [{"instrument": labels[int(holdings.instrument[h])], "quantity": float(u)}
                     for h, u in zip(candidates.leg_holding[lo:hi],
                                     candidates.leg_units[lo:hi], strict=True)],
            "requirement": _money(allocation.paired[c]),
        })
    alone = [{"instrument": labels[int(holdings.instrument[h])],
              "quantity": float(sign[h] * allocation.left[h]),
              "requirement": _money(allocation.alone[h])}
             for h in rows[allocation.left[rows] > 0]]
    return {"strategies": strategies, "alone": alone}


def explain(account: int, *, holdings: Holdings, candidates: Candidates,
            allocations: Mapping[str, Allocation], labels: tuple[str, ...]
            ) -> dict[str, Any]:
    """Return the pairing of one account for each requirement, JSON-ready.

    Each requirement lists the strategy instances formed (strategy, instances, the legs
    of one instance with their signed units, requirement of all instances) and what is
    margined alone (instrument, signed units, requirement).
    """
    lo, hi = np.searchsorted(holdings.account, [account, account + 1])
    rows = np.arange(lo, hi)
    seg_lo, seg_hi = np.searchsorted(holdings.segment_account, [account, account + 1])
    c_lo, c_hi = np.searchsorted(candidates.segment, [seg_lo, seg_hi])
    cands = np.arange(c_lo, c_hi)
    return {name: _report(a, holdings=holdings, candidates=candidates, labels=labels,
                          rows=rows, cands=cands)
            for name, a in allocations.items()}
