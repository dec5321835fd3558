"""Reference books for the arrangements: each states the effect it must show, and why.

Books are priced on the bundled real history (2016-06-30 for the securities, futures and
Treasury books; 2018-06-29 for the bitcoin books, whose Treasury curve is allowed to be
stale since none of them holds a Treasury). ``compare`` runs the patchwork (``silo``:
strategy + FINRA 4210(e)(2) for securities, SPAN with parameters published from the
history for futures, crypto-pm), the CME-FICC
conservative rule and the unified FHS portfolio. The cross-silo offset is the saving of
one and the same model (FHS) seeing the silos together.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from crossmargin.arrangements.compare import Comparison, compare
from crossmargin.book.book import Account, Book, Collateral, Position
from crossmargin.book.parse import parse_instrument
from crossmargin.market.build import snapshot_from_history

D16, D18 = date(2016, 6, 30), date(2018, 6, 29)


def _inst(**rec: object):  # type: ignore[no-untyped-def]
    return parse_instrument(rec, path="reference book")


def _usd(amount: float) -> tuple[Collateral, ...]:
    return (Collateral(asset="USD", amount=amount),)


SPY = _inst(type="equity", symbol="SPY")
ES = _inst(type="future", symbol="ESU6", underlying="SPX", expiry="2016-09-16", multiplier=50)
UST = _inst(type="bond", symbol="UST-10Y", coupon=0.0175, maturity="2026-05-15")
TY = _inst(type="treasury_future", symbol="TYU6", underlying="UST", expiry="2016-09-21")
AAPL = _inst(type="equity", symbol="AAPL")
AAPL_CALL = _inst(type="option", underlying="AAPL", right="call", strike=24,
                  expiry="2016-08-19", style="american")
CME_BTC = _inst(type="future", symbol="BTCU8", underlying="BTC", expiry="2018-09-28",
                multiplier=5)
PERP = _inst(type="perpetual", underlying="BTC", quote="USDT", settlement="linear")
BTC_PUT = _inst(type="option", underlying="BTC", right="put", strike=6000,
                expiry="2018-09-28", settlement="inverse")


def _account(name: str, positions: list[tuple[Any, float]],
             collateral: tuple[Collateral, ...]) -> Account:
    return Account(id=name, positions=tuple(Position(instrument=i, quantity=q)
                                            for i, q in positions), collateral=collateral)


@pytest.fixture(scope="module")
def books_2016() -> Comparison:
    book = Book.from_accounts([
        _account("SPY-ES", [(SPY, 10_000), (ES, -20)], _usd(2e6)),
        _account("UST-TY", [(UST, 1e7), (TY, -80)], _usd(2e6)),
        _account("COVERED", [(AAPL, 1000), (AAPL_CALL, -10)], _usd(2e5)),
        _account("DIRECTIONAL", [(SPY, 10_000), (ES, 20)], _usd(2e6)),
    ], as_of=D16, currency="USD")
    return compare(book, snapshot_from_history(D16))


@pytest.fixture(scope="module")
def books_2018() -> Comparison:
    book = Book.from_accounts([
        _account("BASIS", [(CME_BTC, 10), (PERP, -50)],
                 (Collateral(asset="USD", amount=2e5), Collateral(asset="USDT", amount=2e5))),
        _account("WRONG-WAY", [(PERP, 20), (BTC_PUT, -20)],
                 (Collateral(asset="BTC", amount=30),)),
    ], as_of=D18, currency="USD")
    market = snapshot_from_history(D18, max_stale_days={"curve": 500})
    return compare(book, market)


def _rows(cmp: Comparison, account: str) -> dict[str, dict[str, Any]]:
    doc = cmp.to_json()
    (acct,) = [a for a in doc["accounts"] if a["account"] == account]
    return {r["arrangement"]: r for r in acct["arrangements"]}


def test_spy_against_es_frees_most_capital(books_2016: Comparison) -> None:
    """Long SPY against short E-mini of the same notional: one market, two silos. The
    patchwork margins each leg in full; one portfolio sees a near-perfect hedge."""
    rows = _rows(books_2016, "SPY-ES")
    silo, unified = rows["silo"], rows["unified"]
    assert unified["initial_margin"] < 0.15 * silo["initial_margin"]
    offset = unified["components"]["cross_silo_offset"]
    alone = unified["components"]["fhs.securities_alone"] + \
        unified["components"]["fhs.futures_alone"]
    assert offset > 0.5 * alone  # the same model saves most of the gross by netting


def test_treasuries_against_treasury_futures_offset(books_2016: Comparison) -> None:
    """Long 10-year notes against short 10-year note futures (the CME-FICC case): the
    unified figure is far below the silos'; the conservative rule keeps at least 20%."""
    rows = _rows(books_2016, "UST-TY")
    silo = rows["silo"]["initial_margin"]
    assert rows["unified"]["initial_margin"] < 0.5 * silo
    assert rows["unified"]["components"]["cross_silo_offset"] > 0
    assert 0.2 * silo - 0.01 <= rows["conservative"]["initial_margin"] <= silo


def test_covered_call_costs_no_more_than_the_stock(books_2016: Comparison) -> None:
    """Long stock with a call written against it: the call never adds to the stock's
    requirement (Reg T covered call); under FHS the call reduces the risk."""
    rows = _rows(books_2016, "COVERED")
    stock_alone = 0.5 * 1000 * 22.068  # Reg T 50% of the bundled AAPL close
    assert rows["silo"]["initial_margin"] <= stock_alone + 0.01
    assert rows["unified"]["initial_margin"] <= rows["silo"]["initial_margin"]
    assert rows["unified"]["components"]["cross_silo_offset"] == 0  # one silo only


def test_unhedged_directional_book_gets_no_cross_margin_saving(
        books_2016: Comparison) -> None:
    """Long SPY and long E-mini: the same direction in two silos. Seeing them together
    saves nothing (the capital freed is the change of model, not an offset)."""
    rows = _rows(books_2016, "DIRECTIONAL")
    comp = rows["unified"]["components"]
    alone = comp["fhs.securities_alone"] + comp["fhs.futures_alone"]
    assert abs(comp["cross_silo_offset"]) <= 0.01 * alone


def test_cme_future_against_perpetual_is_basis_risk(books_2018: Comparison) -> None:
    """Long CME bitcoin futures against a short perpetual of the same size: two venues,
    two silos, each margined in full; together only the basis is at risk. (The bundled
    futures are derived from spot plus carry, so the basis here moves with carry only.)"""
    rows = _rows(books_2018, "BASIS")
    assert rows["unified"]["initial_margin"] < 0.05 * rows["silo"]["initial_margin"]
    # the patchwork also strands collateral: USDT is not accepted by the futures silo
    assert rows["silo"]["components"]["futures.shortfall"] == 0  # USD covers it


def test_wrong_way_collateral_is_flagged(books_2018: Comparison) -> None:
    """BTC pledged against long BTC exposure (a long perpetual and a short BTC put):
    the collateral falls exactly when the exposure loses, so it is flagged."""
    rows = _rows(books_2018, "WRONG-WAY")
    holdings = rows["unified"]["detail"]["collateral"]
    (btc,) = [h for h in holdings if h["asset"] == "BTC"]
    assert btc["wrong_way"] is True and btc["exposure_loss"] > 0
