from datetime import date

from crossmargin.book.book import Account, Book, Collateral, Position
from crossmargin.book.instruments import Bond, Equity
from crossmargin.results.hashing import input_hash

SPY = Equity(symbol="SPY")
UST = Bond(symbol="UST-10Y", coupon=0.02875, maturity=date(2028, 5, 15))


def _book(*collateral: Collateral) -> Book:
    return Book.from_accounts([Account(id="A", positions=(Position(instrument=SPY,
                                                                   quantity=10),),
                                       collateral=collateral)],
                              as_of=date(2018, 6, 29), currency="USD")


def test_every_collateral_field_changes_the_hash() -> None:
    base = input_hash(_book(Collateral(asset="USD", amount=100.0)), None, [])
    assert base == input_hash(_book(Collateral(asset="USD", amount=100.0)), None, [])
    others = [
        _book(Collateral(asset="USD", amount=100.5)),
        _book(Collateral(asset="EUR", amount=100.0)),
        _book(Collateral(asset="USD", amount=100.0, instrument=UST)),
        _book(Collateral(asset="USD", amount=100.0), Collateral(asset="BTC", amount=1.0)),
        _book(),
    ]
    hashes = {input_hash(b, None, []) for b in others}
    assert len(hashes) == len(others) and base not in hashes
