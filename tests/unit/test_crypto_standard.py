"""Unit tests of crypto standard margin: scope, currencies, orders, errors, parameters."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Collateral, Order, Position
from crossmargin.book.instruments import (
    AssetClass,
    CryptoSpot,
    Equity,
    Future,
    Option,
    Perpetual,
    Right,
    Settlement,
)
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.methods.crypto_standard.method import DeribitStandardMargin
from crossmargin.methods.registry import get_method
from crossmargin.params.loader import load_params
from crossmargin.pricing.inverse import inverse_option_premium
from tests.conftest import AS_OF, make_market

EXPIRY = date(2018, 9, 28)
METHOD = DeribitStandardMargin.from_params()
CALL = Option(underlying="BTC", right=Right.CALL, strike=8000.0, expiry=EXPIRY,
              multiplier=1.0, settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO)
PERP = Perpetual(underlying="BTC", currency="USDT")


def _book(*accounts: Account, currency: str = "USD") -> Book:
    return Book.from_accounts(list(accounts), as_of=AS_OF, currency=currency)


def _one(*positions: Position, orders: tuple[Order, ...] = ()) -> Book:
    return _book(Account(id="A", positions=positions, orders=orders))


def test_registered_by_name() -> None:
    assert get_method("crypto-standard").name == "crypto-standard"


def test_other_asset_classes_are_left_out_with_a_note() -> None:
    cme = Future(symbol="BTCU8", underlying="BTC", expiry=EXPIRY, multiplier=5.0,
                 asset_class=AssetClass.CRYPTO)  # cash-settled: not a venue contract
    book = _one(Position(instrument=Equity(symbol="AAPL"), quantity=100),
                Position(instrument=cme, quantity=1), Position(instrument=PERP, quantity=1))
    result = METHOD.compute(book, make_market())
    assert result.initial_margin[0] == pytest.approx(6400 * 0.02005, abs=0.011)
    assert any("2 position(s) outside its scope" in n and "AAPL" in n and "BTCU8" in n
               for n in result.notes)


def test_inverse_margin_is_held_in_coin_and_converted_at_the_coin_price() -> None:
    inverse = Perpetual(underlying="BTC", settlement=Settlement.INVERSE, multiplier=10.0)
    result = METHOD.compute(_one(Position(instrument=inverse, quantity=-640)), make_market())
    detail = result.account_json(0)["detail"]
    (row,) = detail["contracts"]
    assert row["margin_currency"] == "BTC"
    assert row["initial"] == pytest.approx(1.0 * 0.02005)  # 6,400 USD = 1 BTC
    assert row["BTC_to_USD"] == 6400.0
    assert detail["by_currency"] == {"BTC": {"initial": row["initial"],
                                             "maintenance": row["maintenance"]}}


def test_linear_margin_converts_from_the_quote_currency() -> None:
    """A USDT-quoted perpetual's margin is in USDT, converted at the USDT rate."""
    market = make_market(fx={"USDT": 0.5, "USDC": 1.0})
    result = METHOD.compute(_one(Position(instrument=PERP, quantity=1)), market)
    (row,) = result.account_json(0)["detail"]["contracts"]
    assert row["margin_currency"] == "USDT"
    assert row["USDT_to_USD"] == 0.5
    # price in USDT = 6,400 USD / 0.5 = 12,800 USDT; margin 2.005% of it, worth half in USD
    assert row["initial"] == pytest.approx(12_800 * 0.02005)
    assert result.initial_margin[0] == pytest.approx(6_400 * 0.02005, abs=0.011)


def test_reporting_in_another_currency() -> None:
    book = _book(Account(id="A", positions=(Position(instrument=PERP, quantity=1),)),
                 currency="EUR")
    result = METHOD.compute(book, make_market())
    assert result.initial_margin[0] == pytest.approx(6400 * 0.02005 / 1.17, abs=0.011)


def test_model_option_mark_is_the_inverse_premium() -> None:
    result = METHOD.compute(_one(Position(instrument=CALL, quantity=1)), make_market())
    (row,) = result.account_json(0)["detail"]["contracts"]
    t = (EXPIRY - AS_OF).days / 365.0
    forward = 6400 * np.exp(0.02 * t)
    expected = inverse_option_premium(underlying=forward, strike=8000.0, time=t, rate=0.02,
                                      vol=0.70, is_call=True)
    assert row["underlying_price"] == pytest.approx(forward)
    assert row["mark_in_coin"] == pytest.approx(float(expected))
    assert row["initial"] == pytest.approx(float(expected))  # a long pays its premium


def test_components_by_kind_add_up() -> None:
    spot = CryptoSpot(asset="ETH")
    book = _one(Position(instrument=PERP, quantity=2), Position(instrument=CALL, quantity=-1),
                Position(instrument=spot, quantity=3))
    result = METHOD.compute(book, make_market())
    parts = sum(float(v[0]) for v in result.components.values())
    assert result.components["spot"][0] == pytest.approx(1350.0)
    assert parts == pytest.approx(float(result.initial_margin[0]), abs=0.03)
    assert result.maintenance_margin[0] <= result.initial_margin[0]


def test_positions_net_per_contract() -> None:
    """Two lines on one contract are one position: the size rule applies to the net."""
    split = METHOD.compute(_one(Position(instrument=PERP, quantity=300),
                                Position(instrument=PERP, quantity=200)), make_market())
    whole = METHOD.compute(_one(Position(instrument=PERP, quantity=500)), make_market())
    assert split.initial_margin[0] == whole.initial_margin[0]


def test_sell_order_takes_the_worse_side() -> None:
    base = METHOD.compute(_one(Position(instrument=PERP, quantity=10)), make_market())
    with_sell = METHOD.compute(_one(Position(instrument=PERP, quantity=10),
                                    orders=(Order(instrument=PERP, quantity=-30.0),)),
                               make_market())
    short20 = METHOD.compute(_one(Position(instrument=PERP, quantity=-20)), make_market())
    assert with_sell.initial_margin[0] == short20.initial_margin[0] > base.initial_margin[0]
    assert with_sell.maintenance_margin[0] == base.maintenance_margin[0]


def test_orders_on_uncovered_instruments_are_noted() -> None:
    book = _one(Position(instrument=PERP, quantity=1),
                orders=(Order(instrument=Equity(symbol="AAPL"), quantity=10.0),))
    result = METHOD.compute(book, make_market())
    assert any("1 open order(s)" in n for n in result.notes)


def test_short_spot_is_left_out_with_a_note_and_sells_stop_at_the_holding() -> None:
    spot = CryptoSpot(asset="BTC")
    short = METHOD.compute(_one(Position(instrument=spot, quantity=-1),
                                Position(instrument=PERP, quantity=1)), make_market())
    assert short.initial_margin[0] == pytest.approx(6400 * 0.02005, abs=0.011)
    assert any("lends no coin: 1 short spot position(s) (BTC spot)" in n for n in short.notes)
    selling = METHOD.compute(_one(Position(instrument=spot, quantity=1),
                                  orders=(Order(instrument=spot, quantity=-2.0),)),
                             make_market())
    assert selling.initial_margin[0] == 6400.0  # fully paid; the excess sell adds nothing


def test_missing_price_raises_never_zero() -> None:
    market = make_market(prices={"ETH": 450.0})
    with pytest.raises(MissingDataError, match="BTC"):
        METHOD.compute(_one(Position(instrument=PERP, quantity=1)), market)


def test_missing_fx_rate_raises() -> None:
    usdx = Perpetual(underlying="BTC", currency="USDX")
    with pytest.raises(MissingDataError, match="USDX"):
        METHOD.compute(_one(Position(instrument=usdx, quantity=1)), make_market())


def test_expired_future_raises() -> None:
    old = Future(symbol="BTC-OLD", underlying="BTC", expiry=date(2018, 1, 1), multiplier=10.0,
                 settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO)
    with pytest.raises(InputError, match="expired"):
        METHOD.compute(_one(Position(instrument=old, quantity=1)), make_market())


def test_empty_accounts_owe_nothing() -> None:
    book = _book(Account(id="A"), Account(id="B", collateral=(Collateral(asset="BTC",
                                                                          amount=1.0),)))
    result = METHOD.compute(book, make_market())
    assert result.initial_margin.tolist() == [0.0, 0.0]
    assert result.account_json(1)["detail"] == {"contracts": [], "by_currency": {}}


@pytest.mark.parametrize(("text", "message"), [
    ("futures: {BTC: {initial: 0.01, maintenance: 0.02, increase: 0}}\n"
     "  options: {BTC: {initial_rate: 0.15, initial_floor: 0.1, maintenance_rate: 0.075}}",
     "futures.BTC.initial=0.01: initial rate below maintenance rate"),
    ("futures: {BTC: {initial: 0.02, maintenance: 0.01, increase: 0}}\n"
     "  options: {BTC: {initial_rate: 0.15, initial_floor: 0.05, maintenance_rate: 0.075}}",
     "options.BTC"),
    ("futures: {BTC: {initial: 0.02, maintenance: 0.01}}\n  options: {}",
     "futures.BTC.increase: is required"),
    ("futures: {BTC: {initial: 0.02, maintenance: 0.01, increase: 0}}\n"
     "  options: {BTC: {initial_rate: 0.15, initial_floor: 0.1, maintenance_rate: 0.075}}\n"
     "  spot: 1", "spot: unknown parameter"),
])
def test_bad_parameter_files_name_file_and_field(tmp_path: Path, text: str, message: str
                                                 ) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: crypto-standard\nversion: x\neffective: 2026-01-01\nsource: test\n"
                    f"parameters:\n  {text}\n")
    with pytest.raises(InputError, match=r"bad\.yaml") as err:
        DeribitStandardMargin.from_params(load_params("crypto-standard", path=path))
    assert message in str(err.value)


def test_a_zero_futures_mark_is_an_error_not_a_free_position() -> None:
    with pytest.raises(InputError, match="must be positive"):
        METHOD.compute(_one(Position(instrument=PERP, quantity=1, mark=0.0)), make_market())


def test_a_given_mark_needs_no_market_price() -> None:
    market = make_market(prices={"ETH": 450.0})
    result = METHOD.compute(_one(Position(instrument=PERP, quantity=1, mark=6400.0)), market)
    assert result.initial_margin[0] == pytest.approx(6400 * 0.02005, abs=0.011)
