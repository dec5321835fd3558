r"""Exact branch and bound of small pairing programs, compiled (numba).

Most segments whose candidates compete for the same holdings are small (an iron condor:
two spreads, a strangle and the condor over four holdings), and HiGHS spends most of its
time on set-up for them. :func:`branch_and_bound` solves each such segment by depth-first
search: candidates in order of decreasing saving, each tried from the most instances the
remaining units allow down to none, a branch cut when

.. math:: V + \sum_{j > d} s_j \, \bar{x}_j(\text{remaining units}) \le V^*,

the value so far plus every later candidate at its own most instances not beating the
best found. The search is exhaustive within a node budget, so a segment it finishes is
solved exactly; a segment over budget is left to HiGHS (:mod:`.pairing`), which is also
the reference the tests compare it with.
"""

# mypy: disable-error-code="no-untyped-call,misc"

from __future__ import annotations

import numpy as np
from numba import njit

from crossmargin.core.typing import BoolArray, FloatArray, IntArray

__all__ = ["NODE_BUDGET", "branch_and_bound"]

#: Search nodes one segment may visit before it is left to HiGHS. Small: on the bench
#: book (random option holdings of about ten contracts each) a segment either finishes
#: in a few hundred nodes or needs far more than 20,000, so a large budget only delays
#: the hand-over (100,000 accounts: 15 s with 20,000, about 6 s with 500; same results).
NODE_BUDGET = 500


@njit(cache=True)
def _most(c: int, legs: tuple[IntArray, IntArray, FloatArray, int], left: FloatArray,
          upper: float) -> float:
    """Most instances of candidate ``c`` the units ``left`` allow (at most ``upper``)."""
    offsets, holding, units, first = legs
    most = upper
    for leg in range(offsets[c], offsets[c + 1]):
        most = min(most, np.floor(left[holding[leg] - first] / units[leg] + 1e-9))
    return most


@njit(cache=True)
def _take(c: int, n: float, legs: tuple[IntArray, IntArray, FloatArray, int],
          left: FloatArray) -> None:
    """Use (``n`` > 0) or give back (``n`` < 0) the units of ``n`` instances of ``c``."""
    offsets, holding, units, first = legs
    for leg in range(offsets[c], offsets[c + 1]):
        left[holding[leg] - first] -= n * units[leg]


@njit(cache=True)
def _segment(order: IntArray, saving: FloatArray, upper: FloatArray,
             legs: tuple[IntArray, IntArray, FloatArray, int], left: FloatArray,
             budget: int, out: FloatArray) -> bool:
    """Search one segment; write the best instances to ``out`` (by candidate).

    ``legs`` is (offsets, holding, units, the segment's first holding); ``left`` the
    segment's units, from its first holding on.
    """
    n = order.size
    value = 0.0
    best = -1.0
    scale = 0.0
    for j in range(n):
        scale += saving[order[j]] * upper[order[j]]
    tolerance = 1e-12 * scale
    count = np.zeros(n)
    depth = 0
    count[0] = _most(order[0], legs, left, upper[order[0]])
    _take(order[0], count[0], legs, left)
    value += count[0] * saving[order[0]]
    nodes = 0
    while depth >= 0:
        nodes += 1
        if nodes > budget:
            return False
        descend = False
        if depth == n - 1:
            if value > best + tolerance:
                best = value
                for j in range(n):
                    out[order[j]] = count[j]
            # fewer instances of the last candidate only lower the value
            c = order[depth]
            _take(c, -count[depth], legs, left)
            value -= count[depth] * saving[c]
            count[depth] = 0
        else:
            bound = value
            for j in range(depth + 1, n):
                c = order[j]
                bound += saving[c] * _most(c, legs, left, upper[c])
            descend = bound > best + tolerance
        if descend:
            depth += 1
            c = order[depth]
            count[depth] = _most(c, legs, left, upper[c])
            _take(c, count[depth], legs, left)
            value += count[depth] * saving[c]
            continue
        # next sibling: one instance fewer at the deepest level that still has one
        while depth >= 0 and count[depth] == 0:
            depth -= 1
        if depth >= 0:
            c = order[depth]
            count[depth] -= 1
            _take(c, -1.0, legs, left)
            value -= saving[c]
    return True


@njit(cache=True)
def branch_and_bound(segments: IntArray, holding_start: IntArray, holding_stop: IntArray,
                     cand_start: IntArray, cand_stop: IntArray, leg_offsets: IntArray,
                     leg_holding: IntArray, leg_units: FloatArray, saving: FloatArray,
                     upper: FloatArray, capacity: FloatArray, budget: int,
                     out: FloatArray) -> BoolArray:
    """Solve the pairing of each of ``segments`` exactly, within a node budget.

    Parameters
    ----------
    segments : IntArray, shape (k,)
        Segments to solve.
    holding_start, holding_stop : IntArray, shape (n_segments,)
        Holdings of each segment (contiguous).
    cand_start, cand_stop : IntArray, shape (n_segments,)
        Candidates of each segment (contiguous).
    leg_offsets, leg_holding, leg_units : IntArray, IntArray, FloatArray
        The candidates' legs (CSR); ``leg_units`` unsigned.
    saving, upper : FloatArray, shape (n_candidates,)
        Saving of one instance (zero: never formed) and most instances.
    capacity : FloatArray, shape (n_holdings,)
    budget : int
        Search nodes per segment.
    out : FloatArray, shape (n_candidates,)
        Receives the instances of the solved segments' candidates.

    Returns
    -------
    BoolArray, shape (k,)
        Whether each segment was solved within the budget.
    """
    solved = np.zeros(segments.size, dtype=np.bool_)
    for k in range(segments.size):
        s = segments[k]
        c0, c1 = cand_start[s], cand_stop[s]
        h0 = holding_start[s]
        left = capacity[h0:holding_stop[s]].copy()
        order = c0 + np.argsort(-saving[c0:c1], kind="mergesort")
        solved[k] = _segment(order, saving, upper, (leg_offsets, leg_holding, leg_units, h0),
                             left, budget, out)
    return solved
