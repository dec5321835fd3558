"""Populations: seeded books drawn from archetypes, their hedges, files and date coverage."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from crossmargin.analytics.archetypes import trailing_betas
from crossmargin.analytics.listing import (
    contract_symbol,
    front_expiry,
    last_friday,
    monthly_expiries,
    strike_grid,
    third_friday,
)
from crossmargin.analytics.populations import (
    Population,
    _apportion,
    generate_population,
    load_population,
    population,
    sidecar,
    write_population,
)
from crossmargin.book.book import Book
from crossmargin.book.instruments import (
    Bond,
    CryptoSpot,
    Equity,
    Future,
    FutureOption,
    Option,
    Perpetual,
    Right,
    Settlement,
    TreasuryFuture,
)
from crossmargin.book.io import load_portfolio
from crossmargin.book.records import instrument_record
from crossmargin.core.errors import InputError
from crossmargin.examples import demo_portfolio_path
from crossmargin.interfaces.cli.population import population_command
from crossmargin.market.build import snapshot_from_history
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.registry import method_for
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet
from tests.conftest import command_app

#: The command under test, invoked as a subcommand.
CLI = command_app("population", population_command)

EXAMPLES = Path(__file__).parents[2] / "examples"
#: Dates the bundled history covers: Treasuries and options (2016), coins and perpetuals
#: with the default staleness (2018), everything with the curve allowed 500 days stale.
PRE_CRYPTO = date(2016, 6, 30)
CRYPTO = date(2018, 6, 29)


@pytest.fixture(scope="module")
def market16() -> MarketSnapshot:
    return snapshot_from_history(PRE_CRYPTO)


@pytest.fixture(scope="module")
def market18() -> MarketSnapshot:
    return snapshot_from_history(CRYPTO)


@pytest.fixture(scope="module")
def market18_stale() -> MarketSnapshot:
    return snapshot_from_history(CRYPTO, max_stale_days={"curve": 500})


@pytest.fixture(scope="module")
def everything(market18_stale: MarketSnapshot) -> Population:
    """All eight archetypes, on a date where the curve is allowed to be stale."""
    return population(400, as_of=CRYPTO, seed=11, market=market18_stale)


def _with(params: ParamSet, path: tuple[str, ...], value: object) -> ParamSet:
    """Return ``params`` with the parameter at ``path`` replaced."""
    data = json.loads(json.dumps(dict(params.parameters)))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return replace(params, parameters=data)


def _accounts_of(pop: Population, name: str) -> np.ndarray:
    return np.flatnonzero(pop.archetype == pop.archetypes.index(name))


def _per_account(pop: Population, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Net and gross of a per-unit sensitivity over each account's positions."""
    book = pop.book
    pos = values[book.pos_instrument] * book.pos_quantity
    net = np.bincount(book.pos_account, weights=pos, minlength=book.n_accounts)
    gross = np.bincount(book.pos_account, weights=np.abs(pos), minlength=book.n_accounts)
    return net, gross


def _dollar_deltas(pop: Population, market: MarketSnapshot) -> np.ndarray:
    """Gain per unit of a 100% move of every underlying, by full revaluation (+/-0.1%)."""
    symbols = sorted({i.underlying_symbol for i in pop.book.instruments} - {"UST"})
    bump = ScenarioSet(names=("up", "down"),
                       spot={s: np.array([1e-3, -1e-3]) for s in symbols}, strict=False)
    pnl = revalue(pop.book.instruments, market=market, scenarios=bump, currency="USD").pnl
    return np.asarray((pnl[:, 0] - pnl[:, 1]) / 2e-3)


# -- listed contract terms (hand-checked against a calendar) ------------------------------


def test_expiry_calendar_and_symbols() -> None:
    assert third_friday(2018, 6) == date(2018, 6, 15)
    assert last_friday(2018, 6) == date(2018, 6, 29)
    assert last_friday(2018, 12) == date(2018, 12, 28)
    assert monthly_expiries(CRYPTO, [1, 2, 3]) == [date(2018, 7, 20), date(2018, 8, 17),
                                                   date(2018, 9, 21)]
    # the March quarterly cycle: June 2018's contract expired on the 15th
    assert front_expiry(CRYPTO, min_days=7, cycle=3) == date(2018, 9, 21)
    assert front_expiry(date(2018, 6, 1), min_days=7, cycle=3) == date(2018, 6, 15)
    assert front_expiry(date(2018, 6, 25), min_days=7, rule="last") == date(2018, 7, 27)
    assert contract_symbol("ES", date(2018, 9, 21)) == "ESU18"


def test_strike_grid_rounds_to_listed_increments() -> None:
    # SPX 2718.37: gaps of 5% x 2718.37 / 2 = 67.96, so strikes are multiples of 50
    strikes = strike_grid(2718.37, [-0.10, -0.05, 0.0, 0.05, 0.10])
    assert strikes.tolist() == [2450.0, 2600.0, 2700.0, 2850.0, 3000.0]
    # a split-adjusted stock price of 0.31: increments shrink, strikes stay distinct
    small = strike_grid(0.31, [-0.10, -0.05, 0.0, 0.05, 0.10])
    assert np.all(np.diff(small) > 0) and small[0] > 0


def test_instrument_records_read_back_as_the_same_instruments() -> None:
    books = [load_portfolio(EXAMPLES / "portfolio.yaml"), load_portfolio(demo_portfolio_path())]
    for inst in {i for b in books for i in b.instruments}:
        assert instrument_record(inst)["type"]
    future = Future(symbol="ESU8", underlying="SPX", expiry=date(2018, 9, 21), multiplier=50,
                    settlement=Settlement.PHYSICAL)
    odd = FutureOption(future=future, right=Right.CALL, strike=2800.0,
                       expiry=date(2018, 9, 21), multiplier=50.0)
    with pytest.raises(InputError, match="cannot express"):
        instrument_record(odd)


def test_trailing_betas_use_only_known_history() -> None:
    betas = trailing_betas(PRE_CRYPTO, ["JPM", "KO"], index="SPX", window=252)
    assert 1.0 < betas["JPM"] < 2.0 and 0.2 < betas["KO"] < 1.0  # a bank and a staple
    assert trailing_betas(date(1990, 3, 1), ["JPM"], index="SPX", window=252) == {}


# -- the population ----------------------------------------------------------------------


def test_every_archetype_on_a_date_that_supports_them(everything: Population) -> None:
    pop = everything
    assert pop.archetypes == ("market_maker", "basis_trader", "covered_call", "protective_put",
                              "hedge_fund", "treasury_basis", "crypto_fund", "directional")
    book = pop.book
    assert book.n_accounts == 400 and book.as_of == CRYPTO
    counts = np.bincount(pop.archetype)
    assert counts.tolist() == [16, 32, 88, 48, 40, 16, 40, 120]  # the mix of the file
    assert np.all(np.diff(book.account_offsets) >= 1)
    pair = book.pos_account * len(book.instruments) + book.pos_instrument
    assert np.unique(pair).size == pair.size  # one position per instrument and account
    assert np.all(np.isfinite(book.pos_quantity)) and np.all(book.pos_quantity != 0)
    assert len(book.members) == 400 and set(book.members) <= {f"CM{k:02d}" for k in
                                                              range(1, 21)}
    assert all(i.expiry > CRYPTO for i in book.instruments if hasattr(i, "expiry"))
    assert all(c.amount > 0 for balances in book.collateral for c in balances)


def test_market_makers_are_delta_hedged(everything: Population,
                                        market18_stale: MarketSnapshot) -> None:
    net, gross = _per_account(everything, _dollar_deltas(everything, market18_stale))
    mm = _accounts_of(everything, "market_maker")
    # Black-Scholes deltas hedged in whole contracts, checked by full revaluation
    # (American stock options, a future's carry): within 3% of the gross delta
    assert np.all(np.abs(net[mm]) <= 0.03 * gross[mm])
    assert np.median(np.abs(net[mm]) / gross[mm]) < 0.01
    kinds = {type(everything.book.instruments[int(i)]) for a in mm for i in
             everything.book.pos_instrument[everything.book.account_offsets[a]:
                                            everything.book.account_offsets[a + 1]]}
    assert kinds == {Option, Future, Equity}


def test_basis_traders_net_their_coin_exposure(everything: Population,
                                               market18_stale: MarketSnapshot) -> None:
    net, gross = _per_account(everything, _dollar_deltas(everything, market18_stale))
    basis = _accounts_of(everything, "basis_trader")
    assert np.all(np.abs(net[basis]) <= 1e-3 * gross[basis])
    book = everything.book
    long_kinds = {type(book.instruments[int(book.pos_instrument[book.account_offsets[a]])])
                  for a in basis}
    assert long_kinds == {CryptoSpot, Future}  # coins held, CME bitcoin futures
    shorts = {book.instruments[int(book.pos_instrument[book.account_offsets[a] + 1])]
              for a in basis}
    # USDT-margined linear perpetuals list only from 2019-09: the shorts are inverse
    assert {(type(i), getattr(i, "settlement", None)) for i in shorts} == {
        (Perpetual, Settlement.INVERSE)}
    assert np.all(book.pos_quantity[book.account_offsets[basis] + 1] < 0)


def test_retail_holds_100_shares_per_option(everything: Population,
                                            market18_stale: MarketSnapshot) -> None:
    book = everything.book
    for name, right, sign in (("covered_call", Right.CALL, -1), ("protective_put", Right.PUT,
                                                                  1)):
        for a in _accounts_of(everything, name):
            stock, option = book.account(int(a)).positions
            assert isinstance(option.instrument, Option) and option.instrument.right is right
            assert stock.instrument.underlying_symbol == option.instrument.underlying
            assert stock.quantity == 100 * sign * option.quantity > 0
            # out of the money: 2% to 10% away from the spot, to the strike increment
            away = option.instrument.strike / market18_stale.price(stock.instrument.label) - 1
            assert 0.01 < -sign * away < 0.11


def test_treasury_basis_is_dv01_neutral(everything: Population,
                                        market18_stale: MarketSnapshot) -> None:
    shift = ScenarioSet(names=("up", "down"), curve={"UST": np.array([1e-4, -1e-4])},
                        strict=False)
    pnl = revalue(everything.book.instruments, market=market18_stale, scenarios=shift,
                  currency="USD").pnl
    net, gross = _per_account(everything, (pnl[:, 1] - pnl[:, 0]) / 2)
    tb = _accounts_of(everything, "treasury_basis")
    # hedge ratios drawn in [0.95, 1.05] of the notes' DV01, in whole contracts
    assert np.all(np.abs(net[tb]) <= 0.03 * gross[tb])
    kinds = [type(i) for a in tb for i in (p.instrument for p in
                                           everything.book.account(int(a)).positions)]
    assert set(kinds) == {Bond, TreasuryFuture}


def test_hedge_funds_sell_their_beta(market16: MarketSnapshot) -> None:
    params = _with(load_params("populations"), ("archetypes", "hedge_fund", "hedge_ratio"),
                   [1.0, 1.0])
    pop = population(60, as_of=PRE_CRYPTO, seed=2, mix={"hedge_fund": 1.0}, market=market16,
                     params=params)
    book = pop.book
    betas = trailing_betas(PRE_CRYPTO, [i.label for i in book.instruments
                                        if isinstance(i, Equity)], index="SPX", window=252)
    unit = revalue(book.instruments, market=market16,
                   scenarios=ScenarioSet(names=("base",), strict=False),
                   currency="USD").base_value
    beta = np.array([betas.get(i.label, 1.0) for i in book.instruments])
    net, gross = _per_account(pop, unit * beta)
    # the futures offset the basket's beta-weighted value to within a contract or two
    assert np.all(np.abs(net) <= 0.02 * gross)
    basket = np.diff(book.account_offsets) - 1
    assert basket.min() >= 5 and basket.max() <= 12


def test_clearing_members_are_concentrated() -> None:
    book = generate_population(3000, as_of=PRE_CRYPTO, seed=4, members=5)
    names, counts = np.unique(np.asarray(book.members), return_counts=True)
    assert names.tolist() == ["CM1", "CM2", "CM3", "CM4", "CM5"]
    assert np.all(np.diff(counts) < 0)  # Zipf: the first member is the largest


def test_some_accounts_are_short_of_their_rough_requirement(everything: Population) -> None:
    short = everything.collateral_value < everything.rough_requirement
    assert 0.02 < short.mean() < 0.4
    assert np.all(everything.rough_requirement > 0)
    assert np.all(np.isfinite(everything.collateral_value))


def test_every_book_margins_under_grid_and_fhs(market16: MarketSnapshot,
                                               market18: MarketSnapshot) -> None:
    for market in (market16, market18):
        book = generate_population(150, as_of=market.as_of, seed=5, market=market)
        for name in ("grid", "fhs"):
            result = method_for(name, book, market).compute(book, market)
            im = result.initial_margin
            assert np.all(np.isfinite(im)) and np.all(im >= 0) and im.sum() > 0, name


# -- coverage of the bundled data --------------------------------------------------------


def test_default_mix_leaves_out_what_the_date_cannot_price(market16: MarketSnapshot,
                                                           market18: MarketSnapshot) -> None:
    before = population(200, as_of=PRE_CRYPTO, seed=1, market=market16)
    assert "basis_trader" not in before.archetypes and "crypto_fund" not in before.archetypes
    assert any(n.startswith("basis_trader left out on 2016-06-30: ") and "BTC" in n
               for n in before.notes)
    assert not any(isinstance(i, CryptoSpot | Perpetual) for i in before.book.instruments)
    after = population(200, as_of=CRYPTO, seed=1, market=market18)
    assert after.archetypes == ("basis_trader", "crypto_fund", "directional")
    assert any(n.startswith("treasury_basis left out on 2018-06-29: no curve for UST")
               for n in after.notes)
    assert any("SPX options: no rate for USD" in n for n in after.notes)
    # nothing held needs the missing rate: every instrument prices on the date
    base = ScenarioSet(names=("base",), strict=False)
    for pop, market in ((before, market16), (after, market18)):
        value = revalue(pop.book.instruments, market=market, scenarios=base,
                        currency="USD").base_value
        assert np.all(np.isfinite(value))


def test_an_archetype_asked_for_on_a_date_without_its_data_is_refused(
        market16: MarketSnapshot, market18: MarketSnapshot) -> None:
    with pytest.raises(InputError, match=r"mix\.treasury_basis=1\.0: cannot be generated on "
                                         r"2018-06-29: no curve for UST"):
        population(10, as_of=CRYPTO, seed=0, mix={"treasury_basis": 1.0}, market=market18)
    with pytest.raises(InputError, match=r"mix\.crypto_fund.*no BTC perpetual listed|"
                                         r"mix\.crypto_fund.*no price for BTC"):
        population(10, as_of=PRE_CRYPTO, seed=0, mix={"crypto_fund": 1.0, "directional": 1.0},
                   market=market16)
    crypto_only = _with(load_params("populations"), ("mix",), {"crypto_fund": 1.0})
    with pytest.raises(InputError, match="no archetype can be generated on this date"):
        population(10, as_of=PRE_CRYPTO, seed=0, market=market16, params=crypto_only)


def test_bad_arguments_and_parameters_are_named(market16: MarketSnapshot) -> None:
    with pytest.raises(InputError, match="n_accounts=0"):
        population(0, as_of=PRE_CRYPTO, seed=0, market=market16)
    with pytest.raises(InputError, match="seed=-1"):
        population(5, as_of=PRE_CRYPTO, seed=-1, market=market16)
    with pytest.raises(InputError, match=r"mix\.day_trader.*unknown archetype"):
        population(5, as_of=PRE_CRYPTO, seed=0, mix={"day_trader": 1.0}, market=market16)
    with pytest.raises(InputError, match="the market is for 2016-06-30"):
        population(5, as_of=CRYPTO, seed=0, market=market16)
    bad = _with(load_params("populations"), ("archetypes", "market_maker", "option_legs"), 0)
    with pytest.raises(InputError, match=r"populations/2026\.11-1\.yaml: "
                                         r"archetypes\.market_maker\.option_legs=0"):
        population(5, as_of=PRE_CRYPTO, seed=0, market=market16, params=bad)


# -- files -------------------------------------------------------------------------------


def test_write_and_load_give_the_same_population(everything: Population,
                                                 tmp_path: Path) -> None:
    files = write_population(everything, tmp_path / "pop.parquet")
    assert [f.name for f in files] == ["pop.parquet", "pop.collateral.parquet",
                                       "pop.accounts.parquet"]
    loaded = load_population(tmp_path / "pop.parquet", as_of=CRYPTO)
    a, b = everything.book, loaded.book
    assert b.account_ids == a.account_ids and b.members == a.members
    assert b.instruments == a.instruments
    for name in ("account_offsets", "pos_instrument", "pos_quantity"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name))
    assert b.collateral == a.collateral  # cash, coins, stablecoins and pledged notes
    assert any(c.instrument is not None for balances in b.collateral for c in balances)
    assert loaded.labels() == everything.labels()
    np.testing.assert_array_equal(loaded.rough_requirement, everything.rough_requirement)
    np.testing.assert_array_equal(loaded.collateral_value, everything.collateral_value)


def test_the_file_records_its_date_and_currency(everything: Population,
                                               tmp_path: Path) -> None:
    """The positions file carries the book's date: no --as-of needed to read it back."""
    path = tmp_path / "pop.parquet"
    write_population(everything, path)
    book = load_portfolio(path)
    assert book.as_of == everything.book.as_of and book.currency == "USD"
    assert load_portfolio(path, as_of=date(2020, 1, 2)).as_of == date(2020, 1, 2)
    table = pq.read_table(path)
    meta = {**table.schema.metadata, b"crossmargin.as_of": b"20180629"}
    pq.write_table(table.replace_schema_metadata(meta), path)
    with pytest.raises(InputError, match=r"metadata\.crossmargin\.as_of='20180629': not a date"):
        load_portfolio(path)


def test_same_seed_same_bytes(market16: MarketSnapshot, tmp_path: Path) -> None:
    def files(seed: int, folder: str) -> list[bytes]:
        pop = population(300, as_of=PRE_CRYPTO, seed=seed, market=market16)
        return [f.read_bytes() for f in write_population(pop, tmp_path / folder / "p.parquet")]

    first = files(9, "a")
    assert files(9, "b") == first
    assert files(10, "c")[0] != first[0]


def test_writing_fails_whole(everything: Population, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"written as a \.parquet file"):
        write_population(everything, tmp_path / "pop.csv")
    (tmp_path / "pop.collateral.csv").write_text("account,asset,amount\n")
    with pytest.raises(InputError, match="CSV collateral sidecar is in the way"):
        write_population(everything, tmp_path / "pop.parquet")
    future = Future(symbol="ESU8", underlying="SPX", expiry=date(2018, 9, 21), multiplier=50,
                    settlement=Settlement.PHYSICAL)
    odd = FutureOption(future=future, right=Right.PUT, strike=2600.0, expiry=date(2018, 9, 21),
                       multiplier=50.0)
    book = Book(as_of=CRYPTO, currency="USD", account_ids=("X",), instruments=(odd,),
                account_offsets=np.array([0, 1]), pos_instrument=np.array([0]),
                pos_quantity=np.array([1.0]), marks=np.array([np.nan]), collateral=((),),
                orders=((),))
    with pytest.raises(InputError, match="cannot express"):
        write_population(book, tmp_path / "odd.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pop.collateral.csv"]


def test_a_plain_book_drops_a_stale_accounts_sidecar(everything: Population,
                                                     tmp_path: Path) -> None:
    target = tmp_path / "pop.parquet"
    write_population(everything, target)
    write_population(everything.book, target)
    assert not sidecar(target, "accounts").exists()
    assert load_portfolio(target).n_accounts == 400
    with pytest.raises(InputError, match=r"accounts\.parquet: file not found"):
        load_population(target)


# -- command line ------------------------------------------------------------------------



def test_cli_population_json_and_table(tmp_path: Path) -> None:
    args = ["population", "--accounts", "120", "--as-of", "2016-06-30", "--seed", "3",
            "--members", "4"]
    result = CliRunner().invoke(CLI, [*args, "--out", str(tmp_path / "a.parquet"),
                                         "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["accounts"] == 120 and doc["members"] == 4 and doc["seed"] == 3
    assert sum(r["accounts"] for r in doc["archetypes"]) == 120
    assert {"generate", "write"} == set(doc["seconds"])
    assert any("crypto_fund left out" in n for n in doc["notes"])
    table = CliRunner().invoke(CLI, [*args, "--out", str(tmp_path / "b.parquet")])
    assert table.exit_code == 0, table.stderr
    assert "hedge_fund" in table.stdout and "note: basis_trader left out" in table.stdout
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_cli_population_errors(tmp_path: Path) -> None:
    app = CLI
    out = ["--out", str(tmp_path / "x.parquet")]
    refused = CliRunner().invoke(app, ["population", "--accounts", "10", "--as-of",
                                       "2018-06-29", "--mix", "treasury_basis=1", *out])
    assert refused.exit_code == 2
    assert "mix.treasury_basis" in refused.stderr and "no curve for UST" in refused.stderr
    bad = CliRunner().invoke(app, ["population", "--accounts", "10", "--as-of", "2018-06-29",
                                   "--mix", "hedge_fund", *out])
    assert bad.exit_code == 2 and "ARCHETYPE=WEIGHT" in bad.stderr
    stale = CliRunner().invoke(app, ["population", "--accounts", "30", "--as-of",
                                     "2018-06-29", "--max-stale-days", "curve=500",
                                     "--mix", "treasury_basis=1", *out, "--format", "json"])
    assert stale.exit_code == 0, stale.stderr
    assert json.loads(stale.stdout)["archetypes"][0]["archetype"] == "treasury_basis"
    assert not list(tmp_path.glob(".*.tmp"))


@given(st.lists(st.floats(min_value=1e-300, max_value=1e308), min_size=1, max_size=6),
       st.integers(min_value=0, max_value=10_000))
def test_apportion_splits_all_accounts_whatever_the_scale(weights: list[float], n: int
                                                           ) -> None:
    """Largest remainders: the counts sum to n and follow the weights (even at 1e308)."""
    counts = _apportion(n, np.asarray(weights))
    assert counts.sum() == n and (counts >= 0).all()
    share = np.asarray(weights) / max(weights)
    assert np.all(np.abs(counts - n * share / share.sum()) < 1.0 + 1e-9)
