"""Unit tests of linear-weight cross margin: scope, orders, thresholds, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossmargin.book.book import Account, Book, Collateral, Order, Position
from crossmargin.book.instruments import CryptoSpot, Equity, Perpetual, Settlement
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.methods.registry import get_method
from crossmargin.methods.weights.method import LinearWeightMargin
from crossmargin.params.loader import load_params
from tests.conftest import AS_OF, make_market

CENT = 0.011
METHOD = LinearWeightMargin.from_params()
PERP = Perpetual(underlying="BTC", currency="USDT")


def _one(*positions: Position, collateral: tuple[Collateral, ...] = (),
         orders: tuple[Order, ...] = (), currency: str = "USD") -> Book:
    return Book.from_accounts([Account(id="A", positions=positions, collateral=collateral,
                                       orders=orders)], as_of=AS_OF, currency=currency)


def _initial(book: Book) -> float:
    return float(METHOD.compute(book, make_market()).initial_margin[0])


def test_registered_by_name() -> None:
    assert get_method("weights").name == "weights"


def test_scope_and_unweighted_balances_are_noted() -> None:
    inverse = Perpetual(underlying="BTC", settlement=Settlement.INVERSE, multiplier=10.0)
    book = _one(Position(instrument=inverse, quantity=5),
                Position(instrument=Equity(symbol="AAPL"), quantity=10),
                collateral=(Collateral(asset="USD", amount=1000.0),
                            Collateral(asset="SPY", amount=3.0)))
    result = METHOD.compute(book, make_market())
    assert result.initial_margin[0] == 0.0
    assert any("2 position(s) outside its scope" in n for n in result.notes)
    assert any("1 balance(s) in SPY are left out" in n for n in result.notes)
    assert result.account_json(0)["detail"]["equity"] == 1000.0


def test_spot_positions_and_collateral_net_into_one_balance() -> None:
    """A coin held as a position and as collateral is one balance: the size discount
    applies to the total (100 BTC here), not to each line."""
    split = _one(Position(instrument=CryptoSpot(asset="BTC"), quantity=60.0),
                 collateral=(Collateral(asset="BTC", amount=40.0),))
    whole = _one(collateral=(Collateral(asset="BTC", amount=100.0),))
    assert _initial(split) == _initial(whole)


def test_thresholds_are_ordered_and_health_is_equity_less_requirement() -> None:
    book = _one(Position(instrument=PERP, quantity=-3),
                collateral=(Collateral(asset="ETH", amount=20.0),
                            Collateral(asset="USDT", amount=-2000.0)))
    result = METHOD.compute(book, make_market())
    c = result.components
    assert c["initial"][0] >= c["liquidation_end"][0] >= c["maintenance"][0] > 0
    detail = result.account_json(0)["detail"]
    for t, r in detail["required"].items():
        assert detail["health"][t] == pytest.approx(detail["equity"] - r)
        assert c[t][0] == pytest.approx(r, abs=CENT)


def test_marketable_buy_order_counts_its_loss_in_full() -> None:
    """Buying 1 BTC of perpetual at 7,000 when it is worth 6,400 loses 600 at the fill:
    the requirement is the margin of 2 BTC (640) plus the loss (600)."""
    base = _one(Position(instrument=PERP, quantity=1))
    book = _one(Position(instrument=PERP, quantity=1),
                orders=(Order(instrument=PERP, quantity=1.0, limit_price=7000.0),))
    assert _initial(base) == pytest.approx(320.0, abs=CENT)
    assert _initial(book) == pytest.approx(640.0 + 600.0, abs=CENT)


def test_perpetual_fill_profit_counts_at_a_reduced_weight() -> None:
    """Long 2 BTC of perpetual with a sell order for 20 at 6,500 (worth 6,400): filled, the
    account is short 18 BTC (115,200 notional, margin fraction raised for size) and has
    booked 20 x 100 = 2,000 of unsettled profit, which counts at 80% at the initial
    threshold and in full at maintenance."""
    book = _one(Position(instrument=PERP, quantity=2),
                orders=(Order(instrument=PERP, quantity=-20.0, limit_price=6500.0),))
    result = METHOD.compute(book, make_market())
    fraction = max(0.05, 0.04 + 0.0005 * 18 ** 0.5)
    assert result.initial_margin[0] == pytest.approx(18 * 6400 * fraction - 0.8 * 2000,
                                                     abs=CENT)
    maint = max(0.03, 0.024 + 0.0005 * 18 ** 0.5)
    assert result.maintenance_margin[0] == pytest.approx(18 * 6400 * maint - 2000, abs=CENT)


def test_spot_buy_order_pays_in_full_and_weighs_the_coins() -> None:
    """A spot buy of 10 ETH at 500 (worth 450): the coins hold back 20% of 4,500 and the
    500 overpaid counts in full."""
    spot = CryptoSpot(asset="ETH")
    book = _one(orders=(Order(instrument=spot, quantity=10.0, limit_price=500.0),))
    assert _initial(book) == pytest.approx(900.0 + 500.0, abs=CENT)


def test_reporting_in_another_currency() -> None:
    book = _one(collateral=(Collateral(asset="BTC", amount=1.0),), currency="EUR")
    assert _initial(book) == pytest.approx(1280.0 / 1.17, abs=CENT)


def test_a_spot_mark_must_agree_with_the_coin_value() -> None:
    spot = CryptoSpot(asset="BTC")
    agree = _one(Position(instrument=spot, quantity=1.0, mark=6400.0))
    assert _initial(agree) == pytest.approx(1280.0, abs=CENT)
    with pytest.raises(InputError, match="disagrees with the value of BTC"):
        _initial(_one(Position(instrument=spot, quantity=1.0, mark=7000.0)))


def test_a_perpetual_mark_sets_its_price() -> None:
    book = _one(Position(instrument=PERP, quantity=1.0, mark=8000.0))
    assert _initial(book) == pytest.approx(400.0, abs=CENT)


def test_missing_price_raises_never_zero() -> None:
    with pytest.raises(MissingDataError, match="BTC"):
        METHOD.compute(_one(Position(instrument=PERP, quantity=1)),
                       make_market(prices={"ETH": 450.0}))
    with pytest.raises(MissingDataError, match="SOL"):
        METHOD.compute(_one(collateral=(Collateral(asset="SOL", amount=1.0),)),
                       make_market())


@pytest.mark.parametrize(("entry", "message"), [
    ("asset_weight: {initial: 0.9, liquidation_end: 0.85, maintenance: 0.8}",
     "must be rising from initial to maintenance"),
    ("asset_weight: {initial: 0.8, liquidation_end: 0.9, maintenance: 1.2}",
     "assets.BTC.asset_weight.maintenance=1.2: must lie in [0, 1]"),
    ("asset_weight: {initial: 0.8, liquidation_end: 0.85}",
     "assets.BTC.asset_weight.maintenance: is required"),
])
def test_bad_weights_name_file_and_field(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "id: weights\nversion: x\neffective: 2026-01-01\nsource: test\nparameters:\n"
        "  size_adjustment: {liability_factor: 0.8, asset_numerator: 1.1}\n"
        "  assets:\n    BTC:\n"
        f"      {entry}\n"
        "      liability_weight: {initial: 1.2, liquidation_end: 1.15, maintenance: 1.1}\n"
        "      imf: 0.1\n"
        "  perps: {}\n")
    with pytest.raises(InputError, match=r"bad\.yaml") as err:
        LinearWeightMargin.from_params(load_params("weights", path=path))
    assert message in str(err.value)


def test_a_zero_perpetual_mark_is_an_error_not_a_free_position() -> None:
    with pytest.raises(InputError, match="must be positive"):
        _initial(_one(Position(instrument=PERP, quantity=1.0, mark=0.0)))
