"""The tims method: parameters, scope, groups, minimum, offsets, concentration, output."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import yaml

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import (
    Bond,
    CryptoSpot,
    Equity,
    Future,
    Option,
    Right,
    Settlement,
)
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.market.snapshot import MarketSnapshot, VolSurface
from crossmargin.methods.grid.method import ScenarioGrid
from crossmargin.methods.registry import get_method
from crossmargin.methods.tims import offsets as offsets_module
from crossmargin.methods.tims.groups import ClassGroups, parse_product_groups
from crossmargin.methods.tims.method import Concentration, TheoreticalIntermarketMargin
from crossmargin.params.loader import load_params
from tests.conftest import AS_OF, make_market

EXP = date(2018, 9, 21)
SPY = Equity(symbol="SPY")
AAPL = Equity(symbol="AAPL")
ES = Future(symbol="ESU8", underlying="SPX", expiry=EXP, multiplier=50.0)
SPX_PUT = Option(underlying="SPX", right=Right.PUT, strike=2600.0, expiry=EXP,
                 settlement=Settlement.CASH)
TIMS = TheoreticalIntermarketMargin.from_params()


def _market() -> MarketSnapshot:
    prices = {"SPX": 2700.0, "SPY": 270.0, "AAPL": 185.0, "MSFT": 98.0, "QQQ": 172.0,
              "NDX": 7040.0, "BTC": 6400.0}
    return make_market(prices=prices,
                       vols={k: VolSurface.flat(0.2) for k in prices})


def _book(*accounts: tuple[Position, ...]) -> Book:
    return Book.from_accounts([Account(id=f"A{k}", positions=p) for k, p in enumerate(accounts)],
                              as_of=AS_OF, currency="USD")


def _params_file(tmp_path: Path, **changes: object) -> Path:
    params = load_params("tims")
    raw = {"id": "tims", "version": "test", "effective": "2026-11-23", "source": "test",
           "parameters": {**params.parameters, **changes}}
    path = tmp_path / "tims.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_registry_builds_the_method_from_its_parameter_file() -> None:
    method = get_method("tims")
    assert isinstance(method, TheoreticalIntermarketMargin)
    assert method.params.id == "tims"
    assert method.minimum_per_contract == 0.375
    assert method.price_ranges["broad-based-high-cap"] == (-0.08, 0.06)
    assert method.valuation.size == 11 * 3  # 10 points + the current price, 3 vols
    assert not method.concentration.enabled
    assert {pg.name for pg in method.product_groups} >= {"sp500", "nasdaq100"}


@pytest.mark.parametrize(("changes", "field"), [
    ({"product_groups": {"x": {"offset": 1.5, "class_groups": ["SPX", "SPY"]}}},
     "product_groups.x.offset"),
    ({"product_groups": {"x": {"offset": 0.9, "class_groups": ["AAPL", "SPY"]}}},
     "product_groups.x.class_groups"),
    ({"product_groups": {"x": {"offset": 0.9, "class_groups": ["SPX", "SPY"]},
                         "y": {"offset": 0.9, "class_groups": ["SPY", "QQQ"]}}},
     "product_groups.y.class_groups"),
    ({"price_ranges": {"single-stock": [0.15, 0.15]}}, "price_ranges.single-stock"),
    ({"minimum": {"per_contract": -1, "currency": "USD"}}, "minimum.per_contract"),
])
def test_bad_parameters_are_located_in_their_file(tmp_path: Path, changes: dict[str, object],
                                                  field: str) -> None:
    path = _params_file(tmp_path, **changes)
    with pytest.raises(InputError) as err:
        TheoreticalIntermarketMargin.from_params(load_params("tims", path=path))
    assert err.value.source == str(path)
    assert err.value.field == field


def test_single_stocks_never_join_a_product_group() -> None:
    with pytest.raises(InputError, match="single stocks never"):
        parse_product_groups({"x": {"offset": 0.9, "class_groups": ["AAPL", "MSFT"]}})


def test_class_groups_put_product_group_members_side_by_side() -> None:
    groups = ClassGroups.of([AAPL, SPY, ES, SPX_PUT], TIMS.product_groups)
    assert groups.names[:2] == ("SPX", "SPY")
    assert groups.product_group.tolist() == [0, 0, -1]
    assert groups.of_instrument.tolist() == [2, 1, 0, 0]  # ES and the put: class group SPX


def test_out_of_scope_positions_are_named_never_priced_as_zero() -> None:
    note = "tims margins equities"
    book = _book((Position(instrument=SPY, quantity=100),
                  Position(instrument=CryptoSpot(asset="BTC"), quantity=1),
                  Position(instrument=Bond(symbol="T 2 1/4 2027", coupon=0.0225,
                                           maturity=date(2027, 8, 15)), quantity=1000)))
    result = TIMS.compute(book, _market())
    assert result.initial_margin[0] == pytest.approx(2160.0)
    assert any(n.startswith(note) and "BTC spot" in n and "2 position(s)" in n
               for n in result.notes)


def test_a_missing_price_raises_naming_it() -> None:
    book = _book((Position(instrument=Equity(symbol="TSLA"), quantity=10),))
    with pytest.raises(MissingDataError, match="TSLA"):
        TIMS.compute(book, _market())


def test_equity_books_match_the_grid_method() -> None:
    """Two routes to one number: without options, futures or product groups, tims and the
    grid revalue the same points with the same ranges, through the same kernel."""
    book = _book((Position(instrument=AAPL, quantity=100),),
                 (Position(instrument=AAPL, quantity=-40),
                  Position(instrument=Equity(symbol="MSFT"), quantity=70)),
                 (Position(instrument=SPY, quantity=-10),))
    tims = TIMS.compute(book, _market())
    grid = ScenarioGrid.from_params().compute(book, _market())
    np.testing.assert_array_equal(tims.initial_margin, grid.initial_margin)


def test_single_stocks_do_not_offset_each_other() -> None:
    """Long AAPL and short MSFT: the sum of the two 15% charges, no credit."""
    book = _book((Position(instrument=AAPL, quantity=100),
                  Position(instrument=Equity(symbol="MSFT"), quantity=-100)))
    result = TIMS.compute(book, _market())
    assert result.initial_margin[0] == pytest.approx(0.15 * (18_500 + 9_800))
    assert result.components["product_group_credit"][0] == 0.0


def test_product_group_credit_is_reported_and_drivers_described() -> None:
    book = _book((Position(instrument=SPY, quantity=1000), Position(instrument=ES, quantity=-2)))
    result = TIMS.compute(book, _market())
    row = result.accounts_json()[0]
    credit = -result.components["product_group_credit"][0]
    assert credit > 0
    assert result.components["class_groups"][0] - credit == pytest.approx(
        result.initial_margin[0], abs=0.011)
    assert row["components"]["groups"]["SPY"] == pytest.approx(21_600.0)
    assert row["driver"]["scenario"] == "SPY -8.00%, vol unchanged"
    offset = row["detail"]["product_groups"][0]
    assert offset["product_group"] == "sp500"
    assert offset["class_groups"] == ["SPX", "SPY"]
    assert offset["scenario"].startswith("SPX -8.00%, SPY -8.00%, vol")
    assert offset["requirement"] == pytest.approx(result.initial_margin[0], abs=0.011)


def test_describe_names_the_class_group_move_and_vol() -> None:
    book = _book((Position(instrument=SPX_PUT, quantity=-1),))
    result = TIMS.compute(book, _market())
    assert result.describe is not None
    assert result.describe("SPX", 0) == "SPX -8.00%, vol unchanged"
    assert result.describe("SPX", 1) == "SPX -8.00%, vol +25%"
    assert result.accounts_json()[0]["driver"]["scenario"] == "SPX -8.00%, vol +25%"


def test_maintenance_equals_the_requirement() -> None:
    book = _book((Position(instrument=SPX_PUT, quantity=-3),))
    result = TIMS.compute(book, _market())
    np.testing.assert_array_equal(result.maintenance_margin, result.initial_margin)


def test_concentration_add_on_raises_an_account_to_its_stress_loss() -> None:
    """With the add-on on (+/-30%): long 100 SPY loses 30% x 27,000 = 8,100 under the
    stress against 2,160 at -8%, so the add-on is 5,940."""
    method = replace(TIMS, concentration=Concentration(enabled=True, range=(-0.30, 0.30)))
    book = _book((Position(instrument=SPY, quantity=100),),
                 (Position(instrument=SPY, quantity=100), Position(instrument=SPY,
                                                                   quantity=-100)))
    result = method.compute(book, _market())
    assert result.initial_margin.tolist() == pytest.approx([8100.0, 0.0])
    assert result.components["concentration"][0] == pytest.approx(5940.0)
    detail = result.accounts_json()[0]["detail"]["concentration"]
    assert detail == {"class_group": "SPY", "loss": 8100.0,
                      "scenario": "SPY -30.00%, vol unchanged"}


def test_a_batch_equals_its_accounts_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """No account's offsets leak into another's, however the offset blocks fall."""
    monkeypatch.setattr(offsets_module, "BLOCK_ENTRIES", 100)
    rng = np.random.default_rng(3)
    qqq = Equity(symbol="QQQ")
    ndx_call = Option(underlying="NDX", right=Right.CALL, strike=7200.0, expiry=EXP,
                      settlement=Settlement.CASH)
    universe = [SPY, AAPL, ES, SPX_PUT, qqq, ndx_call]
    accounts = tuple(
        tuple(Position(instrument=universe[int(i)], quantity=float(q))
              for i, q in zip(rng.integers(0, 6, 4), rng.integers(-9, 10, 4), strict=True)
              if q)
        for _ in range(25))
    batch = TIMS.compute(_book(*accounts), _market())
    assert (batch.components["product_group_credit"] < 0).sum() >= 3
    whole = batch.initial_margin
    alone = [TIMS.compute(_book(a), _market()).initial_margin[0] for a in accounts]
    np.testing.assert_allclose(whole, alone, rtol=0, atol=0.011)
