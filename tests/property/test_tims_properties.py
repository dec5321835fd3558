"""Properties of the tims method on random books (hypothesis)."""

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
    Right,
    Settlement,
    Style,
)
from crossmargin.market.snapshot import VolSurface
from crossmargin.methods.tims.method import TheoreticalIntermarketMargin
from crossmargin.results.margin import MarginResult
from tests.conftest import make_market
from tests.property.books import one_account, position_lists

EXP = date(2018, 9, 21)
ES = Future(symbol="ESU8", underlying="SPX", expiry=EXP, multiplier=50.0)
UNIVERSE: list[Instrument] = [
    Equity(symbol="AAPL"),
    Equity(symbol="MSFT"),
    Equity(symbol="SPY"),
    ES,
    Option(underlying="SPX", right=Right.PUT, strike=2600.0, expiry=EXP,
           settlement=Settlement.CASH, style=Style.EUROPEAN),
    Option(underlying="SPY", right=Right.CALL, strike=280.0, expiry=EXP, style=Style.AMERICAN),
    Option(underlying="AAPL", right=Right.PUT, strike=180.0, expiry=EXP, style=Style.AMERICAN),
    Equity(symbol="QQQ"),
    Option(underlying="NDX", right=Right.CALL, strike=7200.0, expiry=EXP,
           settlement=Settlement.CASH),
    CryptoSpot(asset="BTC"),
    Option(underlying="BTC", right=Right.CALL, strike=8000.0, expiry=date(2018, 9, 28),
           multiplier=1.0, settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO),
]
PRICES = {"SPX": 2700.0, "SPY": 270.0, "AAPL": 185.0, "MSFT": 98.0, "QQQ": 172.0,
          "NDX": 7040.0, "BTC": 6400.0}
MARKET = make_market(prices=PRICES, vols={k: VolSurface.flat(0.2) for k in PRICES})
TIMS = TheoreticalIntermarketMargin.from_params()
CENT = 0.011

positions = position_lists(len(UNIVERSE))


def _result(pos: list[tuple[int, float]]) -> MarginResult:
    return TIMS.compute(one_account(UNIVERSE, pos), MARKET)


def _margin(pos: list[tuple[int, float]]) -> float:
    return float(_result(pos).initial_margin[0])


@given(positions)
def test_margin_is_finite_non_negative_and_credits_never_add(pos: list[tuple[int, float]]
                                                            ) -> None:
    result = _result(pos)
    m = float(result.initial_margin[0])
    assert np.isfinite(m) and m >= 0
    credit = float(result.components["product_group_credit"][0])
    assert credit <= 0
    assert m <= float(result.components["class_groups"][0]) + CENT


@given(positions, st.randoms(use_true_random=False))
def test_invariant_to_position_order(pos: list[tuple[int, float]], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(pos)
    rnd.shuffle(shuffled)
    assert abs(_margin(pos) - _margin(shuffled)) <= CENT


@given(positions, st.floats(0.1, 10))
def test_homogeneous_of_degree_one_in_quantity(pos: list[tuple[int, float]], c: float) -> None:
    """Full revaluation, the offsets and the per-contract minimum are all proportional to
    the number of contracts: margin(c x book) = c x margin(book), to the cent."""
    base = _margin(pos)
    scaled = _margin([(i, c * q) for i, q in pos])
    assert abs(scaled - c * base) <= CENT * (1 + c) + 1e-9 * scaled


@given(st.integers(0, len(UNIVERSE) - 1), st.floats(0.5, 20))
def test_a_hedge_never_costs_more_than_the_worst_leg(i: int, q: float) -> None:
    """A position and its exact opposite net to nothing (the minimum counts net
    contracts); a partial hedge costs no more than the larger leg alone."""
    assert _margin([(i, q), (i, -q)]) == 0.0
    hedged = _margin([(i, q), (i, -0.5 * q)])
    assert hedged <= max(_margin([(i, q)]), _margin([(i, -0.5 * q)])) + CENT


@given(st.floats(1, 2000), st.floats(1e-3, 3))
def test_a_product_group_hedge_never_costs_more_than_its_worst_leg(shares: float,
                                                                  ratio: float) -> None:
    """SPY shares against ES futures of the same product group (offset 90%): whatever the
    hedge ratio (futures notional per ETF notional, opposite side), the pair costs no
    more than the costlier leg alone."""
    spy, es = UNIVERSE.index(Equity(symbol="SPY")), UNIVERSE.index(ES)
    contracts = -ratio * shares * 270.0 / (50 * 2700.0)
    both = _margin([(spy, shares), (es, contracts)])
    assert both <= max(_margin([(spy, shares)]), _margin([(es, contracts)])) + CENT
