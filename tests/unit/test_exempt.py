"""FINRA 4210(e)(2)(A): US Treasury notes and bonds by time to maturity."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import Bond, Equity
from crossmargin.methods.registry import get_method
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet
from tests.conftest import AS_OF, make_market

TEN = Bond(symbol="UST-10Y", coupon=0.02875, maturity=date(2028, 5, 15))
SHORT = Bond(symbol="UST-6M", coupon=0.015, maturity=date(2018, 12, 31))
LONG = Bond(symbol="UST-30Y", coupon=0.03, maturity=date(2048, 5, 15))


def _value(bond: Bond) -> float:
    res = revalue([bond], market=make_market(), scenarios=ScenarioSet(names=("t",),
                  strict=False), currency="USD")
    return float(res.base_value[0])


def _book(*positions: Position) -> Book:
    return Book.from_accounts([Account(id="A", positions=positions)], as_of=AS_OF,
                              currency="USD")


def test_shares_by_maturity_follow_the_rule() -> None:
    """FINRA 4210(e)(2)(A): 1% under one year, 4% from five to ten, 6% from twenty."""
    method = get_method("exempt")
    res = method.compute(_book(Position(instrument=SHORT, quantity=1e6),
                               Position(instrument=TEN, quantity=1e6),
                               Position(instrument=LONG, quantity=1e6)), make_market())
    expected = 1e6 * (0.01 * _value(SHORT) + 0.04 * _value(TEN) + 0.06 * _value(LONG))
    assert res.maintenance_margin[0] == pytest.approx(expected, abs=0.011)
    assert res.initial_margin[0] == res.maintenance_margin[0]


def test_short_holds_its_proceeds_and_equities_are_left_out() -> None:
    method = get_method("exempt")
    res = method.compute(_book(Position(instrument=TEN, quantity=-1e6),
                               Position(instrument=Equity(symbol="SPY"), quantity=10)),
                         make_market())
    assert res.maintenance_margin[0] == pytest.approx(1.04e6 * _value(TEN), abs=0.011)
    assert res.components["short_proceeds"][0] == pytest.approx(1e6 * _value(TEN))
    assert any("1 position(s) outside its scope" in n for n in res.notes)


@given(qty=st.lists(st.floats(-1e7, 1e7).filter(lambda q: abs(q) > 1), min_size=1,
                    max_size=3), k=st.integers(1, 5))
def test_never_negative_order_invariant_and_linear(qty: list[float], k: int) -> None:
    method = get_method("exempt")
    bonds = (SHORT, TEN, LONG)
    pos = [Position(instrument=bonds[i % 3], quantity=q) for i, q in enumerate(qty)]
    one = method.compute(_book(*pos), make_market())
    rev = method.compute(_book(*reversed(pos)), make_market())
    scaled = method.compute(_book(*[Position(instrument=p.instrument, quantity=k * p.quantity)
                                    for p in pos]), make_market())
    assert np.all(one.initial_margin >= 0) and np.isfinite(one.initial_margin).all()
    assert rev.initial_margin[0] == pytest.approx(one.initial_margin[0], abs=0.011)
    assert scaled.initial_margin[0] == pytest.approx(k * one.initial_margin[0],
                                                     abs=0.011 * (k + 1))
