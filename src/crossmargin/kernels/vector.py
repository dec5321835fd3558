r"""One account as a batch of one: its scenario loss vector, its reduction, what-if orders.

An interactive what-if adds an order's row to the account's cached loss vector and
reduces it again, :math:`L' = L - q \, \mathrm{pnl}_{i,\cdot}`, in one compiled pass over
the scenarios. The sums use the same fused multiply-add, in the same order, as the
segment kernel, so that a what-if equals the recomputation of the account with the order
appended as its last position, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.kernels._engine import add_row, reduce_many, reduce_one, vector_losses, vector_topk
from crossmargin.kernels._validate import check_pnl, float_vector, int_vector
from crossmargin.kernels.reduce import Reduction, SegmentReduction, plan

__all__ = [
    "VectorReduction",
    "WhatIf",
    "reduce_vector",
    "scenario_vector",
    "tail_scenarios",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class VectorReduction:
    """Reduced value and driving scenario of one loss vector.

    Attributes
    ----------
    value : float
        The reduction (not floored).
    driver : int
        Worst scenario (max, weighted max, expected shortfall) or k-th worst (value at
        risk), ties to the smaller scenario index.
    """

    value: float
    driver: int


def _loss_vector(loss_vector: object) -> FloatArray:
    loss = float_vector(loss_vector, field="loss_vector")
    if loss.size == 0:
        raise InputError("needs at least one scenario", field="loss_vector")
    if not np.isfinite(loss).all():
        s = int(np.flatnonzero(~np.isfinite(loss))[0])
        raise InputError("must be finite", field=f"loss_vector[{s}]", value=float(loss[s]))
    return loss


def scenario_vector(*, pnl: FloatArray, instruments: IntArray,
                    quantities: FloatArray) -> FloatArray:
    r"""Return one account's loss under each scenario.

    Parameters
    ----------
    pnl : FloatArray, shape (n_instruments, n_scenarios)
        Profit per unit, gains positive.
    instruments : IntArray, shape (n_pos,)
        Row of ``pnl`` of each position.
    quantities : FloatArray, shape (n_pos,)
        Signed quantity of each position.

    Returns
    -------
    FloatArray, shape (n_scenarios,)
        :math:`L_s = -\sum_p q_p \mathrm{pnl}_{i_p,s}`, summed in position order exactly
        as :func:`~crossmargin.kernels.reduce.reduce_segments` sums a segment.
    """
    pnl_c = check_pnl(pnl)
    rows = int_vector(instruments, field="instruments")
    qty = float_vector(quantities, field="quantities")
    if qty.size != rows.size:
        raise InputError(f"has {qty.size} entries, instruments has {rows.size}",
                         field="quantities")
    bad = (rows < 0) | (rows >= pnl_c.shape[0])
    if bad.any():
        p = int(np.flatnonzero(bad)[0])
        raise InputError(f"must be a row of pnl (0 <= i < {pnl_c.shape[0]})",
                         field=f"instruments[{p}]", value=int(rows[p]))
    if not np.isfinite(qty).all():
        p = int(np.flatnonzero(~np.isfinite(qty))[0])
        raise InputError("must be finite", field=f"quantities[{p}]", value=float(qty[p]))
    out = np.empty(pnl_c.shape[1], dtype=np.float64)
    vector_losses(pnl_c, rows, -qty, out)
    if not np.isfinite(out).all():
        raise InputError("quantities x pnl overflow float64", field="quantities")
    return out


def reduce_vector(*, loss_vector: FloatArray, reduction: Reduction) -> VectorReduction:
    """Reduce one loss vector, e.g. from :func:`scenario_vector`.

    Parameters
    ----------
    loss_vector : FloatArray, shape (n_scenarios,)
        Loss under each scenario (finite).
    reduction : Reduction
        As for :func:`~crossmargin.kernels.reduce.reduce_segments`.

    Returns
    -------
    VectorReduction
    """
    loss = _loss_vector(loss_vector)
    p = plan(reduction, loss.size)
    top_value = np.empty(p.k)
    top_index = np.empty(p.k, dtype=np.int64)
    value, driver = reduce_one(loss, np.empty((1, 1)), -1, 0.0, p.weights, p.weighted, p.k,
                                p.mode, top_value, top_index)
    return VectorReduction(value=float(value), driver=int(driver))


def tail_scenarios(*, loss_vector: FloatArray, k: int) -> IntArray:
    """Return the ``k`` worst scenarios of a loss vector, worst first.

    Parameters
    ----------
    loss_vector : FloatArray, shape (n_scenarios,)
        Loss under each scenario (finite).
    k : int
        How many, ``1 <= k <= n_scenarios``.

    Returns
    -------
    IntArray, shape (k,)
        Scenario indices by decreasing loss, ties by increasing index: the scenarios
        whose mean is the expected shortfall and whose last is the value at risk.
    """
    loss = _loss_vector(loss_vector)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= loss.size:
        raise InputError(f"must be an integer from 1 to {loss.size}", field="k", value=k)
    top_value = np.empty(int(k))
    top_index = np.empty(int(k), dtype=np.int64)
    vector_topk(loss, np.empty((1, 1)), -1, 0.0, np.empty(0), False, int(k), top_value, top_index)
    return top_index


class WhatIf:
    r"""One account's cached loss vector, against which candidate orders are evaluated.

    Parameters
    ----------
    pnl : FloatArray, shape (n_instruments, n_scenarios)
        Profit per unit, gains positive (validated once, kept by reference).
    instruments, quantities : IntArray, FloatArray, shape (n_pos,)
        The account's positions.
    reduction : Reduction
        The reduction that gives the account's requirement.

    Notes
    -----
    An order of quantity :math:`q` in instrument :math:`i` changes the loss vector to
    :math:`L' = L - q \, \mathrm{pnl}_{i,\cdot}`, computed and reduced in one pass
    without changing the cache; :meth:`apply` makes it permanent.
    """

    def __init__(self, *, pnl: FloatArray, instruments: IntArray, quantities: FloatArray,
                 reduction: Reduction) -> None:
        self._pnl = check_pnl(pnl)
        self._loss = scenario_vector(pnl=self._pnl, instruments=instruments,
                                     quantities=quantities)
        self._plan = plan(reduction, self._pnl.shape[1])
        self._top_value = np.empty(self._plan.k)
        self._top_index = np.empty(self._plan.k, dtype=np.int64)

    @property
    def loss_vector(self) -> FloatArray:
        """The account's current loss under each scenario (a read-only view)."""
        view = self._loss.view()
        view.setflags(write=False)
        return view

    def _order(self, instrument: object, quantity: object) -> tuple[int, float]:
        if isinstance(instrument, bool) or not isinstance(instrument, int | np.integer):
            raise InputError("must be an integer", field="instrument", value=instrument)
        if not 0 <= instrument < self._pnl.shape[0]:
            raise InputError(f"must be a row of pnl (0 <= i < {self._pnl.shape[0]})",
                             field="instrument", value=int(instrument))
        q = float(quantity)  # type: ignore[arg-type]
        if not np.isfinite(q):
            raise InputError("must be finite", field="quantity", value=q)
        return int(instrument), q

    def current(self) -> VectorReduction:
        """Return the account's reduction without any order."""
        p = self._plan
        value, driver = reduce_one(self._loss, self._pnl, -1, 0.0, p.weights, p.weighted,
                                    p.k, p.mode, self._top_value, self._top_index)
        return VectorReduction(value=float(value), driver=int(driver))

    def evaluate(self, *, instrument: int, quantity: float) -> VectorReduction:
        """Return the account's reduction if an order of ``quantity`` in ``instrument`` filled."""
        row, q = self._order(instrument, quantity)
        p = self._plan
        value, driver = reduce_one(self._loss, self._pnl, row, -q, p.weights, p.weighted,
                                    p.k, p.mode, self._top_value, self._top_index)
        if not np.isfinite(value):
            raise InputError("quantities x pnl overflow float64", field="quantity", value=q)
        return VectorReduction(value=float(value), driver=int(driver))

    def evaluate_many(self, *, instruments: IntArray, quantities: FloatArray
                      ) -> SegmentReduction:
        """Evaluate many single-order alternatives at once (each against the cache alone).

        Returns
        -------
        SegmentReduction
            ``value`` and ``driver`` per candidate order, shape (n_orders,).
        """
        rows = int_vector(instruments, field="instruments")
        qty = float_vector(quantities, field="quantities")
        if qty.size != rows.size:
            raise InputError(f"has {qty.size} entries, instruments has {rows.size}",
                             field="quantities")
        bad = (rows < 0) | (rows >= self._pnl.shape[0])
        if bad.any():
            o = int(np.flatnonzero(bad)[0])
            raise InputError(f"must be a row of pnl (0 <= i < {self._pnl.shape[0]})",
                             field=f"instruments[{o}]", value=int(rows[o]))
        if not np.isfinite(qty).all():
            o = int(np.flatnonzero(~np.isfinite(qty))[0])
            raise InputError("must be finite", field=f"quantities[{o}]", value=float(qty[o]))
        p = self._plan
        value = np.empty(rows.size)
        driver = np.empty(rows.size, dtype=np.int64)
        reduce_many(self._loss, self._pnl, rows, -qty, p.weights, p.weighted, p.k, p.mode,
                     value, driver)
        if not np.isfinite(value).all():
            o = int(np.flatnonzero(~np.isfinite(value))[0])
            raise InputError("quantities x pnl overflow float64", field=f"quantities[{o}]",
                             value=float(qty[o]))
        return SegmentReduction(value=value, driver=driver)

    def apply(self, *, instrument: int, quantity: float) -> None:
        """Add a filled order to the cached loss vector."""
        row, q = self._order(instrument, quantity)
        updated = self._loss.copy()
        add_row(updated, self._pnl, row, -q)
        if not np.isfinite(updated).all():
            raise InputError("quantities x pnl overflow float64", field="quantity", value=q)
        self._loss = updated
