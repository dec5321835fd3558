"""The strategy method end to end: scope, prices, netting, components and the report."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import (
    AssetClass,
    Equity,
    Future,
    Option,
    Right,
    Settlement,
    Style,
)
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.methods.registry import get_method
from crossmargin.methods.strategy.method import StrategyBased
from crossmargin.pricing.black import gbsm
from tests.conftest import AS_OF, make_market

METHOD = StrategyBased.from_params()
MARKET = make_market()
EXPIRY = date(2018, 9, 21)
AAPL = Equity(symbol="AAPL")
CALL = Option(underlying="AAPL", right=Right.CALL, strike=190.0, expiry=EXPIRY)
PUT = Option(underlying="AAPL", right=Right.PUT, strike=180.0, expiry=EXPIRY)


def _book(*accounts: tuple[Position, ...]) -> Book:
    return Book.from_accounts([Account(id=f"A{k}", positions=p) for k, p in enumerate(accounts)],
                              as_of=AS_OF, currency="USD")


def _pos(inst: Equity | Option | Future, q: float, mark: float | None = None) -> Position:
    return Position(instrument=inst, quantity=q, mark=mark)


def test_registered() -> None:
    assert isinstance(get_method("strategy"), StrategyBased)


def test_model_premium_when_no_mark() -> None:
    """A long European call is paid in full at its Black-Scholes value."""
    call = Option(underlying="AAPL", right=Right.CALL, strike=190.0, expiry=EXPIRY,
                  style=Style.EUROPEAN)
    t = (EXPIRY - AS_OF).days / 365.0
    value = 100 * float(gbsm(spot=185.0, strike=190.0, time=t, rate=0.02, carry=0.02,
                             vol=0.25, is_call=True))
    result = METHOD.compute(_book((_pos(call, 2),)), MARKET)
    assert result.initial_margin[0] == pytest.approx(np.ceil(2 * value * 100) / 100)
    marked = METHOD.compute(_book((_pos(call, 2, mark=4.0),)), MARKET)
    assert marked.initial_margin[0] == pytest.approx(800.0)


def test_out_of_scope_positions_are_left_out_with_a_note() -> None:
    future = Future(symbol="ESU8", underlying="SPX", expiry=EXPIRY, multiplier=50.0)
    btc = Option(underlying="BTC", right=Right.CALL, strike=8000.0, expiry=EXPIRY,
                 multiplier=1.0, settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO)
    alone = METHOD.compute(_book((_pos(AAPL, 100),)), MARKET)
    mixed = METHOD.compute(_book((_pos(AAPL, 100), _pos(future, -2), _pos(btc, 1))), MARKET)
    assert mixed.initial_margin[0] == alone.initial_margin[0] == pytest.approx(9_250.0)
    assert any("2 position(s) outside its scope" in n and "ESU8" in n for n in mixed.notes)


def test_missing_price_and_expired_option_raise() -> None:
    ibm = Equity(symbol="IBM")
    with pytest.raises(MissingDataError, match="IBM"):
        METHOD.compute(_book((_pos(ibm, 100),)), MARKET)
    old = Option(underlying="AAPL", right=Right.CALL, strike=190.0, expiry=date(2018, 6, 15))
    with pytest.raises(InputError, match="expired"):
        METHOD.compute(_book((_pos(old, -1, mark=0.5),)), MARKET)


def test_offsetting_positions_net_to_nothing() -> None:
    result = METHOD.compute(_book((_pos(CALL, 3, 2.0), _pos(CALL, -3, 2.0))), MARKET)
    assert result.initial_margin[0] == 0.0 == result.maintenance_margin[0]


def test_components_add_up_and_the_report_is_json() -> None:
    """Covered call plus a naked put and a long put: components add to the initial
    requirement; the detail names each strategy instance and what is held alone."""
    positions = (_pos(AAPL, 250), _pos(CALL, -2, 1.5), _pos(PUT, -1, 2.0),
                 _pos(Option(underlying="AAPL", right=Right.PUT, strike=170.0,
                             expiry=EXPIRY), 3, 0.5))
    result = METHOD.compute(_book(positions), MARKET)
    c = result.components
    parts = c["stock"] + c["long_options"] + c["short_options"] + c["strategies"]
    assert result.initial_margin[0] == pytest.approx(parts[0], abs=0.011)
    assert c["short_proceeds"][0] == pytest.approx(2 * 150 + 200)
    assert result.detail is not None
    detail = result.detail(0)
    json.dumps(detail)
    kinds = {s["strategy"] for s in detail["initial"]["strategies"]}
    assert {"covered_call", "vertical_spread"} <= kinds
    held = {a["instrument"]: a["quantity"] for a in detail["initial"]["alone"]}
    assert held["AAPL"] == 50.0
    row = result.accounts_json()[0]
    assert row["components"]["groups"] == {"AAPL": row["initial_margin"]}


def test_deep_in_the_money_covered_call_is_floored_at_maintenance() -> None:
    """Stock at 185 with a call struck at 100 worth 86: Reg T asks 50% x 18,500 = 9,250,
    but maintenance needs 25% x 100 x 100 + 8,600 = 11,100; the initial is floored."""
    deep = Option(underlying="AAPL", right=Right.CALL, strike=100.0, expiry=EXPIRY)
    result = METHOD.compute(_book((_pos(AAPL, 100), _pos(deep, -1, 86.0))), MARKET)
    assert result.maintenance_margin[0] == pytest.approx(11_100.0)
    assert result.initial_margin[0] == pytest.approx(11_100.0)


def test_maintenance_pairs_separately() -> None:
    """A protective put saves nothing initially (Reg T: stock 50%, put in full) but lowers
    maintenance: min(10% x 180 + 5, 25% x 185) x 100 + 250 = 2,550."""
    result = METHOD.compute(_book((_pos(AAPL, 100), _pos(PUT, 1, 2.5))), MARKET)
    assert result.initial_margin[0] == pytest.approx(9_250.0 + 250.0)
    assert result.maintenance_margin[0] == pytest.approx(2_300.0 + 250.0)
    assert result.detail is not None
    detail = result.detail(0)
    assert detail["initial"]["strategies"] == []
    assert detail["maintenance"]["strategies"][0]["strategy"] == "protective_put"


def test_many_accounts_equal_each_alone() -> None:
    accounts = [(_pos(AAPL, 100), _pos(CALL, -1, 1.5)), (_pos(PUT, -2, 2.0),), (),
                (_pos(CALL, 1, 1.5), _pos(Option(underlying="AAPL", right=Right.CALL,
                                                 strike=200.0, expiry=EXPIRY), -1, 0.7))]
    together = METHOD.compute(_book(*accounts), MARKET)
    for k, a in enumerate(accounts):
        alone = METHOD.compute(_book(a), MARKET)
        assert together.initial_margin[k] == alone.initial_margin[0]
        assert together.maintenance_margin[k] == alone.maintenance_margin[0]


def test_amounts_convert_to_the_reporting_currency() -> None:
    """A EUR stock at 100 with EUR at 1.17 USD: 100 shares need 50% x 11,700 = 5,850."""
    sap = Equity(symbol="SAP", currency="EUR")
    market = make_market(prices={**MARKET.prices, "SAP": 100.0})
    result = METHOD.compute(_book((_pos(sap, 100),)), market)
    assert result.initial_margin[0] == pytest.approx(5_850.0)
    assert result.maintenance_margin[0] == pytest.approx(2_925.0)
