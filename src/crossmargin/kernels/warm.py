"""Compile every kernel variant ahead of use (numba caches the machine code on disk)."""

from __future__ import annotations

import numpy as np

from crossmargin.kernels.reduce import (
    ExpectedShortfall,
    MaxLoss,
    Reduction,
    ValueAtRisk,
    WeightedMax,
    reduce_segments,
)
from crossmargin.kernels.vector import WhatIf, reduce_vector, scenario_vector, tail_scenarios

__all__ = ["warmup"]


def warmup() -> None:
    """Run each kernel once on tiny inputs so that later calls carry no compile time.

    The first call in a fresh environment compiles (seconds); later processes load the
    compiled code from numba's on-disk cache.
    """
    rng = np.random.default_rng(0)
    n_instruments, n_scenarios = 3, 40
    pnl = rng.standard_normal((n_instruments, n_scenarios))
    offsets = np.array([0, 2, 2, 5], dtype=np.int64)
    instrument = np.array([0, 1, 2, 0, 1], dtype=np.int64)
    quantity = np.array([1.0, -2.0, 3.0, 0.5, 1.0])
    reductions: list[Reduction] = [
        MaxLoss(),
        WeightedMax(weights=np.linspace(0.35, 1.0, n_scenarios)),
        ExpectedShortfall(k=2),
        ValueAtRisk(k=2),
        ExpectedShortfall(k=6),
        ExpectedShortfall(k=10),
        ExpectedShortfall(k=14),
        ExpectedShortfall(k=17),
    ]
    for reduction in reductions:
        for precision in ("mixed", "double"):
            reduce_segments(pnl=pnl, seg_offsets=offsets, pos_instrument=instrument,
                            pos_quantity=quantity, reduction=reduction, precision=precision)
        what_if = WhatIf(pnl=pnl, instruments=instrument[:2], quantities=quantity[:2],
                         reduction=reduction)
        what_if.current()
        what_if.evaluate(instrument=1, quantity=1.0)
        what_if.evaluate_many(instruments=instrument, quantities=quantity)
        what_if.apply(instrument=2, quantity=-1.0)
        reduce_vector(loss_vector=what_if.loss_vector, reduction=reduction)
    loss = scenario_vector(pnl=pnl, instruments=instrument, quantities=quantity)
    tail_scenarios(loss_vector=loss, k=3)
