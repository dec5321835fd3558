"""Reference cases of the scenario-grid method, each worked by hand from the rule."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import Equity, Option, ProductClass, Right, Settlement, Style
from crossmargin.methods.grid.method import ScenarioGrid
from crossmargin.pricing.black import gbsm
from tests.conftest import AS_OF, make_market

REL = 1e-9


def _book(*positions: Position) -> Book:
    return Book.from_accounts([Account(id="A", positions=positions)], as_of=AS_OF,
                              currency="USD")


def test_unhedged_stock_costs_fifteen_percent() -> None:
    """FINRA Rule 4210(g)(2)(F): single stocks are revalued over +/-15%; an unhedged
    long of 100 shares at 185 loses 15% x 18,500 = 2,775 at the -15% point."""
    book = _book(Position(instrument=Equity(symbol="AAPL"), quantity=100))
    grid = ScenarioGrid.from_params()
    result = grid.compute(book, make_market())
    assert result.initial_margin[0] == pytest.approx(2775.0, rel=REL)
    assert result.maintenance_margin[0] == pytest.approx(0.8 * 2775.0, rel=REL)
    row = result.accounts_json()[0]
    assert row["driver"]["group"] == "AAPL"
    assert row["driver"]["scenario"].startswith("AAPL price -15.00%")


def test_high_cap_index_range_is_plus_six_minus_eight() -> None:
    """FINRA Rule 4210(g)(2)(F)(i): high-capitalisation broad-based index products are
    revalued from -8% to +6%. A short of 100 SPY at 270 loses 6% x 27,000 = 1,620."""
    spy = Equity(symbol="SPY", product_class=ProductClass.BROAD_BASED_HIGH_CAP)
    book = _book(Position(instrument=spy, quantity=-100))
    result = ScenarioGrid.from_params().compute(book, make_market())
    assert result.initial_margin[0] == pytest.approx(1620.0, rel=REL)


def test_protective_put_costs_its_floor() -> None:
    """Long stock + long put: the grid loss is bounded by the put, worked by hand: at the
    -15% point with vol up 25%, loss = stock loss - put gain."""
    expiry = date(2018, 9, 21)
    put = Option(underlying="AAPL", right=Right.PUT, strike=180.0, expiry=expiry,
                 style=Style.EUROPEAN, settlement=Settlement.PHYSICAL)
    book = _book(Position(instrument=Equity(symbol="AAPL"), quantity=100),
                 Position(instrument=put, quantity=1))
    result = ScenarioGrid.from_params().compute(book, make_market())
    t = (expiry - AS_OF).days / 365.0
    p0 = gbsm(spot=185.0, strike=180.0, time=t, rate=0.02, carry=0.02, vol=0.25,
              is_call=False)
    losses = []
    for move in np.unique(np.r_[np.linspace(-1, 1, 10), 0.0]) * 0.15:
        for vol in (0.25, 0.25 * 1.25, 0.25 * 0.75):
            p = gbsm(spot=185.0 * (1 + move), strike=180.0, time=t, rate=0.02, carry=0.02,
                     vol=vol, is_call=False)
            losses.append(-(100 * 185.0 * move + 100 * (p - p0)))
    expected = max(losses)
    assert result.initial_margin[0] == pytest.approx(np.ceil(expected * 100) / 100, abs=0.011)
    assert result.initial_margin[0] < 2775.0  # cheaper than the stock alone


def test_groups_do_not_offset() -> None:
    """A long stock and a short index do not offset under the grid (no product-group
    credit): the requirement is the sum of the two standalone charges."""
    m = make_market()
    a = _book(Position(instrument=Equity(symbol="AAPL"), quantity=100))
    b = _book(Position(instrument=Equity(symbol="SPY", product_class=ProductClass.
                                         BROAD_BASED_HIGH_CAP), quantity=-100))
    both = _book(*a.account(0).positions, *b.account(0).positions)
    grid = ScenarioGrid.from_params()
    total = grid.compute(both, m).initial_margin[0]
    assert total == pytest.approx(grid.compute(a, m).initial_margin[0]
                                  + grid.compute(b, m).initial_margin[0])
