"""Properties of generated populations over seeds, sizes, member counts and dates."""

from __future__ import annotations

from datetime import date
from functools import cache

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crossmargin.analytics.populations import Population, population
from crossmargin.book.instruments import Perpetual, Settlement
from crossmargin.market.build import snapshot_from_history
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet

#: Dates with different coverage: curve and options only (1995, 2016), coins with
#: the default staleness (2018), everything (2018 and 2020 with a stale curve; linear
#: perpetuals list from 2019-09).
DATES = (("1995-06-30", None), ("2016-06-30", None), ("2018-06-29", None),
         ("2018-06-29", 500), ("2020-06-30", 1300))


@cache
def _market(day: str, curve_days: int | None) -> MarketSnapshot:
    stale = None if curve_days is None else {"curve": curve_days}
    return snapshot_from_history(date.fromisoformat(day), max_stale_days=stale)


def _draw(n: int, seed: int, members: int, when: tuple[str, int | None]) -> Population:
    market = _market(*when)
    return population(n, as_of=market.as_of, seed=seed, members=members, market=market)


@settings(max_examples=15)
@given(n=st.integers(1, 40), seed=st.integers(0, 2**31), members=st.integers(1, 25),
       when=st.sampled_from(DATES))
def test_populations_are_well_formed(n: int, seed: int, members: int,
                                     when: tuple[str, int | None]) -> None:
    pop = _draw(n, seed, members, when)
    book = pop.book
    assert book.n_accounts == n and pop.archetype.shape == (n,)
    assert np.all(np.diff(book.account_offsets) >= 1)  # every account holds something
    assert np.all(np.isfinite(book.pos_quantity)) and np.all(book.pos_quantity != 0)
    width = len(str(members))
    assert set(book.members) <= {f"CM{k:0{width}d}" for k in range(1, members + 1)}
    assert np.all((pop.archetype >= 0) & (pop.archetype < len(pop.archetypes)))
    assert set(pop.archetype.tolist()) == set(range(len(pop.archetypes)))
    assert np.all(np.isfinite(pop.rough_requirement)) and np.all(pop.rough_requirement >= 0)
    amounts = [c.amount for balances in book.collateral for c in balances]
    assert all(np.isfinite(a) and a > 0 for a in amounts)
    assert np.all(pop.collateral_value >= 0)


@settings(max_examples=8)
@given(seed=st.integers(0, 2**31), when=st.sampled_from(DATES))
def test_same_seed_same_population(seed: int, when: tuple[str, int | None]) -> None:
    a, b = _draw(25, seed, 7, when), _draw(25, seed, 7, when)
    assert a.book.account_ids == b.book.account_ids and a.book.members == b.book.members
    assert a.book.instruments == b.book.instruments and a.book.collateral == b.book.collateral
    np.testing.assert_array_equal(a.book.pos_quantity, b.book.pos_quantity)
    np.testing.assert_array_equal(a.book.pos_instrument, b.book.pos_instrument)
    assert a.labels() == b.labels()


@settings(max_examples=8)
@given(seed=st.integers(0, 2**31))
def test_basis_trades_net_their_coins_across_venues(seed: int) -> None:
    market = _market("2020-06-30", 1300)
    pop = population(30, as_of=market.as_of, seed=seed, mix={"basis_trader": 1.0},
                     market=market)
    book = pop.book
    bump = ScenarioSet(names=("up", "down"), spot={"BTC": np.array([1e-3, -1e-3])},
                       strict=False)
    pnl = revalue(book.instruments, market=market, scenarios=bump, currency="USD").pnl
    delta = ((pnl[:, 0] - pnl[:, 1]) / 2e-3)[book.pos_instrument] * book.pos_quantity
    net = np.bincount(book.pos_account, weights=delta, minlength=book.n_accounts)
    gross = np.bincount(book.pos_account, weights=np.abs(delta), minlength=book.n_accounts)
    assert np.all(np.abs(net) <= 1e-3 * gross)
    perps = {i.settlement for i in book.instruments if isinstance(i, Perpetual)}
    assert perps == {Settlement.LINEAR, Settlement.INVERSE}  # both venues list by 2020
