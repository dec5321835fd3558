r"""The pairing: how many instances of each candidate strategy to form, at least cost.

Brokers pair an account's positions into the strategies that minimise its requirement.
Within one segment (an account's holdings on one underlying) that is the integer program

.. math::
    \max_{x \in \mathbb{Z}_{\ge 0}^{C}} \sum_c s_c x_c \quad \text{s.t.} \quad
    \sum_c u_{hc} x_c \le q_h \text{ for every holding } h,

with :math:`s_c` what one instance of candidate :math:`c` saves against its legs held
alone, :math:`u_{hc}` the units of holding :math:`h` it uses and :math:`q_h` the whole
units held; what no instance uses is margined alone. Segments are independent, so:

- where no holding is wanted by more than it holds (every candidate can take all the
  instances its legs allow), that is the optimum, found for all such segments at once;
- the other segments are solved once per distinct segment (segments holding the same
  instruments in the same whole units share one solution): by an exact compiled branch
  and bound (:mod:`.search`); those too large for its node budget by HiGHS, many
  segments to one call as a block-diagonal program: first the linear relaxation, whose
  optimum restricted to a segment is that segment's optimum (the objective and the
  constraints separate by segment) and so solves the integer program of every segment
  where it is integral (on the bench book, all but about 1%), then the integer program
  (``scipy.optimize.milp``, no optimality gap) for the segments left.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from crossmargin.core.errors import CrossmarginError
from crossmargin.core.typing import BoolArray, FloatArray, IntArray
from crossmargin.methods.strategy.search import NODE_BUDGET, branch_and_bound
from crossmargin.methods.strategy.strategies import Candidates, ranges

__all__ = ["pair_requirements", "pair_strategies"]

#: Variables per integer-program call (whole segments are never split between calls).
CHUNK = 20_000
#: Variables per linear-relaxation call: HiGHS's simplex slows on larger block programs.
LP_CHUNK = 5_000
_TOLERANCE = 1e-9
#: A relaxed value this close to a whole number is that number.
_INTEGRAL = 1e-7
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F),
        np.uint64(0x165667B19E3779F9))


def _upper_bounds(candidates: Candidates, capacity: FloatArray) -> FloatArray:
    """Most instances of each candidate its legs allow, shape (n_candidates,)."""
    units = np.abs(candidates.leg_units)
    most = np.minimum.reduceat(capacity[candidates.leg_holding] / units,
                               candidates.leg_offsets[:-1])
    out: FloatArray = np.floor(most + _TOLERANCE)
    return out


def _representatives(segments: IntArray, *, segment_offsets: IntArray, holding_key: IntArray,
                     capacity: FloatArray, n_candidates: IntArray) -> IntArray:
    """Return, for each of ``segments``, a segment with the same holdings (itself if none).

    Segments are grouped by a hash of their (instrument and side, whole units) sequence,
    then each is checked element by element against its group's first segment.
    """
    start = segment_offsets[segments]
    length = segment_offsets[segments + 1] - start
    pos = ranges(start, length)
    rank = (pos - np.repeat(start, length)).astype(np.uint64)
    mixed = (holding_key[pos].astype(np.uint64) * _MIX[0]
             ^ capacity[pos].astype(np.uint64) * _MIX[1]) + rank * _MIX[2]
    mixed ^= mixed >> np.uint64(31)
    first = np.r_[0, np.cumsum(length)[:-1]]
    digest = np.add.reduceat(mixed, first) if pos.size else np.zeros(0, np.uint64)
    table = np.stack([digest.view(np.int64), length, n_candidates[segments]], axis=1)
    _, first_of, group = np.unique(table, axis=0, return_index=True, return_inverse=True)
    rep = segments[first_of[group.ravel()]]
    rep_pos = ranges(segment_offsets[rep], length)
    differs = (holding_key[pos] != holding_key[rep_pos]) | (capacity[pos] != capacity[rep_pos])
    owner = np.repeat(np.arange(segments.size), length)
    bad = np.unique(owner[differs])
    rep[bad] = segments[bad]
    out: IntArray = rep
    return out


def _solve(variables: IntArray, *, candidates: Candidates, saving: FloatArray,
           capacity: FloatArray, upper: FloatArray, integral: bool = True) -> FloatArray:
    """Solve one block-diagonal program over ``variables`` (candidate indices).

    The integer program, or with ``integral=False`` its linear relaxation (the values
    returned unrounded).
    """
    lo = candidates.leg_offsets[variables]
    count = candidates.leg_offsets[variables + 1] - lo
    legs = ranges(lo, count)
    column = np.repeat(np.arange(variables.size), count)
    rows, row = np.unique(candidates.leg_holding[legs], return_inverse=True)
    matrix = sp.csr_matrix((np.abs(candidates.leg_units[legs]), (row.ravel(), column)),
                           shape=(rows.size, variables.size))
    result = milp(-saving[variables], integrality=np.full(variables.size, float(integral)),
                  bounds=Bounds(0.0, upper[variables]),
                  constraints=LinearConstraint(matrix, -np.inf, capacity[rows]),
                  options={"mip_rel_gap": 0.0})
    if result.status != 0 or result.x is None:
        raise CrossmarginError(f"the strategy pairing program failed: {result.message}")
    out: FloatArray = np.rint(result.x) if integral else result.x
    return out


def _by_chunks(variables: IntArray, segment_of: IntArray, size: int, *, integral: bool,
               candidates: Candidates, saving: FloatArray, capacity: FloatArray,
               upper: FloatArray) -> FloatArray:
    """Solve ``variables`` (sorted by segment) in calls of about ``size`` variables.

    Whole segments are never split between calls.
    """
    out = np.zeros(variables.size)
    if variables.size == 0:
        return out
    first_var = np.r_[True, segment_of[1:] != segment_of[:-1]]
    chunk = np.maximum.accumulate(np.where(first_var, np.arange(variables.size), 0)) // size
    for k in np.unique(chunk):
        here = chunk == k
        out[here] = _solve(variables[here], candidates=candidates, saving=saving,
                           capacity=capacity, upper=upper, integral=integral)
    return out


def pair_strategies(*, candidates: Candidates, saving: FloatArray, capacity: FloatArray,
                    holding_key: IntArray, segment_offsets: IntArray,
                    within: BoolArray | None = None) -> FloatArray:
    """Return how many instances of each candidate the least-cost pairing forms.

    Parameters
    ----------
    candidates : Candidates
    saving : FloatArray, shape (n_candidates,)
        What one instance saves (the initial or the maintenance saving); candidates that
        save nothing are never formed.
    capacity : FloatArray, shape (n_holdings,)
        Whole units of each holding.
    holding_key : IntArray, shape (n_holdings,)
        Instrument and side of each holding (segments with equal keys and capacities in
        the same order have equal solutions).
    segment_offsets : IntArray, shape (n_segments + 1,)
    within : BoolArray, shape (n_segments,), optional
        The segments to pair (all by default); no instance is formed in the others.

    Returns
    -------
    FloatArray, shape (n_candidates,)
        Whole numbers of instances.

    Raises
    ------
    CrossmarginError
        When HiGHS does not return an optimal solution.
    """
    x = np.zeros(candidates.size)
    if candidates.size == 0:
        return x
    upper = _upper_bounds(candidates, capacity)
    active: BoolArray = (saving > 0) & (upper >= 1)
    if within is not None:
        active &= within[candidates.segment]
    n_legs = np.diff(candidates.leg_offsets)
    leg_candidate = np.repeat(np.arange(candidates.size), n_legs)
    load = np.bincount(candidates.leg_holding, minlength=capacity.size,
                       weights=np.abs(candidates.leg_units) * (upper * active)[leg_candidate])
    n_segments = segment_offsets.size - 1
    holding_segment = np.repeat(np.arange(n_segments), np.diff(segment_offsets))
    conflicted = np.zeros(n_segments, dtype=bool)
    conflicted[holding_segment[load > capacity + _TOLERANCE]] = True
    hard = conflicted[candidates.segment]
    x[active & ~hard] = upper[active & ~hard]
    segments = np.flatnonzero(conflicted)
    if segments.size == 0:
        return x
    cand_start = np.searchsorted(candidates.segment, np.arange(n_segments + 1))
    n_candidates = np.diff(cand_start)
    rep = _representatives(segments, segment_offsets=segment_offsets,
                           holding_key=holding_key, capacity=capacity,
                           n_candidates=n_candidates)
    reps = np.unique(rep)
    solved = branch_and_bound(
        reps, segment_offsets[:-1], segment_offsets[1:], cand_start[:-1], cand_start[1:],
        candidates.leg_offsets, candidates.leg_holding, np.abs(candidates.leg_units),
        np.where(active, saving, 0.0), np.where(active, upper, 0.0), capacity, NODE_BUDGET,
        x)
    solve = np.zeros(n_segments, dtype=bool)
    solve[reps[~solved]] = True
    variables = np.flatnonzero(active & solve[candidates.segment])
    segment_of = candidates.segment[variables]

    def programs(chosen: IntArray, of: IntArray, size: int, integral: bool) -> FloatArray:
        return _by_chunks(chosen, of, size, integral=integral, candidates=candidates,
                          saving=saving, capacity=capacity, upper=upper)

    relaxed = programs(variables, segment_of, LP_CHUNK, False)
    fractional = np.zeros(n_segments, dtype=bool)
    fractional[segment_of[np.abs(relaxed - np.rint(relaxed)) > _INTEGRAL]] = True
    whole = ~fractional[segment_of]
    x[variables[whole]] = np.rint(relaxed[whole])
    left = variables[~whole]
    x[left] = programs(left, segment_of[~whole], CHUNK, True)
    copies = rep != segments
    dup, src = segments[copies], rep[copies]
    x[ranges(cand_start[dup], n_candidates[dup])] = x[ranges(cand_start[src],
                                                             n_candidates[dup])]
    used = np.bincount(candidates.leg_holding, weights=np.abs(candidates.leg_units)
                       * x[leg_candidate], minlength=capacity.size)
    if np.any(used > capacity + 1e-6):
        raise CrossmarginError("the strategy pairing uses more units than a holding has")
    return x


def pair_requirements(*, candidates: Candidates, capacity: FloatArray, holding_key: IntArray,
                      segment_offsets: IntArray) -> tuple[FloatArray, FloatArray]:
    """Return the least-cost pairings of the initial and of the maintenance requirement.

    Each requirement is minimised on its own (a protective put lowers maintenance only).
    Where no candidate of a segment saves differently on the two (options held alone
    cost the same to open and to maintain, so segments without stock), the two programs
    are the same and the maintenance pairing is the initial one, solved once.

    Parameters
    ----------
    candidates : Candidates
    capacity, holding_key, segment_offsets
        As for :func:`pair_strategies`.

    Returns
    -------
    tuple of FloatArray, shape (n_candidates,)
        Instances formed for the initial and for the maintenance requirement.
    """
    def pair(saving: FloatArray, within: BoolArray | None = None) -> FloatArray:
        return pair_strategies(candidates=candidates, saving=saving, capacity=capacity,
                               holding_key=holding_key, segment_offsets=segment_offsets,
                               within=within)

    initial = pair(candidates.saving_initial)
    differ = candidates.saving_initial != candidates.saving_maintenance
    differs = np.bincount(candidates.segment, weights=differ.astype(np.float64),
                          minlength=segment_offsets.size - 1) > 0
    maintenance = np.where(differs[candidates.segment],
                           pair(candidates.saving_maintenance, differs), initial)
    return initial, maintenance
