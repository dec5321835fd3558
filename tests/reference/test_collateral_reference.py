"""Published collateral haircut schedules and venues' worked examples of tiered ratios."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Collateral
from crossmargin.book.instruments import Bond
from crossmargin.collateral import CollateralValuation, load_schedule, value_collateral
from crossmargin.collateral.schedule import IssuerKind
from crossmargin.collateral.tiers import CollateralTiers, tiered_value
from crossmargin.market.snapshot import MarketSnapshot
from tests.conftest import AS_OF, make_market

REL = 1e-12
BASEL = load_schedule("collateral-basel")
CRYPTO = load_schedule("collateral-crypto")


def _valuation(market: MarketSnapshot, *balances: Collateral, schedule: object = BASEL,
               exposure_currency: str | None = None) -> CollateralValuation:
    book = Book.from_accounts([Account(id="A", collateral=balances)], as_of=AS_OF,
                              currency="USD")
    return value_collateral(book, market, schedule,  # type: ignore[arg-type]
                            exposure_currency=exposure_currency)


def _value(market: MarketSnapshot, *balances: Collateral, schedule: object = BASEL,
           exposure_currency: str | None = None) -> float:
    return float(_valuation(market, *balances, schedule=schedule,
                            exposure_currency=exposure_currency).value.sum())


def _tiered(tiers: CollateralTiers, x: float) -> float:
    return float(tiered_value(value=np.array([x]), bounds=tiers.bounds[None, :],
                              ratios=tiers.ratios[None, :], add_on=np.zeros(1))[0])


def test_bcbs_iosco_appendix_b_government_securities_by_maturity() -> None:
    """BCBS-IOSCO, "Margin requirements for non-centrally cleared derivatives" (2013, rev.
    2015/2019), Appendix B: high-quality government securities 0.5% (<= 1 year), 2%
    (1-5 years), 4% (> 5 years). 12 CFR 45 Appendix B, Table B gives the same."""
    market = make_market()
    for maturity, haircut in ((date(2019, 3, 29), 0.005), (date(2021, 6, 30), 0.02),
                              (date(2028, 6, 30), 0.04)):
        bond = Bond(symbol="T", coupon=0.02, maturity=maturity)
        v = _valuation(market, Collateral(asset="T", amount=1e6, instrument=bond))
        assert v.haircut[0] == pytest.approx(haircut, rel=1e-9)
        assert v.value[0] == pytest.approx(v.market_value[0] * (1 - haircut), rel=REL)


def test_bcbs_iosco_appendix_b_corporate_bonds_and_basel_ii_rating_bands() -> None:
    """BCBS-IOSCO Appendix B: high-quality corporate/covered bonds 1% / 4% / 8%. Basel II
    comprehensive version (June 2006), para 151: sovereigns A+ to BBB- 1% / 3% / 6%,
    BB+ to BB- 15%; other issuers A+ to BBB- 2% / 6% / 12%."""
    assert BASEL.debt is not None
    table = BASEL.debt.haircuts
    assert table[IssuerKind.SOVEREIGN, "AAA-AA"] == (0.005, 0.02, 0.04)
    assert table[IssuerKind.OTHER, "AAA-AA"] == (0.01, 0.04, 0.08)
    assert table[IssuerKind.SOVEREIGN, "A-BBB"] == (0.01, 0.03, 0.06)
    assert table[IssuerKind.SOVEREIGN, "BB"] == (0.15, 0.15, 0.15)
    assert table[IssuerKind.OTHER, "A-BBB"] == (0.02, 0.06, 0.12)
    assert BASEL.debt.maturity_years == (1.0, 5.0)


def test_cash_equities_gold_and_the_currency_mismatch_add_on() -> None:
    """BCBS-IOSCO Appendix B: cash in the same currency 0%; equities in major indices
    15%; gold 15%; an additive 8% where the collateral's currency differs from the
    currency of the obligation. Basel II para 151: other listed equities 25%.
    1,000 AAPL at 185 in a USD account: 185,000 x 0.85 = 157,250; against a EUR
    obligation: 185,000 x (1 - 0.15 - 0.08) = 142,450."""
    market = make_market(prices={"AAPL": 185.0, "FB": 190.0, "GOLD": 1250.0})
    assert _value(market, Collateral(asset="USD", amount=1e6)) == 1e6
    assert _value(market, Collateral(asset="AAPL", amount=1000)) == pytest.approx(157_250.0,
                                                                                   rel=REL)
    assert _value(market, Collateral(asset="AAPL", amount=1000),
                  exposure_currency="EUR") == pytest.approx(142_450.0, rel=REL)
    assert _value(market, Collateral(asset="FB", amount=1000)) == pytest.approx(142_500.0,
                                                                                 rel=REL)
    assert _value(market, Collateral(asset="GOLD", amount=100)) == pytest.approx(106_250.0,
                                                                                  rel=REL)
    assert BASEL.currency_mismatch == 0.08


def test_binance_example_1_tiered_btc_collateral() -> None:
    """Binance, "Binance Cross Margin Collateral Haircuts" (support FAQ), Example 1:
    6,000 BTC at 20,000 USDT = 120,000,000; 100% up to 100,000,000, 97.5% above:
    100,000,000 + 20,000,000 x 0.975 = 119,500,000 USDT."""
    market = make_market(prices={"BTC": 20_000.0})
    value = _value(market, Collateral(asset="BTC", amount=6000), schedule=CRYPTO)
    assert value == pytest.approx(119_500_000.0, rel=REL)


def test_binance_equity_counts_liabilities_in_full() -> None:
    """Binance, "Binance Portfolio Margin Account Maintenance Margin Ratio Calculation"
    (2022-04-18): equity = sum(min(E P c, E P)), so a negative balance (a loan) counts
    at its full value: -2 BTC at 20,000 is -40,000 whatever its collateral ratio."""
    market = make_market(prices={"BTC": 20_000.0})
    assert _value(market, Collateral(asset="BTC", amount=-2), schedule=CRYPTO) == -40_000.0


def test_bitget_cross_margin_examples() -> None:
    """Bitget, "Cross margin collateral ratios" (spot margin information page), examples
    1 and 2: 1 BTC at 50,000 (ratio 1 to 5,000,000) plus 60,000 APT at 1 (0.8 on the
    first 50,000, 0 above) = 50,000 + 40,000 + 0 = 90,000; 11,000,000 USDT with 1 to
    5,000,000, 0.98 to 10,000,000, 0.975 to 20,000,000 = 10,875,000."""
    apt = CollateralTiers(bounds=np.array([50_000.0, np.inf]), ratios=np.array([0.8, 0.0]))
    btc = CollateralTiers(bounds=np.array([5e6, np.inf]), ratios=np.array([1.0, 0.0]))
    assert _tiered(btc, 50_000.0) + _tiered(apt, 60_000.0) == pytest.approx(90_000.0, rel=REL)
    usdt = CollateralTiers(bounds=np.array([5e6, 10e6, 20e6, np.inf]),
                           ratios=np.array([1.0, 0.98, 0.975, 0.0]))
    schedule = dataclasses.replace(CRYPTO, coins={**CRYPTO.coins, "USDT": usdt})
    value = _value(make_market(), Collateral(asset="USDT", amount=11e6), schedule=schedule)
    assert value == pytest.approx(10_875_000.0, rel=REL)


def test_okx_beth_discount_tiers() -> None:
    """OKX, "OKX Adjusts Discount Rates for BETH" (18 July 2024): 0.95 to 2,000,000 USD,
    0.85 to 4,000,000, 0.5 to 8,000,000, 0 above. Worked from the published tiers:
    5,000,000 of BETH = 1,900,000 + 1,700,000 + 500,000 = 4,100,000; 10,000,000 of BETH
    = 1,900,000 + 1,700,000 + 2,000,000 = 5,600,000."""
    tiers = CRYPTO.coins["BETH"]
    assert _tiered(tiers, 5e6) == pytest.approx(4_100_000.0, rel=REL)
    assert _tiered(tiers, 10e6) == pytest.approx(5_600_000.0, rel=REL)


def test_deribit_steth_haircut() -> None:
    """Deribit, "Portfolio margin improvements for stETH and cross-collateral haircuts"
    (Deribit Insights, from 13 January 2026): stETH cross-collateral haircut 7.5%.
    100 stETH at 3,000 = 300,000 x 0.925 = 277,500 (below the 1,000,000 exempt from the
    concentration limit)."""
    market = make_market(prices={"STETH": 3000.0})
    assert _value(market, Collateral(asset="STETH", amount=100),
                  schedule=CRYPTO) == pytest.approx(277_500.0, rel=REL)


def test_crypto_com_stablecoin_weights_and_binance_default_rate() -> None:
    """Crypto.com Exchange, "Margin and collateral balance management": USDC weight 1.00,
    USDT 0.975. Binance, "Binance Portfolio Margin Program Supported Collateral and Rates"
    (2022-04-18): assets without a listed rate count at 0.1."""
    market = make_market(prices={"LTC": 80.0})
    assert _value(market, Collateral(asset="USDC", amount=1000), schedule=CRYPTO) == 1000.0
    assert _value(market, Collateral(asset="USDT", amount=1000),
                  schedule=CRYPTO) == pytest.approx(975.0, rel=REL)
    assert _value(market, Collateral(asset="LTC", amount=10),
                  schedule=CRYPTO) == pytest.approx(80.0, rel=REL)
