"""Properties of the grid method on random books (hypothesis)."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.book.instruments import (
    AssetClass,
    CryptoSpot,
    Equity,
    Future,
    Instrument,
    Option,
    Perpetual,
    Right,
    Settlement,
    Style,
)
from crossmargin.methods.grid.method import ScenarioGrid
from tests.conftest import make_market
from tests.property.books import one_account, position_lists

EXP = date(2018, 9, 21)
UNIVERSE: list[Instrument] = [
    Equity(symbol="AAPL"),
    Equity(symbol="SPY"),
    Future(symbol="ESU8", underlying="SPX", expiry=EXP, multiplier=50.0),
    Option(underlying="SPX", right=Right.PUT, strike=2600.0, expiry=EXP,
           settlement=Settlement.CASH, style=Style.EUROPEAN),
    Option(underlying="SPX", right=Right.CALL, strike=2800.0, expiry=EXP,
           settlement=Settlement.CASH, style=Style.EUROPEAN),
    Option(underlying="AAPL", right=Right.PUT, strike=180.0, expiry=EXP, style=Style.AMERICAN),
    CryptoSpot(asset="BTC"),
    Perpetual(underlying="BTC", currency="USDT"),
    Perpetual(underlying="BTC", settlement=Settlement.INVERSE, multiplier=100.0),
    Option(underlying="BTC", right=Right.CALL, strike=8000.0, expiry=date(2018, 9, 28),
           multiplier=1.0, settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO),
]
MARKET = make_market()
GRID = ScenarioGrid.from_params()

positions = position_lists(len(UNIVERSE))


def _margin(pos: list[tuple[int, float]]) -> float:
    return float(GRID.compute(one_account(UNIVERSE, pos), MARKET).initial_margin[0])


@given(positions)
def test_margin_is_finite_and_non_negative(pos: list[tuple[int, float]]) -> None:
    m = _margin(pos)
    assert np.isfinite(m) and m >= 0


@given(positions, st.randoms(use_true_random=False))
def test_invariant_to_position_order(pos: list[tuple[int, float]], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(pos)
    rnd.shuffle(shuffled)
    assert abs(_margin(pos) - _margin(shuffled)) <= 0.011


@given(positions, st.floats(0.1, 10))
def test_scales_linearly_with_size(pos: list[tuple[int, float]], c: float) -> None:
    """Full revaluation is linear in quantity: margin(c x book) = c x margin(book)."""
    base = _margin(pos)
    scaled = _margin([(i, c * q) for i, q in pos])
    assert abs(scaled - c * base) <= 0.011 * (1 + c) + 1e-9 * scaled


@given(st.integers(0, len(UNIVERSE) - 1), st.floats(0.5, 20))
def test_a_hedge_never_costs_more_than_the_worst_leg(i: int, q: float) -> None:
    """A position and its exact opposite net to zero; a partial hedge costs no more than
    the larger of the two legs alone (max of sums <= sum of maxes, same group)."""
    assert _margin([(i, q), (i, -q)]) == 0.0
    hedged = _margin([(i, q), (i, -0.5 * q)])
    assert hedged <= max(_margin([(i, q)]), _margin([(i, -0.5 * q)])) + 0.011
