"""Unit tests of the crypto portfolio-margin method: parameters, pools, contingencies."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import yaml

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import (
    AssetClass,
    CryptoSpot,
    Equity,
    Future,
    Instrument,
    Option,
    Perpetual,
    Right,
    Settlement,
)
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.kernels.reference import dense_losses
from crossmargin.methods.crypto_pm.method import CryptoPortfolioMargin
from crossmargin.methods.crypto_pm.pools import margin_currency
from crossmargin.methods.registry import get_method
from crossmargin.params.loader import load_params
from crossmargin.pricing.black import gbsm
from tests.conftest import AS_OF, make_market

PM = CryptoPortfolioMargin.from_params()
MARKET = make_market()
EXPIRY = date(2018, 7, 27)
INV_PERP = Perpetual(underlying="BTC", settlement=Settlement.INVERSE, multiplier=6400.0)
LIN_PERP = Perpetual(underlying="BTC", currency="USDT")
INV_CALL = Option(underlying="BTC", right=Right.CALL, strike=7000.0, expiry=EXPIRY,
                  multiplier=1.0, settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO)
INV_PUT = replace(INV_CALL, right=Right.PUT)
LIN_CALL = replace(INV_CALL, settlement=Settlement.LINEAR, currency="USDC")
INV_FUT = Future(symbol="BTCU8", underlying="BTC", expiry=date(2018, 9, 28), multiplier=10.0,
                 settlement=Settlement.INVERSE, asset_class=AssetClass.CRYPTO)


def _book(*accounts: tuple[tuple[Instrument, float], ...]) -> Book:
    return Book.from_accounts(
        [Account(id=f"A{a}", positions=tuple(Position(instrument=i, quantity=q)
                                              for i, q in acct))
         for a, acct in enumerate(accounts)], as_of=AS_OF, currency="USD")


def _write(tmp_path: Path, change: dict[str, object]) -> Path:
    raw = yaml.safe_load(Path(PM.params.path).read_text())
    raw["parameters"].update(change)
    path = tmp_path / "crypto-pm.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_registered_and_built_from_the_bundled_file() -> None:
    method = get_method("crypto-pm")
    assert isinstance(method, CryptoPortfolioMargin)
    assert method.params.id == "crypto-pm"
    assert method.scenarios.size == 9 * 3 + 8
    assert set(method.underlyings) == {"BTC", "ETH"}


@pytest.mark.parametrize(("change", "field"), [
    ({"price_points": 8}, "price_points"),
    ({"tail_moves": [-1.2, 5.0]}, "tail_moves[0]"),
    ({"tail_moves": [0.1]}, "tail_moves[0]"),
    ({"tail_moves": "big"}, "tail_moves"),
    ({"maintenance_factor": 1.5}, "maintenance_factor"),
    ({"dte_floor_days": 0}, "dte_floor_days"),
    ({"vega_reference_days": "thirty"}, "vega_reference_days"),
    ({"underlyings": {"BTC": {"price_range": 0.16}}}, "underlyings.BTC.vol_range_up"),
    ({"underlyings": {}}, "underlyings"),
])
def test_bad_parameters_are_located_in_the_file(tmp_path: Path, change: dict[str, object],
                                                 field: str) -> None:
    path = _write(tmp_path, change)
    with pytest.raises(InputError) as err:
        CryptoPortfolioMargin.from_params(load_params("crypto-pm", path=path))
    assert err.value.source == str(path)
    assert err.value.field == field


def test_scenario_axis_layout_and_labels() -> None:
    table, btc = PM.scenarios, PM.underlyings["BTC"]
    moves = table.moves(btc)
    assert moves[:3].tolist() == [-0.16] * 3 and moves[12:15].tolist() == [0.0] * 3
    assert table.vol_state[:3].tolist() == [0, 1, 2] and set(table.vol_state[27:]) == {1}
    assert table.describe(underlying="BTC", params=btc, coin_margined=False, scenario=1) == \
        "BTC -16.00%, vol up x1.50 (30-day)"
    assert table.describe(underlying="BTC", params=btc, coin_margined=False, scenario=32) == \
        "BTC +300% (tail, weight 0.05), vol up x1.50 (30-day)"
    assert len(table.names()) == table.size == 35


def test_coin_pool_tail_weights_use_the_move_in_coin() -> None:
    """In a coin pool the unit moves by -r / (1 + r): -66% is a +194% move of the USD in
    BTC, weighted so that it counts as much as the -16% edge (+19.05%)."""
    weights = PM.scenarios.weights(PM.underlyings["BTC"], coin_margined=True)[27:]
    down, up = 0.16 / 0.84, 0.16 / 1.16
    expected = [down / (0.66 / 0.34), down / (0.33 / 0.67),
                *(up / (r / (1 + r)) for r in (0.5, 1.0, 2.0, 3.0, 4.0, 5.0))]
    np.testing.assert_allclose(weights, expected, rtol=1e-11)


def test_vol_shocks_scale_with_days_to_expiry_and_stay_above_zero() -> None:
    btc = PM.underlyings["BTC"]
    at_30 = PM.scenarios.vol_shocks(btc, dte=30)[:3]
    assert at_30.tolist() == pytest.approx([0.0, 0.5, -0.25])
    at_1 = PM.scenarios.vol_shocks(replace(btc, vol_range_down=0.5), dte=0)[:3]
    assert at_1.tolist() == pytest.approx([0.0, 0.5 * 30 ** 0.3, -1.0])


def test_unknown_underlying_is_an_error_not_a_zero() -> None:
    sol = Perpetual(underlying="SOL", currency="USDT")
    market = make_market(prices={"BTC": 6400.0, "SOL": 20.0})
    with pytest.raises(InputError, match=r"underlyings\.SOL"):
        PM.compute(_book(((sol, 1.0),)), market)


def test_missing_price_is_a_missing_data_error() -> None:
    with pytest.raises(MissingDataError, match="ETH"):
        PM.compute(_book(((Perpetual(underlying="ETH", currency="USDT"), 1.0),)),
                   make_market(prices={"BTC": 6400.0}))


def test_non_crypto_positions_are_left_out_with_a_note() -> None:
    result = PM.compute(_book(((Equity(symbol="AAPL"), 100.0), (LIN_PERP, 1.0))), MARKET)
    assert any("AAPL" in n and "crypto-pm" in n for n in result.notes)
    alone = PM.compute(_book(((LIN_PERP, 1.0),)), MARKET)
    assert result.initial_margin[0] == alone.initial_margin[0]


def test_empty_accounts_cost_nothing() -> None:
    result = PM.compute(_book((), ((Equity(symbol="AAPL"), 1.0),)), MARKET)
    assert result.initial_margin.tolist() == [0.0, 0.0]
    assert result.accounts_json()[0]["driver"] == {}


def test_margin_currency_of_each_kind() -> None:
    assert margin_currency(INV_PERP) == "BTC"
    assert margin_currency(INV_CALL) == "BTC"
    assert margin_currency(LIN_PERP) == "USDT"
    assert margin_currency(LIN_CALL) == "USDC"
    assert margin_currency(CryptoSpot(asset="BTC")) == "USD"
    with pytest.raises(InputError, match="face"):
        margin_currency(replace(INV_PERP, currency="BTC"))


def test_inverse_option_pnl_is_in_coin_at_the_scenario_forward() -> None:
    """Coin P&L of an inverse option = V_s / F_s - V_0 / F_0: V its USD value (the same
    model as the linear USDC twin), F the forward of its expiry."""
    pnl = PM.scenario_pnl(_book(((INV_CALL, 1.0), (LIN_CALL, 1.0))), MARKET)
    t = (EXPIRY - AS_OF).days / 365.0
    btc = PM.underlyings["BTC"]
    spot = 6400.0 * (1 + PM.scenarios.moves(btc))
    vol = 0.7 * (1 + PM.scenarios.vol_shocks(btc, dte=28))
    v0 = gbsm(spot=6400.0, strike=7000.0, time=t, rate=0.02, carry=0.02, vol=0.7,
              is_call=True)
    vs = gbsm(spot=spot, strike=7000.0, time=t, rate=0.02, carry=0.02, vol=vol, is_call=True)
    f0, fs = 6400.0 * np.exp(0.02 * t), spot * np.exp(0.02 * t)
    np.testing.assert_allclose(pnl.pnl[0], vs / fs - v0 / f0, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(pnl.pnl[1], vs - v0, rtol=1e-9, atol=1e-9)
    assert pnl.pool == ("BTC", "USDC")
    assert pnl.notional.tolist() == pytest.approx([1.0, 6400.0])


def test_marked_inverse_perpetual_converts_at_its_mark() -> None:
    book = Book.from_accounts([Account(id="A", positions=(
        Position(instrument=INV_PERP, quantity=1.0, mark=6500.0),))], as_of=AS_OF,
        currency="USD")
    pnl = PM.scenario_pnl(book, MARKET)
    moves = PM.scenarios.moves(PM.underlyings["BTC"])
    np.testing.assert_allclose(pnl.pnl[0], 6400.0 * (1 / 6500 - 1 / (6500 * (1 + moves))),
                               rtol=1e-12)
    assert pnl.notional[0] == pytest.approx(6400.0 / 6500.0)


def test_naked_shorts_net_per_expiry_and_strike() -> None:
    """A long call covers a short put at the same strike (net short 2 of 5); a short at
    another strike or another expiry stays naked."""
    other_strike = replace(INV_CALL, strike=8000.0)
    other_expiry = replace(INV_CALL, expiry=date(2018, 8, 31))
    result = PM.compute(_book(((INV_CALL, 3.0), (INV_PUT, -5.0), (other_strike, -1.0),
                               (other_expiry, -1.0))), MARKET)
    assert result.components["option_contingency"][0] == pytest.approx(
        0.005 * (2 + 1 + 1) * 6400.0, rel=1e-12)
    covered = PM.compute(_book(((INV_CALL, 5.0), (INV_PUT, -5.0))), MARKET)
    assert covered.components["option_contingency"][0] == 0.0


def test_delta_contingency_nets_within_a_pool_only() -> None:
    spot = CryptoSpot(asset="BTC", currency="USDT")
    hedged = PM.compute(_book(((LIN_PERP, 1.0), (spot, -1.0))), MARKET)
    assert hedged.components["delta_contingency"][0] == 0.0
    assert hedged.initial_margin[0] == 0.0
    split = PM.compute(_book(((LIN_PERP, 1.0), (INV_PERP, -1.0))), MARKET)
    assert split.components["delta_contingency"][0] == pytest.approx(2 * 0.04 * 6400.0)


def test_segments_name_pools_and_the_driving_scenario() -> None:
    result = PM.compute(_book(((LIN_PERP, -2.0), (INV_CALL, -1.0))), MARKET)
    row = result.accounts_json()[0]
    assert set(row["components"]["groups"]) == {"BTC in USDT", "BTC in BTC"}
    seg = result.segments
    assert seg is not None
    names = [result.describe(seg.group_names[int(g)], int(s))  # type: ignore[misc]
             for g, s in zip(seg.group, seg.scenario, strict=True)]
    assert "BTC +16.00%, vol unchanged" in names
    pools = {p["pool"]: p for p in row["detail"]["pools"]}
    assert pools["BTC in BTC"]["rate"] == 6400.0
    assert "own price" in pools["BTC in BTC"]["conversion"]
    assert pools["BTC in USDT"]["rate"] == 1.0
    total = sum(p["total_USD"] for p in pools.values())
    assert result.initial_margin[0] == pytest.approx(total, abs=0.011)


def test_tail_never_drives_a_position_linear_in_its_pool() -> None:
    for inst, q in ((INV_PERP, 1.0), (INV_PERP, -1.0), (LIN_PERP, 1.0), (LIN_PERP, -1.0),
                    (INV_FUT, 100.0)):
        result = PM.compute(_book(((inst, q),)), MARKET)
        assert "tail" not in result.accounts_json()[0]["driver"]["scenario"]


def test_scanning_matches_a_dense_numpy_computation() -> None:
    """Two routes to one number: the shared kernel on weighted P&L rows against the
    kernel's plain-numpy twin (a dense loss matrix) pool by pool."""
    rng = np.random.default_rng(7)
    universe = [INV_PERP, LIN_PERP, INV_CALL, INV_PUT, LIN_CALL, INV_FUT,
                CryptoSpot(asset="ETH", currency="USDT"),
                Perpetual(underlying="ETH", settlement=Settlement.INVERSE, multiplier=10.0)]
    accounts = [tuple((universe[int(i)], float(q)) for i, q in
                      zip(rng.integers(0, len(universe), 4), rng.normal(0, 5, 4), strict=True))
                for _ in range(30)]
    book = _book(*accounts)
    result = PM.compute(book, MARKET)
    pnl = PM.scenario_pnl(book, MARKET)
    pools = [(i.underlying_symbol, c) for i, c in zip(book.instruments, pnl.pool, strict=True)]
    weights = np.array([PM.scenarios.weights(PM.underlyings[u], coin_margined=c == u)
                        for u, c in pools])
    scan = np.zeros(book.n_accounts)
    for pool in set(pools):
        keep = np.array([p == pool for p in pools])[book.pos_instrument]
        offsets = np.r_[0, np.cumsum(np.bincount(book.pos_account[keep],
                                                 minlength=book.n_accounts))]
        losses = dense_losses(pnl=pnl.pnl * weights, seg_offsets=offsets,
                              pos_instrument=book.pos_instrument[keep],
                              pos_quantity=book.pos_quantity[keep])
        scan += np.maximum(losses.max(axis=1), 0.0) * MARKET.fx_rate(pool[1], to="USD")
    np.testing.assert_allclose(result.components["scanning_risk"], scan, rtol=1e-9,
                               atol=1e-6)


def test_large_book_runs_vectorised() -> None:
    """100,000 accounts of 5 positions on 44 instruments: one revaluation, one kernel
    call, contingencies by bincount; timed, not asserted beyond a generous bound."""
    rng = np.random.default_rng(1)
    strikes = np.linspace(4000, 9000, 20)
    options = [replace(INV_CALL, strike=float(k), right=r) for k in strikes
               for r in (Right.CALL, Right.PUT)]
    universe = [*options, INV_PERP, LIN_PERP, INV_FUT, LIN_CALL]
    n_acc, per = 100_000, 5
    book = Book(as_of=AS_OF, currency="USD", account_ids=tuple(f"A{i}" for i in range(n_acc)),
                instruments=tuple(universe),
                account_offsets=np.arange(0, n_acc * per + 1, per, dtype=np.int64),
                pos_instrument=rng.integers(0, len(universe), n_acc * per).astype(np.int64),
                pos_quantity=rng.integers(-20, 21, n_acc * per).astype(np.float64),
                marks=np.full(len(universe), np.nan),
                collateral=((),) * n_acc, orders=((),) * n_acc)
    start = time.perf_counter()
    result = PM.compute(book, MARKET)
    elapsed = time.perf_counter() - start
    assert np.all(np.isfinite(result.initial_margin)) and np.all(result.initial_margin >= 0)
    assert elapsed < 30.0
