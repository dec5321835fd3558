"""Collateral allocation across silos: the linear program against hand solutions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from crossmargin.arrangements.allocation import allocate_collateral
from crossmargin.core.errors import InputError

TOL = 1e-7


def test_cash_goes_where_the_coin_cannot() -> None:
    """USD 100 is accepted by every silo, BTC (25 after haircut) only by crypto: the
    optimum posts BTC to crypto and USD to the rest, leaving 60 + 30 + 15 - 100 = 5 short."""
    values = np.array([[[100.0, 100.0, 100.0], [0.0, 0.0, 25.0]]])
    alloc = allocate_collateral(values=values, requirement=np.array([[60.0, 30.0, 40.0]]))
    assert alloc.shortfall.sum() == pytest.approx(5.0, abs=TOL)
    assert alloc.share[0, 1, 2] == pytest.approx(1.0, abs=TOL)
    assert alloc.excess[0] == pytest.approx(0.0, abs=TOL)


def test_cash_is_split_across_silos() -> None:
    """Cash 50 (any silo) and a coin worth 40 (silo 1 only) against 50 + 50: a rule that
    fills silos in turn from the first asset posts all cash to silo 0 and still leaves
    silo 1 10 short, the optimum; with 30 + 60 the LP splits the cash 30 / 20 and covers
    both, where filling silo 1 first with cash would leave silo 0 short."""
    values = np.array([[[50.0, 50.0], [0.0, 40.0]]])
    alloc = allocate_collateral(values=values, requirement=np.array([[50.0, 50.0]]))
    assert alloc.shortfall.sum() == pytest.approx(10.0, abs=TOL)
    alloc = allocate_collateral(values=values, requirement=np.array([[30.0, 60.0]]))
    assert alloc.shortfall.sum() == pytest.approx(0.0, abs=TOL)
    assert alloc.share[0, 0] == pytest.approx([0.6, 0.4], abs=TOL)


def test_unneeded_collateral_stays_free() -> None:
    values = np.array([[[100.0, 100.0]]])
    alloc = allocate_collateral(values=values, requirement=np.array([[10.0, 20.0]]))
    assert alloc.covered[0] == pytest.approx([10.0, 20.0], abs=TOL)
    assert alloc.excess[0] == pytest.approx(70.0, abs=TOL)


def test_bad_input_is_refused() -> None:
    with pytest.raises(InputError, match="values"):
        allocate_collateral(values=np.full((1, 1, 2), np.nan), requirement=np.zeros((1, 2)))
    with pytest.raises(InputError, match="requirement"):
        allocate_collateral(values=np.ones((1, 1, 2)), requirement=-np.ones((1, 2)))


shapes = st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3))


@given(data=st.data(), shape=shapes)
def test_shortfall_bounds(data: st.DataObject, shape: tuple[int, int, int]) -> None:
    """Shortfall is never negative, never above the unfunded requirement, and at least
    what no allocation could cover; accounts are independent of their order."""
    n, m, s = shape
    values = data.draw(arrays(np.float64, (n, m, s), elements=st.floats(0, 1e6)))
    req = data.draw(arrays(np.float64, (n, s), elements=st.floats(0, 1e6)))
    alloc = allocate_collateral(values=values, requirement=req)
    short = alloc.shortfall.sum(axis=1)
    scale = 1e-6 * (1 + req.sum(axis=1) + values.sum(axis=(1, 2)))
    assert np.all(alloc.shortfall >= 0) and np.all(np.isfinite(alloc.shortfall))
    assert np.all(short <= req.sum(axis=1) + scale)
    assert np.all(short >= req.sum(axis=1) - values.max(axis=2).sum(axis=1) - scale)
    assert np.all(alloc.share.sum(axis=2) <= 1 + 1e-9)
    flipped = allocate_collateral(values=values[::-1], requirement=req[::-1])
    assert np.allclose(flipped.shortfall.sum(axis=1)[::-1], short, atol=scale.max())
