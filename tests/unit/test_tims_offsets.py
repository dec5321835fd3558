"""Product-group offsets of the tims method against a dense twin, and the contract minimum."""

from __future__ import annotations

import numpy as np
import pytest

from crossmargin.book.instruments import Equity, Future, FutureOption, Option, Right
from crossmargin.methods.base import Segments
from crossmargin.methods.tims import offsets as offsets_module
from crossmargin.methods.tims.minimum import contract_minimum, segment_minimum
from crossmargin.methods.tims.offsets import offset_losses, offset_runs
from tests.conftest import AS_OF

REL = 1e-12


def _random_segments(rng: np.random.Generator, *, n_accounts: int, n_groups: int,
                     n_instruments: int) -> Segments:
    """Random (account, class group) segments in CSR order, 1 to 3 positions each."""
    keys = np.unique(rng.integers(0, n_accounts * n_groups, size=3 * n_accounts))
    lengths = rng.integers(1, 4, size=keys.size)
    return Segments(
        offsets=np.r_[0, np.cumsum(lengths)].astype(np.int64),
        instrument=rng.integers(0, n_instruments, size=int(lengths.sum())).astype(np.int64),
        quantity=rng.normal(size=int(lengths.sum())) * 10,
        account=(keys // n_groups).astype(np.int64),
        group=(keys % n_groups).astype(np.int64),
    )


def _dense_twin(pnl: np.ndarray, seg: Segments, product_group: np.ndarray,
                theta: np.ndarray) -> dict[tuple[int, int], tuple[float, int]]:
    """Loss after offsets of every (account, product group) with two or more class groups,
    one account at a time with plain loops (the definition, not the fast path)."""
    out: dict[tuple[int, int], tuple[float, int]] = {}
    members: dict[tuple[int, int], list[np.ndarray]] = {}
    for g in range(seg.account.size):
        pg = int(product_group[seg.group[g]])
        if pg < 0:
            continue
        lo, hi = seg.offsets[g], seg.offsets[g + 1]
        loss = -(seg.quantity[lo:hi, None] * pnl[seg.instrument[lo:hi]]).sum(axis=0)
        members.setdefault((int(seg.account[g]), pg), []).append(loss)
    for (a, pg), losses in members.items():
        if len(losses) < 2:
            continue
        stacked = np.asarray(losses)
        net = np.maximum(stacked, 0).sum(axis=0) - theta[pg] * np.maximum(-stacked, 0).sum(0)
        out[(a, pg)] = (float(net.max()), int(np.argmax(net)))
    return out


@pytest.mark.parametrize("block", [offsets_module.BLOCK_ENTRIES, 64])
def test_offset_losses_match_the_dense_twin(block: int,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The vectorised offsets equal the per-account definition, in one block or many."""
    monkeypatch.setattr(offsets_module, "BLOCK_ENTRIES", block)
    rng = np.random.default_rng(7)
    n_groups, n_instruments, n_scen = 6, 12, 33
    seg = _random_segments(rng, n_accounts=200, n_groups=n_groups, n_instruments=n_instruments)
    pnl = rng.normal(size=(n_instruments, n_scen))
    # class groups 0-2 form product group 0, 3-4 product group 1, 5 none
    product_group = np.array([0, 0, 0, 1, 1, -1])
    theta = np.array([0.9, 0.5])
    runs = offset_runs(seg_account=seg.account, seg_product_group=product_group[seg.group])
    loss, scenario = offset_losses(pnl=pnl, segments=seg, runs=runs,
                                   offset=theta[runs.product_group])
    twin = _dense_twin(pnl, seg, product_group, theta)
    assert runs.size == len(twin) > 20
    for r in range(runs.size):
        expected, driver = twin[(int(runs.account[r]), int(runs.product_group[r]))]
        assert loss[r] == pytest.approx(expected, rel=REL, abs=1e-9)
        assert scenario[r] == driver


def test_runs_need_two_class_groups_of_one_product_group() -> None:
    seg_account = np.array([0, 0, 1, 1, 1, 2, 2])
    seg_pg = np.array([0, 0, 0, -1, -1, 0, 1])
    runs = offset_runs(seg_account=seg_account, seg_product_group=seg_pg)
    assert runs.start.tolist() == [0]
    assert runs.count.tolist() == [2]
    assert runs.account.tolist() == [0]
    assert runs.segment_run(7).tolist() == [0, 0, -1, -1, -1, -1, -1]


def test_no_runs_no_work() -> None:
    empty = np.empty(0, dtype=np.int64)
    runs = offset_runs(seg_account=empty, seg_product_group=empty)
    assert runs.size == 0
    seg = Segments(offsets=np.zeros(1, dtype=np.int64), instrument=empty,
                   quantity=np.empty(0), account=empty, group=empty)
    loss, scenario = offset_losses(pnl=np.zeros((0, 3)), segments=seg, runs=runs,
                                   offset=np.empty(0))
    assert loss.size == scenario.size == 0


def test_minimum_nets_each_series_and_caps_long_options() -> None:
    """FINRA 4210(g) minimum: $.375 x multiplier per contract; a long option's at most
    its market value; shares carry none; a long and a short of one series cancel."""
    expiry = AS_OF.replace(month=9)
    option = Option(underlying="AAPL", right=Right.PUT, strike=150.0, expiry=expiry)
    future = Future(symbol="ESU8", underlying="SPX", expiry=expiry, multiplier=50.0)
    fop = FutureOption(future=future, right=Right.CALL, strike=2900.0, expiry=expiry,
                       multiplier=50.0)
    instruments = [Equity(symbol="AAPL"), option, future, fop]
    value = np.array([185.0, 12.0, 135000.0, 500.0])  # the put is worth $12 a contract
    short, long = contract_minimum(instruments=instruments, base_value=value,
                                   per_contract=0.375)
    assert short.tolist() == [0.0, 37.5, 18.75, 18.75]
    assert long.tolist() == [0.0, 12.0, 18.75, 18.75]
    seg = Segments(offsets=np.array([0, 3, 5, 7]), instrument=np.array([0, 1, 1, 1, 1, 2, 3]),
                   quantity=np.array([100.0, 2.0, -1.0, -3.0, 3.0, -2.0, 1.0]),
                   account=np.array([0, 1, 2]), group=np.array([0, 0, 1]))
    # segment 0: 100 shares (0) + net 1 long put (12); segment 1: nets to nothing;
    # segment 2: 2 short futures and 1 long futures option
    assert segment_minimum(seg, short=short, long=long).tolist() == [12.0, 0.0, 56.25]
