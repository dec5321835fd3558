"""Properties of linear-weight cross margin on random accounts (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.book.book import Account, Book, Collateral, Order, Position
from crossmargin.book.instruments import CryptoSpot, Instrument, Perpetual
from crossmargin.methods.weights.method import LinearWeightMargin
from tests.conftest import AS_OF, make_market

UNIVERSE: list[Instrument] = [
    Perpetual(underlying="BTC", currency="USDT"),
    Perpetual(underlying="ETH", currency="USDC"),
    Perpetual(underlying="BTC", currency="USDC", multiplier=0.1),
    CryptoSpot(asset="BTC"),
    CryptoSpot(asset="ETH", currency="USDT"),
]
ASSETS = ("USD", "USDC", "USDT", "BTC", "ETH")
MARKET = make_market()
METHOD = LinearWeightMargin.from_params()

quantity = st.floats(-500, 500, allow_nan=False).filter(lambda q: abs(q) > 1e-3)
positions = st.lists(st.tuples(st.integers(0, len(UNIVERSE) - 1), quantity), max_size=6)
balances = st.lists(st.tuples(st.sampled_from(ASSETS),
                              st.floats(-1e5, 1e6, allow_nan=False)), max_size=5)
orders = st.lists(st.tuples(st.integers(0, len(UNIVERSE) - 1), quantity,
                            st.one_of(st.none(), st.floats(100, 20_000))), max_size=3)

Case = tuple[list[tuple[int, float]], list[tuple[str, float]],
             list[tuple[int, float, float | None]]]


def _requirements(pos: list[tuple[int, float]], bal: list[tuple[str, float]],
                  ords: list[tuple[int, float, float | None]], c: float = 1.0
                  ) -> dict[str, float]:
    account = Account(
        id="A",
        positions=tuple(Position(instrument=UNIVERSE[i], quantity=c * q) for i, q in pos),
        collateral=tuple(Collateral(asset=a, amount=c * x) for a, x in bal),
        orders=tuple(Order(instrument=UNIVERSE[i], quantity=c * q, limit_price=p)
                     for i, q, p in ords),
    )
    book = Book.from_accounts([account], as_of=AS_OF, currency="USD")
    result = METHOD.compute(book, MARKET)
    return {k: float(v[0]) for k, v in result.components.items()}


@given(positions, balances, orders)
def test_finite_non_negative_and_ordered(pos: list[tuple[int, float]],
                                         bal: list[tuple[str, float]],
                                         ords: list[tuple[int, float, float | None]]
                                         ) -> None:
    r = _requirements(pos, bal, ords)
    assert all(np.isfinite(v) and v >= 0 for v in r.values())
    assert r["initial"] >= r["liquidation_end"] >= r["maintenance"]


@given(positions, balances, orders, st.randoms(use_true_random=False))
def test_invariant_to_the_order_of_lines(pos: list[tuple[int, float]],
                                         bal: list[tuple[str, float]],
                                         ords: list[tuple[int, float, float | None]],
                                         rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = [list(x) for x in (pos, bal, ords)]
    for x in shuffled:
        rnd.shuffle(x)
    a = _requirements(pos, bal, ords)
    b = _requirements(*shuffled)  # type: ignore[arg-type]
    assert all(abs(a[k] - b[k]) <= 0.011 for k in a)


@given(positions, balances, orders, st.floats(1.0, 20.0))
def test_super_linear_in_size(pos: list[tuple[int, float]], bal: list[tuple[str, float]],
                              ords: list[tuple[int, float, float | None]], c: float) -> None:
    """Size premia (sqrt(size) in every weight) make the requirement grow at least
    linearly: R(c x account) >= c x R(account) for c >= 1, at every threshold."""
    base = _requirements(pos, bal, ords)
    scaled = _requirements(pos, bal, ords, c)
    for k, v in base.items():
        assert scaled[k] >= c * v - 0.011 * (1 + c) - 1e-9 * scaled[k]

