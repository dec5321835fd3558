"""Properties of stress runs and of Cover-n on random books and losses (hypothesis)."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crossmargin.analytics.cover import cover_n
from crossmargin.analytics.stress import MarginHeld, StressResult, StressTest, margin_held
from crossmargin.book.book import Account, Book, Collateral, Position
from crossmargin.book.instruments import (
    CryptoSpot,
    Equity,
    Future,
    Instrument,
    Option,
    Perpetual,
    ProductClass,
    Right,
    Settlement,
)
from tests.conftest import AS_OF, make_market
from tests.property.books import position_lists

MARKET = make_market()
EXPIRY = date(2018, 9, 21)
UNIVERSE: list[Instrument] = [
    Equity(symbol="SPY", product_class=ProductClass.BROAD_BASED_HIGH_CAP),
    Equity(symbol="AAPL"),
    Future(symbol="ESU8", underlying="SPX", expiry=EXPIRY, multiplier=50.0),
    Option(underlying="SPX", right=Right.PUT, strike=2600.0, expiry=EXPIRY,
           settlement=Settlement.CASH),
    CryptoSpot(asset="BTC"),
    Perpetual(underlying="BTC", currency="USDT"),
]
#: Default scenarios (historical windows and the parameter file's shocks).
STRESS = StressTest.from_params()
CENT = 0.01

collateral = st.tuples(st.floats(0, 2e5, allow_nan=False), st.floats(0, 5, allow_nan=False))
account = st.tuples(position_lists(len(UNIVERSE)), collateral, st.sampled_from("XYZ"))
books = st.lists(account, min_size=1, max_size=5)
Raw = list[tuple[list[tuple[int, float]], tuple[float, float], str]]


def _book(raw: Raw, *, ids: list[str] | None = None, scale: float = 1.0) -> Book:
    ids = ids or [f"A{k}" for k in range(len(raw))]
    return Book.from_accounts(
        [Account(id=i, member=m,
                 positions=tuple(Position(instrument=UNIVERSE[j], quantity=q * scale)
                                 for j, q in pos),
                 collateral=(Collateral(asset="USD", amount=usd * scale),
                             Collateral(asset="BTC", amount=btc * scale)))
         for i, (pos, (usd, btc), m) in zip(ids, raw, strict=True)],
        as_of=AS_OF, currency="USD")


def _run(book: Book, held: MarginHeld | None = None) -> StressResult:
    return STRESS.run(book, MARKET, margin=held or margin_held(book, MARKET, method="grid"))


@settings(max_examples=25)
@given(books)
def test_uncovered_never_negative_nor_above_the_loss_and_cover_2_above_cover_1(
        raw: Raw) -> None:
    result = _run(_book(raw))
    assert np.all(np.isfinite(result.loss)) and np.all(np.isfinite(result.uncovered))
    assert np.all(result.uncovered >= 0)
    assert np.all(result.uncovered <= np.maximum(result.loss, 0.0) + 1e-9)
    one, two = result.cover(1), result.cover(2)
    assert np.all(one.amount >= 0) and np.all(two.amount >= one.amount)
    assert np.all(two.amount <= result.uncovered.sum(axis=0) + 1e-6)


@settings(max_examples=20)
@given(books, st.randoms(use_true_random=False))
def test_invariant_to_account_order(raw: Raw, rnd: object) -> None:
    ids = [f"A{k}" for k in range(len(raw))]
    order = list(range(len(raw)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    base = _run(_book(raw, ids=ids))
    moved = _run(_book([raw[k] for k in order], ids=[ids[k] for k in order]))
    back = np.argsort(order)
    np.testing.assert_allclose(moved.uncovered[back], base.uncovered, atol=1e-9)
    np.testing.assert_allclose(moved.loss[back], base.loss, atol=1e-9)
    for n in (1, 2):
        np.testing.assert_allclose(moved.cover(n).amount, base.cover(n).amount, atol=1e-9)


@settings(max_examples=15)
@given(books, st.floats(1e3, 1e5))
def test_more_cash_never_uncovers_more(raw: Raw, extra: float) -> None:
    base = _run(_book(raw))
    richer = [(pos, (usd + extra, btc), m) for pos, (usd, btc), m in raw]
    more = _run(_book(richer))
    assert np.all(more.uncovered <= base.uncovered + 1e-9)


@settings(max_examples=15)
@given(books, st.sampled_from([2.0, 3.0, 0.5]))
def test_homogeneous_of_degree_one_in_positions_margin_and_collateral(
        raw: Raw, k: float) -> None:
    """Scaling positions, collateral and margin by k scales the uncovered loss by k (the
    stress loss is linear in quantity; cents rounding aside)."""
    book = _book(raw)
    held = margin_held(book, MARKET, method="grid")
    base = _run(book, held)
    scaled = _run(_book(raw, scale=k), MarginHeld(
        label="scaled", initial_margin=held.initial_margin * k,
        collateral_value=held.collateral_value * k))
    np.testing.assert_allclose(scaled.uncovered, k * base.uncovered,
                               atol=(k + 1) * 3 * CENT, rtol=1e-9)


@settings(max_examples=20)
@given(position_lists(len(UNIVERSE)), position_lists(len(UNIVERSE)))
def test_a_hedge_never_leaves_more_uncovered_than_its_legs_alone(
        legs_a: list[tuple[int, float]], legs_b: list[tuple[int, float]]) -> None:
    """With no margin or collateral the uncovered loss is max(L, 0), and the loss of two
    legs held together is the sum of their losses: U(A + B) <= U(A) + U(B)."""
    raw: Raw = [(legs_a, (0.0, 0.0), "X"), (legs_b, (0.0, 0.0), "X"),
                (legs_a + legs_b, (0.0, 0.0), "X")]
    book = _book(raw)
    zero = np.zeros(book.n_accounts)
    result = _run(book, MarginHeld(label="none", initial_margin=zero, collateral_value=zero))
    np.testing.assert_allclose(result.loss[2], result.loss[0] + result.loss[1],
                               atol=3 * CENT)
    assert np.all(result.uncovered[2] <= result.uncovered[0] + result.uncovered[1]
                  + 3 * CENT)


losses = st.integers(1, 8).flatmap(lambda m: st.lists(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=3, max_size=3),
    min_size=m, max_size=m))


@given(losses, st.randoms(use_true_random=False))
def test_cover_n_is_the_sum_of_the_n_largest_and_ignores_member_order(
        rows: list[list[float]], rnd: object) -> None:
    matrix = np.asarray(rows)
    expected = [np.sort(matrix, axis=0)[::-1][:n].sum(axis=0) for n in (1, 2, 3)]
    covers = [cover_n(matrix, n=n) for n in (1, 2, 3)]
    for cover, want in zip(covers, expected, strict=True):
        np.testing.assert_allclose(cover.amount, want)
    assert np.all(covers[1].amount >= covers[0].amount)
    order = list(range(matrix.shape[0]))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    np.testing.assert_allclose(cover_n(matrix[order], n=2).amount, covers[1].amount)
