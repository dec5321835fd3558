"""Properties of the unified FHS margin on random books (hypothesis, bundled history)."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import AssetClass, Future, Instrument, Option, Perpetual, Right
from crossmargin.methods.fhs.method import FilteredHistoricalSimulation, Measure
from crossmargin.results.margin import MarginResult
from tests.conftest import AS_OF, make_market
from tests.property.test_grid_properties import EXP
from tests.property.test_grid_properties import UNIVERSE as GRID_UNIVERSE

# the grid's universe (stocks, SPY, E-mini, index and stock options, BTC spot, perpetuals
# and an inverse option) plus an SPY option, a commodity future and an ETH perpetual
UNIVERSE: list[Instrument] = [
    *GRID_UNIVERSE,
    Option(underlying="SPY", right=Right.CALL, strike=280.0, expiry=EXP),
    Future(symbol="CLU8", underlying="WTI", expiry=EXP, multiplier=1000.0,
           asset_class=AssetClass.COMMODITY),
    Perpetual(underlying="ETH", currency="USDT"),
]
MARKET = make_market()
FHS = FilteredHistoricalSimulation.from_params()
VAR = dataclasses.replace(FHS, measure=Measure.VALUE_AT_RISK)

positions = st.lists(
    st.tuples(st.integers(0, len(UNIVERSE) - 1),
              st.floats(-50, 50, allow_nan=False).filter(lambda q: abs(q) > 1e-3)),
    min_size=1, max_size=6,
)


def _result(pos: list[tuple[int, float]], method: FilteredHistoricalSimulation = FHS
            ) -> MarginResult:
    book = Book.from_accounts(
        [Account(id="A", positions=tuple(Position(instrument=UNIVERSE[i], quantity=q)
                                         for i, q in pos))],
        as_of=AS_OF, currency="USD")
    return method.compute(book, MARKET)


def _margin(pos: list[tuple[int, float]]) -> float:
    return float(_result(pos).initial_margin[0])


@given(positions)
def test_margin_is_finite_and_non_negative(pos: list[tuple[int, float]]) -> None:
    result = _result(pos)
    assert np.isfinite(result.initial_margin[0]) and result.initial_margin[0] >= 0
    assert all(v[0] >= 0 for v in result.components.values())


@given(positions, st.randoms(use_true_random=False))
def test_invariant_to_position_order(pos: list[tuple[int, float]], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(pos)
    rnd.shuffle(shuffled)
    assert abs(_margin(pos) - _margin(shuffled)) <= 0.011


@given(positions, st.floats(0.1, 10))
def test_homogeneous_of_degree_one(pos: list[tuple[int, float]], c: float) -> None:
    """Full revaluation, expected shortfall, the cap, the stressed weight and the bid/ask
    cost are all linear in size (no position here comes near the concentration limit)."""
    base = _margin(pos)
    scaled = _margin([(i, c * q) for i, q in pos])
    assert abs(scaled - c * base) <= 0.011 * (1 + c) + 1e-9 * scaled


@given(positions, positions)
def test_a_hedge_never_costs_more_than_its_standalone_requirement(
        book: list[tuple[int, float]], hedge: list[tuple[int, float]]) -> None:
    """Expected shortfall is subadditive, and so is every component built on it:
    margin(book + hedge) <= margin(book) + margin(hedge)."""
    assert _margin(book + hedge) <= _margin(book) + _margin(hedge) + 0.011
    assert _margin(book + [(i, -q) for i, q in book]) == 0.0


@given(positions)
def test_expected_shortfall_is_at_least_value_at_risk(pos: list[tuple[int, float]]) -> None:
    es, var = _result(pos), _result(pos, VAR)
    assert es.components["expected_shortfall"][0] >= var.components["value_at_risk"][0]
    assert es.initial_margin[0] >= var.initial_margin[0]


@given(positions)
def test_unified_never_below_its_floor(pos: list[tuple[int, float]]) -> None:
    """Cross-class offsets save at most 80% of the sum of the classes' standalone
    expected shortfalls."""
    classes = {UNIVERSE[i].asset_class for i, _ in pos}
    standalone = sum(
        float(_result([(i, q) for i, q in pos if UNIVERSE[i].asset_class is k])
              .components["expected_shortfall"][0]) for k in classes)
    assert _margin(pos) >= (1 - FHS.diversification.share) * standalone - 1e-6
