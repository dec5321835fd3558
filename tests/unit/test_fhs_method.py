"""The fhs method on the bundled history: scope, explanations, parameters, errors."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import (
    AssetClass,
    Bond,
    CryptoSpot,
    Equity,
    Future,
    Instrument,
    Option,
    Perpetual,
    Right,
    Settlement,
    TreasuryFuture,
)
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.market.build import snapshot_from_history
from crossmargin.methods.fhs.method import FilteredHistoricalSimulation
from crossmargin.methods.registry import get_method
from crossmargin.params.loader import load_params
from tests.conftest import AS_OF, make_market

EXP = date(2018, 9, 21)
FHS = FilteredHistoricalSimulation.from_params()
SPX_PUT = Option(underlying="SPX", right=Right.PUT, strike=2600.0, expiry=EXP,
                 settlement=Settlement.CASH)
ES = Future(symbol="ESU8", underlying="SPX", expiry=EXP, multiplier=50.0)


def _book(*accounts: tuple[tuple[Instrument, float], ...], as_of: date = AS_OF) -> Book:
    return Book.from_accounts(
        [Account(id=f"A{k}", positions=tuple(Position(instrument=i, quantity=q)
                                             for i, q in acct))
         for k, acct in enumerate(accounts)], as_of=as_of, currency="USD")


def test_registered_and_built_from_the_bundled_parameters() -> None:
    method = get_method("fhs")
    assert isinstance(method, FilteredHistoricalSimulation)
    assert method.params.id == "fhs" and method.confidence == 0.99
    assert method.mpor_days["crypto"] == 2 and method.lookback_days == 1250


def test_every_asset_class_in_one_portfolio_names_its_tail_dates() -> None:
    book = _book(((Equity(symbol="AAPL"), 100.0), (SPX_PUT, -2.0), (ES, 1.0),
                  (CryptoSpot(asset="BTC"), 1.0), (Perpetual(underlying="ETH", currency="USDT"),
                                                   -10.0)),
                 ())
    result = FHS.compute(book, make_market())
    components = result.to_frame().filter(like="component.").sum(axis=1)
    assert result.initial_margin[0] == pytest.approx(components.iloc[0], abs=0.011)
    assert result.initial_margin[0] > 0 and result.initial_margin[1] == 0
    row = result.accounts_json()[0]
    tail = row["detail"]["tail"]
    assert len(tail) == row["detail"]["scenarios"] // 100 + 1  # ceil(1% x 1,460)
    assert row["driver"]["scenario"] == f"portfolio: MPOR window ending {tail[0]['date']}" + (
        f" ({tail[0]['window']})" if "window" in tail[0] else "")
    assert [t["loss"] for t in tail] == sorted((t["loss"] for t in tail), reverse=True)
    es = float(np.mean([t["loss"] for t in tail]))
    assert result.components["expected_shortfall"][0] == pytest.approx(es, rel=1e-9)
    notes = " ".join(result.notes)
    assert "resample its own standardised 2-day moves" in notes
    assert "1250 reference days from 2013-07-16 to 2018-06-29" in notes


def test_treasuries_before_the_curve_history_ends() -> None:
    """The bundled curve ends on 2017-03-29: on that date a bond and its future hedge
    are margined together; a year later they have no history and raise."""
    as_of = date(2017, 3, 29)
    bond = Bond(symbol="T 2.25 02/27", coupon=0.0225, maturity=date(2027, 2, 15))
    tyf = TreasuryFuture(symbol="TYM7", underlying="UST", expiry=date(2017, 6, 21))
    book = _book(((bond, 1e6),), ((bond, 1e6), (tyf, -8.0)), as_of=as_of)
    result = FHS.compute(book, snapshot_from_history(as_of))
    assert result.initial_margin[1] < 0.5 * result.initial_margin[0]
    assert any("UST: on 64 scenario dates" in n for n in result.notes)
    with pytest.raises(MissingDataError, match=r"history\.UST: fewer than 2 tenors move"):
        FHS.compute(_book(((bond, 1e6),)), make_market())


def test_unknown_history_and_currency_raise() -> None:
    with pytest.raises(MissingDataError, match="no bundled history for ZZZ"):
        FHS.compute(_book(((Equity(symbol="ZZZ"), 1.0),)), make_market(prices={"ZZZ": 1.0}))
    with pytest.raises(MissingDataError, match=r"fx\.EUR"):
        FHS.compute(_book(((Equity(symbol="AAPL", currency="EUR"), 1.0),)), make_market())
    with pytest.raises(MissingDataError, match=r"history\.WTI: no 2-day move on 372 of 1460 "
                       r"scenario dates \(first 2019-01-09\); the bundled WTI covers "
                       r"1990-01-02 to 2019-01-03"):
        # the bundled WTI ends on 2019-01-03 and has no proxy
        FHS.compute(_book(((Option(underlying="WTI", right=Right.CALL, strike=80.0,
                                   expiry=date(2020, 9, 21), asset_class=AssetClass.COMMODITY),
                            1.0),), as_of=date(2020, 6, 30)),
                    make_market(as_of=date(2020, 6, 30)))


def test_value_at_risk_and_garch_variants() -> None:
    book = _book(((Equity(symbol="AAPL"), 100.0), (ES, -1.0)))
    market = make_market()
    es = FHS.compute(book, market)
    var = dataclasses.replace(FHS, measure=FHS.measure.VALUE_AT_RISK).compute(book, market)
    assert "value_at_risk" in var.components
    assert var.components["value_at_risk"][0] <= es.components["expected_shortfall"][0]
    params = load_params("fhs")
    raw = dict(params.parameters)
    raw["filter"] = {**raw["filter"], "model": "garch"}
    garch = FilteredHistoricalSimulation.from_params(
        dataclasses.replace(params, parameters=raw), history=FHS.history.frame)
    assert garch.compute(book, market).initial_margin[0] > 0


def test_parameter_errors_name_the_file(tmp_path: Path) -> None:
    text = (Path(load_params("fhs").path).read_text(encoding="utf-8")
            .replace("lambda: 0.97", "lambda: 1.5"))
    bad = tmp_path / "fhs.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"fhs\.yaml: filter\.lambda=1\.5: must be strictly"):
        FilteredHistoricalSimulation.from_params(load_params("fhs", path=bad))
    params = load_params("fhs")
    raw = {k: v for k, v in params.parameters.items() if k != "mpor_days"}
    method = FilteredHistoricalSimulation.from_params(
        dataclasses.replace(params, parameters={**raw, "mpor_days": {"equity": 2}}),
        history=FHS.history.frame)
    with pytest.raises(InputError, match=r"mpor_days\.crypto"):
        method.compute(_book(((CryptoSpot(asset="BTC"), 1.0),)), make_market())
    with pytest.raises(InputError, match=r"filter\.model='arima'"):
        FilteredHistoricalSimulation.from_params(dataclasses.replace(
            params, parameters={**raw, "filter": {"model": "arima"}}))


def test_cross_class_offsets_are_capped_at_their_share_of_the_gross() -> None:
    """500 SPY shares (equity class) against one short E-mini (equity-index class): the
    unified loss falls below 20% of the standalone sum, and the cap restores that 20%."""
    spy = Equity(symbol="SPY")
    alone = [FHS.compute(_book(((inst, q),)), make_market()).components["expected_shortfall"]
             [0] for inst, q in ((spy, 500.0), (ES, -1.0))]
    result = FHS.compute(_book(((spy, 500.0), (ES, -1.0))), make_market())
    risk = result.components["expected_shortfall"][0]
    cap = result.components["diversification_cap"][0]
    assert risk < 0.2 * sum(alone) and cap > 0
    assert risk + cap == pytest.approx(0.2 * sum(alone), rel=1e-9)


def test_empty_accounts_cost_nothing_and_name_no_driver() -> None:
    result = FHS.compute(_book((), ((ES, 1.0),), ()), make_market())
    assert result.initial_margin.tolist()[0::2] == [0.0, 0.0]
    rows = result.accounts_json()
    assert rows[0]["driver"] == {} and rows[0]["detail"]["tail"] == []
    assert rows[1]["driver"]["scenario"].startswith("portfolio: MPOR window ending")
    empty = FHS.compute(_book((), ()), make_market())
    assert empty.initial_margin.tolist() == [0.0, 0.0]
