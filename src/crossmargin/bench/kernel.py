r"""Benchmark of the segment kernel against a scipy.sparse baseline and the machine's limits.

One run builds a seeded synthetic book (``accounts`` accounts of ``positions`` positions
each on random instruments, random signed quantities, a standard normal ``pnl`` matrix),
then measures in the same process:

- the kernel: :func:`~crossmargin.kernels.reduce.reduce_segments` end to end (input checks
  included), best of ``repeats`` runs after :func:`~crossmargin.kernels.warm.warmup`, and the
  peak resident memory up to that point;
- the baseline: ``scipy.sparse`` CSR (accounts x instruments) times the dense ``pnl``, then
  numpy's reduction (``np.partition`` tail mean for expected shortfall), on the first
  ``baseline_accounts`` accounts, best of three runs, scaled linearly to the whole book;
- the machine's limits: the dense float64 matrix-multiply FLOP rate (numpy ``matmul``,
  with the BLAS threads the machine has) and the memory copy bandwidth;
- the what-if latency: single-order evaluations on one account.

Notes
-----
``limit_seconds = 2 x positions_total x scenarios / flop_rate`` (one multiply-add per
position and scenario at the dense matmul rate) and ``fraction_of_limit =
limit_seconds / seconds``; ``bandwidth_limit_seconds`` is one pass over the positions and
``pnl`` at the measured copy bandwidth. Timings are wall-clock and vary between runs on a
shared machine; never assert them in tests.
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.kernels import (
    ExpectedShortfall,
    MaxLoss,
    Reduction,
    ValueAtRisk,
    WeightedMax,
    WhatIf,
    pass_precision,
    reduce_segments,
    tail_count,
    warmup,
)

__all__ = ["REDUCTIONS", "SyntheticBook", "run_kernel_bench", "synthetic_book"]

#: Reduction names accepted by the benchmark.
REDUCTIONS = ("es", "max", "wmax", "var")
#: Weight of the extreme scenarios in the synthetic weighted maximum (SPAN counts 35%).
EXTREME_WEIGHT = 0.35


class SyntheticBook:
    """A seeded random book in CSR form (see :func:`synthetic_book`)."""

    __slots__ = ("instrument", "offsets", "pnl", "quantity")

    def __init__(self, *, pnl: FloatArray, offsets: IntArray, instrument: IntArray,
                 quantity: FloatArray) -> None:
        self.pnl = pnl
        self.offsets = offsets
        self.instrument = instrument
        self.quantity = quantity


def synthetic_book(*, accounts: int, positions: int, scenarios: int, instruments: int,
                   seed: int) -> SyntheticBook:
    """Return a random book: each account holds ``positions`` positions.

    Instruments are drawn uniformly (with replacement), quantities uniformly from the
    non-zero integers in ``[-100, 100]``, ``pnl`` standard normal; all vectorised.
    """
    rng = np.random.default_rng(seed)
    n_pos = accounts * positions
    pnl = rng.standard_normal((instruments, scenarios))
    offsets = np.arange(accounts + 1, dtype=np.int64) * positions
    instrument = rng.integers(0, instruments, n_pos, dtype=np.int64)
    quantity = rng.integers(-100, 100, n_pos, dtype=np.int64)
    quantity[quantity >= 0] += 1
    return SyntheticBook(pnl=pnl, offsets=offsets, instrument=instrument,
                         quantity=quantity.astype(np.float64))


def _reduction(name: str, *, confidence: float, scenarios: int, seed: int) -> Reduction:
    if name == "max":
        return MaxLoss()
    if name == "wmax":
        weights = np.ones(scenarios)
        extremes = np.random.default_rng(seed + 1).choice(scenarios, max(1, scenarios // 8),
                                                          replace=False)
        weights[extremes] = EXTREME_WEIGHT
        return WeightedMax(weights=weights)
    if name == "es":
        return ExpectedShortfall.at_confidence(confidence=confidence, n_scenarios=scenarios)
    if name == "var":
        return ValueAtRisk.at_confidence(confidence=confidence, n_scenarios=scenarios)
    raise InputError(f"must be one of {', '.join(REDUCTIONS)}", field="reduction", value=name)


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _baseline(book: SyntheticBook, n_accounts: int, reduction: Reduction) -> FloatArray:
    """Reduce the plain way: CSR matrix times dense pnl, then a numpy reduction."""
    n_pos = int(book.offsets[n_accounts])
    q = sp.csr_matrix((book.quantity[:n_pos], book.instrument[:n_pos],
                       book.offsets[:n_accounts + 1]), shape=(n_accounts, book.pnl.shape[0]))
    losses = np.asarray(q @ book.pnl)
    np.negative(losses, out=losses)
    n_scenarios = losses.shape[1]
    if isinstance(reduction, MaxLoss):
        value: FloatArray = losses.max(axis=1)
    elif isinstance(reduction, WeightedMax):
        value = (losses * reduction.weights).max(axis=1)
    elif isinstance(reduction, ExpectedShortfall):
        k = reduction.k
        value = np.partition(losses, n_scenarios - k, axis=1)[:, n_scenarios - k:].mean(axis=1)
    else:
        assert isinstance(reduction, ValueAtRisk)
        k = reduction.k
        value = np.partition(losses, n_scenarios - k, axis=1)[:, n_scenarios - k].copy()
    return value


def _flop_rate(size: int = 2048, repeats: int = 5) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size))
    b = rng.standard_normal((size, size))
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2.0 * size**3 / best


def _bandwidth(n_bytes: int = 2**28, repeats: int = 5) -> float:
    src = np.ones(n_bytes // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = min(_timed(lambda: np.copyto(dst, src)) for _ in range(repeats))
    return 2.0 * src.nbytes / best


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _whatif_latency(book: SyntheticBook, reduction: Reduction, orders: int, seed: int
                    ) -> FloatArray:
    p1 = int(book.offsets[1])
    what_if = WhatIf(pnl=book.pnl, instruments=book.instrument[:p1],
                     quantities=book.quantity[:p1], reduction=reduction)
    rng = np.random.default_rng(seed + 2)
    rows = rng.integers(0, book.pnl.shape[0], orders).tolist()
    qty = rng.integers(-100, 101, orders).astype(float).tolist()
    for o in range(min(orders, 50)):
        what_if.evaluate(instrument=rows[o], quantity=qty[o])
    out = np.empty(orders)
    clock = time.perf_counter_ns
    for o in range(orders):
        start = clock()
        what_if.evaluate(instrument=rows[o], quantity=qty[o])
        out[o] = (clock() - start) / 1e3
    return out


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError("must be a positive integer", field=name, value=value)


def run_kernel_bench(
    *,
    accounts: int = 1_000_000,
    positions: int = 10,
    scenarios: int = 1000,
    instruments: int = 5000,
    reduction: str = "es",
    confidence: float = 0.99,
    seed: int = 0,
    baseline_accounts: int = 50_000,
    precision: str = "auto",
    repeats: int = 3,
    whatif_orders: int = 2000,
    matmul_size: int = 2048,
    copy_mb: int = 256,
) -> dict[str, Any]:
    """Run the kernel benchmark and return its JSON-ready report.

    Parameters
    ----------
    accounts, positions, scenarios, instruments : int
        Size of the synthetic book (``positions`` per account).
    reduction : {"es", "max", "wmax", "var"}
        Expected shortfall, max loss, weighted max (1/8 of scenarios at 0.35) or VaR.
    confidence : float
        Confidence of ``es`` and ``var``: ``k = ceil((1 - confidence) x scenarios)``.
    seed : int
        Seed of the synthetic book.
    baseline_accounts : int
        Accounts on which the scipy.sparse baseline is timed (then scaled linearly).
    precision : {"auto", "mixed", "double"}
        Precision of the segment pass (:func:`~crossmargin.kernels.reduce.pass_precision`).
    repeats : int
        Kernel runs; the best is reported.
    whatif_orders : int
        Single-order what-ifs timed on the first account.
    matmul_size, copy_mb : int
        Size of the square matmul that measures the FLOP rate and of the array copy that
        measures the memory bandwidth.

    Returns
    -------
    dict
        ``accounts, positions, scenarios, seconds, peak_rss_mb, baseline_seconds,
        speedup_vs_baseline, limit_seconds, fraction_of_limit, whatif_p50_us,
        whatif_p99_us`` and the details behind them (see the module notes).
    """
    for name, value in (("accounts", accounts), ("positions", positions),
                        ("scenarios", scenarios), ("instruments", instruments),
                        ("baseline_accounts", baseline_accounts), ("repeats", repeats),
                        ("whatif_orders", whatif_orders), ("matmul_size", matmul_size),
                        ("copy_mb", copy_mb)):
        _check_positive(name, value)
    if reduction not in REDUCTIONS:
        raise InputError(f"must be one of {', '.join(REDUCTIONS)}", field="reduction",
                         value=reduction)
    tail_count(confidence=confidence, n_scenarios=scenarios)  # checks 0 < confidence < 1
    spec = _reduction(reduction, confidence=confidence, scenarios=scenarios, seed=seed)
    k = int(getattr(spec, "k", 1))
    used = pass_precision(precision, k)
    warmup()
    build_start = time.perf_counter()
    book = synthetic_book(accounts=accounts, positions=positions, scenarios=scenarios,
                          instruments=instruments, seed=seed)
    build_seconds = time.perf_counter() - build_start
    times = []
    result = None
    for _ in range(repeats):
        result = None  # let the previous run's arrays go before the next one
        start = time.perf_counter()
        result = reduce_segments(pnl=book.pnl, seg_offsets=book.offsets,
                                 pos_instrument=book.instrument, pos_quantity=book.quantity,
                                 reduction=spec, precision=used)
        times.append(time.perf_counter() - start)
    assert result is not None
    seconds = min(times)
    peak_rss_mb = _peak_rss_mb()

    n_base = min(baseline_accounts, accounts)
    base_times = []
    # best of three (the first runs pay for fresh memory), one if the subset is large
    for _ in range(3 if n_base * scenarios <= 10**8 else 1):
        start = time.perf_counter()
        base_value = _baseline(book, n_base, spec)
        base_times.append(time.perf_counter() - start)
    baseline_seconds = min(base_times) * accounts / n_base
    diff = float(np.max(np.abs(base_value - result.value[:n_base])))
    scale = float(np.max(np.abs(base_value))) if n_base else 0.0

    flop_rate = _flop_rate(matmul_size)
    bandwidth = _bandwidth(copy_mb * 2**20)
    whatif = _whatif_latency(book, spec, whatif_orders, seed)

    n_pos = accounts * positions
    limit_seconds = 2.0 * n_pos * scenarios / flop_rate
    pass_bytes = n_pos * 16 + (accounts + 1) * 8 + book.pnl.nbytes
    return {
        "accounts": accounts,
        "positions": positions,
        "scenarios": scenarios,
        "seconds": _sig(seconds),
        "peak_rss_mb": _sig(peak_rss_mb),
        "baseline_seconds": _sig(baseline_seconds),
        "speedup_vs_baseline": _sig(baseline_seconds / seconds),
        "limit_seconds": _sig(limit_seconds),
        "fraction_of_limit": _sig(limit_seconds / seconds),
        "whatif_p50_us": _sig(float(np.percentile(whatif, 50))),
        "whatif_p99_us": _sig(float(np.percentile(whatif, 99))),
        "instruments": instruments,
        "reduction": reduction,
        "k": k,
        "precision": used,
        "confidence": confidence if reduction in ("es", "var") else None,
        "seed": seed,
        "threads": numba.get_num_threads(),
        "kernel_runs_seconds": [_sig(t) for t in times],
        "book_build_seconds": _sig(build_seconds),
        "baseline_accounts_timed": n_base,
        "baseline_scaled": n_base < accounts,
        "max_abs_diff_vs_baseline": diff,
        "max_rel_diff_vs_baseline": diff / scale if scale > 0 else 0.0,
        "flop_rate_gflops": _sig(flop_rate / 1e9),
        "bandwidth_gbs": _sig(bandwidth / 1e9),
        "bandwidth_limit_seconds": _sig(pass_bytes / bandwidth),
        "peak_rss_mb_after_baseline": _sig(_peak_rss_mb()),
        "whatif_orders": whatif_orders,
    }


def _sig(value: float, digits: int = 4) -> float:
    """Round to ``digits`` significant digits (JSON stays readable, small values survive)."""
    return float(f"{value:.{digits}g}")
