"""Collateral valuation: haircuts, add-ons, liabilities, concentration, wrong-way risk."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Collateral, Position
from crossmargin.book.instruments import (
    Bond,
    Equity,
    Instrument,
    Option,
    Perpetual,
    Right,
    Settlement,
    Style,
    TreasuryFuture,
)
from crossmargin.book.io import load_portfolio
from crossmargin.collateral import collateral_market_value, load_schedule, value_collateral
from crossmargin.collateral.haircuts import CollateralValuation
from crossmargin.core.errors import InputError, MissingDataError
from tests.conftest import AS_OF, make_market

BASEL = load_schedule("collateral-basel")
CRYPTO = load_schedule("collateral-crypto")
MARKET = make_market(prices={"SPX": 2700.0, "SPY": 270.0, "AAPL": 185.0, "BTC": 6400.0,
                             "ETH": 450.0, "GOLD": 1250.0, "STETH": 440.0})
EXPIRY = date(2018, 9, 28)
BTC_PUT = Option(underlying="BTC", right=Right.PUT, strike=6000.0, expiry=EXPIRY,
                 multiplier=1.0, settlement=Settlement.INVERSE, style=Style.EUROPEAN)
AAPL_CALL = Option(underlying="AAPL", right=Right.CALL, strike=190.0, expiry=EXPIRY)
PERP = Perpetual(underlying="BTC", currency="USDT")


def _book(*accounts: tuple[tuple[tuple[Instrument, float], ...],
                           tuple[tuple[str, float], ...]]) -> Book:
    return Book.from_accounts(
        [Account(id=f"A{k}",
                 positions=tuple(Position(instrument=i, quantity=q) for i, q in pos),
                 collateral=tuple(Collateral(asset=a, amount=x) for a, x in coll))
         for k, (pos, coll) in enumerate(accounts)],
        as_of=AS_OF, currency="USD")


def _one(coll: tuple[tuple[str, float], ...],
         pos: tuple[tuple[Instrument, float], ...] = (), **kw: object) -> CollateralValuation:
    schedule = kw.pop("schedule", BASEL)
    return value_collateral(_book((pos, coll)), MARKET, schedule, **kw)  # type: ignore[arg-type]


def test_market_value_keeps_its_meaning() -> None:
    book = _book(((), (("USD", 1000.0), ("BTC", 2.0))), ((), (("USDT", 50.0),)))
    np.testing.assert_allclose(collateral_market_value(book, MARKET), [13_800.0, 50.0])


def test_cash_in_the_exposure_currency_counts_in_full_and_other_cash_takes_eight_percent(
) -> None:
    usd = _one((("USD", 1000.0), ("EUR", 1000.0)))
    assert usd.total_value[0] == pytest.approx(1000.0 + 1170.0 * 0.92)
    assert usd.currency_mismatch.tolist() == [True, False]  # holdings sorted: EUR, USD
    eur = _one((("USD", 1000.0), ("EUR", 1000.0)), exposure_currency="EUR")
    assert eur.total_value[0] == pytest.approx(920.0 + 1170.0)


def test_liabilities_count_in_full_even_when_ineligible() -> None:
    v = _one((("USD", -500.0), ("BTC", -1.0), ("AAPL", 100.0)))
    by_asset = dict(zip([v.assets[int(a)].name for a in v.asset], v.value, strict=True))
    assert by_asset["USD"] == -500.0 and by_asset["BTC"] == -6400.0
    assert by_asset["AAPL"] == pytest.approx(18_500.0 * 0.85)
    assert v.haircut[v.amount < 0].tolist() == [0.0, 0.0]
    assert v.detail(0)["holdings"][1]["reason"] == "a liability counts at its full value"


def test_ineligible_asset_counts_zero_with_its_reason() -> None:
    v = _one((("BTC", 1.0), ("USDT", 100.0)))
    assert v.total_value[0] == 0.0 and v.total_market_value[0] == 6500.0
    assert not v.eligible.any() and v.haircut.tolist() == [1.0, 1.0]
    reasons = [h["reason"] for h in v.detail(0)["holdings"]]
    assert reasons == ["coin BTC is not eligible under collateral-basel 2026.11-1",
                       "stablecoin USDT is not eligible under collateral-basel 2026.11-1"]


@pytest.mark.parametrize(("asset", "error", "text"), [
    ("XYZ", InputError, "unknown collateral asset"),
    ("SPX", InputError, "cannot be pledged"),
])
def test_unknown_assets_raise_never_zero(asset: str, error: type[Exception], text: str
                                         ) -> None:
    with pytest.raises(error, match=text) as err:
        _one(((asset, 1.0),))
    assert asset in str(err.value)


def test_missing_gold_price_raises_naming_it() -> None:
    book = _book(((), (("GOLD", 10.0),)))
    with pytest.raises(MissingDataError, match="GOLD"):
        value_collateral(book, make_market(), BASEL)
    assert _one((("GOLD", 10.0),)).total_value[0] == pytest.approx(12_500.0 * 0.85)


def test_lines_of_one_asset_are_netted_before_tiers() -> None:
    v = _one((("BTC", 3.0), ("USD", 10.0), ("BTC", -1.0)), schedule=CRYPTO)
    assert v.amount.tolist() == [2.0, 10.0]
    assert v.total_value[0] == pytest.approx(12_810.0)


def test_accounts_without_collateral_have_zero() -> None:
    v = value_collateral(_book(((), ()), ((), (("USD", 5.0),))), MARKET, BASEL)
    assert v.total_value.tolist() == [0.0, 5.0]
    assert v.offsets.tolist() == [0, 0, 1]


def test_total_rounds_down_to_the_cent() -> None:
    v = _one((("EUR", 1.0),))
    assert v.value[0] == pytest.approx(1.17 * 0.92)
    assert v.total_value[0] == 1.07


def test_treasury_pledged_with_its_terms_from_a_portfolio_file(tmp_path: Path) -> None:
    path = tmp_path / "book.yaml"
    path.write_text(
        "as_of: 2018-06-29\naccounts:\n  - id: A\n    collateral:\n"
        "      - {asset: T-2.875-2028, amount: 1000000, type: bond, coupon: 0.02875,"
        " maturity: 2028-05-15}\n      - {asset: T-1.5-2020, amount: 1000000, type: bond,"
        " coupon: 0.015, maturity: 2020-06-15}\n")
    book = load_portfolio(path)
    assert isinstance(book.collateral[0][0].instrument, Bond)
    v = value_collateral(book, MARKET, BASEL)
    assert [r.category for r in v.rules] == ["sovereign AAA-AA, 1-5y",
                                              "sovereign AAA-AA, over 5y"]
    np.testing.assert_allclose(v.haircut, [0.02, 0.04], rtol=1e-12)
    assert 0.9e6 < v.market_value[1] < 1.05e6
    np.testing.assert_allclose(collateral_market_value(book, MARKET), [v.market_value.sum()])


def test_collateral_terms_are_for_bonds_only(tmp_path: Path) -> None:
    path = tmp_path / "book.yaml"
    path.write_text("accounts:\n  - id: A\n    collateral:\n"
                    "      - {asset: AAPL, amount: 1, type: equity}\n")
    with pytest.raises(InputError, match="bonds only"):
        load_portfolio(path)


def test_concentration_excess_counts_at_zero() -> None:
    """AAPL 2,000,000 at 15% haircut = 1,700,000 with 1,000,000 cash: the 25% limit of
    2,700,000 is 675,000, below the exempt 1,000,000; the 700,000 above it counts zero."""
    v = _one((("AAPL", 2_000_000 / 185.0), ("USD", 1_000_000.0)))
    np.testing.assert_allclose(v.concentration_excess, [700_000.0, 0.0], rtol=1e-12)
    assert v.total_value[0] == pytest.approx(2_000_000.0)


@pytest.mark.parametrize(("positions", "amount", "flag"), [
    (((PERP, 10.0),), 1.0, True),        # long perp: falls with BTC
    (((PERP, -10.0),), 1.0, False),      # short perp: hedges the coin
    (((BTC_PUT, -10.0),), 1.0, True),    # short put loses when BTC falls
    (((BTC_PUT, 10.0),), 1.0, False),    # long put gains
    (((PERP, -10.0),), -1.0, True),      # borrowed BTC with a short: both lose on a rise
    ((), 1.0, False),                    # nothing secured
])
def test_wrong_way_by_the_sign_of_the_exposure(
        positions: tuple[tuple[Instrument, float], ...], amount: float, flag: bool) -> None:
    v = _one((("BTC", amount), ("USDT", 1000.0)), positions, schedule=CRYPTO)
    assert v.wrong_way.tolist() == [flag, False]
    assert (v.exposure_loss[0] > 0) == flag


def test_wrong_way_for_stocks_funds_and_treasuries() -> None:
    note = TreasuryFuture(symbol="TYU8", underlying="UST", expiry=date(2018, 9, 19))
    bond = Bond(symbol="T", coupon=0.02, maturity=date(2025, 6, 30))
    book = Book.from_accounts([
        Account(id="stock", positions=(Position(instrument=AAPL_CALL, quantity=5),),
                collateral=(Collateral(asset="AAPL", amount=100),)),
        Account(id="fund", positions=(Position(instrument=Equity(symbol="SPX"), quantity=1),),
                collateral=(Collateral(asset="SPY", amount=100),)),
        Account(id="note", positions=(Position(instrument=note, quantity=2),),
                collateral=(Collateral(asset="T", amount=1e5, instrument=bond),)),
        Account(id="hedged", positions=(Position(instrument=AAPL_CALL, quantity=-5),),
                collateral=(Collateral(asset="AAPL", amount=100),)),
    ], as_of=AS_OF, currency="USD")
    v = value_collateral(book, MARKET, BASEL)
    assert v.wrong_way.tolist() == [True, True, True, False]
    assert "AAPL -1%" in v.scenario_names and "UST yields +1 bp" in v.scenario_names


def test_wrong_way_add_on_penalises_and_exposures_can_be_narrowed() -> None:
    penal = dataclasses.replace(CRYPTO, wrong_way=dataclasses.replace(CRYPTO.wrong_way,
                                                                      add_on=0.1))
    book = _book((((PERP, 10.0), (BTC_PUT, 1.0)), (("BTC", 1.0),)))
    assert value_collateral(book, MARKET, penal).total_value[0] == pytest.approx(5760.0)
    only_put = book.select_positions(np.array([False, True]))
    v = value_collateral(book, MARKET, penal, exposures=only_put)
    assert not v.wrong_way[0] and v.total_value[0] == 6400.0
    other = _book(((), ()), ((), ()))
    with pytest.raises(InputError, match="same accounts"):
        value_collateral(book, MARKET, penal, exposures=other)


def test_staked_token_is_wrong_way_against_its_coin_through_the_proxy() -> None:
    eth_perp = Perpetual(underlying="ETH", currency="USDT")
    v = _one((("STETH", 10.0),), ((eth_perp, 5.0),), schedule=CRYPTO)
    assert v.wrong_way[0]
    assert v.total_value[0] == pytest.approx(4400.0 * 0.925)


def test_detail_is_json_ready_and_frame_has_one_row_per_holding() -> None:
    v = _one((("USD", 1000.0), ("AAPL", 10.0)), ((AAPL_CALL, 1.0),))
    text = json.dumps(v.detail(0))
    assert '"wrong_way": true' in text and '"schedule": {"id": "collateral-basel"' in text
    frame = v.to_frame()
    assert frame.shape[0] == 2 and list(frame["asset"]) == ["AAPL", "USD"]
