"""Properties of collateral valuation on random balances (hypothesis)."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.book.book import Account, Book, Collateral
from crossmargin.collateral import load_schedule, value_collateral
from crossmargin.collateral.haircuts import CollateralValuation
from crossmargin.collateral.schedule import HaircutSchedule
from crossmargin.collateral.tiers import tiered_value
from tests.conftest import AS_OF, make_market

MARKET = make_market(prices={"SPY": 270.0, "AAPL": 185.0, "BTC": 6400.0, "ETH": 450.0,
                             "GOLD": 1250.0, "STETH": 440.0, "LTC": 80.0, "FB": 190.0,
                             "WTI": 74.0})
ASSETS = ["USD", "EUR", "USDT", "USDC", "BTC", "ETH", "STETH", "LTC", "AAPL", "SPY", "FB",
          "GOLD", "WTI"]
SCHEDULES = [load_schedule("collateral-basel"), load_schedule("collateral-crypto")]
REL = 1e-9

balance = st.tuples(st.sampled_from(ASSETS),
                    st.floats(-2e4, 1e6, allow_nan=False).filter(lambda x: abs(x) > 1e-6))
accounts = st.lists(st.lists(balance, max_size=6), min_size=1, max_size=5)


def _book(raw: list[list[tuple[str, float]]], ids: list[str] | None = None) -> Book:
    ids = ids or [f"A{k}" for k in range(len(raw))]
    return Book.from_accounts(
        [Account(id=i, collateral=tuple(Collateral(asset=a, amount=x) for a, x in bal))
         for i, bal in zip(ids, raw, strict=True)], as_of=AS_OF, currency="USD")


def _value(raw: list[list[tuple[str, float]]], schedule: HaircutSchedule,
           exposure_currency: str = "USD") -> CollateralValuation:
    return value_collateral(_book(raw), MARKET, schedule,
                            exposure_currency=exposure_currency)


@given(accounts, st.sampled_from(SCHEDULES))
def test_never_nan_never_above_market_value_liabilities_in_full(
        raw: list[list[tuple[str, float]]], schedule: HaircutSchedule) -> None:
    v = _value(raw, schedule)
    assert np.all(np.isfinite(v.value)) and np.all(np.isfinite(v.total_value))
    positive = v.market_value > 0
    assert np.all(v.value[positive] >= 0)
    assert np.all(v.value[positive] <= v.market_value[positive] * (1 + REL))
    np.testing.assert_array_equal(v.value[~positive], v.market_value[~positive])
    assert np.all((v.haircut >= 0) & (v.haircut <= 1 + REL))
    assert np.all(v.total_value <= v.total_market_value + 1e-6 * (1 + np.abs(
        v.total_market_value)))


@given(accounts, st.sampled_from(SCHEDULES), st.randoms(use_true_random=False))
def test_order_of_balances_and_accounts_does_not_matter(
        raw: list[list[tuple[str, float]]], schedule: HaircutSchedule, rnd: object) -> None:
    ids = [f"A{k}" for k in range(len(raw))]
    shuffled = [list(b) for b in raw]
    for b in shuffled:
        rnd.shuffle(b)  # type: ignore[attr-defined]
    order = list(range(len(raw)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    base = value_collateral(_book(raw, ids), MARKET, schedule)
    moved = value_collateral(_book([shuffled[k] for k in order], [ids[k] for k in order]),
                             MARKET, schedule)
    np.testing.assert_allclose(moved.total_value[np.argsort(order)], base.total_value,
                               rtol=REL, atol=0.011)


@given(accounts, st.floats(0.0, 0.5), st.floats(0.0, 0.5))
def test_value_does_not_rise_with_a_haircut(raw: list[list[tuple[str, float]]],
                                            low: float, extra: float) -> None:
    basel = SCHEDULES[0]
    lower = dataclasses.replace(basel, currency_mismatch=low)
    higher = dataclasses.replace(basel, currency_mismatch=min(low + extra, 1.0))
    a = _value(raw, lower, exposure_currency="EUR")
    b = _value(raw, higher, exposure_currency="EUR")
    assert np.all(b.value <= a.value + 1e-9 * (1 + np.abs(a.value)))


@given(st.lists(st.floats(0.0, 3e8, allow_nan=False), min_size=3, max_size=3, unique=True),
       st.sampled_from(["BTC", "ETH", "BETH", "STETH", "USDT"]))
def test_tiered_value_is_nondecreasing_and_concave_in_size(sizes: list[float], coin: str
                                                           ) -> None:
    tiers = SCHEDULES[1].coins[coin]
    x = np.sort(np.asarray(sizes))
    n = x.size
    v = tiered_value(value=x, bounds=np.tile(tiers.bounds, (n, 1)),
                     ratios=np.tile(tiers.ratios, (n, 1)), add_on=np.zeros(n))
    assert np.all(np.diff(v) >= -1e-6)
    assert np.all(v <= x * (1 + REL))
    slope = np.diff(v) / np.maximum(np.diff(x), 1e-300)
    assert slope[1] <= slope[0] + 1e-9
