"""Published examples of linear-weight cross margin, reproduced.

The formula-level cases come from Drift Protocol's documentation and from the expected
values of Drift's own margin unit tests (integer weights in units of 1/10,000, so they
are compared after truncation to four decimals); the account-level cases are worked by
hand from the published weights in the bundled parameter file.
"""

from __future__ import annotations

import math

import pytest

from crossmargin.book.book import Account, Book, Collateral, Order, Position
from crossmargin.book.instruments import Perpetual
from crossmargin.methods.weights.formulas import (
    size_discount_asset_weight,
    size_premium_liability_weight,
)
from crossmargin.methods.weights.method import LinearWeightMargin
from tests.conftest import AS_OF, make_market

CENT = 0.011
METHOD = LinearWeightMargin.from_params()


def _bp(x: float) -> float:
    """Truncate a weight to whole basis points (1/10,000), as Drift's integers do."""
    return math.floor(float(x) * 1e4 + 1e-9) / 1e4


def test_drift_docs_sol_collateral_example() -> None:
    """Drift Protocol documentation, "Cross-collateral deposits": the initial asset weight
    of 2,000 SOL (weight 80%, IMF 0.003) is min(0.80, 1.1 / (1 + 0.003 sqrt(2000))) =
    min(0.80, ~0.96987) = 0.80."""
    assert size_discount_asset_weight(weight=1.0, imf=0.003, size=2000,
                                      numerator=1.1) == pytest.approx(0.96987, abs=1e-5)
    assert size_discount_asset_weight(weight=0.8, imf=0.003, size=2000,
                                      numerator=1.1) == 0.8


@pytest.mark.parametrize(("weight", "imf", "size", "expected"), [
    (0.9, 0.0, 1000, 0.9),
    (0.9, 0.01, 1000, 0.8357),
    (0.9, 0.1, 1000, 0.2642),
    (0.15, 0.1, 100_000, 0.0337),
])
def test_drift_unit_test_asset_weights(weight: float, imf: float, size: float,
                                       expected: float) -> None:
    """Drift Protocol v2, programs/drift/src/math/margin/tests.rs, test
    ``spot_market_asset_weight``: initial asset weight 9000 (0.9) on 1,000 tokens is 9000
    with IMF 0, 8357 with IMF factor 10,000 (0.01) and 2642 with IMF 0.1; weight 1500
    (0.15) on 100,000 tokens with IMF 0.1 is 337."""
    assert _bp(size_discount_asset_weight(weight=weight, imf=imf, size=size,
                                          numerator=1.1)) == expected


@pytest.mark.parametrize(("weight", "imf", "size", "expected"), [
    (1.1, 0.0, 1000, 1.1),
    (1.1, 0.01, 1000, 1.1962),
    (1.1, 0.1, 1000, 4.0422),
    (0.0, 0.1, 1000, 3.1622),
])
def test_drift_unit_test_liability_weights(weight: float, imf: float, size: float,
                                           expected: float) -> None:
    """Drift Protocol v2, programs/drift/src/math/margin/tests.rs, test
    ``spot_market_asset_weight``: initial liability weight 11000 (1.1) on 1,000 tokens is
    11000 with IMF 0, 11962 with IMF 0.01, 40422 with IMF 0.1; a zero maintenance
    liability weight with IMF 0.1 gives 31622."""
    assert _bp(size_premium_liability_weight(weight=weight, imf=imf, size=size,
                                             factor=0.8)) == expected


def test_drift_unit_test_unrealised_pnl_weight() -> None:
    """Drift Protocol v2, programs/drift/src/math/margin/tests.rs, test
    ``calculate_user_equity_value_tests``: with unrealised-PnL IMF factor 1,000 (0.001)
    and weight 10000, a profit of 22,699.050905 USDC counts at weight 9559."""
    weight = size_discount_asset_weight(weight=1.0, imf=0.001, size=22_699.050905,
                                        numerator=1.1)
    assert _bp(weight) == 0.9559


def _one(*positions: Position, collateral: tuple[Collateral, ...] = (),
         orders: tuple[Order, ...] = ()) -> Book:
    return Book.from_accounts([Account(id="A", positions=positions, collateral=collateral,
                                       orders=orders)], as_of=AS_OF, currency="USD")


def test_one_btc_of_collateral_by_hand() -> None:
    """Drift documentation weights for wBTC (80% initial, 90% maintenance, IMF 0.105): one
    BTC at 6,400 is below the size discount (1.1 / 1.105 > 0.8), so it holds back 20%
    (1,280 USD) at the initial threshold, 15% (960, the midpoint) at liquidation end and
    10% (640) at maintenance."""
    result = METHOD.compute(_one(collateral=(Collateral(asset="BTC", amount=1.0),)),
                            make_market())
    assert result.initial_margin[0] == pytest.approx(1280.0, abs=CENT)
    assert result.components["liquidation_end"][0] == pytest.approx(960.0, abs=CENT)
    assert result.maintenance_margin[0] == pytest.approx(640.0, abs=CENT)
    detail = result.account_json(0)["detail"]
    assert detail["equity"] == pytest.approx(6400.0)
    assert detail["health"]["initial"] == pytest.approx(5120.0)


def test_large_btc_balance_takes_the_size_discount() -> None:
    """100 BTC: the discount 1.1 / (1 + 0.105 x sqrt(100)) = 0.53659 is below every base
    weight, so all three thresholds hold back 46.34% of 640,000 USD = 296,585.37 USD."""
    result = METHOD.compute(_one(collateral=(Collateral(asset="BTC", amount=100.0),)),
                            make_market())
    expected = 640_000 * (1 - 1.1 / 2.05)
    for t in ("initial", "liquidation_end", "maintenance"):
        assert result.components[t][0] == pytest.approx(expected, abs=CENT)


def test_borrow_and_short_perpetual_by_hand() -> None:
    """A USDT borrow of 1,000 (liability weight 110% initial, 105% maintenance) holds back
    100 / 50 USD; a short of 2 BTC on the USDT perpetual at 6,400 (12,800 notional,
    margin fraction 5% / 3%) holds back 640 / 384 USD; 1 BTC of collateral 1,280 / 640."""
    perp = Perpetual(underlying="BTC", currency="USDT")
    book = _one(Position(instrument=perp, quantity=-2),
                collateral=(Collateral(asset="BTC", amount=1.0),
                            Collateral(asset="USDT", amount=-1000.0)))
    result = METHOD.compute(book, make_market())
    assert result.initial_margin[0] == pytest.approx(100 + 640 + 1280, abs=CENT)
    assert result.maintenance_margin[0] == pytest.approx(50 + 384 + 640, abs=CENT)
