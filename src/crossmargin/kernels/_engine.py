"""All compiled code of the kernels: LLVM vector intrinsics and the numba functions using them.

numba leaves the choice of vector code to LLVM, and for the accumulation LLVM either
keeps the accumulators in memory or vectorises across positions (a gather) instead of
across scenarios. The loops are small, so they are emitted directly:

- :func:`accumulate_chunk`: for each segment of a chunk, ``ACC_WIDTH`` scenario sums live
  in vector registers while the segment's positions stream past, each adding
  ``quantity x tile row`` with a fused multiply-add; the tile row of the position
  ``PREFETCH_DISTANCE`` ahead is prefetched (its first ``SINGLE_PREFETCH_LINES`` lines in
  float32). The sums leave the registers with a bit mask
  of the scenarios that may enter the segment's running top-k.
- ``merge_hits_<n>``: inserts the flagged scenarios into a segment's sorted top-k row held
  in registers, branch-free: ``n`` float64 vectors of 4 slots (``n`` up to 4), or one
  float32 vector of 4, 8 or 16 slots for the filter pass (``merge_hits_1``, ``_8``,
  ``_16``).

The summation order of a segment is fixed (its positions in storage order, one
accumulator chain per scenario), so results do not depend on the number of threads, the
tile width or the chunking. The fused multiply-add is ``llvm.fmuladd``: fused wherever
the machine has FMA, and the same in every kernel of the package (:func:`fmuladd`).

Every numba function that calls these intrinsics lives in this file on purpose: numba's
on-disk cache is invalidated by the timestamp of the file that defines a function, not
of the files it calls into, so a kernel elsewhere could keep running an edited
intrinsic's old machine code. The public API (:mod:`crossmargin.kernels.reduce`,
:mod:`crossmargin.kernels.vector`) validates inputs and calls in here.
"""

# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = [
    "ACC_WIDTH",
    "BOUND_GROUPS",
    "FILTER_RANGE",
    "MERGE_WIDTH",
    "MODE_KTH",
    "MODE_MEAN",
    "MODE_TOP",
    "PREFETCH_DISTANCE",
    "SETTLE_LOCALITY",
    "SETTLE_PREFETCH",
    "SINGLE_PREFETCH_LINES",
    "acc_width",
    "accumulate_chunk",
    "add_row",
    "copy_row",
    "exact_rows",
    "filter_bounds",
    "finish",
    "fmuladd",
    "insert_sorted",
    "lowest_bit",
    "merge_hits_1",
    "merge_hits_2",
    "merge_hits_3",
    "merge_hits_4",
    "merge_hits_8",
    "merge_hits_16",
    "pair_requests",
    "pair_starts",
    "redo_rows",
    "reduce_many",
    "reduce_one",
    "row_abs_max",
    "segment_topk",
    "settle_tile",
    "sort_rows",
    "to_single",
    "vector_losses",
    "vector_topk",
]

#: Scenarios accumulated at once per segment (8 vectors of 4 doubles).
ACC_WIDTH = 32
#: Scenarios merged into the running top-k at once: two accumulation parts.
MERGE_WIDTH = 2 * ACC_WIDTH
#: Doubles per vector register used by the accumulators.
_LANES = 4
#: Disjoint lane groups whose maxima bound a segment's k-th loss in its first merge.
BOUND_GROUPS = 16
#: How many positions ahead the tile row is prefetched.
PREFETCH_DISTANCE = 16
#: Lines of that row the float32 pass prefetches (the float64 pass: every line). Its
#: rows (1 MiB L2, Zen 4) are in cache more often, and a prefetch instruction per line
#: cost more than it saved: filter 0.427-0.464 s with the first line against
#: 0.433-0.486 s with all four, interleaved runs; the float64 pass lost with one line
#: (0.997-1.045 s against 0.983-0.988 s).
SINGLE_PREFETCH_LINES = 1
#: How many pairs of its request list ahead the float64 settle prefetches tile entries.
SETTLE_PREFETCH = 8
#: The locality hint of those prefetches: 2 (``prefetcht1``) rather than the filter's 3
#: (``prefetcht0``): the settle's tile passes took 0.109-0.116 s against 0.141-0.155 s
#: with 3 (interleaved runs, benchmark book, Zen 4); the filter lost with 2.
SETTLE_LOCALITY = 2
_LINE_BYTES = 64


def acc_width(single: bool) -> int:
    """Scenarios one accumulation part covers: ``ACC_WIDTH``, twice that in float32."""
    return 2 * ACC_WIDTH if single else ACC_WIDTH


@intrinsic
def _accumulate_chunk(
    typingctx: Any,
    tile: Any,
    row_stride: Any,
    col0: Any,
    offsets: Any,
    instrument: Any,
    quantity: Any,
    g0: Any,
    g1: Any,
    out: Any,
    scale: Any,
    mask: Any,
    threshold: Any,
    hits: Any,
    part: Any,
    rank: Any,
) -> Any:
    """Accumulate segments ``g0 <= g < g1`` over tile columns ``[col0, col0 + W)``.

    ``W`` is :func:`acc_width`: 32 scenarios in 8 vectors of 4 doubles for a float64
    ``tile`` and ``quantity``, 64 in 4 vectors of 16 singles for float32 ones (the
    single-precision filter pass of :func:`segment_topk`). With ``m = part * W + j``
    (``part`` 0 or 1 of a ``MERGE_WIDTH`` group, always 0 in float32): ``out[(g - g0) *
    MERGE_WIDTH + m] = sum_p quantity[p] * tile[instrument[p] * row_stride + col0 + j]``
    over the positions ``offsets[g] <= p < offsets[g + 1]``, widened to float64, and bit
    ``m`` of ``hits[g - g0]`` set where ``scale[m] * out[..., m] + mask[m] >
    threshold[g]`` (part 0 overwrites ``hits``, part 1 adds its bits): with ``mask`` 0 on
    the columns in use and ``-inf`` on the others, the columns that may enter the
    segment's running top-k, found while the sums are still in registers.

    While a segment's top-k is still empty (``threshold[g] == -inf``), candidates are
    also cut at a lower bound of its k-th largest loss: the ``rank``-th largest of the
    maxima of ``BOUND_GROUPS`` disjoint lane groups (``1 <= rank <= BOUND_GROUPS``, ``k``
    or more; 0 turns the bound off). At least ``rank`` losses reach the bound, so nothing
    below it can be among the ``rank`` largest. ``tile`` is a flat C-contiguous array
    whose rows hold at least ``col0 + W`` columns; the caller guarantees every index is
    in range.
    """
    if tile.dtype not in (types.float32, types.float64) or any(
            a.dtype != tile.dtype for a in (quantity, out, scale, mask)):
        return None
    single = tile.dtype == types.float32
    sig = types.void(tile, types.intp, types.intp, offsets, instrument, quantity,
                     types.intp, types.intp, out, scale, mask, threshold, hits, types.intp,
                     types.intp)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        (tile_v, stride_v, col0_v, offs_v, inst_v, qty_v, g0_v, g1_v, out_v, scale_v, mask_v,
         thr_v, hits_v, part_v, rank_v) = args
        t_arr = context.make_array(signature.args[0])(context, builder, tile_v)
        o_arr = context.make_array(signature.args[3])(context, builder, offs_v)
        i_arr = context.make_array(signature.args[4])(context, builder, inst_v)
        q_arr = context.make_array(signature.args[5])(context, builder, qty_v)
        r_arr = context.make_array(signature.args[8])(context, builder, out_v)
        w_arr = context.make_array(signature.args[9])(context, builder, scale_v)
        m_arr = context.make_array(signature.args[10])(context, builder, mask_v)
        t_thr = context.make_array(signature.args[11])(context, builder, thr_v)
        h_arr = context.make_array(signature.args[12])(context, builder, hits_v)
        intp = context.get_value_type(types.intp)
        i32 = ir.IntType(32)
        i8p = ir.IntType(8).as_pointer()
        dbl = ir.DoubleType()
        elem = ir.FloatType() if single else dbl
        elem_lanes = 4 * _LANES if single else _LANES
        width = acc_width(single)
        evec = ir.VectorType(elem, elem_lanes)
        n_acc = width // elem_lanes
        n_lines = SINGLE_PREFETCH_LINES if single else width * 8 // _LINE_BYTES

        def const(value: int) -> Any:
            return ir.Constant(intp, value)

        def widen(value: Any) -> Any:
            if value.type.width < intp.width:
                return builder.sext(value, intp)
            return value

        def splat_of(value: Any, vty: Any) -> Any:
            one = builder.insert_element(ir.Constant(vty, ir.Undefined), value,
                                         ir.Constant(i32, 0))
            zeros = ir.Constant(ir.VectorType(i32, vty.count), [0] * vty.count)
            return builder.shuffle_vector(one, ir.Constant(vty, ir.Undefined), zeros)

        suffix = f"v{elem_lanes}f{32 if single else 64}"
        fmuladd = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(evec, [evec, evec, evec]), f"llvm.fmuladd.{suffix}")
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        accs = [cgutils.alloca_once(builder, evec) for _ in range(n_acc)]
        zero = ir.Constant(evec, [0.0] * elem_lanes)
        n_pos = builder.extract_value(i_arr.shape, 0)
        last_pos = builder.sub(n_pos, const(1))
        i64 = ir.IntType(64)

        part_col = builder.mul(part_v, const(width))

        def load_vec(arr: Any, j: int) -> Any:
            at = builder.add(part_col, const(j * elem_lanes))
            ptr = builder.bitcast(builder.gep(arr.data, [at]), evec.as_pointer())
            return builder.load(ptr, align=4 if single else 8)

        scales = [load_vec(w_arr, j) for j in range(n_acc)]
        masks = [load_vec(m_arr, j) for j in range(n_acc)]
        bound_slot = cgutils.alloca_once(builder, elem)

        def vmax(a: Any, b: Any) -> Any:
            return builder.select(builder.fcmp_ordered(">", a, b), a, b)

        def sorted_down(v: Any) -> Any:
            """Return the lanes of ``v`` in decreasing order (Batcher's bitonic sort)."""
            n = v.type.count
            size = 2
            while size <= n:
                stride = size // 2
                while stride:
                    partner = builder.shuffle_vector(
                        v, v, ir.Constant(ir.VectorType(i32, n), [i ^ stride for i in range(n)]))
                    high = vmax(v, partner)
                    low = builder.select(builder.fcmp_ordered("<", v, partner), v, partner)
                    # lane i keeps the larger where it leads a decreasing pair
                    keep_high = [((i & stride) == 0) == ((i & size) == 0 or size == n)
                                 for i in range(n)]
                    v = builder.select(ir.Constant(ir.VectorType(ir.IntType(1), n),
                                                   [int(b) for b in keep_high]), high, low)
                    stride //= 2
                size *= 2
            return v

        def rank_bound(masked: list[Any]) -> Any:
            """Return the ``rank``-th largest of ``BOUND_GROUPS`` disjoint lane-group maxima."""
            level = masked
            while len(level) * elem_lanes > BOUND_GROUPS:
                level = [vmax(level[2 * i], level[2 * i + 1]) for i in range(len(level) // 2)]
            while len(level) > 1:  # the maxima side by side in one vector
                width = 2 * level[0].type.count
                level = [builder.shuffle_vector(level[2 * i], level[2 * i + 1], ir.Constant(
                    ir.VectorType(i32, width), list(range(width))))
                    for i in range(len(level) // 2)]
            ordered = sorted_down(level[0])
            return builder.extract_element(ordered, builder.trunc(builder.sub(rank_v, const(1)),
                                                                   i32))

        def lowered(x: Any) -> Any:
            """Return a float32 below ``x - 2**-20 |x|`` (float64 ``x``; -inf stays -inf)."""
            size = builder.select(builder.fcmp_ordered("<", x, ir.Constant(dbl, 0.0)),
                                  builder.fneg(x), x)
            low = builder.fsub(builder.fsub(x, builder.fmul(size, ir.Constant(dbl, 2.0**-19))),
                               ir.Constant(dbl, 2.0**-120))
            return builder.fptrunc(low, elem)

        with cgutils.for_range(builder, builder.sub(g1_v, g0_v)) as seg_loop:
            g = builder.add(seg_loop.index, g0_v)
            p0 = widen(builder.load(builder.gep(o_arr.data, [g])))
            p1 = widen(builder.load(builder.gep(o_arr.data, [builder.add(g, const(1))])))
            for acc in accs:
                builder.store(zero, acc)
            with cgutils.for_range(builder, builder.sub(p1, p0)) as pos_loop:
                p = builder.add(pos_loop.index, p0)
                ahead = builder.add(p, const(PREFETCH_DISTANCE))
                ahead = builder.select(builder.icmp_signed("<", ahead, n_pos), ahead, last_pos)
                row_ahead = widen(builder.load(builder.gep(i_arr.data, [ahead])))
                at_ahead = builder.add(builder.mul(row_ahead, stride_v), col0_v)
                byte_ptr = builder.bitcast(builder.gep(t_arr.data, [at_ahead]), i8p)
                for line in range(n_lines):
                    builder.call(prefetch, [builder.gep(byte_ptr, [const(_LINE_BYTES * line)]),
                                            ir.Constant(i32, 0), ir.Constant(i32, 3),
                                            ir.Constant(i32, 1)])
                row = widen(builder.load(builder.gep(i_arr.data, [p])))
                q_vec = splat_of(builder.load(builder.gep(q_arr.data, [p])), evec)
                row_ptr = builder.gep(t_arr.data,
                                      [builder.add(builder.mul(row, stride_v), col0_v)])
                for j, acc in enumerate(accs):
                    x_ptr = builder.bitcast(builder.gep(row_ptr, [const(j * elem_lanes)]),
                                            evec.as_pointer())
                    x = builder.load(x_ptr, align=4 if single else 8)
                    builder.store(builder.call(fmuladd, [q_vec, x, builder.load(acc)]), acc)
            base = builder.add(builder.mul(seg_loop.index, const(MERGE_WIDTH)), part_col)
            t = builder.load(builder.gep(t_thr.data, [g]))
            # in float32 the test runs on rounded losses against a lowered threshold: it
            # may flag more scenarios than the exact test, never fewer
            t_vec = splat_of(lowered(t) if single else t, evec)
            masked = []
            for j, acc in enumerate(accs):
                total = builder.load(acc)
                dst = builder.bitcast(
                    builder.gep(r_arr.data, [builder.add(base, const(j * elem_lanes))]),
                    evec.as_pointer())
                builder.store(total, dst, align=4 if single else 8)
                masked.append(builder.fadd(builder.fmul(total, scales[j]), masks[j]))
            builder.store(ir.Constant(elem, float("-inf")), bound_slot)
            empty = builder.fcmp_ordered("==", t, ir.Constant(dbl, float("-inf")))
            use = builder.and_(empty, builder.icmp_signed(">", rank_v, const(0)))
            with builder.if_then(use, likely=False):
                bound = rank_bound(masked)
                if single:
                    bound = lowered(builder.fpext(bound, dbl))
                builder.store(bound, bound_slot)
            b_vec = splat_of(builder.load(bound_slot), evec)
            bits = ir.Constant(i64, 0)
            for j, m in enumerate(masked):
                above = builder.and_(builder.fcmp_ordered(">", m, t_vec),
                                     builder.fcmp_ordered(">=", m, b_vec))
                word = builder.zext(builder.bitcast(above, ir.IntType(elem_lanes)), i64)
                bits = builder.or_(bits, builder.shl(word, ir.Constant(i64, j * elem_lanes)))
            hit_ptr = builder.gep(h_arr.data, [seg_loop.index])
            first = builder.icmp_signed("==", part_v, const(0))
            before = builder.select(first, ir.Constant(i64, 0), builder.load(hit_ptr))
            shift = builder.sext(part_col, i64) if intp.width < 64 else part_col
            builder.store(builder.or_(before, builder.shl(bits, shift)), hit_ptr)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _fmuladd(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
    """Return ``a * b + c`` with the same fused multiply-add as :func:`accumulate_chunk`.

    Used by the one-account routes so that their sums round exactly as the segment
    kernel's do.
    """
    if not all(t == types.float64 for t in (a, b, c)):
        return None
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        dbl = ir.DoubleType()
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(dbl, [dbl, dbl, dbl]), "llvm.fmuladd.f64")
        return builder.call(fn, list(args))

    return sig, codegen


@intrinsic
def _lowest_bit(typingctx: Any, word: Any) -> Any:
    """Return the index of the lowest set bit of a non-zero int64 (count trailing zeros)."""
    if word != types.int64:
        return None
    sig = types.int64(types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        i64 = ir.IntType(64)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(i64, [i64, ir.IntType(1)]), "llvm.cttz.i64")
        return builder.call(fn, [args[0], ir.Constant(ir.IntType(1), 1)])

    return sig, codegen


@intrinsic
def _prefetch(typingctx: Any, arr: Any, index: Any) -> Any:
    """Prefetch the cache line of ``arr[index]`` (1-d array, no bounds check) for reading.

    With ``SETTLE_LOCALITY`` (LLVM's locality hint: 2 is x86's ``prefetcht1``), for the
    settle's random reads of its tile.
    """
    if not isinstance(arr, types.Array) or arr.ndim != 1 or not isinstance(index, types.Integer):
        return None
    sig = types.void(arr, index)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        address = builder.bitcast(builder.gep(data, [args[1]]), i8p)
        builder.call(fn, [address, ir.Constant(i32, 0), ir.Constant(i32, SETTLE_LOCALITY),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _insert_sorted(typingctx: Any, values: Any, index: Any, base: Any, n_vec: Any, x: Any,
                  s: Any) -> Any:
    """Insert ``(x, s)`` into a decreasing row of ``4 * n_vec`` values at ``values[base:]``.

    Entry ``j`` becomes entry ``j - 1`` where that is below ``x``, else ``x`` where entry
    ``j`` is below ``x``, else stays: equal values keep the earlier entry first and the
    last entry falls off. ``index`` (int32) moves alongside. Branch-free, four lanes at a
    time, last vector first so that no vector is read after it was written.
    """
    if not (isinstance(values, types.Array) and isinstance(index, types.Array)):
        return None
    sig = types.void(values, index, types.intp, types.intp, types.float64, types.intp)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        v_arr = context.make_array(signature.args[0])(context, builder, args[0])
        i_arr = context.make_array(signature.args[1])(context, builder, args[1])
        base_v, nvec_v, x_v, s_v = args[2:]
        intp = context.get_value_type(types.intp)
        i32 = ir.IntType(32)
        single = signature.args[0].dtype == types.float32
        elem = ir.FloatType() if single else ir.DoubleType()
        align = 4 if single else 8
        dvec = ir.VectorType(elem, _LANES)
        ivec = ir.VectorType(i32, _LANES)
        splat = ir.Constant(ivec, [0] * _LANES)

        def bcast(value: Any, vty: Any) -> Any:
            one = builder.insert_element(ir.Constant(vty, ir.Undefined), value,
                                         ir.Constant(i32, 0))
            return builder.shuffle_vector(one, ir.Constant(vty, ir.Undefined), splat)

        x_vec = bcast(builder.fptrunc(x_v, elem) if single else x_v, dvec)
        s_vec = bcast(builder.trunc(s_v, i32), ivec)

        def step(at: Any, prev_d: Any, prev_i: Any, cur_d_ptr: Any, cur_i_ptr: Any) -> None:
            cur_d = builder.load(cur_d_ptr, align=align)
            cur_i = builder.load(cur_i_ptr, align=4)
            shift = builder.fcmp_ordered("<", prev_d, x_vec)
            take = builder.fcmp_ordered("<", cur_d, x_vec)
            new_d = builder.select(shift, prev_d, builder.select(take, x_vec, cur_d))
            new_i = builder.select(shift, prev_i, builder.select(take, s_vec, cur_i))
            builder.store(new_d, cur_d_ptr, align=align)
            builder.store(new_i, cur_i_ptr, align=4)

        def ptrs(at: Any) -> tuple[Any, Any]:
            return (builder.bitcast(builder.gep(v_arr.data, [at]), dvec.as_pointer()),
                    builder.bitcast(builder.gep(i_arr.data, [at]), ivec.as_pointer()))

        lanes = ir.Constant(intp, _LANES)
        n_rest = builder.sub(nvec_v, ir.Constant(intp, 1))
        with cgutils.for_range(builder, n_rest) as loop:
            v = builder.sub(nvec_v, builder.add(loop.index, ir.Constant(intp, 1)))
            at = builder.add(base_v, builder.mul(v, lanes))
            before = builder.sub(at, ir.Constant(intp, 1))
            prev_d_ptr, prev_i_ptr = ptrs(before)
            prev_d = builder.load(prev_d_ptr, align=align)
            prev_i = builder.load(prev_i_ptr, align=4)
            step(at, prev_d, prev_i, *ptrs(at))
        # first vector: nothing before entry 0 (+inf never shifts down)
        first_d_ptr, first_i_ptr = ptrs(base_v)
        cur_d = builder.load(first_d_ptr, align=align)
        cur_i = builder.load(first_i_ptr, align=4)
        inf = ir.Constant(dvec, [float("inf")] * _LANES)
        order = ir.Constant(ivec, [_LANES, *range(_LANES - 1)])
        prev_d = builder.shuffle_vector(cur_d, inf, order)
        prev_i = builder.shuffle_vector(cur_i, ir.Constant(ivec, [0] * _LANES), order)
        step(base_v, prev_d, prev_i, first_d_ptr, first_i_ptr)
        return context.get_dummy_value()

    return sig, codegen


def _make_merge(n_vec: int, lanes: int = _LANES) -> Any:
    """Build ``merge_hits`` for top-k rows of ``n_vec`` vectors of ``lanes`` slots.

    The row's values are float64 or float32 (the filter pass's rows, scaled in float32),
    ``scale`` of the same type; the row is held in registers while the hits go in.
    """

    @intrinsic
    def merge_hits(typingctx: Any, values: Any, index: Any, row: Any, buf: Any, buf_base: Any,
                   bits: Any, scale: Any, s0: Any, k: Any) -> Any:
        if not all(isinstance(a, types.Array) for a in (values, index, buf, scale)) or (
                scale.dtype != values.dtype):
            return None
        sig = types.float64(values, index, types.intp, buf, types.intp, types.int64, scale,
                            types.intp, types.intp)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            v_arr = context.make_array(signature.args[0])(context, builder, args[0])
            i_arr = context.make_array(signature.args[1])(context, builder, args[1])
            b_arr = context.make_array(signature.args[3])(context, builder, args[3])
            w_arr = context.make_array(signature.args[6])(context, builder, args[6])
            row_v, base_v, bits_v, s0_v, k_v = args[2], args[4], args[5], args[7], args[8]
            intp = context.get_value_type(types.intp)
            i64 = ir.IntType(64)
            i32 = ir.IntType(32)
            dbl = ir.DoubleType()
            single = signature.args[0].dtype == types.float32
            elem = ir.FloatType() if single else dbl
            align = 4 if single else 8
            dvec = ir.VectorType(elem, lanes)
            ivec = ir.VectorType(i32, lanes)
            splat = ir.Constant(ivec, [0] * lanes)
            cttz = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(i64, [i64, ir.IntType(1)]), "llvm.cttz.i64")

            def ptrs(j: int) -> tuple[Any, Any]:
                at = builder.add(row_v, ir.Constant(intp, j * lanes))
                return (builder.bitcast(builder.gep(v_arr.data, [at]), dvec.as_pointer()),
                        builder.bitcast(builder.gep(i_arr.data, [at]), ivec.as_pointer()))

            def bcast(value: Any, vty: Any) -> Any:
                one = builder.insert_element(ir.Constant(vty, ir.Undefined), value,
                                             ir.Constant(i32, 0))
                return builder.shuffle_vector(one, ir.Constant(vty, ir.Undefined), splat)

            d_slots = [cgutils.alloca_once(builder, dvec) for _ in range(n_vec)]
            i_slots = [cgutils.alloca_once(builder, ivec) for _ in range(n_vec)]
            bits_slot = cgutils.alloca_once(builder, i64)
            for j in range(n_vec):
                d_ptr, i_ptr = ptrs(j)
                builder.store(builder.load(d_ptr, align=align), d_slots[j])
                builder.store(builder.load(i_ptr, align=4), i_slots[j])
            builder.store(bits_v, bits_slot)
            # the k-th value sits in vector (k - 1) // lanes, lane (k - 1) % lanes
            kth = builder.sub(k_v, ir.Constant(intp, 1))
            kth_vec = builder.udiv(kth, ir.Constant(intp, lanes))
            kth_lane = builder.trunc(builder.urem(kth, ir.Constant(intp, lanes)), i32)

            def kth_value() -> Any:
                out = ir.Constant(elem, float("-inf"))
                for j in range(n_vec):
                    lane = builder.extract_element(builder.load(d_slots[j]), kth_lane)
                    here = builder.icmp_unsigned("==", kth_vec, ir.Constant(intp, j))
                    out = builder.select(here, lane, out)
                return builder.fpext(out, dbl) if single else out

            inf_vec = ir.Constant(dvec, [float("inf")] * lanes)
            zero_ivec = ir.Constant(ivec, [0] * lanes)
            first = ir.Constant(ivec, [lanes, *range(lanes - 1)])
            carry = ir.Constant(ivec, list(range(lanes - 1, 2 * lanes - 1)))
            loop_head = builder.append_basic_block("merge.head")
            loop_body = builder.append_basic_block("merge.body")
            loop_end = builder.append_basic_block("merge.end")
            builder.branch(loop_head)
            builder.position_at_end(loop_head)
            cur_bits = builder.load(bits_slot)
            builder.cbranch(builder.icmp_unsigned("!=", cur_bits, ir.Constant(i64, 0)),
                            loop_body, loop_end)
            builder.position_at_end(loop_body)
            s = builder.call(cttz, [cur_bits, ir.Constant(ir.IntType(1), 1)])
            builder.store(builder.and_(cur_bits, builder.sub(cur_bits, ir.Constant(i64, 1))),
                          bits_slot)
            s_intp = builder.trunc(s, intp) if intp.width < 64 else s
            x = builder.load(builder.gep(b_arr.data, [builder.add(base_v, s_intp)]))
            if x.type != elem:
                x = builder.fptrunc(x, elem) if single else builder.fpext(x, elem)
            x = builder.fmul(builder.load(builder.gep(w_arr.data, [s_intp])), x)
            # no gate against the current k-th value: a value below it lands in the
            # padding slots (k <= j < lanes * n_vec) or falls off, which changes nothing the
            # caller reads, and leaving it out keeps the insert's dependency chain short
            x_vec = bcast(x, dvec)
            s_vec = bcast(builder.trunc(builder.add(s0_v, s_intp), i32), ivec)
            old_d = [builder.load(slot) for slot in d_slots]
            old_i = [builder.load(slot) for slot in i_slots]
            # a slot takes x where it holds less; it takes its predecessor's entry where
            # that one holds less (the row decreases): the take mask moved one lane up,
            # so the comparison runs on the row itself, not on its shifted copy
            takes = [builder.fcmp_ordered("<", d, x_vec) for d in old_d]
            none = ir.Constant(takes[0].type, [0] * lanes)
            for j in range(n_vec):
                if j == 0:
                    prev_d = builder.shuffle_vector(old_d[0], inf_vec, first)
                    prev_i = builder.shuffle_vector(old_i[0], zero_ivec, first)
                    shift = builder.shuffle_vector(takes[0], none, first)
                else:
                    prev_d = builder.shuffle_vector(old_d[j - 1], old_d[j], carry)
                    prev_i = builder.shuffle_vector(old_i[j - 1], old_i[j], carry)
                    shift = builder.shuffle_vector(takes[j - 1], takes[j], carry)
                take = takes[j]
                builder.store(builder.select(shift, prev_d,
                                             builder.select(take, x_vec, old_d[j])), d_slots[j])
                builder.store(builder.select(shift, prev_i,
                                             builder.select(take, s_vec, old_i[j])), i_slots[j])
            builder.branch(loop_head)
            builder.position_at_end(loop_end)
            for j in range(n_vec):
                d_ptr, i_ptr = ptrs(j)
                builder.store(builder.load(d_slots[j]), d_ptr, align=align)
                builder.store(builder.load(i_slots[j]), i_ptr, align=4)
            return kth_value()

        return sig, codegen

    return merge_hits


merge_hits_1 = _make_merge(1)
merge_hits_2 = _make_merge(2)
merge_hits_3 = _make_merge(3)
merge_hits_4 = _make_merge(4)
#: One vector of 8 or 16 float32 slots: the filter pass's rows (``merge_hits_1`` for 4).
merge_hits_8 = _make_merge(1, 8)
merge_hits_16 = _make_merge(1, 16)


# The intrinsics, typed as what they are to Python code: callables for compiled code only.
accumulate_chunk: Any = _accumulate_chunk
fmuladd: Any = _fmuladd
lowest_bit: Any = _lowest_bit
prefetch: Any = _prefetch
insert_sorted: Any = _insert_sorted

MODE_TOP = 0
"""Reduce to the largest entry of the top-k (max loss, weighted max)."""
MODE_MEAN = 1
"""Reduce to the mean of the top-k (expected shortfall)."""
MODE_KTH = 2
"""Reduce to the k-th largest (value at risk)."""

_thread_id = numba.get_thread_id  # type: ignore[attr-defined]


@njit(cache=True)
def _row_items(n, itemsize):  # type: ignore[no-untyped-def]
    """Return the length of a per-thread scratch row holding ``n`` items of ``itemsize``.

    Whole cache lines and one more: rows of a ``(n_slots, _row_items(n, itemsize))``
    array used from their start never share a line, whatever the array's alignment, so
    a thread writing its row does not take the line from another (false sharing: it
    cost ``pair_requests`` half its time on the benchmark book).
    """
    return (-(-n * itemsize // _LINE_BYTES) + 1) * _LINE_BYTES // itemsize


@njit(cache=True)
def copy_row(pnl, tile, i, tile_width, b0, bw):  # type: ignore[no-untyped-def]
    """Copy ``pnl[i, b0:b0 + bw]`` into tile row ``i`` and zero the rest of the row.

    The copy converts to the tile's precision (float64, or float32 for the filter pass).
    """
    row = i * tile_width
    for s in range(bw):
        tile[row + s] = pnl[i, b0 + s]
    for s in range(bw, tile_width):
        tile[row + s] = 0.0


@njit(parallel=True, cache=True)
def segment_topk(pnl, offsets, instrument, quantity, weights, weighted, k,  # type: ignore[no-untyped-def]
                  tiles, tile_width, part_width, chunk, group, n_slots, top_value, top_index,
                  threshold):
    """Fill each segment's decreasing top-k row ``top_value[g * kp : g * kp + k]``.

    The accumulator sums ``+q x pnl`` in the precision of ``tiles`` and ``quantity``
    (float64, or float32 for the filter pass; ``part_width`` is :func:`acc_width` of
    it); the sign (and the weight) is applied in float64 through ``scale = -w``, exactly,
    as losses reach the top-k, in the precision of ``top_value``: float64, or float32
    rows of 4, 8 or 16 slots (one vector) for the filter pass, where the weight's product
    is rounded to float32 too. Scratch buffers are per thread (``n_slots`` >= the number of
    threads), indexed by the worker's thread id.

    ``pnl`` is copied, in the precision of the pass, into ``tiles``: scenario blocks of
    ``tile_width`` columns, each ``n_instruments x tile_width`` and contiguous, all of
    them up front where ``tiles`` has room, else one at a time into its start (then
    ``group`` must cover every chunk). The segments go by groups of ``group`` chunks of
    ``chunk`` segments, each group through every tile before the next: a group's rows,
    thresholds and positions stay in the shared cache from tile to tile, and each tile
    in a core's own cache while the group's chunks pass over it.
    """
    n_instruments, n_scenarios = pnl.shape
    n_seg = offsets.size - 1
    kp = top_value.size // max(1, n_seg)
    n_chunk = (n_seg + chunk - 1) // chunk
    # the first merge's lower bound (see accumulate_chunk), where k allows it
    rank = k if k <= BOUND_GROUPS else 0
    bufs = np.empty((n_slots, _row_items(chunk * MERGE_WIDTH, tiles.itemsize)),
                    dtype=tiles.dtype)
    part_scales = np.empty((n_slots, _row_items(MERGE_WIDTH, tiles.itemsize)), dtype=tiles.dtype)
    part_masks = np.empty((n_slots, _row_items(MERGE_WIDTH, tiles.itemsize)), dtype=tiles.dtype)
    hits_all = np.empty((n_slots, _row_items(chunk, 8)), dtype=np.int64)
    scales = np.empty((n_slots, _row_items(MERGE_WIDTH, top_value.itemsize)),
                      dtype=top_value.dtype)
    threshold[:] = -np.inf
    for x in prange(top_value.size):
        top_value[x] = -np.inf
        top_index[x] = -1
    # every tile copied up front where ``tiles`` holds them all, else one at a time
    held = tiles.size >= n_instruments * tile_width * ((n_scenarios - 1) // tile_width + 1)
    if held:
        for i in prange(n_instruments):
            for b0 in range(0, n_scenarios, tile_width):
                copy_row(pnl, tiles[b0 * n_instruments:], i, tile_width, b0,
                         min(tile_width, n_scenarios - b0))
    for c0 in range(0, n_chunk, group):
        for b0 in range(0, n_scenarios, tile_width):
            if not held:
                for i in prange(n_instruments):
                    copy_row(pnl, tiles, i, tile_width, b0, min(tile_width, n_scenarios - b0))
            for c in prange(c0, min(n_chunk, c0 + group)):
                slot = _thread_id()
                g0 = c * chunk
                _chunk_pass(tiles, tile_width, b0 * n_instruments if held else 0, b0,
                            n_scenarios, offsets, instrument, quantity, weights, weighted, k,
                            rank, part_width, g0, min(n_seg, g0 + chunk), bufs[slot],
                            hits_all[slot], scales[slot], part_scales[slot], part_masks[slot],
                            threshold, top_value, top_index, kp)


@njit(cache=True)
def _chunk_pass(tiles, tile_width, at, b0, n_scenarios, offsets,  # type: ignore[no-untyped-def]
                instrument, quantity, weights, weighted, k, rank, part_width, g0, g1, buf,
                hits, scale, part_scale, part_mask, threshold, top_value, top_index, kp):
    """Run segments ``g0 <= g < g1`` over the tile of scenarios from ``b0``.

    The tile starts at ``tiles[at]``. Each merge group of it is accumulated
    (:func:`accumulate_chunk`), then its hits merged into the rows (:func:`segment_topk`
    gives the arguments' meaning).
    """
    bw = min(tile_width, n_scenarios - b0)
    for m0 in range(0, bw, MERGE_WIDTH):
        mw = min(MERGE_WIDTH, bw - m0)
        s0 = b0 + m0
        for s in range(MERGE_WIDTH):
            if s < mw:
                part_mask[s] = 0.0
                scale[s] = -weights[s0 + s] if weighted else -1.0
            else:
                part_mask[s] = -np.inf
                scale[s] = -1.0
            part_scale[s] = scale[s]
        for part in range(MERGE_WIDTH // part_width):
            if part * part_width < mw:  # (a short last group may have one part)
                accumulate_chunk(tiles, tile_width, at + m0 + part * part_width, offsets,
                                 instrument, quantity, g0, g1, buf, part_scale, part_mask,
                                 threshold, hits, part, rank)
        for j in range(g1 - g0):
            if hits[j] != 0:
                g = g0 + j
                threshold[g] = _merge_row(top_value, top_index, kp, g, buf, j * MERGE_WIDTH,
                                          hits[j], scale, s0, k, threshold[g])


@njit(cache=True, inline="always")
def _merge_row(top_value, top_index, kp, g, buf, base, bits, scale, s0, k, t):  # type: ignore[no-untyped-def]
    """Merge segment ``g``'s flagged scenarios into its row; return its new k-th value.

    ``t`` is the row's k-th value before the merge. Inlined by numba: as a call, its
    arguments and saved registers cost 0.05 s of the benchmark book's 0.7 s.
    """
    row = g * kp
    if top_value.itemsize == 4 and kp == 16:
        return merge_hits_16(top_value, top_index, row, buf, base, bits, scale, s0, k)
    if top_value.itemsize == 4 and kp == 8:
        return merge_hits_8(top_value, top_index, row, buf, base, bits, scale, s0, k)
    n_vec = kp // 4
    if n_vec == 1:
        return merge_hits_1(top_value, top_index, row, buf, base, bits, scale, s0, k)
    if n_vec == 2:
        return merge_hits_2(top_value, top_index, row, buf, base, bits, scale, s0, k)
    if n_vec == 3:
        return merge_hits_3(top_value, top_index, row, buf, base, bits, scale, s0, k)
    if n_vec == 4:
        return merge_hits_4(top_value, top_index, row, buf, base, bits, scale, s0, k)
    while bits != 0:
        s = lowest_bit(bits)
        bits &= bits - 1
        x = scale[s] * buf[base + s]
        if x > t:
            insert_sorted(top_value, top_index, row, n_vec, x, s0 + s)
            t = top_value[row + k - 1]
    return t


@njit(parallel=True, cache=True)
def row_abs_max(pnl):  # type: ignore[no-untyped-def]
    """Return ``max_s |pnl[i, s]|`` for each row ``i`` (the bound's ``M_i``)."""
    n_instruments, n_scenarios = pnl.shape
    out = np.empty(n_instruments)
    for i in prange(n_instruments):
        m = 0.0
        for s in range(n_scenarios):
            m = max(m, abs(pnl[i, s]))
        out[i] = m
    return out


@njit(parallel=True, cache=True)
def to_single(quantity, out):  # type: ignore[no-untyped-def]
    """Round ``quantity`` to float32 into ``out``; return ``max |quantity|`` (0 if empty)."""
    top = 0.0
    for p in prange(quantity.size):
        q = quantity[p]
        out[p] = q
        top = max(top, abs(q))
    return top


#: Unit roundoff of float32 and float64, and float32's smallest subnormal.
_U32 = 2.0**-24
_U64 = 2.0**-53
_TINY32 = 2.0**-149
#: Largest sum of ``|q| max|pnl|`` a segment may have for its float32 pass.
FILTER_RANGE = 2.0**100


@njit(parallel=True, cache=True)
def filter_bounds(row_max, offsets, instrument, quantity, w_max, bound):  # type: ignore[no-untyped-def]
    r"""Bound, per segment, the gap between its float32 and float64 scenario losses.

    ``bound[g] >= |x32 - x64|`` for every scenario, with ``x`` the scaled loss of
    :func:`segment_topk` in either precision, or ``inf`` where the float32 pass cannot
    be trusted (a segment of ``2**20`` positions or more, or sums beyond
    ``FILTER_RANGE``). ``row_max[i]`` is ``max_s |pnl[i, s]|``; ``w_max`` the largest
    scale (1 without weights).

    Notes
    -----
    With :math:`M_i = \max_s |\mathrm{pnl}_{i,s}|`, :math:`A = \sum_p |q_p| M_{i_p}`,
    :math:`Q = \sum_p |q_p|`, :math:`M = \sum_p M_{i_p}` and :math:`n` positions,
    rounding the inputs to float32 and summing
    :math:`n` fused products in each precision gives (Higham 2002, eq. 3.4, with
    :math:`\gamma_n = nu / (1 - nu)`)

    .. math:: |x_{32} - x_{64}| \le w_{\max} \bigl((\gamma^{(32)}_{n+2} +
              \gamma^{(64)}_{n+4}) A + (n + 1) 2^{-149} (1 + Q + M)\bigr),

    the last term for float32's subnormal range; the bound is widened by 0.1% against
    its own rounding.

    References
    ----------
    N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM,
    2002, section 3.1.
    """
    n_seg = offsets.size - 1
    for g in prange(n_seg):
        p0 = offsets[g]
        p1 = offsets[g + 1]
        n = p1 - p0
        a = 0.0
        total_q = 0.0
        total_m = 0.0
        for p in range(p0, p1):
            q = abs(quantity[p])
            m = row_max[instrument[p]]
            a += q * m
            total_q += q
            total_m += m
        if n >= 2**20 or not max(a, total_q, total_m) < FILTER_RANGE:
            bound[g] = np.inf
            continue
        g32 = (n + 2) * _U32 / (1.0 - (n + 2) * _U32)
        g64 = (n + 4) * _U64 / (1.0 - (n + 4) * _U64)
        e = (g32 + g64) * a + (n + 1) * _TINY32 * (1.0 + total_q + total_m)
        bound[g] = w_max * e * 1.001


@njit(cache=True)
def _settle_row(top_value, top_index, row, k, kp):  # type: ignore[no-untyped-def]
    """Sort the ``k`` float64 losses of ``top_value[row:row + k]`` in place.

    They stand in the float32 order, which the float64 losses nearly keep, so the
    insertion sort moves little. The order is the merges' order: decreasing, ties by
    increasing scenario; slots ``k`` to ``kp`` are emptied.
    """
    for j in range(1, k):
        x = top_value[row + j]
        s = top_index[row + j]
        i = j
        while i > 0 and (top_value[row + i - 1] < x or (
                top_value[row + i - 1] == x and top_index[row + i - 1] > s)):
            top_value[row + i] = top_value[row + i - 1]
            top_index[row + i] = top_index[row + i - 1]
            i -= 1
        top_value[row + i] = x
        top_index[row + i] = s
    for j in range(k, kp):
        top_value[row + j] = -np.inf
        top_index[row + j] = -1


@njit(cache=True)
def _settles(top_value, row, k, bound):  # type: ignore[no-untyped-def]
    """Whether a filter row's first ``k`` scenarios are provably the float64 top-k.

    Float32 rows carry one more rounding, of the weight's product: up to ``2**-23`` of
    the value and float32's smallest subnormal each side, allowed for at both ends.
    """
    t = float(top_value[row + k - 1])
    u = float(top_value[row + k])
    cut = t - 2.0 * bound - abs(t) * 2.0**-50
    if top_value.itemsize == 4:
        cut -= (abs(t) + abs(u)) * 2.0**-22 + 2.0**-147
    return u < cut


@njit(parallel=True, cache=True)
def exact_rows(pnl, offsets, instrument, quantity, weights, weighted, k, bound,  # type: ignore[no-untyped-def]
               tile_width, top_value, top_index, out_value, out_index, fallback, pairs):
    """Turn each segment's filter row of ``k + 1`` losses into its exact float64 top-k row.

    Row ``g`` of ``top_value``/``top_index`` holds the ``k + 1`` largest filter losses
    of segment ``g`` (:func:`segment_topk` on the float32 pass, float32 or float64
    rows). Where the ``(k + 1)``-th lies below ``cut = T - 2 bound[g]`` (``T`` the k-th,
    less rounding allowances), the row's first ``k`` scenarios are exactly the
    segment's float64 top-k: recomputed here in float64, in storage order with the
    fused multiply-add of :func:`accumulate_chunk` (bit for bit the float64 pass's
    sums), and written to row ``g`` of ``out_value``/``out_index`` sorted as
    :func:`merge_hits_1` sorts (decreasing, ties by increasing scenario). Elsewhere
    ``fallback[g]`` is set and the row is left for the caller to recompute in float64.

    With ``tile_width >= n_scenarios`` the losses are read from ``pnl`` itself in one
    pass over the segments (the caller's choice where ``pnl`` fits the shared cache;
    ``pairs`` empty). Otherwise only the row scenarios are written, and counted by
    scenario tile of ``tile_width`` columns: ``pairs[1 + t * n_seg + g]`` (zeros on
    entry) gets how many of segment ``g``'s lie in tile ``t``; the caller then settles
    them from the tiles (:func:`pair_starts`, :func:`pair_requests`,
    :func:`settle_tile`, :func:`sort_rows`).

    Notes
    -----
    Every filter loss is within ``b = bound[g]`` of its float64 loss. The first ``k``
    rows have float64 losses of at least ``T - b``, so the k-th largest float64 loss is
    at least ``T - b``; any scenario outside them has a filter loss at most the
    ``(k + 1)``-th, below ``T - 2 b``, so a float64 loss below ``T - b``: strictly
    below the k-th, whatever the order of ties.
    """
    n_scenarios = pnl.shape[1]
    n_seg = offsets.size - 1
    kp = top_value.size // max(1, n_seg)
    kq = out_value.size // max(1, n_seg)
    direct = tile_width >= n_scenarios
    flat = pnl.reshape(-1)  # unsigned offsets into it: no negative-index wrapping
    for g in prange(n_seg):
        row = g * kp
        out = g * kq
        fallback[g] = not _settles(top_value, row, k, bound[g])
        if fallback[g]:
            continue
        for j in range(k):
            out_index[out + j] = top_index[row + j]
        if not direct:
            for j in range(k):
                pairs[1 + _tile_of(out_index[out + j], tile_width) * n_seg + g] += 1
            continue
        # positions outer: the k sums are independent chains, each in storage order
        for j in range(k):
            out_value[out + j] = 0.0
        for p in range(offsets[g], offsets[g + 1]):
            q = quantity[p]
            at = np.uint64(instrument[p]) * np.uint64(n_scenarios)
            for j in range(k):
                out_value[out + j] = fmuladd(q, flat[at + np.uint64(out_index[out + j])],
                                             out_value[out + j])
        for j in range(k):
            s = out_index[out + j]
            out_value[out + j] *= -weights[s] if weighted else -1.0
        _settle_row(out_value, out_index, out, k, kq)


@njit(cache=True)
def pair_starts(pairs):  # type: ignore[no-untyped-def]
    """Turn the per-(tile, segment) scenario counts of :func:`exact_rows` into pair starts.

    ``pairs[x]`` becomes the number of pairs (``ceil(count / 2)``) of the entries before
    ``x``: where each (tile, segment)'s pairs begin in the request list, tile by tile;
    the last entry is the total.
    """
    for x in range(1, pairs.size):
        pairs[x] = pairs[x - 1] + (pairs[x] + 1) // 2


@njit(parallel=True, cache=True)
def settle_tile(pnl, tile, tile_width, b0, r0, r1, offsets, instrument, quantity, weights,  # type: ignore[no-untyped-def]
                weighted, out_value, out_index, kq, req_seg, req_a, req_b):
    """Copy the scenario tile from ``b0`` into ``tile`` and settle its pairs ``r0 <= r < r1``.

    Each pair (:func:`pair_requests`) gets its two sums in one sweep over the segment's
    positions (:func:`_pair_sums`); the entries of the pair ``SETTLE_PREFETCH`` ahead
    are prefetched.
    """
    n_instruments, n_scenarios = pnl.shape
    bw = min(tile_width, n_scenarios - b0)
    for i in prange(n_instruments):
        copy_row(pnl, tile, i, tile_width, b0, bw)
    for r in prange(r0, r1):
        ahead = r + SETTLE_PREFETCH
        if ahead < r1:
            _pair_sums(tile, tile_width, b0, offsets, instrument, quantity, weights, weighted,
                       out_value, out_index, kq, req_seg[ahead], req_a[ahead], req_b[ahead],
                       False)
        _pair_sums(tile, tile_width, b0, offsets, instrument, quantity, weights, weighted,
                   out_value, out_index, kq, req_seg[r], req_a[r], req_b[r], True)


@njit(parallel=True, cache=True)
def sort_rows(out_value, out_index, fallback, k, kq):  # type: ignore[no-untyped-def]
    """Sort each settled row's ``k`` float64 losses (:func:`_settle_row`)."""
    for g in prange(fallback.size):
        if not fallback[g]:
            _settle_row(out_value, out_index, g * kq, k, kq)


@njit(cache=True, inline="always")
def _tile_of(scenario, tile_width):  # type: ignore[no-untyped-def]
    """Return the tile holding ``scenario`` (unsigned division: no sign fix-up)."""
    return np.int64(np.uint32(scenario) // np.uint32(tile_width))


@njit(parallel=True, cache=True)
def pair_requests(out_index, fallback, k, kq, tile_width, n_tiles, n_slots, start,  # type: ignore[no-untyped-def]
                  req_seg, req_a, req_b):
    """Write each settled segment's row slots, paired by tile, into the request list.

    ``start[t * n_seg + g]`` (:func:`pair_starts`) is where the pairs of segment ``g`` in
    tile ``t`` begin; it is advanced past them. Slots pair in row order within a tile;
    an odd one out is paired with itself (``req_a == req_b``: the same sum, written
    twice). ``req_a`` and ``req_b`` may be any integer type holding ``k - 1``; scratch
    is per thread (``n_slots`` >= the number of threads).
    """
    n_seg = fallback.size
    waiting = np.full((n_slots, _row_items(n_tiles, 4)), -1, dtype=np.int32)
    for g in prange(n_seg):
        if fallback[g]:
            continue
        wait = waiting[_thread_id()]
        out = g * kq
        for j in range(k):
            t = _tile_of(out_index[out + j], tile_width)
            if wait[t] < 0:
                wait[t] = j
            else:
                _add_pair(start, t * n_seg + g, req_seg, req_a, req_b, g, wait[t], j)
                wait[t] = -1
        for j in range(k):  # the odd ones out
            t = _tile_of(out_index[out + j], tile_width)
            if wait[t] >= 0:
                _add_pair(start, t * n_seg + g, req_seg, req_a, req_b, g, wait[t], wait[t])
                wait[t] = -1


@njit(cache=True, inline="always")
def _add_pair(start, x, req_seg, req_a, req_b, g, ja, jb):  # type: ignore[no-untyped-def]
    """Append the pair ``(ja, jb)`` of segment ``g`` at ``start[x]`` and advance it."""
    at = start[x]
    start[x] = at + 1
    req_seg[at] = g
    req_a[at] = ja
    req_b[at] = jb


@njit(cache=True, inline="always")
def _pair_sums(tile, tile_width, b0, offsets, instrument, quantity, weights, weighted,  # type: ignore[no-untyped-def]
               out_value, out_index, kq, g, ja, jb, write):
    """Sum segment ``g``'s row slots ``ja`` and ``jb`` from the tile (or prefetch them).

    ``out_value[g * kq + j] = -w_s sum_p q_p tile[i_p, s - b0]`` for ``s = out_index[g *
    kq + j]``, in storage order with :func:`fmuladd`, the two sums in one sweep over the
    positions (independent chains); with ``write`` False their tile entries are only
    prefetched. Offsets are unsigned (every one in range): no negative-index wrapping.
    """
    sa = g * kq + ja
    sb = g * kq + jb
    ca = np.uint64(out_index[sa] - b0)
    cb = np.uint64(out_index[sb] - b0)
    p0 = offsets[g]
    p1 = offsets[g + 1]
    if not write:
        for p in range(p0, p1):
            at = np.uint64(instrument[np.uint64(p)]) * np.uint64(tile_width)
            prefetch(tile, at + ca)
            prefetch(tile, at + cb)
        return
    xa = xb = 0.0
    for p in range(p0, p1):
        up = np.uint64(p)
        q = quantity[up]
        at = np.uint64(instrument[up]) * np.uint64(tile_width)
        xa = fmuladd(q, tile[at + ca], xa)
        xb = fmuladd(q, tile[at + cb], xb)
    out_value[sa] = (-weights[out_index[sa]] if weighted else -1.0) * xa
    out_value[sb] = (-weights[out_index[sb]] if weighted else -1.0) * xb


@njit(parallel=True, cache=True)
def redo_rows(pnl, offsets, instrument, quantity, weights, weighted, k, redo, n_slots,  # type: ignore[no-untyped-def]
              top_value, top_index):
    """Recompute the rows of segments ``redo`` in float64 straight from ``pnl``.

    For each ``g = redo[r]``, its whole loss row ``L_s = -w_s sum_p q_p pnl[i_p, s]``
    (storage order, :func:`fmuladd`: the segment pass's sums bit for bit) in a per-thread
    buffer (``n_slots`` at least the number of threads), then its top-k into row ``g`` of
    ``top_value``/``top_index`` by :func:`vector_topk`, in the merges' order
    (decreasing, ties by increasing scenario; slots ``k`` onwards emptied). The mixed
    pass's route for the few segments its float32 filter cannot settle: no tiled copy
    of ``pnl``.
    """
    n_scenarios = pnl.shape[1]
    n_seg = offsets.size - 1
    kq = top_value.size // max(1, n_seg)
    losses = np.empty((n_slots, _row_items(n_scenarios, 8)))
    for r in prange(redo.size):
        loss = losses[_thread_id(), :n_scenarios]
        g = redo[r]
        for s in range(n_scenarios):
            loss[s] = 0.0
        for p in range(offsets[g], offsets[g + 1]):
            q = quantity[p]
            i = instrument[p]
            for s in range(n_scenarios):
                loss[s] = fmuladd(q, pnl[i, s], loss[s])
        for s in range(n_scenarios):  # the loss: exactly -1 x the sum, as the pass's scale
            loss[s] = -loss[s]
        row = g * kq
        vector_topk(loss, pnl, -1, 0.0, weights, weighted, k, top_value[row:row + k],
                    top_index[row:row + k])
        for j in range(k, kq):
            top_value[row + j] = -np.inf
            top_index[row + j] = -1


@njit(parallel=True, cache=True)
def finish(top_value, top_index, k, mode, value, driver):  # type: ignore[no-untyped-def]
    """Reduce each segment's top-k row to its value and driving scenario."""
    n_seg = value.size
    kp = top_value.size // max(1, n_seg)
    for g in prange(n_seg):
        row = g * kp
        if mode == MODE_MEAN:
            total = 0.0
            for j in range(k):
                total += top_value[row + j]
            value[g] = total / k
            driver[g] = top_index[row]
        elif mode == MODE_KTH:
            value[g] = top_value[row + k - 1]
            driver[g] = top_index[row + k - 1]
        else:
            value[g] = top_value[row]
            driver[g] = top_index[row]


@njit(cache=True)
def vector_losses(pnl, instruments, neg_quantities, out):  # type: ignore[no-untyped-def]
    """Write one account's losses ``out[s] = sum_p -q_p pnl[i_p, s]`` (kernel order)."""
    n_scenarios = pnl.shape[1]
    for s in range(n_scenarios):
        out[s] = 0.0
    for p in range(instruments.size):
        i = instruments[p]
        nq = neg_quantities[p]
        for s in range(n_scenarios):
            out[s] = fmuladd(nq, pnl[i, s], out[s])


@njit(cache=True)
def vector_topk(loss, pnl, row, neg_q, weights, weighted, k, top_value, top_index):  # type: ignore[no-untyped-def]
    """Top-k of ``w * (loss + neg_q * pnl[row])`` (``row < 0``: of ``w * loss``)."""
    for j in range(k):
        top_value[j] = -np.inf
        top_index[j] = -1
    t = -np.inf
    for s in range(loss.size):
        x = loss[s]
        if row >= 0:
            x = fmuladd(neg_q, pnl[row, s], x)
        if weighted:
            x = weights[s] * x
        if x > t:
            j = k - 1
            while j > 0 and top_value[j - 1] < x:
                top_value[j] = top_value[j - 1]
                top_index[j] = top_index[j - 1]
                j -= 1
            top_value[j] = x
            top_index[j] = s
            t = top_value[k - 1]


@njit(cache=True)
def reduce_one(loss, pnl, row, neg_q, weights, weighted, k, mode, top_value, top_index):  # type: ignore[no-untyped-def]
    """Return ``(value, driver)`` of ``loss`` plus an optional order row (``row >= 0``)."""
    vector_topk(loss, pnl, row, neg_q, weights, weighted, k, top_value, top_index)
    if mode == MODE_MEAN:
        total = 0.0
        for j in range(k):
            total += top_value[j]
        return total / k, top_index[0]
    if mode == MODE_KTH:
        return top_value[k - 1], top_index[k - 1]
    return top_value[0], top_index[0]


@njit(cache=True)
def reduce_many(loss, pnl, rows, neg_qs, weights, weighted, k, mode, value, driver):  # type: ignore[no-untyped-def]
    """Evaluate each single-order alternative ``(rows[o], -neg_qs[o])`` against ``loss``."""
    top_value = np.empty(k)
    top_index = np.empty(k, dtype=np.int64)
    for o in range(rows.size):
        v, d = reduce_one(loss, pnl, rows[o], neg_qs[o], weights, weighted, k, mode,
                           top_value, top_index)
        value[o] = v
        driver[o] = d



@njit(cache=True)
def add_row(loss, pnl, row, neg_q):  # type: ignore[no-untyped-def]
    """Add an order in place: ``loss += neg_q x pnl[row]`` with the kernel's FMA."""
    for s in range(loss.size):
        loss[s] = fmuladd(neg_q, pnl[row, s], loss[s])
