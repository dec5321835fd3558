"""Input checks shared by the kernels: done once, before any compiled code runs.

A NaN or an out-of-range index must fail loudly with the field that holds it; it must
never reach a kernel, where a NaN loss would compare false against every running
maximum and quietly vanish into a zero margin.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray

__all__ = ["Positions", "check_pnl", "check_positions", "float_vector", "int_vector"]

#: Largest loss magnitude accepted; above it sums could overflow to inf and then NaN.
_LOSS_LIMIT = 1e300


class Positions(NamedTuple):
    """Validated positions in the kernels' internal form."""

    offsets: IntArray
    """(n_seg + 1,) int64 CSR offsets."""
    instrument: npt.NDArray[np.int32]
    """(n_pos,) int32 row of ``pnl``."""
    quantity: npt.NDArray[np.floating]
    """(n_pos,) float64 quantity (the caller's array when already float64); float32 for
    the mixed pass's filter."""


def _first(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def float_vector(values: object, *, field: str) -> FloatArray:
    """Return ``values`` as a 1-D float64 array or raise :class:`InputError`."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"must be 1-D, got shape {arr.shape}", field=field)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"must be numbers, got dtype {arr.dtype}", field=field)
    return np.ascontiguousarray(arr, dtype=np.float64)


def int_vector(values: object, *, field: str) -> IntArray:
    """Return ``values`` as a 1-D int64 array or raise :class:`InputError`."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"must be 1-D, got shape {arr.shape}", field=field)
    if arr.size and arr.dtype.kind not in "iu":
        raise InputError(f"must be integers, got dtype {arr.dtype}", field=field)
    return np.ascontiguousarray(arr, dtype=np.int64)


def check_pnl(pnl: object) -> FloatArray:
    """Return ``pnl`` as a finite, C-contiguous float64 matrix (instruments x scenarios)."""
    arr = np.asarray(pnl)
    if arr.ndim != 2:
        raise InputError(f"must be a 2-D matrix (instruments x scenarios), got shape "
                         f"{arr.shape}", field="pnl")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"must be numbers, got dtype {arr.dtype}", field="pnl")
    if arr.shape[1] == 0:
        raise InputError("needs at least one scenario", field="pnl")
    if arr.shape[0] >= 2**31 - 1:
        raise InputError("too many instruments for the kernel (2**31 - 1)", field="pnl")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if arr.size and not np.isfinite(arr).all():
        i, s = (int(v) for v in np.argwhere(~np.isfinite(arr))[0])
        raise InputError("must be finite", field=f"pnl[{i}, {s}]", value=float(arr[i, s]))
    return arr


@njit(parallel=True, cache=True)
def _convert(instrument, quantity, n_instruments, inst_out):  # type: ignore[no-untyped-def]
    """Copy rows to int32 while counting bad rows and quantities; sum ``|q|``."""
    bad = 0
    total = 0.0
    for p in prange(instrument.size):
        i = instrument[p]
        q = quantity[p]
        if i < 0 or i >= n_instruments or not np.isfinite(q):
            bad += 1
            inst_out[p] = 0
        else:
            inst_out[p] = i
            total += abs(q)
    return bad, total


def check_positions(*, pnl: FloatArray, seg_offsets: object, pos_instrument: object,
                    pos_quantity: object) -> Positions:
    """Check CSR positions against ``pnl`` and convert them to the kernels' form."""
    offsets = int_vector(seg_offsets, field="seg_offsets")
    instrument = np.asarray(pos_instrument)
    if instrument.dtype not in (np.int32, np.int64) or not instrument.flags.c_contiguous:
        instrument = int_vector(instrument, field="pos_instrument")
    elif instrument.ndim != 1:
        raise InputError(f"must be 1-D, got shape {instrument.shape}", field="pos_instrument")
    quantity = float_vector(pos_quantity, field="pos_quantity")
    n_pos = instrument.size
    if quantity.size != n_pos:
        raise InputError(f"has {quantity.size} entries, pos_instrument has {n_pos}",
                         field="pos_quantity")
    if offsets.size == 0:
        raise InputError("needs at least one entry (n_seg + 1 offsets)", field="seg_offsets")
    if offsets[0] != 0:
        raise InputError("must start at 0", field="seg_offsets[0]", value=int(offsets[0]))
    if offsets[-1] != n_pos:
        raise InputError(f"must end at the number of positions ({n_pos})",
                         field=f"seg_offsets[{offsets.size - 1}]", value=int(offsets[-1]))
    steps = np.diff(offsets)
    if steps.size and steps.min() < 0:
        g = _first(steps < 0)
        raise InputError("must be non-decreasing", field=f"seg_offsets[{g + 1}]",
                         value=int(offsets[g + 1]))
    n_instruments = pnl.shape[0]
    inst32 = np.empty(n_pos, dtype=np.int32)
    bad, total = _convert(instrument, quantity, n_instruments, inst32)
    if bad:
        out_of_range = (instrument < 0) | (instrument >= n_instruments)
        if out_of_range.any():
            p = _first(out_of_range)
            raise InputError(f"must be a row of pnl (0 <= i < {n_instruments})",
                             field=f"pos_instrument[{p}]", value=int(instrument[p]))
        p = _first(~np.isfinite(quantity))
        raise InputError("must be finite", field=f"pos_quantity[{p}]", value=float(quantity[p]))
    if n_pos and pnl.size:
        scale = float(total) * max(float(pnl.max()), -float(pnl.min()))
        if not scale < _LOSS_LIMIT:
            raise InputError("quantities x pnl could overflow float64", field="pos_quantity")
    return Positions(offsets=offsets, instrument=inst32, quantity=quantity)
