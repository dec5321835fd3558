"""Properties of the strategy method on random books (hypothesis)."""

from __future__ import annotations

from datetime import date
from random import Random

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import Equity, Instrument, Option, Right, Settlement, Style
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.strategy.method import StrategyBased
from crossmargin.methods.strategy.strategies import STRATEGIES
from crossmargin.results.margin import MarginResult
from tests.conftest import AS_OF, make_market
from tests.unit.test_strategy_pairing import _problem

EXPIRY = date(2018, 9, 21)
LATER = date(2019, 6, 21)
STOCK: list[Instrument] = [Equity(symbol="AAPL")]
OPTIONS: list[Instrument] = [
    *(Option(underlying="AAPL", right=r, strike=k, expiry=e)
      for r in (Right.CALL, Right.PUT) for k in (175.0, 185.0, 195.0) for e in (EXPIRY,)),
    Option(underlying="AAPL", right=Right.CALL, strike=185.0, expiry=LATER),
    Option(underlying="SPX", right=Right.PUT, strike=2600.0, expiry=EXPIRY,
           style=Style.EUROPEAN, settlement=Settlement.CASH),
    Option(underlying="SPX", right=Right.CALL, strike=2800.0, expiry=EXPIRY,
           style=Style.EUROPEAN, settlement=Settlement.CASH),
]
UNIVERSE = STOCK + OPTIONS
MARKET = make_market()
METHOD = StrategyBased.from_params()
CENT = 0.011

nonzero = st.integers(-6, 6).filter(bool)
#: Whole contracts, and stock in round lots of 100 shares (what one contract delivers).
positions = st.lists(
    st.one_of(st.tuples(st.just(0), nonzero.map(lambda n: 100.0 * n)),
              st.tuples(st.integers(1, len(UNIVERSE) - 1), nonzero.map(float))),
    min_size=1, max_size=7)


def _book(*accounts: list[tuple[int, float]]) -> Book:
    return Book.from_accounts(
        [Account(id=f"A{k}", positions=tuple(Position(instrument=UNIVERSE[i], quantity=q)
                                             for i, q in pos))
         for k, pos in enumerate(accounts)], as_of=AS_OF, currency="USD")


def _result(*accounts: list[tuple[int, float]], market: MarketSnapshot = MARKET
            ) -> MarginResult:
    return METHOD.compute(_book(*accounts), market)


@given(positions)
def test_requirements_are_finite_non_negative_and_initial_covers_maintenance(
        pos: list[tuple[int, float]]) -> None:
    r = _result(pos)
    im, mm = r.initial_margin[0], r.maintenance_margin[0]
    assert np.isfinite(im) and np.isfinite(mm) and mm >= 0
    assert im >= mm


@given(positions, st.randoms(use_true_random=False))
def test_invariant_to_position_and_account_order(pos: list[tuple[int, float]],
                                                 rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(pos)
    rnd.shuffle(shuffled)
    a = _result(pos, [(1, -1.0)])
    b = _result([(1, -1.0)], shuffled)
    assert a.initial_margin[0] == b.initial_margin[1]
    assert a.maintenance_margin[0] == b.maintenance_margin[1]


@given(positions)
def test_pairing_never_costs_more_than_everything_alone(pos: list[tuple[int, float]]) -> None:
    """Each leg in its own account is margined alone; pairing can only lower the sum."""
    together = _result(pos)
    alone = _result(*([p] for p in pos))
    assert together.initial_margin[0] <= alone.initial_margin.sum() + CENT
    assert together.maintenance_margin[0] <= alone.maintenance_margin.sum() + CENT


@given(positions, st.integers(2, 4))
def test_homogeneous_of_degree_one_in_whole_multiples(pos: list[tuple[int, float]],
                                                      k: int) -> None:
    """Multiplying every quantity by a whole number multiplies the requirement by it
    (stock in round lots; with odd lots, k x 50 shares may cover calls that 50 cannot)."""
    base = _result(pos)
    scaled = _result([(i, k * q) for i, q in pos])
    for name in ("initial_margin", "maintenance_margin"):
        assert abs(getattr(scaled, name)[0] - k * getattr(base, name)[0]) <= CENT * (k + 1)


@given(positions, st.integers(1, 99))
def test_odd_lots_scale_at_most_linearly(pos: list[tuple[int, float]], odd: int) -> None:
    """With any quantities, k copies of a book never cost more than k times the book."""
    pos = [*pos, (0, float(odd))]
    base = _result(pos)
    doubled = _result([(i, 2 * q) for i, q in pos])
    assert doubled.initial_margin[0] <= 2 * base.initial_margin[0] + 3 * CENT


# -- short stock hedged by options ---------------------------------------------------
SHORT_STOCK = {"covered_put", "protective_call", "reversal"}
#: A short lot of whole contracts' shares with a few options, on a stock drawn across the
#: FINRA 4210(c) price bands ($2.50, $5.00, $16.67 a share) and around the strikes.
short_stock_books = st.tuples(
    st.integers(-4, -1).map(lambda n: (0, 100.0 * n)),
    st.lists(st.tuples(st.integers(1, 7), nonzero.map(float)), min_size=1, max_size=5),
    st.sampled_from([2.0, 4.0, 12.0, 150.0, 185.0, 230.0]),
)


def _priced(price: float) -> MarketSnapshot:
    return make_market(prices={**MARKET.prices, "AAPL": price})


@given(short_stock_books)
def test_short_stock_pairing_never_costs_more_than_the_legs_alone(
        drawn: tuple[tuple[int, float], list[tuple[int, float]], float]) -> None:
    stock, options, price = drawn
    pos = [stock, *options]
    together = _result(pos, market=_priced(price))
    alone = _result(*([p] for p in pos), market=_priced(price))
    assert together.initial_margin[0] <= alone.initial_margin.sum() + CENT
    assert together.maintenance_margin[0] <= alone.maintenance_margin.sum() + CENT


@given(short_stock_books)
def test_short_stock_strategies_are_finite_and_count_their_short_proceeds(
        drawn: tuple[tuple[int, float], list[tuple[int, float]], float]) -> None:
    """Every covered put, protective call and reversal candidate costs a finite,
    non-negative amount, initial no less than maintenance, and never less than the
    current value of its short legs (the requirement counts their proceeds)."""
    stock, options, price = drawn
    p = _problem(_book([stock, *options]), _priced(price))
    c = p.candidates
    new = np.isin(c.strategy, [STRATEGIES.index(s) for s in SHORT_STOCK])
    for name in ("initial", "maintenance", "saving_initial", "saving_maintenance"):
        values = getattr(c, name)[new]
        assert np.all(np.isfinite(values)) and np.all(values >= 0)
    assert np.all(c.initial[new] >= c.maintenance[new])
    leg_value = p.terms.value[p.holdings.instrument[c.leg_holding]]
    short_value = np.add.reduceat(np.maximum(-c.leg_units, 0.0) * leg_value,
                                  c.leg_offsets[:-1]) if c.size else np.zeros(0)
    assert np.all(c.maintenance[new] >= short_value[new] * (1 - 1e-12))


@given(short_stock_books, st.randoms(use_true_random=False))
def test_invariant_to_position_order_with_short_stock(
        drawn: tuple[tuple[int, float], list[tuple[int, float]], float], rnd: Random) -> None:
    stock, options, price = drawn
    pos = [stock, *options]
    shuffled = list(pos)
    rnd.shuffle(shuffled)
    a = _result(pos, [(0, -100.0)], market=_priced(price))
    b = _result([(0, -100.0)], shuffled, market=_priced(price))
    assert a.initial_margin[0] == b.initial_margin[1]
    assert a.maintenance_margin[0] == b.maintenance_margin[1]
