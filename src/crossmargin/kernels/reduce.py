r"""Aggregate positions into segments and reduce each segment's losses over scenarios.

A *segment* is an account, or an (account, group) pair when a method takes maxima per
group (SPAN combined commodity, TIMS class group); positions arrive in CSR form sorted by
segment. With ``pnl[i, s]`` the profit per unit of instrument ``i`` under scenario ``s``
(gains positive), the loss of segment ``g`` under scenario ``s`` is

.. math:: L_{g,s} = -\sum_{p \in g} q_p \, \mathrm{pnl}_{i_p, s}.

The segments x scenarios matrix :math:`L` is never formed. The kernel walks blocks of
scenarios (about 3 MiB of ``pnl`` columns, copied to a contiguous, line-aligned tile so
that the rows the positions gather stay in cache); within a block the segments are split
into chunks run in parallel. For each segment, 32 scenario sums at a time live in vector
registers while its positions stream past (:mod:`crossmargin.kernels._engine`); the
sums leave the registers with a bit mask of the scenarios that beat the segment's current
k-th largest loss, so most segments are dismissed by one comparison. Each group of 64
scenarios is then merged into a running top-k per segment that persists across blocks: a
sorted row of the ``k`` largest losses and their scenarios, updated four lanes at a time
in registers. Maximum loss and weighted maximum are the case ``k = 1``.

For small ``k`` the pass first runs in float32 (64 scenarios per register pass, half the
bytes), keeping each segment's ``k + 1`` worst scenarios; a rounding bound then proves
which ``k`` are the float64 top-k, and those are recomputed in float64, so the results
equal the float64 pass bit for bit (:func:`_mixed_rows`, ``precision``).

Every reduction here has a plain-numpy twin in :mod:`crossmargin.kernels.reference` that
forms :math:`L` densely; the tests check that the two agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeAlias

import numba
import numpy as np
import numpy.typing as npt

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.kernels._engine import (
    FILTER_RANGE,
    MERGE_WIDTH,
    MODE_KTH,
    MODE_MEAN,
    MODE_TOP,
    acc_width,
    exact_rows,
    filter_bounds,
    finish,
    pair_requests,
    pair_starts,
    redo_rows,
    row_abs_max,
    segment_topk,
    settle_tile,
    sort_rows,
    to_single,
)
from crossmargin.kernels._validate import Positions, check_pnl, check_positions, int_vector

__all__ = [
    "ExpectedShortfall",
    "MaxLoss",
    "Reduction",
    "SegmentReduction",
    "ValueAtRisk",
    "WeightedMax",
    "account_totals",
    "pass_precision",
    "reduce_segments",
    "tail_count",
]

#: Segments per parallel work item.
DEFAULT_CHUNK = 1024
#: Target size in bytes of the scenario tile ``pnl[:, block]``.
TILE_BYTES = 3 * 2**20
#: Bounds of the tile width in scenarios (multiples of ``MERGE_WIDTH``).
MIN_TILE_WIDTH = MERGE_WIDTH
MAX_TILE_WIDTH = 256
#: Bytes of top-k rows, thresholds and positions a group of chunks of the segment pass
#: holds (:func:`~crossmargin.kernels._engine.segment_topk`).
GROUP_BYTES = 8 * 2**20
#: Largest tiled copy of ``pnl`` the segment pass makes; beyond, it copies one tile at a
#: time and runs every chunk over it (no groups).
TILES_BYTES = 256 * 2**20
#: Target size in bytes of the float64 tile from which the exact pass recomputes.
EXACT_TILE_BYTES = 8 * 2**20
#: The segments the mixed pass cannot settle are recomputed from ``pnl`` row by row
#: (:func:`~crossmargin.kernels._engine.redo_rows`) while that reads at most this many
#: times ``pnl``'s entries; beyond, by the tiled float64 pass.
REDO_DIRECT_READS = 4


def shared_cache_bytes(root: Path = Path("/sys/devices/system/cpu/cpu0/cache")) -> int:
    """Return the size of the machine's last-level cache in bytes, 0 where not reported.

    Read from Linux's ``root``: the size of the highest level among its ``index*``
    entries (``level`` and ``size`` files, sizes as ``48K``, ``2048K`` or ``2M``).
    """
    found = {}
    for entry in root.glob("index*"):
        try:
            level = int((entry / "level").read_text())
            size = (entry / "size").read_text().strip()
        except (OSError, ValueError):
            continue
        scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(size[-1:].upper(), 1)
        digits = size[:-1] if scale > 1 else size
        if digits.isdigit():
            found[level] = int(digits) * scale
    return found[max(found)] if found else 0


#: Largest ``pnl`` in bytes that the exact pass reads in place, in one pass over the
#: segments, rather than from tiles of ``EXACT_TILE_BYTES``: half the shared cache.
EXACT_DIRECT_BYTES = shared_cache_bytes() // 2
#: Precisions of the segment pass: chosen by ``k``, a float32 filter then float64, or
#: float64 alone.
PRECISIONS = ("auto", "mixed", "double")
#: Largest ``k`` for which ``"auto"`` takes the mixed pass: the filter's ``k + 1`` worst
#: scenarios fill one vector of 16 float32 slots. Measured with ``crossmargin bench
#: kernel``'s book (1,000,000 accounts x 10 positions x 1,000 scenarios, 2 cores, Xeon
#: with 2 MiB L2 per core): expected shortfall with k = 10 in 0.69-0.70 s mixed against
#: 1.21-1.22 s in float64, k = 15 0.82 against 1.35-1.38 s; at k = 25 within 5% (1.94-2.01
#: against 2.07 s), and at k = 50 float64 won (3.2 against 3.8 s).
MIXED_MAX_K = 15
#: Slots of the filter's float32 rows (one 16-lane vector): for ``k + 1`` up to this.
SINGLE_ROW = 16
#: Scenario weights the float32 filter handles (0, or between these bounds).
FILTER_WEIGHTS = (2.0**-60, 2.0**20)



def _slots() -> int:
    """Return the number of per-thread scratch slots: numba's largest thread pool."""
    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


def tail_count(*, confidence: float, n_scenarios: int) -> int:
    r"""Return the number of tail scenarios at a confidence level.

    Parameters
    ----------
    confidence : float
        Confidence level, strictly between 0 and 1 (e.g. 0.99).
    n_scenarios : int
        Number of scenarios, at least 1.

    Returns
    -------
    int
        :math:`k = \lceil (1 - c) S \rceil`, clipped to ``[1, S]``; ``(1 - c) S`` within
        ``1e-9`` (relative) of an integer counts as that integer, so that 99% of 1,000
        scenarios gives 10, not 11.
    """
    if isinstance(n_scenarios, bool) or not isinstance(n_scenarios, int | np.integer):
        raise InputError("must be an integer", field="n_scenarios", value=n_scenarios)
    if n_scenarios < 1:
        raise InputError("must be at least 1", field="n_scenarios", value=n_scenarios)
    if not 0.0 < confidence < 1.0:
        raise InputError("must be strictly between 0 and 1", field="confidence",
                         value=confidence)
    raw = (1.0 - confidence) * n_scenarios
    k = math.ceil(raw - 1e-9 * max(1.0, raw))
    return int(min(max(k, 1), n_scenarios))


def _check_k(k: object) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise InputError("must be an integer", field="k", value=k)
    if k < 1:
        raise InputError("must be at least 1", field="k", value=k)


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxLoss:
    r"""The largest loss over scenarios (not floored: the caller floors).

    Notes
    -----
    :math:`v_g = \max_s L_{g,s}`; the driver is the smallest :math:`s` attaining it.
    """


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class WeightedMax:
    r"""The largest weighted loss, e.g. SPAN's extreme scenarios counted at 35%.

    Parameters
    ----------
    weights : FloatArray, shape (n_scenarios,)
        Finite, non-negative weight of each scenario (stored as a read-only copy).

    Notes
    -----
    :math:`v_g = \max_s w_s L_{g,s}`; the driver is the smallest :math:`s` attaining it.
    """

    weights: FloatArray

    def __post_init__(self) -> None:
        w = np.array(self.weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise InputError(f"must be a non-empty 1-D array, got shape {w.shape}",
                             field="weights")
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            s = int(np.flatnonzero(bad)[0])
            raise InputError("must be finite and non-negative", field=f"weights[{s}]",
                             value=float(w[s]))
        w.setflags(write=False)
        object.__setattr__(self, "weights", w)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectedShortfall:
    r"""Expected shortfall: the mean of the ``k`` largest losses.

    Parameters
    ----------
    k : int
        Number of tail scenarios, ``1 <= k <= n_scenarios``; see
        :meth:`at_confidence`.

    Notes
    -----
    With :math:`L_{g,(1)} \ge L_{g,(2)} \ge \dots` the losses of segment :math:`g` in
    decreasing order (ties by increasing scenario index),
    :math:`v_g = \frac1k \sum_{j=1}^{k} L_{g,(j)}`; the driver is the worst scenario
    :math:`(1)`.
    """

    k: int

    def __post_init__(self) -> None:
        _check_k(self.k)

    @classmethod
    def at_confidence(cls, *, confidence: float, n_scenarios: int) -> ExpectedShortfall:
        """Return the expected shortfall at ``confidence`` over ``n_scenarios``."""
        return cls(k=tail_count(confidence=confidence, n_scenarios=n_scenarios))


@dataclass(frozen=True, slots=True, kw_only=True)
class ValueAtRisk:
    r"""Value at risk: the ``k``-th largest loss.

    Parameters
    ----------
    k : int
        Rank of the loss, ``1 <= k <= n_scenarios``; see :meth:`at_confidence`.

    Notes
    -----
    :math:`v_g = L_{g,(k)}` in the ordering of :class:`ExpectedShortfall`; the driver is
    the scenario :math:`(k)` itself. :math:`v_g` never exceeds the expected shortfall at
    the same ``k``.
    """

    k: int

    def __post_init__(self) -> None:
        _check_k(self.k)

    @classmethod
    def at_confidence(cls, *, confidence: float, n_scenarios: int) -> ValueAtRisk:
        """Return the value at risk at ``confidence`` over ``n_scenarios``."""
        return cls(k=tail_count(confidence=confidence, n_scenarios=n_scenarios))


Reduction: TypeAlias = MaxLoss | WeightedMax | ExpectedShortfall | ValueAtRisk


class _Plan(NamedTuple):
    k: int
    weights: FloatArray
    weighted: bool
    mode: int


_NO_WEIGHTS = np.empty(0, dtype=np.float64)


def plan(reduction: Reduction, n_scenarios: int) -> _Plan:
    """Translate a reduction into the kernel's top-k parameters (internal)."""
    if isinstance(reduction, MaxLoss):
        return _Plan(1, _NO_WEIGHTS, False, MODE_TOP)
    if isinstance(reduction, WeightedMax):
        if reduction.weights.size != n_scenarios:
            raise InputError(f"has {reduction.weights.size} weights for {n_scenarios} "
                             "scenarios", field="weights")
        # a writable copy: one compiled kernel serves every weight vector
        return _Plan(1, reduction.weights.copy(), True, MODE_TOP)
    if isinstance(reduction, ExpectedShortfall | ValueAtRisk):
        if reduction.k > n_scenarios:
            raise InputError(f"exceeds the number of scenarios ({n_scenarios})", field="k",
                             value=reduction.k)
        mode = MODE_MEAN if isinstance(reduction, ExpectedShortfall) else MODE_KTH
        return _Plan(int(reduction.k), _NO_WEIGHTS, False, mode)
    raise InputError("unknown reduction", field="reduction", value=type(reduction).__name__)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SegmentReduction:
    """Reduced value and driving scenario of each segment.

    Attributes
    ----------
    value : FloatArray, shape (n_seg,)
        The reduction of each segment's losses (not floored).
    driver : IntArray, shape (n_seg,)
        The scenario behind it: the worst scenario (max, weighted max, expected
        shortfall) or the k-th worst (value at risk).
    tail : IntArray or None, shape (n_seg, k)
        With ``keep_tail=True``: each segment's k worst scenarios, worst first (ties by
        increasing scenario index); ``k = 1`` for the maxima.
    """

    value: FloatArray
    driver: IntArray
    tail: IntArray | None = None


def aligned_empty(n: int) -> FloatArray:
    """Return an uninitialised float64 array of ``n`` items starting on a 64-byte line."""
    raw = np.empty(n + 8, dtype=np.float64)
    shift = (-raw.ctypes.data % 64) // 8
    return raw[shift:shift + n]


def default_tile_width(n_instruments: int, n_scenarios: int) -> int:
    """Return the scenarios per tile: about ``TILE_BYTES`` of ``pnl[:, block]``."""
    width = TILE_BYTES // max(1, 8 * n_instruments)
    width = max(MIN_TILE_WIDTH, min(MAX_TILE_WIDTH, width)) // MERGE_WIDTH * MERGE_WIDTH
    needed = -(-n_scenarios // MERGE_WIDTH) * MERGE_WIDTH
    return int(min(width, needed))


def reduce_segments(
    *,
    pnl: FloatArray,
    seg_offsets: IntArray,
    pos_instrument: IntArray,
    pos_quantity: FloatArray,
    reduction: Reduction,
    keep_tail: bool = False,
    tile_width: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    precision: str = "mixed",
) -> SegmentReduction:
    r"""Reduce each segment's scenario losses without forming the segments x scenarios matrix.

    Parameters
    ----------
    pnl : FloatArray, shape (n_instruments, n_scenarios)
        Profit per unit of each instrument under each scenario, gains positive.
    seg_offsets : IntArray, shape (n_seg + 1,)
        CSR offsets: segment ``g`` holds positions ``seg_offsets[g]`` to
        ``seg_offsets[g + 1] - 1``; empty segments are allowed (their losses are 0).
    pos_instrument : IntArray, shape (n_pos,)
        Row of ``pnl`` of each position (any integer dtype; held as int32 inside).
    pos_quantity : FloatArray, shape (n_pos,)
        Signed quantity of each position.
    reduction : Reduction
        :class:`MaxLoss`, :class:`WeightedMax`, :class:`ExpectedShortfall` or
        :class:`ValueAtRisk`.
    keep_tail : bool, default False
        Also return each segment's ``k`` worst scenarios (see
        :class:`SegmentReduction`).
    tile_width : int, optional
        Scenarios per cache tile, a positive multiple of 64; by default about 3 MiB of
        ``pnl`` columns. It changes speed only, never results.
    chunk : int, default 1024
        Segments per parallel work item; speed only.
    precision : {"auto", "mixed", "double"}, default "auto"
        ``"mixed"`` filters each segment's worst scenarios in float32 and settles them
        in float64 (:func:`_mixed_rows`); ``"double"`` runs float64 throughout;
        ``"auto"`` takes ``"mixed"`` for ``k <= MIXED_MAX_K``. Speed only: all give the
        same results bit for bit.

    Returns
    -------
    SegmentReduction
        ``value`` and ``driver`` per segment (and ``tail`` if asked).

    Raises
    ------
    InputError
        On a malformed shape, an index out of range, a NaN or infinite ``pnl`` or
        quantity, or ``k`` larger than the number of scenarios; the message names the
        field and the first offending entry.

    Notes
    -----
    :math:`L_{g,s} = -\sum_{p \in g} q_p \mathrm{pnl}_{i_p,s}`, summed per segment in
    storage order with fused multiply-adds: the result does not depend on the number of
    threads, ``tile_width`` or ``chunk``. Memory beyond the inputs: an int32 copy of
    ``pos_instrument``, a tiled copy of ``pnl`` in the pass's precision, and
    ``n_seg x 4 ceil(k / 4)`` running top-k values (float64) and scenarios (int32); the
    mixed pass adds a float32 copy of ``pos_quantity`` and its filter's rows of 4, 8 or
    16 float32 values and int32 scenarios a segment: about 400 MB for a million segments
    at ``k = 10``. ``pnl`` is used as is when already C-contiguous float64 (else copied
    once).
    """
    pnl_c = check_pnl(pnl)
    positions = check_positions(pnl=pnl_c, seg_offsets=seg_offsets,
                                pos_instrument=pos_instrument, pos_quantity=pos_quantity)
    n_instruments, n_scenarios = pnl_c.shape
    p = plan(reduction, n_scenarios)
    if tile_width is None:
        tile_width = default_tile_width(n_instruments, n_scenarios)
    elif isinstance(tile_width, bool) or tile_width < MERGE_WIDTH or tile_width % MERGE_WIDTH:
        raise InputError(f"must be a positive multiple of {MERGE_WIDTH}", field="tile_width",
                         value=tile_width)
    if isinstance(chunk, bool) or chunk < 1:
        raise InputError("must be a positive integer", field="chunk", value=chunk)
    n_seg = positions.offsets.size - 1
    rows = (_mixed_rows if pass_precision(precision, p.k) == "mixed" else _double_rows)(
        pnl_c, positions, p, int(tile_width), int(chunk))
    value = np.empty(n_seg, dtype=np.float64)
    driver = np.empty(n_seg, dtype=np.int64)
    finish(rows.value, rows.scenario, p.k, p.mode, value, driver)
    tail = None
    if keep_tail:
        tail = rows.scenario.reshape(n_seg, rows.stride)[:, :p.k].astype(np.int64)
    return SegmentReduction(value=value, driver=driver, tail=tail)


def pass_precision(precision: str, k: int) -> str:
    """Return the pass ``reduce_segments`` runs for ``precision`` at ``k``.

    Parameters
    ----------
    precision : {"auto", "mixed", "double"}
        As asked of :func:`reduce_segments`.
    k : int
        Tail count of the reduction (1 for the maxima).

    Returns
    -------
    str
        ``"mixed"`` or ``"double"``: ``"auto"`` is ``"mixed"`` for ``k <= MIXED_MAX_K``.
    """
    if precision not in PRECISIONS:
        raise InputError(f"must be one of {', '.join(PRECISIONS)}", field="precision",
                         value=precision)
    if precision == "auto":
        return "mixed" if k <= MIXED_MAX_K else "double"
    return precision


class _Rows(NamedTuple):
    """Each segment's decreasing top-k row (values, scenarios), ``stride`` slots apart."""

    value: FloatArray
    scenario: npt.NDArray[np.int32]
    stride: int


def _double_rows(pnl: FloatArray, positions: Positions, p: _Plan, tile_width: int,
                 chunk: int) -> _Rows:
    """Run the float64 segment pass: the exact top-k rows directly."""
    n_seg = positions.offsets.size - 1
    stride = _stride(p.k)
    top_value = aligned_empty(n_seg * stride)
    top_index = np.empty(n_seg * stride, dtype=np.int32)
    _segment_pass(pnl, positions, p.weights, p.weighted, p.k, top_value, top_index,
                  tile_width, chunk)
    return _Rows(top_value, top_index, stride)


def _stride(k: int) -> int:
    """Slots of a float64 top-k row: ``k`` rounded up to whole vectors of 4."""
    return -(-k // 4) * 4


def _segment_pass(pnl: FloatArray, positions: Positions, weights: FloatArray, weighted: bool,
                  k: int, top_value: npt.NDArray[np.floating],
                  top_index: npt.NDArray[np.int32], tile_width: int, chunk: int) -> None:
    """Fill the top-k rows with :func:`segment_topk`, in the precision of ``quantity``.

    Allocates the pass's tiles (all of ``pnl``, in that precision, up to ``TILES_BYTES``;
    beyond, one tile) and sizes its groups of chunks to about ``GROUP_BYTES`` of rows,
    thresholds and positions (one group with one tile).
    """
    n_instruments, n_scenarios = pnl.shape
    n_seg = positions.offsets.size - 1
    n_chunk = -(-n_seg // chunk)
    single = positions.quantity.dtype == np.float32
    size = max(1, n_instruments) * tile_width * -(-n_scenarios // tile_width)
    kp = top_value.size // max(1, n_seg)
    per_segment = (kp * (top_value.itemsize + 4) + 16
                   + positions.quantity.size / max(1, n_seg) * (4 + positions.quantity.itemsize))
    group = max(1, int(GROUP_BYTES // (chunk * per_segment)))
    if size * positions.quantity.itemsize > TILES_BYTES:  # one tile at a time, one group
        size = max(1, n_instruments) * tile_width
        group = max(1, n_chunk)
    tiles = aligned_empty(size // 2 + 1).view(np.float32) if single else aligned_empty(size)
    threshold = np.empty(n_seg, dtype=np.float64)
    segment_topk(pnl, positions.offsets, positions.instrument, positions.quantity, weights,
                 weighted, k, tiles, tile_width, acc_width(single), chunk, group, _slots(),
                 top_value, top_index, threshold)


def exact_tile_width(n_instruments: int, n_scenarios: int) -> int:
    """Return the scenarios per tile of the exact pass: about ``EXACT_TILE_BYTES``.

    ``n_scenarios`` (no tile: ``pnl`` read in place) where ``pnl`` takes at most
    ``EXACT_DIRECT_BYTES``.
    """
    if 8 * n_instruments * n_scenarios <= EXACT_DIRECT_BYTES:
        return n_scenarios
    width = EXACT_TILE_BYTES // max(1, 8 * n_instruments)
    return int(min(max(1, width), n_scenarios))


def _mixed_rows(pnl: FloatArray, positions: Positions, p: _Plan, tile_width: int,
                chunk: int) -> _Rows:
    """Filter in float32, then settle the k worst scenarios of each segment in float64.

    The float32 pass keeps each segment's ``k + 1`` worst scenarios;
    :func:`~crossmargin.kernels._engine.exact_rows` proves, with the rounding bound of
    :func:`~crossmargin.kernels._engine.filter_bounds`, that the first ``k`` are the
    float64 top-k and recomputes them exactly. Segments it cannot settle so (near-ties at
    the k-th loss within the bound, sums beyond float32's safe range) are rerun in
    float64, and so is the whole pass where a ``pnl`` entry or quantity reaches
    ``FILTER_RANGE`` or a non-zero weight lies outside ``FILTER_WEIGHTS`` (where the
    float32 test could miss a scenario). The rows equal :func:`_double_rows` bit for
    bit.
    """
    n_instruments, n_scenarios = pnl.shape
    row_max = row_abs_max(pnl)
    quantity = positions.quantity
    quantity32 = np.empty(quantity.size, dtype=np.float32)
    quantity_max = to_single(quantity, quantity32)
    weights = p.weights[p.weights != 0.0]
    low, high = FILTER_WEIGHTS
    if (row_max.size and row_max.max() >= FILTER_RANGE) or quantity_max >= FILTER_RANGE or (
            weights.size and not low <= weights.min() <= weights.max() <= high):
        return _double_rows(pnl, positions, p, tile_width, chunk)
    offsets = positions.offsets
    n_seg = offsets.size - 1
    k1 = p.k + 1
    # the filter's rows: one vector of 4, 8 or 16 float32 slots where k + 1 fits, else
    # float64
    if k1 <= SINGLE_ROW:
        filter_stride = next(n for n in (4, 8, SINGLE_ROW) if k1 <= n)
        filter_value: npt.NDArray[np.floating] = np.empty(n_seg * filter_stride,
                                                          dtype=np.float32)
    else:
        filter_stride = _stride(k1)
        filter_value = aligned_empty(n_seg * filter_stride)
    filter_index = np.empty(n_seg * filter_stride, dtype=np.int32)
    filter_positions = Positions(offsets=offsets, instrument=positions.instrument,
                                 quantity=quantity32)
    _segment_pass(pnl, filter_positions, p.weights, p.weighted, k1, filter_value, filter_index,
                  tile_width, chunk)
    del filter_positions, quantity32
    bound = np.empty(n_seg, dtype=np.float64)
    w_max = float(p.weights.max()) if p.weighted else 1.0
    filter_bounds(row_max, offsets, positions.instrument, quantity, w_max, bound)
    fallback = np.empty(n_seg, dtype=np.bool_)
    width = exact_tile_width(n_instruments, n_scenarios)
    n_tiles = -(-n_scenarios // width)
    stride = _stride(p.k)
    top_value = aligned_empty(n_seg * stride)
    top_index = np.empty(n_seg * stride, dtype=np.int32)
    pairs = np.zeros(n_tiles * n_seg + 1 if n_tiles > 1 and n_seg else 0, dtype=np.int64)
    exact_rows(pnl, offsets, positions.instrument, quantity, p.weights, p.weighted, p.k,
               bound, width, filter_value, filter_index, top_value, top_index, fallback, pairs)
    del filter_value, filter_index
    if pairs.size:
        _settle_from_tiles(pnl, positions, p, width, pairs, top_value, top_index, fallback)
    redo = np.flatnonzero(fallback)
    counts = offsets[redo + 1] - offsets[redo]
    if redo.size and int(counts.sum()) * n_scenarios <= REDO_DIRECT_READS * pnl.size:
        redo_rows(pnl, offsets, positions.instrument, quantity, p.weights, p.weighted, p.k,
                  redo, _slots(), top_value, top_index)
    elif redo.size:
        sub_offsets = np.zeros(redo.size + 1, dtype=np.int64)
        np.cumsum(counts, out=sub_offsets[1:])
        take = np.repeat(offsets[redo] - sub_offsets[:-1], counts) + np.arange(sub_offsets[-1])
        sub = Positions(offsets=sub_offsets, instrument=positions.instrument[take],
                        quantity=quantity[take])
        exact = _double_rows(pnl, sub, p, tile_width, chunk)
        values = top_value.reshape(n_seg, stride)
        index = top_index.reshape(n_seg, stride)
        values[redo] = -np.inf
        index[redo] = -1
        values[redo, :p.k] = exact.value.reshape(redo.size, exact.stride)[:, :p.k]
        index[redo, :p.k] = exact.scenario.reshape(redo.size, exact.stride)[:, :p.k]
    return _Rows(top_value, top_index, stride)


def _settle_from_tiles(pnl: FloatArray, positions: Positions, p: _Plan, width: int,
                       pairs: IntArray, top_value: FloatArray,
                       top_index: npt.NDArray[np.int32], fallback: npt.NDArray[np.bool_]) -> None:
    """Settle the rows :func:`~crossmargin.kernels._engine.exact_rows` left to the tiles.

    Its counts become a request list of row scenarios paired by tile of ``width``
    scenarios (slots as bytes where ``k <= 256``), settled tile by tile, then each row
    is sorted.
    """
    n_instruments = pnl.shape[0]
    n_seg = fallback.size
    n_tiles = (pairs.size - 1) // n_seg
    kq = top_value.size // n_seg
    pair_starts(pairs)
    bases = pairs[::n_seg].copy()  # each tile's first pair, then the total
    total = int(bases[-1])
    slot_type = np.uint8 if p.k <= 256 else np.int32
    req_seg = np.empty(total, dtype=np.int32)
    req_a = np.empty(total, dtype=slot_type)
    req_b = np.empty(total, dtype=slot_type)
    pair_requests(top_index, fallback, p.k, kq, width, n_tiles, _slots(), pairs, req_seg,
                  req_a, req_b)
    tile = aligned_empty(max(1, n_instruments) * width)
    for t in range(n_tiles):
        settle_tile(pnl, tile, width, t * width, int(bases[t]), int(bases[t + 1]),
                    positions.offsets, positions.instrument, positions.quantity, p.weights,
                    p.weighted, top_value, top_index, kq, req_seg, req_a, req_b)
    sort_rows(top_value, top_index, fallback, p.k, kq)


def account_totals(
    *,
    value: FloatArray,
    seg_account: IntArray,
    n_accounts: int | None = None,
    floor_at_zero: bool = True,
) -> FloatArray:
    r"""Sum reduced segment values into their accounts (grouped maxima).

    Parameters
    ----------
    value : FloatArray, shape (n_seg,)
        Reduced value per segment, e.g. :attr:`SegmentReduction.value`.
    seg_account : IntArray, shape (n_seg,)
        Account of each segment, ``0 <= a < n_accounts``.
    n_accounts : int, optional
        Number of accounts (accounts without segments get 0); by default one more than
        the largest account index.
    floor_at_zero : bool, default True
        Floor each segment's value at 0 before summing (a group's gain does not offset
        another group's charge).

    Returns
    -------
    FloatArray, shape (n_accounts,)

    Notes
    -----
    :math:`R_a = \sum_{g : a(g) = a} \max(v_g, 0)` (without the floor:
    :math:`\sum v_g`).
    """
    v = np.asarray(value, dtype=np.float64)
    acct = int_vector(seg_account, field="seg_account")
    if v.ndim != 1 or v.size != acct.size:
        raise InputError(f"has shape {v.shape}, seg_account has {acct.size} entries",
                         field="value")
    if v.size and not np.isfinite(v).all():
        g = int(np.flatnonzero(~np.isfinite(v))[0])
        raise InputError("must be finite", field=f"value[{g}]", value=float(v[g]))
    top = int(acct.max()) + 1 if acct.size else 0
    if n_accounts is None:
        n_accounts = top
    if acct.size and acct.min() < 0:
        g = int(np.flatnonzero(acct < 0)[0])
        raise InputError("must be non-negative", field=f"seg_account[{g}]",
                         value=int(acct[g]))
    if top > n_accounts:
        g = int(np.flatnonzero(acct >= n_accounts)[0])
        raise InputError(f"must be below n_accounts ({n_accounts})", field=f"seg_account[{g}]",
                         value=int(acct[g]))
    weights = np.maximum(v, 0.0) if floor_at_zero else v
    return np.bincount(acct, weights=weights, minlength=n_accounts).astype(np.float64)
