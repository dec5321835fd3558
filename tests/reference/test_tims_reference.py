"""Reference cases of the tims method: published worked examples, then hand computations.

Published: the TD Ameritrade thinkMoney portfolio margin examples (a long stock
position's requirement, and a long straddle bounded by its premium). Hand-computed from
the rule's text (FINRA Rule 4210(g)): the valuation ranges by product class, the $.375
per-contract minimum, and the 90% product-group offset; each test states its arithmetic.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import Equity, Future, Option, Right, Settlement, Style
from crossmargin.market.snapshot import MarketSnapshot, VolSurface
from crossmargin.methods.tims.method import TheoreticalIntermarketMargin
from crossmargin.pricing.black import gbsm
from crossmargin.pricing.revalue import year_fraction
from tests.conftest import AS_OF, make_market

REL = 1e-9
CENT = 0.011
EXP = date(2018, 9, 21)
TIMS = TheoreticalIntermarketMargin.from_params()
POINTS = np.unique(np.r_[np.linspace(-1.0, 1.0, 10), 0.0])


def _market(**prices: float) -> MarketSnapshot:
    base = {"SPX": 2700.0, "SPY": 270.0, "AAPL": 185.0, **prices}
    return make_market(prices=base, vols={k: VolSurface.flat(0.20) for k in base})


def _margin(market: MarketSnapshot, *positions: Position) -> float:
    book = Book.from_accounts([Account(id="A", positions=positions)], as_of=AS_OF,
                              currency="USD")
    return float(TIMS.compute(book, market).initial_margin[0])


def test_thinkmoney_long_stock_at_minus_fifteen_percent() -> None:
    """TD Ameritrade, thinkMoney, "Capiche: Portfolio Margin Part 4 - Risk Management and
    Margins" (D. Saelinger, 2 October 2017): long 1,000 shares at $75 under a +/-15% test
    require $75,000 x 0.15 = $11,250, the loss at the -15% point."""
    xyz = Equity(symbol="XYZ")
    assert _margin(_market(XYZ=75.0), Position(instrument=xyz, quantity=1000)) == \
        pytest.approx(11_250.0, rel=REL)


def test_thinkmoney_long_hundred_shares_loses_seven_fifty() -> None:
    """TD Ameritrade, thinkMoney, "Capiche? Portfolio Margin Part 3: Profit, Loss, and
    Expiration" (F. Broden, 24 July 2017): 100 XYZ at $50 falling 15% to $42.50 lose
    $750, the requirement of the position."""
    xyz = Equity(symbol="XYZ")
    assert _margin(_market(XYZ=50.0), Position(instrument=xyz, quantity=100)) == \
        pytest.approx(750.0, rel=REL)


def test_thinkmoney_long_straddle_costs_no_more_than_its_premium() -> None:
    """thinkMoney Part 4 (as above): long 10 75-strike straddles, calls at $3 and puts at
    $2.75, are worth $5.75 x 100 x 10 = $5,750, their largest possible loss; the portfolio
    margin requirement may be smaller, never larger. The per-contract minimum of a long
    option is capped at its value: at least 10 x ($37.50 + $37.50) = $750 here."""
    expiry = date(2018, 7, 27)
    call = Option(underlying="XYZ", right=Right.CALL, strike=75.0, expiry=expiry)
    put = Option(underlying="XYZ", right=Right.PUT, strike=75.0, expiry=expiry)
    margin = _margin(_market(XYZ=75.0), Position(instrument=call, quantity=10, mark=3.0),
                     Position(instrument=put, quantity=10, mark=2.75))
    assert 750.0 <= margin <= 5_750.0


def test_high_cap_index_long_loses_eight_percent() -> None:
    """FINRA 4210(g) range of a high-capitalization broad-based index: +6% / -8%. Long
    100 SPY at 270: 27,000 x 8% = 2,160 at the -8% point (hand computation)."""
    spy = Equity(symbol="SPY")
    assert _margin(_market(), Position(instrument=spy, quantity=100)) == \
        pytest.approx(2_160.0, rel=REL)


def test_high_cap_index_short_loses_six_percent() -> None:
    """Same range, short side: short 100 SPY at 270 loses 27,000 x 6% = 1,620 at +6%."""
    spy = Equity(symbol="SPY")
    assert _margin(_market(), Position(instrument=spy, quantity=-100)) == \
        pytest.approx(1_620.0, rel=REL)


def test_other_broad_based_index_moves_ten_percent() -> None:
    """FINRA 4210(g) range of a non-high-capitalization broad-based index: +/-10%. Long
    100 IWM at 160: 16,000 x 10% = 1,600 (hand computation)."""
    iwm = Equity(symbol="IWM")
    assert _margin(_market(IWM=160.0), Position(instrument=iwm, quantity=100)) == \
        pytest.approx(1_600.0, rel=REL)


def test_far_out_of_the_money_short_option_pays_the_minimum() -> None:
    """FINRA 4210(g) minimum: $.375 x 100 = $37.50 per contract. A short SPX 1500 put with
    SPX at 2700 loses far less than that even at -8% with volatility up, so three
    contracts require 3 x 37.50 = 112.50."""
    put = Option(underlying="SPX", right=Right.PUT, strike=1500.0, expiry=EXP,
                 settlement=Settlement.CASH, style=Style.EUROPEAN)
    assert _margin(_market(), Position(instrument=put, quantity=-3)) == \
        pytest.approx(112.50, rel=REL)


def test_long_option_minimum_is_capped_at_its_value() -> None:
    """A long option's minimum is not to exceed its market value (FINRA 4210(g)): a long
    SPX 2050 put worth less than $37.50 a contract requires its value, which exceeds its
    largest theoretical loss (hand computation with the Black-Scholes-Merton price)."""
    put = Option(underlying="SPX", right=Right.PUT, strike=2050.0, expiry=EXP,
                 settlement=Settlement.CASH, style=Style.EUROPEAN)
    t = year_fraction(AS_OF, EXP)
    value = 100 * float(gbsm(spot=2700.0, strike=2050.0, time=t, rate=0.02, carry=0.02,
                             vol=0.20, is_call=False))
    assert 0.01 < value < 37.5
    assert _margin(_market(), Position(instrument=put, quantity=1)) == \
        pytest.approx(np.ceil(value * 100) / 100, abs=CENT)


def test_index_future_offsets_the_etf_at_ninety_percent() -> None:
    """Product-group offset (FINRA 4210(g); OCC TIMS: a percentage of one class group's
    gain offsets another's loss at each valuation point; 90% here). Long 1,000 SPY at 270
    against short 2 ES (multiplier 50) on SPX at 2700, forward F0 = 2700 e^(0.02 T).
    At a move m of the range: SPY loses -270,000 m, ES loses 100 F0 m, and the product
    group is charged (loss of the loser) - 0.9 x (gain of the winner); the requirement
    is the largest of these over the points (at least the 2 x $18.75 futures minimum),
    less than a tenth of the two standalone charges (SPY's at -8%, ES's at +6%)."""
    es = Future(symbol="ESU8", underlying="SPX", expiry=EXP, multiplier=50.0)
    f0 = 2700.0 * np.exp(0.02 * year_fraction(AS_OF, EXP))
    moves = np.where(POINTS >= 0, 0.06 * POINTS, 0.08 * POINTS)
    spy_loss = -1000 * 270.0 * moves
    es_loss = 2 * 50 * f0 * moves
    legs = np.stack([spy_loss, es_loss])
    offset = np.maximum(legs, 0).sum(axis=0) - 0.9 * np.maximum(-legs, 0).sum(axis=0)
    expected = max(offset.max(), 2 * 0.375 * 50)
    margin = _margin(_market(), Position(instrument=Equity(symbol="SPY"), quantity=1000),
                     Position(instrument=es, quantity=-2))
    assert margin == pytest.approx(np.ceil(expected * 100) / 100, abs=CENT)
    standalone = spy_loss.max() + es_loss.max()
    assert margin < 0.1 * standalone
