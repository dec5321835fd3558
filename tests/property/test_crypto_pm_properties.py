"""Properties of crypto portfolio margin on random books (hypothesis)."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import (
    AssetClass,
    CryptoSpot,
    Future,
    Instrument,
    Option,
    Perpetual,
    Right,
    Settlement,
)
from crossmargin.methods.crypto_pm.method import CryptoPortfolioMargin
from tests.conftest import AS_OF, make_market


def _option(underlying: str, right: Right, strike: float, expiry: date,
            settlement: Settlement) -> Option:
    return Option(underlying=underlying, right=right, strike=strike, expiry=expiry,
                  multiplier=1.0, settlement=settlement, asset_class=AssetClass.CRYPTO,
                  currency="USDC" if settlement is Settlement.LINEAR else "USD")


UNIVERSE: list[Instrument] = [
    Perpetual(underlying="BTC", settlement=Settlement.INVERSE, multiplier=100.0),
    Perpetual(underlying="BTC", currency="USDT"),
    Perpetual(underlying="ETH", currency="USDT"),
    CryptoSpot(asset="BTC", currency="USDT"),
    Future(symbol="BTCU8", underlying="BTC", expiry=date(2018, 9, 28), multiplier=10.0,
           settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO),
    Future(symbol="BTCZ8", underlying="BTC", expiry=date(2018, 12, 28), multiplier=10.0,
           settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO),
    _option("BTC", Right.CALL, 8000.0, date(2018, 7, 6), Settlement.INVERSE),
    _option("BTC", Right.PUT, 5500.0, date(2018, 9, 28), Settlement.INVERSE),
    _option("BTC", Right.CALL, 7000.0, date(2018, 7, 27), Settlement.LINEAR),
    _option("ETH", Right.PUT, 400.0, date(2018, 7, 27), Settlement.INVERSE),
]
MARKET = make_market()
PM = CryptoPortfolioMargin.from_params()

Legs = list[tuple[int, float]]
legs = st.lists(
    st.tuples(st.integers(0, len(UNIVERSE) - 1),
              st.floats(-50, 50, allow_nan=False).filter(lambda q: abs(q) > 1e-3)),
    min_size=1, max_size=8,
)


def _margins(*variants: Legs) -> np.ndarray:
    """Initial margin of each variant, all computed at once as accounts of one book."""
    accounts = [Account(id=f"V{v}", positions=tuple(
        Position(instrument=UNIVERSE[i], quantity=q) for i, q in variant))
        for v, variant in enumerate(variants)]
    book = Book.from_accounts(accounts, as_of=AS_OF, currency="USD")
    return PM.compute(book, MARKET).initial_margin


@given(legs, st.randoms(use_true_random=False))
def test_finite_non_negative_and_order_invariant(book: Legs, rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(book)
    rnd.shuffle(shuffled)
    original, reordered = _margins(book, shuffled)
    assert np.isfinite(original) and original >= 0
    assert abs(original - reordered) <= 0.011


@given(legs, st.floats(0.1, 10))
def test_homogeneous_of_degree_one_in_quantity(book: Legs, c: float) -> None:
    """Scanning risk and every contingency scale with size: IM(c x book) = c x IM(book)."""
    base, scaled = _margins(book, [(i, c * q) for i, q in book])
    assert abs(scaled - c * base) <= 0.011 * (1 + c) + 1e-9 * scaled


@given(st.integers(0, len(UNIVERSE) - 1), st.floats(0.5, 20), st.floats(0.05, 0.95))
def test_a_hedge_never_costs_more_than_its_worst_leg(i: int, q: float, h: float) -> None:
    """Exact opposites net to zero; a partial hedge costs no more than the larger leg."""
    flat, hedged, leg, hedge = _margins([(i, q), (i, -q)], [(i, q), (i, -h * q)],
                                        [(i, q)], [(i, -h * q)])
    assert flat == 0.0
    assert hedged <= max(leg, hedge) + 0.011


@given(legs)
def test_one_account_costs_no_more_than_its_legs_apart(book: Legs) -> None:
    """Max of sums <= sum of maxes and |a + b| <= |a| + |b|: splitting never saves."""
    whole, *apart = _margins(book, *([leg] for leg in book))
    assert whole <= sum(apart) + 0.011 * len(apart)
