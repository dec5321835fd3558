"""Published standard-margin examples and rules of a crypto venue, reproduced.

Each test cites the document the numbers come from; where a document gives the rule but
not the arithmetic, the expected value is worked by hand from the published rule.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Order, Position
from crossmargin.book.instruments import (
    AssetClass,
    Future,
    Option,
    Perpetual,
    Right,
    Settlement,
)
from crossmargin.methods.crypto_standard.method import DeribitStandardMargin
from crossmargin.methods.crypto_standard.rates import short_option_margin
from tests.conftest import AS_OF, make_market

CENT = 0.011
EXPIRY = date(2018, 9, 28)
METHOD = DeribitStandardMargin.from_params()


def _margin(price: dict[str, float], *positions: Position, orders: tuple[Order, ...] = ()
            ) -> tuple[float, float]:
    book = Book.from_accounts([Account(id="A", positions=positions, orders=orders)],
                              as_of=AS_OF, currency="USD")
    result = METHOD.compute(book, make_market(prices=price, rates={"USD": 0.0}))
    return float(result.initial_margin[0]), float(result.maintenance_margin[0])


def _option(right: Right, strike: float) -> Option:
    return Option(underlying="BTC", right=right, strike=strike, expiry=EXPIRY, multiplier=1.0,
                  settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO)


@pytest.mark.parametrize(("size", "initial", "maintenance"), [
    (25.0, 53_125.0, 28_125.0),
    (350.0, 1_312_500.0, 962_500.0),
])
def test_linear_btc_perpetual_examples(size: float, initial: float, maintenance: float
                                       ) -> None:
    """Deribit, "Linear Perpetual" help article (support.deribit.com), standard margin IM
    & MM examples, BTC_USDC at 100,000: 25 BTC needs 2% + 25 x 0.005% = 2.125%, 53,125
    USDC initial and 1.125%, 28,125 USDC maintenance; 350 BTC needs 3.75%, 1,312,500 USDC
    initial (maintenance 1% + 350 x 0.005% = 2.75%, 962,500 USDC, by the same rule)."""
    perp = Perpetual(underlying="BTC", currency="USDC")
    im, mm = _margin({"BTC": 100_000.0}, Position(instrument=perp, quantity=size))
    assert im == pytest.approx(initial, abs=CENT)
    assert mm == pytest.approx(maintenance, abs=CENT)
    short_im, _ = _margin({"BTC": 100_000.0}, Position(instrument=perp, quantity=-size))
    assert short_im == im


@pytest.mark.parametrize(("size", "initial", "maintenance"), [
    (25.0, 200.625, 100.625),
    (6000.0, 84_000.0, 6000 * 200 * (0.02 + 6000 * 0.000005)),
])
def test_linear_sol_perpetual_examples(size: float, initial: float, maintenance: float
                                       ) -> None:
    """Deribit, "Linear Perpetual" help article, SOL_USDC at 200: 25 SOL needs 4% + 25 x
    0.0005% = 4.0125%, 200.625 USDC initial and 2.0125%, 100.625 USDC maintenance; 6,000
    SOL needs 7%, 84,000 USDC initial. Requirements round up to the cent."""
    perp = Perpetual(underlying="SOL", currency="USDC")
    im, mm = _margin({"SOL": 200.0}, Position(instrument=perp, quantity=size))
    assert im == pytest.approx(initial, abs=CENT)
    assert mm == pytest.approx(maintenance, abs=CENT)


def test_inverse_btc_future_in_coin() -> None:
    """Deribit, "11 January 2022" margin change: BTC initial 2% + (size in BTC) x 0.005%,
    maintenance 1% + size x 0.005%. An inverse BTC future of 50,000 contracts of USD 10
    at 50,000 is 10 BTC: initial 10 x 2.05% = 0.205 BTC = 10,250 USD, maintenance
    10 x 1.05% = 0.105 BTC = 5,250 USD (worked by hand from the rule)."""
    fut = Future(symbol="BTC-28SEP18", underlying="BTC", expiry=EXPIRY, multiplier=10.0,
                 settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO)
    im, mm = _margin({"BTC": 50_000.0}, Position(instrument=fut, quantity=-50_000,
                                                 mark=50_000.0))
    assert im == pytest.approx(10_250.0, abs=CENT)
    assert mm == pytest.approx(5_250.0, abs=CENT)


def test_inverse_eth_perpetual_rate() -> None:
    """Deribit, "11 January 2022" margin change: ETH initial 2% + (size in ETH) x 0.0004%,
    maintenance 1% + size x 0.0004%. 1,000 ETH of inverse perpetual (USD 1 face) at
    2,500: initial 1,000 x (2% + 0.4%) = 24 ETH = 60,000 USD; maintenance 14 ETH =
    35,000 USD (worked by hand)."""
    perp = Perpetual(underlying="ETH", settlement=Settlement.INVERSE, multiplier=1.0)
    im, mm = _margin({"ETH": 2_500.0}, Position(instrument=perp, quantity=2_500_000))
    assert im == pytest.approx(60_000.0, abs=CENT)
    assert mm == pytest.approx(35_000.0, abs=CENT)


def test_short_option_formula_by_hand() -> None:
    """Deribit standard margin for options: short call initial max(0.15 - OTM/U, 0.1) +
    mark, maintenance 0.075 + mark; short put initial max(max(0.15 - OTM/U, 0.1) + mark,
    MM), maintenance max(0.075, 0.075 x mark) + mark. With U = 10,000 and mark 0.025 BTC:
    an in-the-money 9,000 call needs 0.175 / 0.100 BTC; a 9,000 put (1,000 out of the
    money) 0.125 / 0.100 BTC; a 12,000 call (20% out) 0.125 / 0.100 BTC; a deep 9,000
    put at U = 1,000 worth 8 BTC needs max(8.15, 8.6) = 8.6 / 8.6 BTC."""
    out = short_option_margin(
        underlying=np.array([10_000.0, 10_000.0, 10_000.0, 1_000.0]),
        strike=np.array([9_000.0, 9_000.0, 12_000.0, 9_000.0]),
        mark=np.array([0.025, 0.025, 0.025, 8.0]),
        is_call=np.array([True, False, True, False]),
        initial_rate=np.full(4, 0.15), initial_floor=np.full(4, 0.10),
        maintenance_rate=np.full(4, 0.075))
    assert out.initial == pytest.approx([0.175, 0.125, 0.125, 8.6])
    assert out.maintenance == pytest.approx([0.100, 0.100, 0.100, 8.6])


def test_short_call_at_the_money_in_usd() -> None:
    """Deribit, "Inverse Options" help article: a call on 1 BTC struck at 100,000 sold for
    0.05 BTC. At the money (U = 100,000) it needs max(0.15, 0.1) + 0.05 = 0.2 BTC
    initial and 0.075 + 0.05 = 0.125 BTC maintenance: 20,000 and 12,500 USD at 100,000
    (worked by hand from the standard margin formula)."""
    call = _option(Right.CALL, 100_000.0)
    im, mm = _margin({"BTC": 100_000.0},
                     Position(instrument=call, quantity=-1, mark=0.05 * 100_000.0))
    assert im == pytest.approx(20_000.0, abs=CENT)
    assert mm == pytest.approx(12_500.0, abs=CENT)


def test_long_option_pays_its_premium() -> None:
    """Deribit standard margin: a long option needs its mark (the premium), initial and
    maintenance alike. Two 100,000 puts marked 0.05 BTC: 0.1 BTC = 10,000 USD."""
    put = _option(Right.PUT, 100_000.0)
    im, mm = _margin({"BTC": 100_000.0}, Position(instrument=put, quantity=2, mark=5_000.0))
    assert im == pytest.approx(10_000.0, abs=CENT)
    assert mm == pytest.approx(10_000.0, abs=CENT)


def test_open_orders_add_initial_margin_only() -> None:
    """Deribit, "Futures leverage and margin": the total initial margin is that of the
    positions plus that of the open orders; maintenance counts positions. 25 BTC held and
    a buy order for 25 more: initial margin of 50 BTC, 50 x (2% + 50 x 0.005%) = 1.125
    BTC = 112,500 USDC at 100,000; maintenance stays 28,125 USDC."""
    perp = Perpetual(underlying="BTC", currency="USDC")
    im, mm = _margin({"BTC": 100_000.0}, Position(instrument=perp, quantity=25),
                     orders=(Order(instrument=perp, quantity=25.0),))
    assert im == pytest.approx(112_500.0, abs=CENT)
    assert mm == pytest.approx(28_125.0, abs=CENT)
