"""The compiled segment kernel against its numpy twin, and the one-account routes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest

from crossmargin.core.errors import InputError
from crossmargin.kernels import (
    ExpectedShortfall,
    MaxLoss,
    Reduction,
    ValueAtRisk,
    WeightedMax,
    WhatIf,
    account_totals,
    reduce_segments,
    reduce_vector,
    scenario_vector,
    tail_count,
    tail_scenarios,
    warmup,
)
from crossmargin.kernels import reduce as reduce_module
from crossmargin.kernels._engine import _row_items
from crossmargin.kernels.reference import (
    dense_losses,
    reduce_losses,
    reference_account_totals,
    reference_reduce_segments,
    reference_tail_scenarios,
)

#: Kernel vs twin: relative to the magnitude of the summed terms of each segment.
REL_TOL = 1e-12


@dataclass
class Book:
    pnl: np.ndarray
    offsets: np.ndarray
    instrument: np.ndarray
    quantity: np.ndarray

    def kwargs(self) -> dict[str, np.ndarray]:
        return {"pnl": self.pnl, "seg_offsets": self.offsets,
                "pos_instrument": self.instrument, "pos_quantity": self.quantity}

    def scale(self) -> np.ndarray:
        """Per segment: sum |q| x max |pnl|, the size of the terms of its losses."""
        size = np.abs(self.quantity) * float(np.abs(self.pnl).max(initial=0.0))
        per_seg = np.add.reduceat(np.r_[size, 0.0], self.offsets[:-1]) \
            if self.offsets.size > 1 else np.zeros(0)
        per_seg[np.diff(self.offsets) == 0] = 0.0
        return np.maximum(per_seg, 1.0)


def make_book(seed: int, *, n_seg: int = 300, n_inst: int = 40, n_scen: int = 77,
              max_pos: int = 8, empty: float = 0.15) -> Book:
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, max_pos + 1, n_seg)
    counts[rng.random(n_seg) < empty] = 0
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    n_pos = int(offsets[-1])
    return Book(pnl=rng.standard_normal((n_inst, n_scen)) * 100.0, offsets=offsets,
                instrument=rng.integers(0, n_inst, n_pos).astype(np.int64),
                quantity=rng.uniform(-50.0, 50.0, n_pos))


def reductions(n_scen: int, seed: int = 0) -> list[Reduction]:
    rng = np.random.default_rng(seed)
    out: list[Reduction] = [MaxLoss(), WeightedMax(weights=rng.uniform(0.2, 1.0, n_scen))]
    for k in sorted({1, 3, 10, 17}):
        if k <= n_scen:
            out += [ExpectedShortfall(k=k), ValueAtRisk(k=k)]
    return out


def assert_driver_consistent(book: Book, reduction: Reduction, value: np.ndarray,
                             driver: np.ndarray) -> None:
    """The loss at the kernel's driver is the one the reduction names (up to rounding)."""
    losses = dense_losses(pnl=book.pnl, seg_offsets=book.offsets,
                          pos_instrument=book.instrument, pos_quantity=book.quantity)
    if isinstance(reduction, WeightedMax):
        losses = losses * reduction.weights
    at_driver = losses[np.arange(losses.shape[0]), driver]
    expected = losses.max(axis=1) if isinstance(reduction, ExpectedShortfall) else value
    np.testing.assert_allclose(at_driver, expected, rtol=0, atol=REL_TOL * book.scale().max())


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_scen", [1, 5, 32, 77, 300])
def test_kernel_matches_twin(seed: int, n_scen: int) -> None:
    book = make_book(seed, n_scen=n_scen)
    for reduction in reductions(n_scen, seed):
        got = reduce_segments(**book.kwargs(), reduction=reduction, keep_tail=True)
        want = reference_reduce_segments(**book.kwargs(), reduction=reduction, keep_tail=True)
        np.testing.assert_allclose(got.value, want.value, rtol=0,
                                   atol=REL_TOL * book.scale().max(), err_msg=repr(reduction))
        assert_driver_consistent(book, reduction, got.value, got.driver)
        # away from ties (random data) the drivers and tails agree exactly
        assert np.array_equal(got.driver, want.driver), repr(reduction)
        assert got.tail is not None and want.tail is not None
        assert np.array_equal(got.tail, want.tail), repr(reduction)


def test_many_segments_across_threads_and_blocks() -> None:
    book = make_book(7, n_seg=20_000, n_inst=60, n_scen=130, max_pos=6)
    for reduction in (MaxLoss(), ExpectedShortfall(k=7), ValueAtRisk(k=13)):
        got = reduce_segments(**book.kwargs(), reduction=reduction, chunk=64)
        want = reference_reduce_segments(**book.kwargs(), reduction=reduction)
        np.testing.assert_allclose(got.value, want.value, rtol=0,
                                   atol=REL_TOL * book.scale().max())
        assert np.array_equal(got.driver, want.driver)


@pytest.mark.parametrize("precision", ["mixed", "double"])
@pytest.mark.parametrize(("group_bytes", "tiles_bytes"), [(2**62, 2**62), (1, 2**62), (1, 0)])
def test_results_do_not_depend_on_tiling(precision: str, group_bytes: int,
                                         tiles_bytes: int) -> None:
    """Tile widths, chunk sizes, groups of chunks (one chunk a group with 1 byte) and
    tiles copied all up front or one at a time (0 bytes)."""
    book = make_book(3, n_scen=200)
    reduction = ExpectedShortfall(k=9)
    first = reduce_segments(**book.kwargs(), reduction=reduction)
    with patch.object(reduce_module, "GROUP_BYTES", group_bytes), \
            patch.object(reduce_module, "TILES_BYTES", tiles_bytes):
        for tile_width, chunk in ((64, 1), (128, 7), (256, 1024)):
            other = reduce_segments(**book.kwargs(), reduction=reduction,
                                    tile_width=tile_width, chunk=chunk, precision=precision)
            assert np.array_equal(first.value, other.value)
            assert np.array_equal(first.driver, other.driver)


def test_empty_segments_lose_nothing() -> None:
    pnl = np.array([[1.0, -2.0, 3.0]])
    offsets = np.array([0, 0, 1, 1], dtype=np.int64)
    got = reduce_segments(pnl=pnl, seg_offsets=offsets, pos_instrument=np.array([0]),
                          pos_quantity=np.array([2.0]), reduction=MaxLoss())
    np.testing.assert_array_equal(got.value, [0.0, 4.0, 0.0])
    np.testing.assert_array_equal(got.driver, [0, 1, 0])


def test_no_segments_and_no_positions() -> None:
    pnl = np.ones((2, 3))
    got = reduce_segments(pnl=pnl, seg_offsets=np.array([0]), pos_instrument=np.array([]),
                          pos_quantity=np.array([]), reduction=ExpectedShortfall(k=2))
    assert got.value.shape == (0,) and got.driver.shape == (0,)
    got = reduce_segments(pnl=pnl, seg_offsets=np.array([0, 0, 0]),
                          pos_instrument=np.array([], dtype=np.int64),
                          pos_quantity=np.array([]), reduction=ValueAtRisk(k=3))
    np.testing.assert_array_equal(got.value, [0.0, 0.0])


def test_ties_go_to_the_earliest_scenario() -> None:
    pnl = np.array([[-1.0, -3.0, -3.0, 0.0, -3.0]])  # a long position loses 3 thrice
    kw = {"pnl": pnl, "seg_offsets": np.array([0, 1]), "pos_instrument": np.array([0]),
          "pos_quantity": np.array([1.0])}
    assert reduce_segments(**kw, reduction=MaxLoss()).driver[0] == 1
    es = reduce_segments(**kw, reduction=ExpectedShortfall(k=2), keep_tail=True)
    assert es.value[0] == 3.0 and es.tail is not None
    np.testing.assert_array_equal(es.tail[0], [1, 2])
    assert reduce_segments(**kw, reduction=ValueAtRisk(k=3)).driver[0] == 4


def test_weighted_max_with_unit_weights_is_max_loss() -> None:
    book = make_book(11)
    plain = reduce_segments(**book.kwargs(), reduction=MaxLoss())
    unit = reduce_segments(**book.kwargs(),
                           reduction=WeightedMax(weights=np.ones(book.pnl.shape[1])))
    assert np.array_equal(plain.value, unit.value)
    assert np.array_equal(plain.driver, unit.driver)


def test_account_totals_floor_and_sum() -> None:
    value = np.array([5.0, -2.0, 1.5, -7.0, 0.25])
    account = np.array([0, 0, 2, 2, 2])
    np.testing.assert_allclose(account_totals(value=value, seg_account=account),
                               [5.0, 0.0, 1.75])
    np.testing.assert_allclose(
        account_totals(value=value, seg_account=account, n_accounts=4, floor_at_zero=False),
        reference_account_totals(value=value, seg_account=account, n_accounts=4,
                                 floor_at_zero=False))
    with pytest.raises(InputError, match="seg_account"):
        account_totals(value=value, seg_account=account, n_accounts=2)


def test_grouped_maxima_through_account_totals() -> None:
    book = make_book(5, n_seg=60)
    seg_account = np.repeat(np.arange(20), 3)
    got = reduce_segments(**book.kwargs(), reduction=MaxLoss())
    totals = account_totals(value=got.value, seg_account=seg_account, n_accounts=20)
    want = reference_account_totals(
        value=reduce_losses(dense_losses(pnl=book.pnl, seg_offsets=book.offsets,
                                         pos_instrument=book.instrument,
                                         pos_quantity=book.quantity), MaxLoss()).value,
        seg_account=seg_account, n_accounts=20)
    np.testing.assert_allclose(totals, want, rtol=0, atol=REL_TOL * book.scale().sum())


@pytest.mark.parametrize(("confidence", "n", "k"),
                         [(0.99, 1000, 10), (0.975, 1000, 25), (0.99, 1, 1), (0.95, 250, 13),
                          (0.5, 3, 2)])
def test_tail_count(confidence: float, n: int, k: int) -> None:
    assert tail_count(confidence=confidence, n_scenarios=n) == k
    assert ExpectedShortfall.at_confidence(confidence=confidence, n_scenarios=n).k == k


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.5, float("nan")])
def test_tail_count_rejects_bad_confidence(bad: float) -> None:
    with pytest.raises(InputError, match="confidence"):
        tail_count(confidence=bad, n_scenarios=100)


def test_nan_in_pnl_is_an_input_error() -> None:
    book = make_book(0)
    book.pnl[3, 5] = np.nan
    with pytest.raises(InputError, match=r"pnl\[3, 5\]"):
        reduce_segments(**book.kwargs(), reduction=MaxLoss())


@pytest.mark.parametrize(("field", "mutate"), [
    ("pos_quantity", lambda b: b.quantity.__setitem__(4, np.inf)),
    ("pos_instrument", lambda b: b.instrument.__setitem__(2, 40)),
    ("pos_instrument", lambda b: b.instrument.__setitem__(2, -1)),
    ("seg_offsets", lambda b: b.offsets.__setitem__(-1, b.offsets[-1] + 1)),
    ("seg_offsets", lambda b: b.offsets.__setitem__(5, b.offsets[7] + 1)),
])
def test_bad_positions_name_the_field(field: str, mutate: object) -> None:
    book = make_book(1)
    mutate(book)  # type: ignore[operator]
    with pytest.raises(InputError, match=field):
        reduce_segments(**book.kwargs(), reduction=MaxLoss())


def test_bad_reductions() -> None:
    book = make_book(2, n_scen=5)
    with pytest.raises(InputError, match="k"):
        reduce_segments(**book.kwargs(), reduction=ExpectedShortfall(k=6))
    with pytest.raises(InputError, match="weights"):
        reduce_segments(**book.kwargs(), reduction=WeightedMax(weights=np.ones(4)))
    with pytest.raises(InputError, match=r"weights\[1\]"):
        WeightedMax(weights=np.array([1.0, -0.5]))
    with pytest.raises(InputError, match="k"):
        ValueAtRisk(k=0)
    with pytest.raises(InputError, match="tile_width"):
        reduce_segments(**book.kwargs(), reduction=MaxLoss(), tile_width=48)


def test_scenario_vector_is_one_segment() -> None:
    book = make_book(4)
    g = int(np.flatnonzero(np.diff(book.offsets) > 2)[0])
    p0, p1 = book.offsets[g], book.offsets[g + 1]
    loss = scenario_vector(pnl=book.pnl, instruments=book.instrument[p0:p1],
                           quantities=book.quantity[p0:p1])
    dense = dense_losses(**{"pnl": book.pnl, "seg_offsets": book.offsets,
                            "pos_instrument": book.instrument, "pos_quantity": book.quantity})
    np.testing.assert_allclose(loss, dense[g], rtol=0, atol=REL_TOL * book.scale()[g])
    for reduction in reductions(book.pnl.shape[1]):
        one = reduce_vector(loss_vector=loss, reduction=reduction)
        seg = reduce_segments(pnl=book.pnl, seg_offsets=np.array([0, p1 - p0]),
                              pos_instrument=book.instrument[p0:p1],
                              pos_quantity=book.quantity[p0:p1], reduction=reduction)
        # same fused multiply-adds in the same order: equal, not just close
        assert one.value == seg.value[0] and one.driver == seg.driver[0], repr(reduction)
        twin = reduce_losses(loss[None, :], reduction)
        assert one.value == pytest.approx(twin.value[0], rel=REL_TOL, abs=REL_TOL)


def test_tail_scenarios_matches_twin() -> None:
    loss = np.random.default_rng(9).standard_normal(200)
    loss[[3, 50, 120]] = 10.0  # a three-way tie at the top
    np.testing.assert_array_equal(tail_scenarios(loss_vector=loss, k=7),
                                  reference_tail_scenarios(loss, 7))
    np.testing.assert_array_equal(tail_scenarios(loss_vector=loss, k=3), [3, 50, 120])
    with pytest.raises(InputError, match="k"):
        tail_scenarios(loss_vector=loss, k=201)


@pytest.mark.parametrize("reduction", [MaxLoss(), ExpectedShortfall(k=5), ValueAtRisk(k=5),
                                       WeightedMax(weights=np.linspace(0.35, 1.0, 60))])
def test_whatif_equals_recomputation(reduction: Reduction) -> None:
    rng = np.random.default_rng(12)
    pnl = rng.standard_normal((30, 60))
    rows = rng.integers(0, 30, 6)
    qty = rng.uniform(-10, 10, 6)
    what_if = WhatIf(pnl=pnl, instruments=rows, quantities=qty, reduction=reduction)
    assert what_if.current() == reduce_vector(
        loss_vector=scenario_vector(pnl=pnl, instruments=rows, quantities=qty),
        reduction=reduction)
    orders_rows = rng.integers(0, 30, 25)
    orders_qty = rng.uniform(-20, 20, 25)
    many = what_if.evaluate_many(instruments=orders_rows, quantities=orders_qty)
    for o, (i, q) in enumerate(zip(orders_rows.tolist(), orders_qty.tolist(), strict=True)):
        got = what_if.evaluate(instrument=i, quantity=q)
        again = reduce_vector(
            loss_vector=scenario_vector(pnl=pnl, instruments=np.r_[rows, i],
                                        quantities=np.r_[qty, q]),
            reduction=reduction)
        assert got == again  # the order appended last: the same sums, bit for bit
        assert many.value[o] == got.value and many.driver[o] == got.driver
    what_if.apply(instrument=int(orders_rows[0]), quantity=float(orders_qty[0]))
    assert what_if.current() == what_if_after(pnl, rows, qty, orders_rows[0], orders_qty[0],
                                              reduction)
    with pytest.raises(InputError, match="instrument"):
        what_if.evaluate(instrument=30, quantity=1.0)
    with pytest.raises(InputError, match="quantity"):
        what_if.evaluate(instrument=1, quantity=float("nan"))
    with pytest.raises(ValueError, match="read-only"):
        what_if.loss_vector[0] = 1.0


def what_if_after(pnl: np.ndarray, rows: np.ndarray, qty: np.ndarray, i: int, q: float,
                  reduction: Reduction) -> object:
    return reduce_vector(loss_vector=scenario_vector(pnl=pnl, instruments=np.r_[rows, i],
                                                     quantities=np.r_[qty, q]),
                         reduction=reduction)


def test_warmup_runs() -> None:
    warmup()


def _both(book_kwargs: dict[str, object], reduction: Reduction) -> tuple[object, object]:
    return tuple(reduce_segments(**book_kwargs, reduction=reduction, keep_tail=True,  # type: ignore[arg-type]
                                 precision=precision) for precision in ("mixed", "double"))


def assert_same(a: object, b: object) -> None:
    for field in ("value", "driver", "tail"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


#: Weights a float32 cannot hold: the filter's rows round their products.
_ODD_WEIGHTS = WeightedMax(weights=1.0 + np.random.default_rng(6).random(300) / 3.0)


@pytest.mark.parametrize("reduction", [
    MaxLoss(), ExpectedShortfall(k=3), ValueAtRisk(k=6), ExpectedShortfall(k=7),
    ValueAtRisk(k=12), ExpectedShortfall(k=15), ExpectedShortfall(k=16),
    ExpectedShortfall(k=40), _ODD_WEIGHTS])
def test_mixed_precision_equals_double_on_many_segments(reduction: Reduction) -> None:
    """Filter rows of 4, 8 and 16 float32 slots (k + 1 <= 16) and float64 rows beyond."""
    book = make_book(5, n_seg=5000, n_inst=80, n_scen=300, max_pos=12)
    assert_same(*_both(book.kwargs(), reduction))


@pytest.mark.parametrize(("direct", "tile_bytes"),
                         [(2**62, 2**62), (0, 8 * 80 * 150), (0, 8 * 80 * 7)])
def test_mixed_precision_settles_from_pnl_or_tiles(direct: int, tile_bytes: int) -> None:
    """The float64 settle reads pnl in place, or tiles of 150 or 7 scenarios.

    At k = 70 a 150-scenario tile holds dozens of a row's scenarios (settled two by
    two); a 7-scenario tile holds few of them, many alone (paired with themselves).
    """
    book = make_book(8, n_seg=3000, n_inst=80, n_scen=300, max_pos=12)
    with patch.object(reduce_module, "EXACT_DIRECT_BYTES", direct), \
            patch.object(reduce_module, "EXACT_TILE_BYTES", tile_bytes):
        for reduction in (ExpectedShortfall(k=10), ExpectedShortfall(k=70), _ODD_WEIGHTS):
            assert_same(*_both(book.kwargs(), reduction))


def test_mixed_precision_settles_long_rows_from_tiles() -> None:
    """Beyond k = 256 the settle's request list holds its row slots as int32, not bytes."""
    book = make_book(9, n_seg=400, n_inst=30, n_scen=700, max_pos=12)
    with patch.object(reduce_module, "EXACT_DIRECT_BYTES", 0), \
            patch.object(reduce_module, "EXACT_TILE_BYTES", 8 * 30 * 50):
        assert_same(*_both(book.kwargs(), ExpectedShortfall(k=300)))


def test_shared_cache_size_is_the_highest_level(tmp_path: Path) -> None:
    """The last-level cache as Linux reports it; unreadable entries are skipped."""
    for index, (level, size) in enumerate([("1", "48K"), ("2", "2048K"), ("3", "260M"),
                                           ("x", "1G"), ("4", "big")]):
        entry = tmp_path / f"index{index}"
        entry.mkdir()
        (entry / "level").write_text(f"{level}\n")
        (entry / "size").write_text(f"{size}\n")
    (tmp_path / "index9").mkdir()  # no files
    assert reduce_module.shared_cache_bytes(tmp_path) == 260 * 2**20
    assert reduce_module.shared_cache_bytes(tmp_path / "absent") == 0


def test_mixed_precision_falls_back_where_the_kth_loss_ties() -> None:
    """Identical scenario columns tie at every rank: no float32 bound can separate the
    k-th loss from the next, so these segments are redone in float64."""
    rng = np.random.default_rng(4)
    pnl = np.repeat(rng.standard_normal((6, 20)), 5, axis=1)  # each column five times
    offsets = np.array([0, 3, 3, 6], dtype=np.int64)
    kw = {"pnl": pnl, "seg_offsets": offsets, "pos_instrument": np.array([0, 1, 2, 3, 4, 3]),
          "pos_quantity": np.array([2.0, -1.0, 0.5, 1.0, 3.0, -1.0])}
    for reduction in (MaxLoss(), ExpectedShortfall(k=3), ValueAtRisk(k=5)):
        assert_same(*_both(kw, reduction))


@pytest.mark.parametrize("case", ["huge pnl", "huge quantity", "huge weight", "tiny weight"])
def test_mixed_precision_leaves_float32_range_to_float64(case: str) -> None:
    """Beyond float32's safe range (FILTER_RANGE, FILTER_WEIGHTS) the pass runs in
    float64: results stay those of float64 alone, never an overflowed filter's."""
    book = make_book(9, n_scen=90)
    kw = book.kwargs()
    weights = np.ones(90)
    if case == "huge pnl":
        kw["pnl"] = book.pnl * 2.0**110
    elif case == "huge quantity":
        kw["pos_quantity"] = book.quantity * 2.0**105
    elif case == "huge weight":
        weights[3] = 2.0**40
    else:
        weights[3] = 2.0**-100
    for reduction in (MaxLoss(), WeightedMax(weights=weights), ExpectedShortfall(k=4)):
        assert_same(*_both(kw, reduction))


def test_unknown_precision_is_an_input_error() -> None:
    book = make_book(1)
    with pytest.raises(InputError, match="precision"):
        reduce_segments(**book.kwargs(), reduction=MaxLoss(), precision="half")


@pytest.mark.parametrize(("n", "itemsize"), [(1, 4), (5, 4), (16, 4), (17, 4), (64, 8), (1000, 8)])
def test_per_thread_rows_never_share_a_cache_line(n: int, itemsize: int) -> None:
    """Rows of per-thread scratch are whole lines and one more (kernels._engine._row_items):
    however the array is aligned, the items two threads write are a line apart."""
    row_bytes = _row_items(n, itemsize) * itemsize
    assert row_bytes % 64 == 0
    assert row_bytes >= n * itemsize + 64
