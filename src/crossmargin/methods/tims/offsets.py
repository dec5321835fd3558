r"""Offsets between the class groups of a product group, at each valuation point.

Most accounts hold at most one class group of any product group; their requirement is
the sum of their class-group charges, straight from the shared kernel's per-segment
maxima. The few (account, product group) pairs holding two or more class groups need
each class group's whole loss vector, since a gain of one class group offsets another's
loss only in part: for those, the class-group loss vectors are formed here as one sparse
product (quantities x ``pnl``) over all such pairs at once, in blocks of bounded memory
(the scenario axis is a few dozen valuation points), never account by account.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.methods.base import Segments

__all__ = ["OffsetRuns", "offset_losses", "offset_runs"]

#: Positions x scenarios gathered at a time (about 32 MiB of float64).
BLOCK_ENTRIES = 4 * 2**20


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class OffsetRuns:
    """(account, product group) pairs holding two or more class groups.

    Attributes
    ----------
    start : IntArray, shape (n_runs,)
        First class-group segment of each run (runs are contiguous in segment order).
    count : IntArray, shape (n_runs,)
        Number of class-group segments of each run (at least 2).
    product_group : IntArray, shape (n_runs,)
    account : IntArray, shape (n_runs,)
    """

    start: IntArray
    count: IntArray
    product_group: IntArray
    account: IntArray

    @property
    def size(self) -> int:
        """Number of runs."""
        return int(self.start.size)

    def segment_run(self, n_segments: int) -> IntArray:
        """Return the run of each segment, -1 for segments outside every run."""
        out = np.full(n_segments, -1, dtype=np.int64)
        rows = np.repeat(self.start, self.count) + _ramp(self.count)
        out[rows] = np.repeat(np.arange(self.size, dtype=np.int64), self.count)
        return out


def _ramp(count: IntArray) -> IntArray:
    """Return ``0..c-1`` for each ``c`` of ``count``, concatenated."""
    total = int(count.sum())
    firsts = np.cumsum(count) - count
    out: IntArray = np.arange(total, dtype=np.int64) - np.repeat(firsts, count)
    return out


def offset_runs(*, seg_account: IntArray, seg_product_group: IntArray) -> OffsetRuns:
    """Find the runs of segments of one account in one product group, two or more long.

    Parameters
    ----------
    seg_account : IntArray, shape (n_segments,)
        Account of each segment, non-decreasing.
    seg_product_group : IntArray, shape (n_segments,)
        Product group of each segment's class group (-1 for none); within an account,
        segments of one product group are adjacent.
    """
    n = seg_account.size
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return OffsetRuns(start=empty, count=empty, product_group=empty, account=empty)
    new = np.r_[True, (seg_account[1:] != seg_account[:-1])
                | (seg_product_group[1:] != seg_product_group[:-1])]
    start = np.flatnonzero(new)
    count = np.diff(np.r_[start, n])
    keep = (count >= 2) & (seg_product_group[start] >= 0)
    start, count = start[keep], count[keep]
    return OffsetRuns(start=start.astype(np.int64), count=count.astype(np.int64),
                      product_group=seg_product_group[start].astype(np.int64),
                      account=seg_account[start].astype(np.int64))


def offset_losses(*, pnl: FloatArray, segments: Segments, runs: OffsetRuns,
                  offset: FloatArray) -> tuple[FloatArray, IntArray]:
    r"""Return each run's largest loss after the product-group offset, and its scenario.

    Parameters
    ----------
    pnl : FloatArray, shape (n_instruments, n_scenarios)
        Profit per unit, gains positive.
    segments : Segments
        Positions by (account, class group).
    runs : OffsetRuns
    offset : FloatArray, shape (n_runs,)
        Offset fraction :math:`\theta` of each run's product group.

    Returns
    -------
    loss : FloatArray, shape (n_runs,)
        :math:`\max_s P_{r,s}` (not floored).
    scenario : IntArray, shape (n_runs,)
        The smallest :math:`s` attaining it.

    Notes
    -----
    With :math:`L_{c,s}` the loss of class group :math:`c` at valuation point :math:`s`,
    the product group's loss at :math:`s` counts every class-group loss in full and a
    fraction :math:`\theta` of every class-group gain:

    .. math:: P_{r,s} = \sum_{c \in r} \max(L_{c,s}, 0)
                       - \theta \sum_{c \in r} \max(-L_{c,s}, 0).

    References
    ----------
    .. [1] OCC, Customer Portfolio Margin disclosure, "Overview of Portfolio Margining":
       within a product group, a percentage of a class group's net profit offsets the
       net loss of the other class groups at each underlying price point.
    .. [2] SEC Rule 15c3-1a (Appendix A to the Net Capital Rule), offsets between class
       groups of a product group.
    """
    n_scen = pnl.shape[1]
    loss = np.empty(runs.size)
    scenario = np.empty(runs.size, dtype=np.int64)
    if runs.size == 0:
        return loss, scenario
    seg_len = np.diff(segments.offsets)
    # the positions of a run are contiguous: from its first segment's to its last's end
    run_first = segments.offsets[runs.start]
    run_positions = segments.offsets[runs.start + runs.count] - run_first
    budget = max(1, BLOCK_ENTRIES // max(n_scen, 1))
    ends = np.cumsum(run_positions)
    lo = 0
    while lo < runs.size:
        hi = max(lo + 1, int(np.searchsorted(ends, ends[lo] - run_positions[lo] + budget,
                                             side="right")))
        count = runs.count[lo:hi]
        rows = np.repeat(runs.start[lo:hi], count) + _ramp(count)
        pos = np.repeat(run_first[lo:hi], run_positions[lo:hi]) + _ramp(run_positions[lo:hi])
        # class-group loss vectors L = Q pnl, Q the rows' quantities (CSR), then per run
        quantities = sp.csr_matrix(
            (-segments.quantity[pos], segments.instrument[pos],
             np.r_[0, np.cumsum(seg_len[rows])]), shape=(rows.size, pnl.shape[0]))
        seg_loss = np.asarray(quantities @ pnl)
        members = sp.csr_matrix(
            (np.ones(rows.size), np.arange(rows.size), np.r_[0, np.cumsum(count)]),
            shape=(hi - lo, rows.size))
        net = (np.asarray(members @ np.maximum(seg_loss, 0.0))
               - offset[lo:hi, None] * np.asarray(members @ np.maximum(-seg_loss, 0.0)))
        scenario[lo:hi] = np.argmax(net, axis=1)
        loss[lo:hi] = net[np.arange(hi - lo), scenario[lo:hi]]
        lo = hi
    return loss, scenario
