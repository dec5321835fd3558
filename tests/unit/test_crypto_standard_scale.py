"""Both crypto venue methods on 100,000 accounts: array work only, one account explained.

The book is built straight from arrays (the per-account collateral and order tuples
are the only objects), and each method's result must equal, for a sample of accounts,
the result of that account computed alone: nothing depends on the batch.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from crossmargin.book.book import Book, Collateral, Order
from crossmargin.book.instruments import (
    AssetClass,
    CryptoSpot,
    Future,
    Instrument,
    Option,
    Perpetual,
    Right,
    Settlement,
)
from crossmargin.methods.crypto_standard.method import DeribitStandardMargin
from crossmargin.methods.weights.method import LinearWeightMargin
from tests.conftest import AS_OF, make_market

EXPIRY = date(2018, 9, 28)
INSTRUMENTS: tuple[Instrument, ...] = (
    Perpetual(underlying="BTC", currency="USDT"),
    Perpetual(underlying="ETH", currency="USDT"),
    Perpetual(underlying="BTC", settlement=Settlement.INVERSE, multiplier=10.0),
    Future(symbol="BTC-28SEP18", underlying="BTC", expiry=EXPIRY, multiplier=10.0,
           settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO),
    Option(underlying="BTC", right=Right.CALL, strike=8000.0, expiry=EXPIRY, multiplier=1.0,
           settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO),
    CryptoSpot(asset="ETH"),
)
N_ACCOUNTS = 100_000


def _book(n: int, seed: int = 7) -> Book:
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 6, n)
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    inst = rng.integers(0, len(INSTRUMENTS), offsets[-1]).astype(np.int64)
    qty = rng.normal(0.0, 5.0, offsets[-1])
    qty[inst == len(INSTRUMENTS) - 1] = np.abs(qty[inst == len(INSTRUMENTS) - 1])
    usdt = rng.uniform(1e3, 1e5, n)
    order = (Order(instrument=INSTRUMENTS[0], quantity=1.0, limit_price=6000.0),)
    return Book(
        as_of=AS_OF, currency="USD", account_ids=tuple(f"A{i}" for i in range(n)),
        instruments=INSTRUMENTS, account_offsets=offsets, pos_instrument=inst,
        pos_quantity=qty, marks=np.full(len(INSTRUMENTS), np.nan),
        collateral=tuple((Collateral(asset="USDT", amount=float(x)),
                          Collateral(asset="BTC", amount=1.0)) for x in usdt),
        orders=tuple(order if i % 10 == 0 else () for i in range(n)),
    )


@pytest.fixture(scope="module")
def big_book() -> Book:
    return _book(N_ACCOUNTS)


@pytest.mark.parametrize("method", [DeribitStandardMargin, LinearWeightMargin])
def test_hundred_thousand_accounts_agree_with_each_alone(
        big_book: Book, method: type[DeribitStandardMargin] | type[LinearWeightMargin]
) -> None:
    m = method.from_params()
    market = make_market()
    result = m.compute(big_book, market)
    assert result.initial_margin.shape == (N_ACCOUNTS,)
    assert np.all(np.isfinite(result.initial_margin))
    assert np.all(result.maintenance_margin <= result.initial_margin)
    for a in (0, 1, 99_999):
        alone = Book.from_accounts([big_book.account(a)], as_of=AS_OF, currency="USD")
        single = m.compute(alone, market)
        assert single.initial_margin[0] == result.initial_margin[a]
        assert single.maintenance_margin[0] == result.maintenance_margin[a]
        assert single.account_json(0)["detail"] == result.account_json(a)["detail"]
