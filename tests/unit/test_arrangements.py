"""Arrangements: silo split, collateral stranded by silos, the conservative rule's caps."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from crossmargin.arrangements.compare import compare
from crossmargin.arrangements.conservative import ConservativeArrangement
from crossmargin.arrangements.silo import Silo, SiloArrangement, silo_of
from crossmargin.book.book import Account, Book, Collateral, Position
from crossmargin.book.parse import parse_instrument
from crossmargin.core.errors import InputError
from crossmargin.params.loader import load_params
from tests.conftest import AS_OF, make_market

EXPIRY = date(2018, 9, 21)
#: Every silo margined by the generic grid, so these tests need no other method.
GRID = {"securities": "grid", "futures": "grid", "crypto": "grid"}


def _inst(**rec: object):  # type: ignore[no-untyped-def]
    return parse_instrument(rec, path="test")


ES = _inst(type="future", symbol="ESU8", underlying="SPX", expiry="2018-09-21",
           multiplier=50)
SPY = _inst(type="equity", symbol="SPY")
PERP = _inst(type="perpetual", underlying="BTC", quote="USDT", settlement="linear")
CME_BTC = _inst(type="future", symbol="BTCU8", underlying="BTC", expiry="2018-09-28",
                multiplier=5)
UST = _inst(type="bond", symbol="UST-10Y", coupon=0.02875, maturity="2028-05-15")
INV_OPT = _inst(type="option", underlying="BTC", right="call", strike=8000,
                expiry="2018-09-28", settlement="inverse")


def _book(*accounts: Account) -> Book:
    return Book.from_accounts(accounts, as_of=AS_OF, currency="USD")


def test_silo_of_follows_product_and_venue() -> None:
    assert silo_of(SPY) is Silo.SECURITIES
    assert silo_of(ES) is Silo.FUTURES
    assert silo_of(CME_BTC) is Silo.FUTURES  # cash-settled CME bitcoin future
    assert silo_of(PERP) is Silo.CRYPTO
    assert silo_of(INV_OPT) is Silo.CRYPTO


def test_coin_collateral_is_stranded_outside_the_crypto_silo() -> None:
    """A CME bitcoin future backed only by BTC: the futures silo does not accept coins,
    so the silo arrangement shows the whole requirement short while the coins sit free."""
    acct = Account(id="A", positions=(Position(instrument=CME_BTC, quantity=2),),
                   collateral=(Collateral(asset="BTC", amount=10.0),))
    market = make_market()
    res = SiloArrangement.from_params(methods=GRID).compute(_book(acct), market)
    short = res.components["futures.shortfall"][0]
    assert short == pytest.approx(res.components["futures.initial_margin"][0]) and short > 0
    assert res.collateral_value[0] > 0  # the coins still count, just not where needed
    assert res.excess[0] == pytest.approx(res.collateral_value[0] - res.initial_margin[0])


def test_silo_requirement_is_the_sum_of_silos() -> None:
    acct = Account(id="A", positions=(Position(instrument=SPY, quantity=1000),
                                      Position(instrument=ES, quantity=-2),
                                      Position(instrument=PERP, quantity=-1.5),
                                      Position(instrument=UST, quantity=1e5)),
                   collateral=(Collateral(asset="USD", amount=1e6),))
    market = make_market()
    res = SiloArrangement.from_params(methods=GRID).compute(_book(acct), market)
    parts = sum(res.components[f"{s.value}.initial_margin"][0] for s in Silo)
    assert res.initial_margin[0] == pytest.approx(parts, abs=0.011)
    assert res.collateral_value[0] == pytest.approx(1e6)
    detail = res.detail(0)  # type: ignore[misc]
    assert set(detail["silos"]) == {"securities", "futures", "crypto"}
    # the Treasury note is routed to FINRA 4210(e)(2) within the securities silo
    assert set(detail["silos"]["securities"]["methods"]) == {"grid", "exempt"}
    assert not any("outside its scope" in n for n in res.notes)


def test_conservative_is_capped_between_floor_and_silo() -> None:
    """SPY against ES: the grid on the joint book saves most of the silo figure; the
    conservative rule keeps at least 20% of the silo requirement and never exceeds it."""
    acct = Account(id="H", positions=(Position(instrument=SPY, quantity=1000),
                                      Position(instrument=ES, quantity=-2)),
                   collateral=(Collateral(asset="USD", amount=1e6),))
    book, market = _book(acct), make_market()
    params = load_params("arrangements")
    params = replace(params, parameters={**params.parameters,
                                         "conservative": {"models": ["grid"],
                                                          "savings_cap": 0.8}})
    silo = SiloArrangement.from_params(params, methods=GRID).compute(book, market)
    cons = ConservativeArrangement.from_params(params).compute(book, market, silo=silo)
    assert cons.initial_margin[0] >= 0.2 * silo.initial_margin[0] - 0.01
    assert cons.initial_margin[0] <= silo.initial_margin[0]


def test_compare_json_shape() -> None:
    acct = Account(id="A", positions=(Position(instrument=SPY, quantity=100),),
                   collateral=(Collateral(asset="USD", amount=5e4),))
    params = load_params("arrangements")
    params = replace(params, parameters={**params.parameters,
                                         "conservative": {"models": ["grid"],
                                                          "savings_cap": 0.8}})
    cmp = compare(_book(acct), make_market(), params=params, silo_methods=GRID,
                  unified_method="grid")
    doc = cmp.to_json()
    (row,) = doc["accounts"]
    names = [a["arrangement"] for a in row["arrangements"]]
    assert names == ["silo", "conservative", "unified"]
    for a in row["arrangements"]:
        assert set(a) >= {"arrangement", "initial_margin", "maintenance_margin",
                          "collateral_value", "excess", "capital_freed_vs_silo", "components"}
    assert row["arrangements"][0]["capital_freed_vs_silo"] == 0.0
    frame = cmp.to_frame()
    assert np.isfinite(frame.to_numpy()).all()


def test_unknown_names_are_refused() -> None:
    with pytest.raises(InputError, match="silo"):
        SiloArrangement.from_params(methods={"bonds": "grid"})
    with pytest.raises(InputError, match="method"):
        SiloArrangement.from_params(methods={"crypto": "nope"})
    with pytest.raises(InputError, match="arrangement"):
        compare(_book(), make_market(), arrangements=("silo", "best"))


def test_silo_states_strategy_requirements_net_of_short_proceeds() -> None:
    """A short sale margined by the strategy method: the silo nets the sale proceeds out
    of the requirement, so the strategy method's note (requirements gross of proceeds)
    gives way to the silo's own."""
    from crossmargin.arrangements.silo import NET_OF_PROCEEDS
    from crossmargin.methods.strategy.method import CONVENTION

    acct = Account(id="A", positions=(Position(instrument=SPY, quantity=-100),),
                   collateral=(Collateral(asset="USD", amount=1e5),))
    market = make_market()
    res = SiloArrangement.from_params(methods={"securities": "strategy"}).compute(
        _book(acct), market)
    assert NET_OF_PROCEEDS in res.notes and CONVENTION not in res.notes
    value = 100 * market.prices["SPY"]
    assert res.initial_margin[0] == pytest.approx(0.5 * value, abs=0.011)  # 150% - 100%
