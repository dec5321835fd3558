"""Reference cases of crypto portfolio margin: published figures and hand computations."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import AssetClass, Future, Option, Perpetual, Right, Settlement
from crossmargin.methods.crypto_pm.method import CryptoPortfolioMargin
from crossmargin.methods.crypto_pm.scenarios import vega_multiplier
from crossmargin.pricing.black import gbsm
from tests.conftest import AS_OF, make_market

REL = 1e-12
PM = CryptoPortfolioMargin.from_params()
MARKET = make_market()
SPOT = 6400.0
RATE = 0.02


def _one(*positions: Position) -> Book:
    return Book.from_accounts([Account(id="A", positions=positions)], as_of=AS_OF,
                              currency="USD")


def test_inverse_perpetual_risk_vector_matches_deribit() -> None:
    """Deribit API v2.1.1 reference, ``private/pme/simulate``, example response
    (model_params timestamp 1718619740501, 2024-06-17): ``initial_risk_vectors``
    ``BTC-PERPETUAL`` ``standard`` lists the position's P&L in BTC for the 9 price points
    of the +/-16% range, each repeated for the 3 vol states. The published entries imply a
    position whose face is 0.314538364 BTC at today's price (e.g. -0.059912069333 =
    -0.314538364 x 0.16 / 0.84): coin P&L at each scenario's own price. The first 18
    entries as published (-16% to +4%) are reproduced to 1e-12."""
    published = [-0.05991206933333334] * 3 + [-0.04289159509090909] * 3 + \
        [-0.027351162086956524] * 3 + [-0.013105765166666668] * 3 + [0.0] * 3 + \
        [0.012097629384615385] * 3
    perp = Perpetual(underlying="BTC", settlement=Settlement.INVERSE, currency="USD",
                     multiplier=0.314538364 * SPOT)
    pnl = PM.scenario_pnl(_one(Position(instrument=perp, quantity=1.0)), MARKET).pnl[0]
    np.testing.assert_allclose(pnl[:18], published, rtol=REL, atol=1e-15)
    assert pnl[18] == pytest.approx(0.023299138, abs=1e-9)  # +8%, as far as shown


def test_maintenance_is_eighty_percent_of_initial() -> None:
    """Deribit ``private/pme/simulate`` model_params.general.mm_factor = 0.8."""
    perp = Perpetual(underlying="BTC", currency="USDT")
    result = PM.compute(_one(Position(instrument=perp, quantity=2.0)), MARKET)
    assert result.maintenance_margin[0] == pytest.approx(0.8 * result.initial_margin[0],
                                                         abs=0.011)


def test_quote_pool_tail_weights_match_paradex_table() -> None:
    """Paradex documentation, "Portfolio Margin", full scenario table: with a 16% edge
    the tail rows +50%, +100%, +200%, +300%, +400%, +500% count 32%, 16%, 8%, 5.33%, 4%,
    3.2% of their loss (weight x move = 16%). The -66% and -33% rows follow the same rule
    here (24.24%, 48.48%); Paradex rounds those moves to thirds (24%, 48%)."""
    weights = PM.scenarios.weights(PM.underlyings["BTC"], coin_margined=False)[27:]
    np.testing.assert_allclose(weights[2:], [0.32, 0.16, 0.08, 0.16 / 3, 0.04, 0.032],
                               rtol=1e-9)
    np.testing.assert_allclose(weights[:2], [0.16 / 0.66, 0.16 / 0.33], rtol=1e-9)


def test_vol_shock_scaling_examples() -> None:
    """Deribit portfolio margin page (older edition): "options expiring in 15 days: IV
    change of maximum (30/15)^0.30 x" the 30-day shock; Deribit ``private/pme/simulate``:
    long_term_vega_power 0.13, so a 120-day option gets (30/120)^0.13 of it."""
    short = vega_multiplier(dte=15, reference_days=30, floor_days=1, short_power=0.3,
                            long_power=0.13)
    long = vega_multiplier(dte=120, reference_days=30, floor_days=1, short_power=0.3,
                           long_power=0.13)
    assert short == pytest.approx(2 ** 0.3, rel=REL)
    assert long == pytest.approx(0.25 ** 0.13, rel=REL)
    assert vega_multiplier(dte=0, reference_days=30, floor_days=1, short_power=0.3,
                           long_power=0.13) == pytest.approx(30 ** 0.3, rel=REL)


def test_short_linear_call_worked_by_hand() -> None:
    """Ten short USDC-settled BTC calls, strike 8,000, 28 days, vol 70%, spot 6,400:
    revalue at 9 points over +/-16% x vol {same, x(1 + 0.5 (30/28)^0.3), x(1 - 0.25
    (30/28)^0.3)} and the 8 tail moves on vol up with weight 0.16 / |move|; the charge is
    the worst weighted loss plus the naked short contingency 0.5% x 10 x 6,400 = 320
    (parameters of the bundled file, sources cited there)."""
    expiry = date(2018, 7, 27)
    call = Option(underlying="BTC", right=Right.CALL, strike=8000.0, expiry=expiry,
                  multiplier=1.0, settlement=Settlement.LINEAR, asset_class=AssetClass.CRYPTO,
                  currency="USDC")
    result = PM.compute(_one(Position(instrument=call, quantity=-10.0)), MARKET)
    t = (expiry - AS_OF).days / 365.0
    m = (30 / 28) ** 0.3
    v0 = gbsm(spot=SPOT, strike=8000.0, time=t, rate=RATE, carry=RATE, vol=0.7, is_call=True)
    losses = []
    for move in np.linspace(-0.16, 0.16, 9):
        for vol in (0.7, 0.7 * (1 + 0.5 * m), 0.7 * (1 - 0.25 * m)):
            v = gbsm(spot=SPOT * (1 + move), strike=8000.0, time=t, rate=RATE, carry=RATE,
                     vol=vol, is_call=True)
            losses.append(10 * (v - v0))
    for move in (-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0):
        v = gbsm(spot=SPOT * (1 + move), strike=8000.0, time=t, rate=RATE, carry=RATE,
                 vol=0.7 * (1 + 0.5 * m), is_call=True)
        losses.append(10 * (v - v0) * 0.16 / abs(move))
    scan = max(losses)
    assert result.components["scanning_risk"][0] == pytest.approx(scan, rel=1e-9)
    assert result.components["option_contingency"][0] == pytest.approx(320.0, rel=REL)
    assert result.initial_margin[0] == pytest.approx(np.ceil((scan + 320.0) * 100) / 100,
                                                     abs=0.011)
    driver = result.accounts_json()[0]["driver"]["scenario"]
    assert driver == "BTC +500% (tail, weight 0.03), vol up x1.50 (30-day)"


def test_inverse_calendar_spread_worked_by_hand() -> None:
    """Long 1,000 September and short 1,000 December inverse BTC futures of 10 USD face:
    in BTC each loses face (1/F0 - 1/F1) with F = 6,400 e^(0.02 T); the spread's charge is
    its worst coin loss (the grid's -16% or +16% point; the tail cannot exceed the edge for
    a position linear in coin), plus 4% of the net coin delta, plus the roll contingency
    7.5% x |sum of q x face / F0 x T| (Deribit annualised_move_risk for BTC), valued at
    6,400 USD per BTC."""
    sep, dec = date(2018, 9, 28), date(2018, 12, 28)
    legs = [Future(symbol=s, underlying="BTC", expiry=e, multiplier=10.0,
                   settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO)
            for s, e in (("BTCU8", sep), ("BTCZ8", dec))]
    result = PM.compute(_one(Position(instrument=legs[0], quantity=1000.0),
                             Position(instrument=legs[1], quantity=-1000.0)), MARKET)
    years = np.array([(sep - AS_OF).days, (dec - AS_OF).days]) / 365.0
    f0 = SPOT * np.exp(RATE * years)
    coins = np.array([1000.0, -1000.0]) * 10.0 / f0
    moves = np.linspace(-0.16, 0.16, 9)
    pnl = np.array([np.sum(coins * (1 - 1 / (1 + r))) for r in moves])
    scan = max(0.0, -pnl.min())
    delta = 0.04 * abs(coins.sum())
    roll = 0.075 * abs(np.sum(coins * years))
    parts = result.components
    assert parts["scanning_risk"][0] == pytest.approx(scan * SPOT, rel=1e-9)
    assert parts["delta_contingency"][0] == pytest.approx(delta * SPOT, rel=1e-9)
    assert parts["roll_contingency"][0] == pytest.approx(roll * SPOT, rel=1e-9)
    assert result.initial_margin[0] == pytest.approx(
        np.ceil((scan + delta + roll) * SPOT * 100) / 100, abs=0.011)
    pool = result.accounts_json()[0]["detail"]["pools"][0]
    assert pool["margin_currency"] == "BTC"
    assert pool["roll_contingency"] == pytest.approx(roll, rel=1e-9)


def test_pools_in_different_currencies_do_not_offset() -> None:
    """Deribit, "Portfolio Margin" help article: under segregated portfolio margin "each
    of the settlement currencies is treated separately". A long inverse perpetual (BTC
    pool) and a short linear perpetual (USDT pool) pay both charges."""
    inv = Position(instrument=Perpetual(underlying="BTC", settlement=Settlement.INVERSE,
                                        multiplier=6400.0), quantity=1.0)
    lin = Position(instrument=Perpetual(underlying="BTC", currency="USDT"), quantity=-1.0)
    both = PM.compute(_one(inv, lin), MARKET).initial_margin[0]
    alone = PM.compute(_one(inv), MARKET).initial_margin[0] + \
        PM.compute(_one(lin), MARKET).initial_margin[0]
    assert both == pytest.approx(alone, abs=0.011)
    # one coin of face at 16% down loses 0.16 / 0.84 BTC; at 16% up the short USDT perp
    # loses 0.16 x 6,400; each adds 4% of its notional
    expected = (0.16 / 0.84 + 0.04) * SPOT + (0.16 + 0.04) * SPOT
    assert both == pytest.approx(expected, abs=0.011)
