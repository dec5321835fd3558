"""Stress reference cases: published closes replayed, and Cover-1 / Cover-2 as defined."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.analytics.stress import MarginHeld, StressTest
from crossmargin.book.book import Account, Book, Collateral, Position
from crossmargin.book.instruments import (
    Equity,
    Instrument,
    Option,
    ProductClass,
    Right,
    Settlement,
)
from crossmargin.pricing.black import gbsm
from tests.conftest import AS_OF, make_market

MARKET = make_market()  # SPX 2,700, SPY 270, AAPL 185, flat 16% SPX volatility, r = 2%
CENT = 0.01
SPX = Equity(symbol="SPX", product_class=ProductClass.BROAD_BASED_HIGH_CAP)
SPY = Equity(symbol="SPY", product_class=ProductClass.BROAD_BASED_HIGH_CAP)
AAPL = Equity(symbol="AAPL")


def _book(*accounts: tuple[str, str, tuple[tuple[Instrument, float], ...], float]) -> Book:
    return Book.from_accounts(
        [Account(id=a, member=m,
                 positions=tuple(Position(instrument=i, quantity=q) for i, q in pos),
                 collateral=(Collateral(asset="USD", amount=usd),) if usd else ())
         for a, m, pos, usd in accounts], as_of=AS_OF, currency="USD")


def _held(im: list[float], collateral: list[float]) -> MarginHeld:
    return MarginHeld(label="given", initial_margin=np.asarray(im, dtype=float),
                      collateral_value=np.asarray(collateral, dtype=float))


def _run(tmp_path: Path, text: str, book: Book, held: MarginHeld):  # type: ignore[no-untyped-def]
    path = tmp_path / "scenarios.yaml"
    path.write_text(text, encoding="utf-8")
    return StressTest.from_params(scenarios=path).run(book, MARKET, margin=held)


def test_q4_2018_replays_the_published_sp500_closes(tmp_path: Path) -> None:
    """S&P Dow Jones Indices, S&P 500 daily closes: 2,924.59 on 1 October 2018 and
    2,351.10 on 24 December 2018, a fall of 19.6092%. Ten index units at 2,700 lose
    27,000 x 0.196092 = 5,294.496, 5,294.50 rounded up to the cent; against a margin of
    2,160 and no collateral, 3,134.50 is uncovered."""
    move = 2351.10 / 2924.59 - 1.0
    book = _book(("A", "M", ((SPX, 10),), 0.0))
    result = _run(tmp_path, "historical: [q4-2018]\n", book, _held([2160.0], [0.0]))
    assert result.loss[0, 0] == pytest.approx(-27000.0 * move, abs=CENT)
    assert result.loss[0, 0] == pytest.approx(5294.50, abs=1e-9)
    assert result.uncovered[0, 0] == pytest.approx(3134.50, abs=1e-9)


def test_february_2018_revalues_an_index_put_at_the_published_vix(tmp_path: Path) -> None:
    """Cboe VIX closes: 13.47 on 1 February 2018 and 29.06 on 9 February 2018; S&P 500
    closes 2,821.98 and 2,619.55. A long SPX 2,600 put (21 September 2018, cash-settled,
    multiplier 100) is revalued at spot 2,700 x 2,619.55 / 2,821.98 and volatility
    16% x 29.06 / 13.47 (Black-Scholes, r = 2%, no dividend): the position gains."""
    expiry = date(2018, 9, 21)
    put = Option(underlying="SPX", right=Right.PUT, strike=2600.0, expiry=expiry,
                 settlement=Settlement.CASH)
    book = _book(("A", "M", ((put, 10),), 0.0))
    result = _run(tmp_path, "historical: [volmageddon-2018]\n", book, _held([0.0], [0.0]))
    t = (expiry - AS_OF).days / 365.0

    def price(spot: float, vol: float) -> float:
        return float(gbsm(spot=spot, strike=2600.0, time=t, rate=0.02, carry=0.02, vol=vol,
                          is_call=False))

    gain = 10 * 100 * (price(2700.0 * 2619.55 / 2821.98, 0.16 * 29.06 / 13.47)
                       - price(2700.0, 0.16))
    assert gain > 0
    assert result.loss[0, 0] == pytest.approx(-gain, abs=CENT)
    assert result.uncovered[0, 0] == 0.0


def test_cover_1_and_cover_2_of_four_members_by_the_definition(tmp_path: Path) -> None:
    """CPMI-IOSCO, Principles for financial market infrastructures (April 2012),
    principle 4, key consideration 4: resources for the default of the one (Cover-1) or
    two (Cover-2) participants causing the largest credit exposure in extreme but
    plausible conditions; principle 14: one customer's collateral does not cover
    another's loss. Under equities -30% (SPY 270, AAPL 185), margins given:

    ====== ======= ================ ========== ========== ======= ==========
    member account position         collateral margin     loss    uncovered
    ====== ======= ================ ========== ========== ======= ==========
    M1     A1      long 100 SPY     5,000      2,160      8,100   3,100
    M1     A2      long 50 SPY      10,000     1,080      4,050   0
    M2     B1      long 200 SPY     2,000      4,320      16,200  11,880
    M3     C1      long 100 AAPL    1,000      2,775      5,550   2,775
    M4     D1      short 100 SPY    0          2,160      -8,100  0
    ====== ======= ================ ========== ========== ======= ==========

    Cover-1 = 11,880 (M2), Cover-2 = 11,880 + 3,100 = 14,980 (M2 and M1).
    """
    book = _book(("A1", "M1", ((SPY, 100),), 5000.0), ("A2", "M1", ((SPY, 50),), 10000.0),
                 ("B1", "M2", ((SPY, 200),), 2000.0), ("C1", "M3", ((AAPL, 100),), 1000.0),
                 ("D1", "M4", ((SPY, -100),), 0.0))
    held = _held([2160, 1080, 4320, 2775, 2160], [5000, 10000, 2000, 1000, 0])
    text = "hypothetical:\n  - {name: eq, prices: {equity: -0.3, equity-index: -0.3}}\n"
    result = _run(tmp_path, text, book, held)
    assert result.loss[:, 0] == pytest.approx([8100, 4050, 16200, 5550, -8100])
    assert result.uncovered[:, 0] == pytest.approx([3100, 0, 11880, 2775, 0])
    one, two = result.cover(1), result.cover(2)
    assert one.amount[0] == pytest.approx(11880.0)
    assert two.amount[0] == pytest.approx(14980.0)
    assert [result.members[m] for m in two.members[0]] == ["M2", "M1"]
