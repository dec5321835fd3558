r"""Plain-numpy twins of the compiled kernels, for small inputs and for the tests.

Each twin forms the dense segments x scenarios loss matrix
:math:`L = -Q \, \mathrm{pnl}`, with :math:`Q_{g,i}` the net quantity of instrument
:math:`i` in segment :math:`g`, and reduces it with numpy's own sorts and maxima. It is
written for clarity, not speed; memory is ``n_seg x (n_instruments + n_scenarios)``.
The compiled kernels must agree with these to rounding (relative ``1e-12`` of the
magnitude of the summed terms) and, away from exact ties, on the driving scenario.
"""

from __future__ import annotations

import numpy as np

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.kernels.reduce import (
    ExpectedShortfall,
    MaxLoss,
    Reduction,
    SegmentReduction,
    ValueAtRisk,
    WeightedMax,
)

__all__ = [
    "dense_losses",
    "reduce_losses",
    "reference_account_totals",
    "reference_reduce_segments",
    "reference_tail_scenarios",
]


def dense_losses(*, pnl: FloatArray, seg_offsets: IntArray, pos_instrument: IntArray,
                 pos_quantity: FloatArray) -> FloatArray:
    r"""Return the dense loss matrix :math:`L_{g,s} = -\sum_{p \in g} q_p \mathrm{pnl}_{i_p,s}`.

    Returns
    -------
    FloatArray, shape (n_seg, n_scenarios)
    """
    pnl = np.asarray(pnl, dtype=np.float64)
    offsets = np.asarray(seg_offsets, dtype=np.int64)
    n_seg = offsets.size - 1
    segment_of = np.repeat(np.arange(n_seg), np.diff(offsets))
    net = np.zeros((n_seg, pnl.shape[0]))
    np.add.at(net, (segment_of, np.asarray(pos_instrument, dtype=np.int64)),
              np.asarray(pos_quantity, dtype=np.float64))
    losses: FloatArray = -(net @ pnl)
    return losses


def _order(losses: FloatArray) -> IntArray:
    """Scenarios of each row by decreasing loss, ties by increasing scenario index."""
    order: IntArray = np.argsort(-losses, axis=1, kind="stable")
    return order


def reduce_losses(losses: FloatArray, reduction: Reduction, *,
                  keep_tail: bool = False) -> SegmentReduction:
    """Reduce each row of a dense loss matrix (the twin of the segment kernel's reductions).

    Parameters
    ----------
    losses : FloatArray, shape (n_seg, n_scenarios)
    reduction : Reduction
    keep_tail : bool, default False
        Also return each row's k worst scenarios.

    Returns
    -------
    SegmentReduction
    """
    losses = np.asarray(losses, dtype=np.float64)
    n_scenarios = losses.shape[1]
    if isinstance(reduction, MaxLoss | WeightedMax):
        weighted = losses * reduction.weights if isinstance(reduction, WeightedMax) \
            else losses
        driver = np.argmax(weighted, axis=1) if n_scenarios else np.zeros(0, np.int64)
        value = np.take_along_axis(weighted, driver[:, None], axis=1)[:, 0]
        tail = driver[:, None].astype(np.int64) if keep_tail else None
        return SegmentReduction(value=value, driver=driver.astype(np.int64), tail=tail)
    if isinstance(reduction, ExpectedShortfall | ValueAtRisk):
        k = reduction.k
        if k > n_scenarios:
            raise InputError(f"exceeds the number of scenarios ({n_scenarios})", field="k",
                             value=k)
        order = _order(losses)[:, :k]
        top = np.take_along_axis(losses, order, axis=1)
        if isinstance(reduction, ExpectedShortfall):
            value, driver = top.mean(axis=1), order[:, 0]
        else:
            value, driver = top[:, k - 1], order[:, k - 1]
        return SegmentReduction(value=value, driver=driver.astype(np.int64),
                                tail=order.astype(np.int64) if keep_tail else None)
    raise InputError("unknown reduction", field="reduction", value=type(reduction).__name__)


def reference_reduce_segments(*, pnl: FloatArray, seg_offsets: IntArray,
                              pos_instrument: IntArray, pos_quantity: FloatArray,
                              reduction: Reduction, keep_tail: bool = False
                              ) -> SegmentReduction:
    """Twin of :func:`crossmargin.kernels.reduce.reduce_segments` (dense, small inputs)."""
    losses = dense_losses(pnl=pnl, seg_offsets=seg_offsets, pos_instrument=pos_instrument,
                          pos_quantity=pos_quantity)
    return reduce_losses(losses, reduction, keep_tail=keep_tail)


def reference_tail_scenarios(loss_vector: FloatArray, k: int) -> IntArray:
    """Twin of :func:`crossmargin.kernels.vector.tail_scenarios`."""
    losses = np.asarray(loss_vector, dtype=np.float64)[None, :]
    tail: IntArray = _order(losses)[0, :k].astype(np.int64)
    return tail


def reference_account_totals(*, value: FloatArray, seg_account: IntArray, n_accounts: int,
                             floor_at_zero: bool = True) -> FloatArray:
    """Twin of :func:`crossmargin.kernels.reduce.account_totals` (a Python loop)."""
    totals = np.zeros(n_accounts)
    for v, a in zip(np.asarray(value, dtype=np.float64), np.asarray(seg_account), strict=True):
        totals[int(a)] += max(v, 0.0) if floor_at_zero else v
    return totals
