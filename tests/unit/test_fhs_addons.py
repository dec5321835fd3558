"""Add-ons of the unified FHS margin, each worked by hand from its formula."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import AssetClass, CryptoSpot, Equity, Option, Perpetual, Right
from crossmargin.core.errors import InputError
from crossmargin.methods.fhs.addons import AntiProcyclicality, DiversificationCap, LiquidityAddOn

LIQ = LiquidityAddOn(half_spread={"equity": 0.001, "crypto": 0.002, "option": 0.05},
                     adv={"equity": 1e6, "crypto": 1e9}, adv_by_symbol={"BTC": 1e5},
                     adv_share=0.1, impact=0.5)
AAPL, BTC = Equity(symbol="AAPL"), CryptoSpot(asset="BTC")
PERP = Perpetual(underlying="BTC", currency="USDT")
PUT = Option(underlying="AAPL", right=Right.PUT, strike=180.0, expiry=date(2018, 9, 21))


def _book(*accounts: tuple[tuple[object, float], ...]) -> Book:
    return Book.from_accounts(
        [Account(id=f"A{k}", positions=tuple(Position(instrument=i, quantity=q)  # type: ignore[arg-type]
                                             for i, q in acct))
         for k, acct in enumerate(accounts)], as_of=date(2018, 6, 29), currency="USD")


def test_bid_ask_on_net_positions_and_concentration_on_net_underlying() -> None:
    book = _book(((AAPL, 100.0), (AAPL, -40.0), (PUT, 2.0)),
                 ((BTC, 2.0), (PERP, -1.5)),
                 ((BTC, 3.0),),
                 ())
    value = {AAPL: 185.0, PUT: 450.0, BTC: 6400.0, PERP: 6400.0}
    v = np.asarray([value[i] for i in book.instruments])  # type: ignore[index]
    cost = LIQ.charge(book, value=v)
    # A0: spreads on 60 shares and 2 puts; AAPL net value 60 x 185 + 900 = 12,000 is
    # below 10% of 1e6: no concentration
    assert cost[0] == pytest.approx(0.001 * 60 * 185 + 0.05 * 2 * 450)
    # A1: spreads on each leg; BTC net value 0.5 x 6,400 = 3,200 vs 10% of 1e5 = 10,000
    assert cost[1] == pytest.approx(0.002 * (2 + 1.5) * 6400)
    # A2: 19,200 of BTC is 9,200 beyond 10,000: half of it again
    assert cost[2] == pytest.approx(0.002 * 3 * 6400 + 0.5 * 9200)
    assert cost[3] == 0.0


def test_liquidity_parameters_are_checked() -> None:
    with pytest.raises(InputError, match=r"liquidity\.half_spread\.equity"):
        LiquidityAddOn(half_spread={"equity": -1.0}, adv={})
    book = _book(((Equity(symbol="X", asset_class=AssetClass.COMMODITY), 1.0),))
    with pytest.raises(InputError, match=r"liquidity\.half_spread\.commodity"):
        LIQ.charge(book, value=np.ones(1))
    assert LIQ.charge(_book(()), value=np.zeros(0)).tolist() == [0.0]


def test_diversification_cap_credits_at_most_its_share_of_the_gross() -> None:
    """Unified 10 against standalone 60 + 40: at most 80% of 100 saved, margin 20."""
    cap = DiversificationCap(share=0.8)
    top_up = cap.component(unified=np.array([10.0, 50.0]), gross=np.array([100.0, 100.0]))
    np.testing.assert_allclose(top_up, [10.0, 0.0])
    with pytest.raises(InputError, match="diversification_cap"):
        DiversificationCap(share=1.5)


def test_anti_procyclicality_components_stack() -> None:
    margin = np.array([100.0, 100.0, 100.0])
    stressed = np.array([300.0, 50.0, 100.0])
    floor = np.array([100.0, 100.0, 200.0])
    tools = AntiProcyclicality(buffer=0.25, stressed_weight=0.25, floor_years=10)
    out = tools.components(margin=margin, stressed=stressed, floor=floor)
    np.testing.assert_allclose(out["stressed_weight"], [50.0, 0.0, 0.0])
    np.testing.assert_allclose(out["ten_year_floor"], [0.0, 0.0, 100.0])
    np.testing.assert_allclose(out["buffer"], [37.5, 25.0, 50.0])
    assert AntiProcyclicality().components(margin=margin, stressed=None, floor=None) == {}
    with pytest.raises(InputError, match=r"ten_year_floor\.years"):
        AntiProcyclicality(floor_years=0)
    with pytest.raises(InputError, match=r"stressed_weight\.weight"):
        AntiProcyclicality(stressed_weight=2.0)
