"""Attribution of every scenario method adds up to the requirement (hypothesis).

For random books: each group's position contributions sum to the loss its reduction
found; the positions and the named lines add up to the initial margin, with the rounding
line the requirement's rounding up to the cent (below a cent); the JSON adds up to the
cent exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossmargin.analytics.attribution import FLOOR, ROUNDING, Attribution, attribute
from crossmargin.book.instruments import Instrument
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import MarginMethod
from crossmargin.results.margin import MarginResult
from tests.property import (
    test_crypto_pm_properties,
    test_fhs_properties,
    test_grid_properties,
    test_tims_properties,
)
from tests.property.books import one_account, position_lists

TIGHT = 1e-6
CENT = 0.01


#: Method, instrument universe and market of each method's own property tests.
CASES: dict[str, tuple[MarginMethod, list[Instrument], MarketSnapshot]] = {
    "grid": (test_grid_properties.GRID, test_grid_properties.UNIVERSE,
             test_grid_properties.MARKET),
    "tims": (test_tims_properties.TIMS, test_tims_properties.UNIVERSE,
             test_tims_properties.MARKET),
    "crypto-pm": (test_crypto_pm_properties.PM, test_crypto_pm_properties.UNIVERSE,
                  test_crypto_pm_properties.MARKET),
    "fhs": (test_fhs_properties.FHS, test_fhs_properties.UNIVERSE,
            test_fhs_properties.MARKET),
}


def _attribution(case: str, pos: list[tuple[int, float]]) -> tuple[Attribution, MarginResult]:
    method, universe, market = CASES[case]
    book = one_account(universe, pos)
    result = method.compute(book, market)
    return attribute(result, book, "A"), result


def _check(a: Attribution, result: MarginResult) -> None:
    margin = float(result.initial_margin[0])
    assert a.initial_margin == margin
    assert a.total() == pytest.approx(margin, abs=TIGHT)
    # ceil_cents rounds up, leaving amounts within 1e-9 (relative) of a cent as they are
    assert -1e-9 * margin - TIGHT <= a.adjustments[ROUNDING] < CENT + TIGHT
    assert a.adjustments[FLOOR] >= -TIGHT * max(1.0, margin)
    assert all(np.isfinite(p.total) for p in a.positions)
    doc = a.to_json()
    assert doc["check"]["equal"]
    by_class = sum(doc["asset_classes"].values()) + sum(doc["adjustments"].values())
    assert round(by_class, 2) == doc["initial_margin"]


def _kernel_losses(result: MarginResult, a: Attribution) -> None:
    """Each group's contributions sum to the loss the kernel reduced (reporting currency)."""
    assert result.segments is not None
    seg = result.segments
    expected = [float(v) for v in seg.loss]
    assert [g.loss for g in a.groups] == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert [g.group for g in a.groups] == [seg.group_names[int(g)] for g in seg.group]


def _adds_up_with_kernel_losses(case: str, pos: list[tuple[int, float]]) -> Attribution:
    a, result = _attribution(case, pos)
    _kernel_losses(result, a)
    _check(a, result)
    return a


@given(position_lists(len(test_grid_properties.UNIVERSE)))
def test_grid_attribution_adds_up(pos: list[tuple[int, float]]) -> None:
    _adds_up_with_kernel_losses("grid", pos)


@given(position_lists(len(test_tims_properties.UNIVERSE)))
def test_tims_attribution_adds_up(pos: list[tuple[int, float]]) -> None:
    a = _adds_up_with_kernel_losses("tims", pos)
    assert all(p.add_ons["contract_minimum"] >= -TIGHT for p in a.positions
               if p.quantity < 0)


@given(test_crypto_pm_properties.legs)
def test_crypto_pm_attribution_adds_up(pos: list[tuple[int, float]]) -> None:
    _adds_up_with_kernel_losses("crypto-pm", pos)


@settings(max_examples=20)
@given(test_fhs_properties.positions)
def test_fhs_attribution_adds_up(pos: list[tuple[int, float]]) -> None:
    a, result = _attribution("fhs", pos)
    (group,) = a.groups
    assert group.loss == pytest.approx(
        sum(p.contribution for p in a.positions), rel=1e-12, abs=1e-9)
    assert max(group.loss, 0.0) == pytest.approx(
        float(result.components["expected_shortfall"][0]), rel=1e-9, abs=1e-6)
    liquidity = sum(p.add_ons["liquidity"] for p in a.positions)
    assert liquidity == pytest.approx(float(result.components["liquidity"][0]), rel=1e-9,
                                      abs=1e-9)
    _check(a, result)


@settings(max_examples=20)
@given(position_lists(len(test_grid_properties.UNIVERSE)), st.floats(0.1, 10))
def test_grid_contributions_scale_with_the_book(pos: list[tuple[int, float]],
                                                c: float) -> None:
    """Scaling every quantity by c > 0 keeps the driving scenarios (ties aside) and
    scales each contribution by c: the component is homogeneous of degree 1."""
    a, _ = _attribution("grid", pos)
    b, _ = _attribution("grid", [(i, c * q) for i, q in pos])
    same_driver = [g.scenarios for g in a.groups] == [g.scenarios for g in b.groups]
    if same_driver:
        assert [p.contribution for p in b.positions] == pytest.approx(
            [c * p.contribution for p in a.positions], rel=1e-9, abs=1e-6)


@settings(max_examples=20)
@given(position_lists(len(test_tims_properties.UNIVERSE)), st.randoms(use_true_random=False))
def test_tims_attribution_is_invariant_to_position_order(pos: list[tuple[int, float]],
                                                          rnd) -> None:  # type: ignore[no-untyped-def]
    """Shuffling the positions moves each one's contribution and add-ons with it (the
    driving scenarios being the same, ties aside)."""
    order = list(range(len(pos)))
    rnd.shuffle(order)
    a, _ = _attribution("tims", pos)
    b, _ = _attribution("tims", [pos[k] for k in order])
    if [g.scenarios for g in a.groups] == [g.scenarios for g in b.groups]:
        assert [b.positions[j].total for j in range(len(pos))] == pytest.approx(
            [a.positions[k].total for k in order], rel=1e-9, abs=1e-6)
    assert b.initial_margin == pytest.approx(a.initial_margin, abs=CENT + TIGHT)
