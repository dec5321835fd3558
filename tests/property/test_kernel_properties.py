"""Properties of the segment kernel on random books (hypothesis)."""

from __future__ import annotations

from dataclasses import dataclass
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.core.errors import InputError
from crossmargin.kernels import (
    ExpectedShortfall,
    MaxLoss,
    Reduction,
    ValueAtRisk,
    WeightedMax,
    reduce_segments,
)
from crossmargin.kernels import reduce as reduce_module

#: Relative to the magnitude of the summed terms of a segment.
REL_TOL = 1e-12


@dataclass
class Case:
    pnl: np.ndarray
    offsets: np.ndarray
    instrument: np.ndarray
    quantity: np.ndarray
    k: int

    def run(self, reduction: Reduction, *, quantity: np.ndarray | None = None,
            instrument: np.ndarray | None = None) -> np.ndarray:
        return reduce_segments(
            pnl=self.pnl, seg_offsets=self.offsets,
            pos_instrument=self.instrument if instrument is None else instrument,
            pos_quantity=self.quantity if quantity is None else quantity,
            reduction=reduction).value

    def tol(self) -> float:
        return REL_TOL * max(1.0, float(np.abs(self.quantity).sum())
                             * float(np.abs(self.pnl).max(initial=0.0)))


finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
nonzero = st.floats(min_value=1e-3, max_value=1e3).flatmap(
    lambda v: st.sampled_from([v, -v]))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n_inst = draw(st.integers(1, 6))
    n_scen = draw(st.integers(1, 70))
    pnl = np.array(draw(st.lists(finite, min_size=n_inst * n_scen, max_size=n_inst * n_scen)),
                   dtype=np.float64).reshape(n_inst, n_scen)
    counts = draw(st.lists(st.integers(0, 6), min_size=0, max_size=8))
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    n_pos = int(offsets[-1])
    instrument = np.array(draw(st.lists(st.integers(0, n_inst - 1), min_size=n_pos,
                                        max_size=n_pos)), dtype=np.int64)
    quantity = np.array(draw(st.lists(nonzero, min_size=n_pos, max_size=n_pos)),
                        dtype=np.float64)
    k = draw(st.integers(1, n_scen))
    return Case(pnl=pnl, offsets=offsets, instrument=instrument, quantity=quantity, k=k)


def all_reductions(case: Case) -> list[Reduction]:
    n_scen = case.pnl.shape[1]
    return [MaxLoss(), WeightedMax(weights=np.linspace(0.35, 1.0, n_scen)),
            ExpectedShortfall(k=case.k), ValueAtRisk(k=case.k)]


@given(cases())
def test_never_nan(case: Case) -> None:
    for reduction in all_reductions(case):
        assert np.isfinite(case.run(reduction)).all()


@given(cases(), st.randoms(use_true_random=False))
def test_order_within_segment_does_not_matter(case: Case, rnd: object) -> None:
    order = np.arange(case.instrument.size)
    for g in range(case.offsets.size - 1):
        part = order[case.offsets[g]:case.offsets[g + 1]].tolist()
        rnd.shuffle(part)  # type: ignore[attr-defined]
        order[case.offsets[g]:case.offsets[g + 1]] = part
    for reduction in all_reductions(case):
        a = case.run(reduction)
        b = case.run(reduction, quantity=case.quantity[order],
                     instrument=case.instrument[order])
        np.testing.assert_allclose(a, b, rtol=0, atol=case.tol())


@given(cases(), st.sampled_from([0.25, 2.0, 8.0, 3.0, 0.1, 1e3]))
def test_positive_scaling(case: Case, c: float) -> None:
    for reduction in (MaxLoss(), ExpectedShortfall(k=case.k), ValueAtRisk(k=case.k)):
        a = case.run(reduction)
        b = case.run(reduction, quantity=case.quantity * c)
        np.testing.assert_allclose(b, c * a, rtol=0, atol=c * case.tol() * 4)
        tiny = np.abs(case.pnl[case.pnl != 0]).min(initial=1.0) < 1e-200
        if c in (0.25, 2.0, 8.0) and not tiny:  # powers of two scale exactly (no subnormals)
            np.testing.assert_array_equal(b, c * a)


@given(cases())
def test_expected_shortfall_is_at_least_var(case: Case) -> None:
    es = case.run(ExpectedShortfall(k=case.k))
    var = case.run(ValueAtRisk(k=case.k))
    assert (es - var >= -case.tol()).all()
    if case.k == 1:
        np.testing.assert_array_equal(es, case.run(MaxLoss()))


@given(cases(), st.data())
def test_nan_in_pnl_raises(case: Case, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, case.pnl.shape[0] - 1))
    s = data.draw(st.integers(0, case.pnl.shape[1] - 1))
    bad = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    case.pnl[i, s] = bad
    for reduction in all_reductions(case):
        with pytest.raises(InputError, match=rf"pnl\[{i}, {s}\]"):
            case.run(reduction)


@st.composite
def tied_cases(draw: st.DrawFn) -> Case:
    """Books built to tie and cancel: repeated scenario columns, integer P&L, and
    positions that offset each other (the float32 filter must hand these to float64)."""
    case = draw(cases())
    n_scen = case.pnl.shape[1]
    if draw(st.booleans()):  # repeat a few columns: ties at any rank
        source = np.array(draw(st.lists(st.integers(0, n_scen - 1), min_size=n_scen,
                                        max_size=n_scen)))
        case.pnl = case.pnl[:, source]
    if draw(st.booleans()):  # small integers: many exact ties
        case.pnl = np.round(case.pnl / 200.0)
    if draw(st.booleans()) and case.quantity.size:  # each position hedged by its opposite
        case.instrument = np.repeat(case.instrument, 2)
        case.quantity = np.repeat(case.quantity, 2) * np.tile([1.0, -1.0], case.quantity.size)
        case.offsets = case.offsets * 2
    return case


@given(st.one_of(cases(), tied_cases()), st.sampled_from([0, 1, 3]),
       st.sampled_from(["rows", "pass"]))
def test_precisions_agree_bit_for_bit(case: Case, exact_tile: int, redo_by: str) -> None:
    """The float32 filter settled in float64 returns exactly what float64 alone does:
    values, drivers and tails (reduce_segments, precision; kernels._engine.exact_rows),
    whether the settling pass reads pnl in place (``exact_tile`` 0) or from tiles of one
    or three scenarios (lone and paired requests), and whether the segments it cannot
    settle are redone row by row (redo_rows) or by the float64 pass."""
    direct = exact_tile == 0
    tile_bytes = 8 * max(1, case.pnl.shape[0]) * exact_tile
    with patch.object(reduce_module, "EXACT_DIRECT_BYTES", 2**62 if direct else 0), \
            patch.object(reduce_module, "EXACT_TILE_BYTES", 2**62 if direct else tile_bytes), \
            patch.object(reduce_module, "REDO_DIRECT_READS", 2**62 if redo_by == "rows" else -1):
        for reduction in all_reductions(case):
            got = {precision: reduce_segments(
                pnl=case.pnl, seg_offsets=case.offsets, pos_instrument=case.instrument,
                pos_quantity=case.quantity, reduction=reduction, keep_tail=True,
                precision=precision) for precision in ("mixed", "double")}
            mixed, double = got["mixed"], got["double"]
            assert mixed.tail is not None and double.tail is not None
            np.testing.assert_array_equal(mixed.value, double.value)
            np.testing.assert_array_equal(np.signbit(mixed.value), np.signbit(double.value))
            np.testing.assert_array_equal(mixed.driver, double.driver)
            np.testing.assert_array_equal(mixed.tail, double.tail)
