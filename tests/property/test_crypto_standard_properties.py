"""Properties of crypto standard margin on random books (hypothesis)."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.book.book import Account, Book, Order, Position
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
from crossmargin.methods.crypto_standard.method import DeribitStandardMargin
from tests.conftest import AS_OF, make_market

EXP = date(2018, 9, 28)
OPTIONS: list[Instrument] = [
    Option(underlying=u, right=r, strike=k, expiry=EXP, multiplier=1.0, settlement=s,
           asset_class=AssetClass.CRYPTO, currency="USD" if s is Settlement.INVERSE else "USDC")
    for u, k in (("BTC", 6000.0), ("BTC", 8000.0), ("ETH", 400.0))
    for r in (Right.CALL, Right.PUT) for s in (Settlement.INVERSE, Settlement.LINEAR)
]
DELTA_ONE: list[Instrument] = [
    Perpetual(underlying="BTC", currency="USDT"),
    Perpetual(underlying="ETH", currency="USDC"),
    Perpetual(underlying="BTC", settlement=Settlement.INVERSE, multiplier=10.0),
    Future(symbol="BTC-28SEP18", underlying="BTC", expiry=EXP, multiplier=10.0,
           settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO),
    Future(symbol="ETH-28SEP18", underlying="ETH", expiry=EXP, multiplier=1.0,
           settlement=Settlement.LINEAR, asset_class=AssetClass.CRYPTO, currency="USDC"),
]
UNIVERSE = OPTIONS + DELTA_ONE
SPOT = CryptoSpot(asset="ETH")
MARKET = make_market()
METHOD = DeribitStandardMargin.from_params()

positions = st.lists(
    st.tuples(st.integers(0, len(UNIVERSE) - 1),
              st.floats(-2000, 2000, allow_nan=False).filter(lambda q: abs(q) > 1e-3)),
    min_size=1, max_size=8,
)
option_positions = st.lists(
    st.tuples(st.integers(0, len(OPTIONS) - 1),
              st.floats(-50, 50, allow_nan=False).filter(lambda q: abs(q) > 1e-3)),
    min_size=1, max_size=6,
)
orders = st.lists(st.tuples(st.integers(0, len(UNIVERSE) - 1),
                            st.floats(-500, 500, allow_nan=False)), max_size=3)


def _margins(pos: list[tuple[int, float]], spot: float = 0.0,
             ords: list[tuple[int, float]] | None = None) -> tuple[float, float]:
    held = [Position(instrument=UNIVERSE[i], quantity=q) for i, q in pos]
    if spot:
        held.append(Position(instrument=SPOT, quantity=spot))
    book = Book.from_accounts(
        [Account(id="A", positions=tuple(held),
                 orders=tuple(Order(instrument=UNIVERSE[i], quantity=q)
                              for i, q in ords or []))],
        as_of=AS_OF, currency="USD")
    result = METHOD.compute(book, MARKET)
    return float(result.initial_margin[0]), float(result.maintenance_margin[0])


@given(positions, st.floats(0, 100), orders)
def test_finite_non_negative_and_initial_covers_maintenance(
        pos: list[tuple[int, float]], spot: float, ords: list[tuple[int, float]]) -> None:
    im, mm = _margins(pos, spot, ords)
    assert np.isfinite(im) and np.isfinite(mm)
    assert 0 <= mm <= im


@given(positions, st.randoms(use_true_random=False))
def test_invariant_to_position_order(pos: list[tuple[int, float]], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(pos)
    rnd.shuffle(shuffled)
    a, b = _margins(pos), _margins(shuffled)
    assert abs(a[0] - b[0]) <= 0.011 and abs(a[1] - b[1]) <= 0.011


@given(positions, st.floats(1.0, 10.0))
def test_super_linear_in_size(pos: list[tuple[int, float]], c: float) -> None:
    """Size-scaled futures rates make the requirement grow at least linearly:
    margin(c x book) >= c x margin(book) for c >= 1 (and at most for c <= 1)."""
    im, mm = _margins(pos)
    im_c, mm_c = _margins([(i, c * q) for i, q in pos])
    tol = 0.011 * (1 + c)
    assert im_c >= c * im - tol and mm_c >= c * mm - tol
    im_s, _ = _margins([(i, q / c) for i, q in pos])
    assert im_s <= im / c + tol


@given(option_positions, st.floats(0.1, 10.0))
def test_options_are_homogeneous_of_degree_one(pos: list[tuple[int, float]], c: float
                                               ) -> None:
    """The option formula is per contract: scaling every option position by c scales the
    requirement by c exactly (up to the cent rounding)."""
    im, mm = _margins(pos)
    im_c, mm_c = _margins([(i, c * q) for i, q in pos])
    tol = 0.011 * (1 + c)
    assert abs(im_c - c * im) <= tol and abs(mm_c - c * mm) <= tol


@given(st.integers(0, len(UNIVERSE) - 1), st.floats(0.5, 500))
def test_an_exact_offset_in_one_contract_costs_nothing(i: int, q: float) -> None:
    """Positions net per contract: long and short of one contract cancel exactly."""
    assert _margins([(i, q), (i, -q)]) == (0.0, 0.0)
