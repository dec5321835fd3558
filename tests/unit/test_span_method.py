"""The span method: matching, scope, each SPAN charge, currencies and its explanations."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import (
    AssetClass,
    Equity,
    Future,
    FutureOption,
    Instrument,
    Option,
    Perpetual,
    Right,
    Settlement,
)
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.methods.registry import get_method
from crossmargin.methods.span.method import StandardPortfolioAnalysisOfRisk
from crossmargin.methods.span.publisher import ProductScan, RiskParameterPublisher
from tests.conftest import make_market

DATA = Path(__file__).parents[1] / "data" / "span"
EXPIRY = date(2018, 9, 28)
BTC_FUT = Future(symbol="BTCU8", underlying="BTC", expiry=EXPIRY, multiplier=5.0,
                 asset_class=AssetClass.CRYPTO)


def _option(right: Right, strike: float) -> Option:
    return Option(underlying="BTC", right=right, strike=strike, expiry=EXPIRY, multiplier=1.0,
                  settlement=Settlement.CASH, asset_class=AssetClass.CRYPTO)


CALL, PUT = _option(Right.CALL, 7000.0), _option(Right.PUT, 6000.0)
SCAN = ProductScan(price_scan=0.15, vol_scan=0.10, som_fraction=0.075)


def _span() -> StandardPortfolioAnalysisOfRisk:
    risk = RiskParameterPublisher.from_params().publish(
        [BTC_FUT, CALL, PUT], market=make_market(), scans={"BTC": SCAN})
    return StandardPortfolioAnalysisOfRisk.from_params(risk_parameters=risk)


def _book(*accounts: tuple[tuple[Instrument, float], ...], as_of: date | None = None) -> Book:
    return Book.from_accounts(
        [Account(id=f"A{k}", positions=tuple(Position(instrument=i, quantity=q)
                                              for i, q in legs))
         for k, legs in enumerate(accounts)], as_of=as_of, currency="USD")


def _row(span: StandardPortfolioAnalysisOfRisk, inst: Instrument) -> int:
    c = span.risk_parameters.contracts
    return int(np.flatnonzero((c.period == 20180928) & (
        (c.strike == getattr(inst, "strike", -1.0)) | np.isnan(c.strike)
        & (not hasattr(inst, "strike"))))[0])


def test_registry_builds_the_method_from_a_file() -> None:
    method = get_method("span", span_file=DATA / "cme_intra.spn")
    assert isinstance(method, StandardPortfolioAnalysisOfRisk)
    assert method.params.parameters["risk_parameter_file"] == "cme_intra.spn"
    assert len(str(method.params.parameters["risk_parameter_sha256"])) == 64
    assert "cme_intra.spn (CME, 2026-01-15" in method.params.source
    with pytest.raises(InputError, match=r"span_file: the span method needs .*--span-file"):
        get_method("span")


def test_short_option_minimum_counts_a_straddle_once() -> None:
    """CME SPAN: the short option minimum charges the larger of short calls and short
    puts; the requirement is max(scan risk, minimum) less the net option value."""
    span = _span()
    c = span.risk_parameters.contracts
    call, put = _row(span, CALL), _row(span, PUT)
    rate = span.risk_parameters.combined[0].som_tiers[0].rates[0][1]
    result = span.compute(_book(((CALL, -2.0), (PUT, -2.0))), make_market())
    scan = max(0.0, float(np.max(-2.0 * c.arrays[call] - 2.0 * c.arrays[put])))
    nov = -2.0 * (c.price[call] + c.price[put])
    assert result.components["short_option_minimum"][0] == pytest.approx(2 * rate)
    assert result.components["net_option_value"][0] == pytest.approx(nov)
    assert result.maintenance_margin[0] == pytest.approx(max(scan, 2 * rate) - nov, abs=0.01)
    # offsetting positions in one contract are netted before the minimum
    netted = span.compute(_book(((CALL, -2.0), (CALL, 2.0))), make_market())
    assert netted.maintenance_margin[0] == 0.0
    assert netted.components["short_option_minimum"][0] == 0.0


def test_long_options_are_covered_by_their_value_and_initial_scales_risk() -> None:
    span = _span()
    c = span.risk_parameters.contracts
    call = _row(span, CALL)
    result = span.compute(_book(((CALL, 3.0),)), make_market())
    risk = max(0.0, float(np.max(3.0 * c.arrays[call])))
    nov = 3.0 * c.price[call]
    assert result.maintenance_margin[0] == pytest.approx(max(risk - nov, 0.0), abs=0.01)
    assert result.initial_margin[0] == pytest.approx(max(1.1 * risk - nov, 0.0), abs=0.01)
    future = span.compute(_book(((BTC_FUT, 1.0),)), make_market())
    assert future.initial_margin[0] == pytest.approx(1.1 * future.maintenance_margin[0],
                                                     abs=0.011)


def test_scope_notes_and_matching_errors() -> None:
    span = _span()
    outside = _book(((BTC_FUT, 1.0), (Equity(symbol="AAPL"), 10.0),
                     (Perpetual(underlying="BTC", currency="USDT"), 1.0)),
                    ((Equity(symbol="AAPL"), 5.0),))
    result = span.compute(outside, make_market())
    assert result.maintenance_margin[1] == 0.0 and result.maintenance_margin[0] > 0
    assert any("2 position" in n or "3 position" in n for n in result.notes)
    eth_call = Option(underlying="ETH", right=Right.CALL, strike=500.0, expiry=EXPIRY,
                      multiplier=1.0, settlement=Settlement.CASH)
    assert span.compute(_book(((eth_call, 1.0),)), make_market()).maintenance_margin[0] == 0
    for inst, message in (
        (Future(symbol="ETHU8", underlying="ETH", expiry=EXPIRY, multiplier=1.0),
         "instrument='ETHU8': no product ETH"),
        (Future(symbol="BTCZ8", underlying="BTC", expiry=date(2018, 12, 28), multiplier=5.0),
         "instrument='BTCZ8': no contract of product BTC for this expiry (2018-12-28)"),
        (Future(symbol="MBT", underlying="BTC", expiry=EXPIRY, multiplier=0.1),
         "contract value factor 5 differs from the multiplier 0.1"),
        (_option(Right.CALL, 6500.0), "no contract of product BTC for this expiry and strike"),
    ):
        with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
            span.compute(_book(((inst, 1.0),)), make_market())


def test_delivery_month_charge_and_no_inter_credit() -> None:
    """A corn leg in its delivery month forms no inter-commodity spread and pays the
    file's outright delivery charge ($100 per delta): 2 x 1,750 + 2,500 + 2 x 100."""
    span = StandardPortfolioAnalysisOfRisk.from_params(span_file=DATA / "cme_inter.spn")
    march = Future(symbol="CH6", underlying="C", expiry=date(2026, 3, 13), multiplier=5000.0,
                   asset_class=AssetClass.COMMODITY)
    july = Future(symbol="CN6", underlying="C", expiry=date(2026, 7, 14), multiplier=5000.0,
                  asset_class=AssetClass.COMMODITY)
    soy = Future(symbol="SN6", underlying="S", expiry=date(2026, 7, 14), multiplier=5000.0,
                 asset_class=AssetClass.COMMODITY)
    result = span.compute(_book(((march, 2.0), (soy, -1.0)), ((july, 2.0), (march, -2.0))),
                          span.snapshot())
    assert result.components["inter_spread_credit"][0] == 0.0
    assert result.components["delivery_charge"][0] == 200.0
    assert result.maintenance_margin[0] == 6200.0
    # a calendar spread of the delivery month is charged outright here (no intra tiers)
    assert result.maintenance_margin[1] == 200.0


def test_period_legs_and_unsupported_methods(tmp_path: Path) -> None:
    """NSE-style files give intra-commodity spreads between periods (pLeg)."""
    arrays = "".join(f"<a>{v}</a>" for v in (0, 0, -1, -1, 1, 1, -2, -2, 2, 2, -3, -3, 3, 3,
                                             -2.1, 2.1))
    futs = "".join(f"<fut><cId>{k}</cId><pe>{pe}</pe><ra>{arrays}</ra></fut>"
                   for k, pe in enumerate(("20260630", "20260728"), start=1))
    def body(method: str) -> str:
        return (
            "<spanFile><pointInTime><date>20260601</date><clearingOrg><ccDef><cc>N</cc>"
            "<pfLink><pfCode>N</pfCode><pfType>FUT</pfType></pfLink><dSpread><spread>1</spread>"
            f"<chargeMeth>{method}</chargeMeth><rate><val>0.4</val></rate>"
            "<pLeg><pe>20260630</pe><rs>A</rs><i>1</i></pLeg>"
            "<pLeg><pe>20260728</pe><rs>B</rs><i>1</i></pLeg></dSpread></ccDef>"
            f"<exchange><futPf><pfCode>N</pfCode>{futs}</futPf></exchange>"
            "</clearingOrg></pointInTime></spanFile>")
    path = tmp_path / "nse.spn"
    path.write_text(body("F"))
    span = StandardPortfolioAnalysisOfRisk.from_params(span_file=path)
    june, july = (Future(symbol=f"N{m}", underlying="N", expiry=date(2026, m, 30 if m == 6
                                                                       else 28))
                  for m in (6, 7))
    result = span.compute(_book(((june, 10.0), (july, -10.0))), span.snapshot())
    assert result.components["intra_spread_charge"][0] == pytest.approx(4.0)
    assert result.maintenance_margin[0] == 4.0
    path.write_text(body("PMPS"))
    span = StandardPortfolioAnalysisOfRisk.from_params(span_file=path)
    with pytest.raises(InputError, match=None) as err:
        span.compute(_book(((june, 1.0),)), span.snapshot())
    # raised by the algorithm, located in the file
    assert str(err.value).startswith(f"{path}: ccDef"), str(err.value)
    assert "chargeMeth='PMPS': unsupported intra-commodity" in str(err.value)
    path.write_text(body("F").replace("<val>0.4</val>", "<val>1e308</val>"))
    span = StandardPortfolioAnalysisOfRisk.from_params(span_file=path)
    with pytest.raises(InputError, match=None) as err:  # 10 spreads x 1e308 overflow
        span.compute(_book(((june, 10.0), (july, -10.0))), span.snapshot())
    assert str(err.value) == (f"{path}: ccDef[cc=N]='A0': the file's values overflow: a "
                              "charge is not a finite number"), str(err.value)


def test_currencies_convert_at_the_market_rate(tmp_path: Path) -> None:
    span = StandardPortfolioAnalysisOfRisk.from_params(span_file=DATA / "cme_intra.spn")
    text = (DATA / "cme_intra.spn").read_text().replace("<currency>USD</currency>",
                                                        "<currency>EUR</currency>")
    (tmp_path / "eur.spn").write_text(text)
    euro = StandardPortfolioAnalysisOfRisk.from_params(span_file=tmp_path / "eur.spn")
    x4 = Future(symbol="X4", underlying="X", expiry=date(2026, 4, 20), multiplier=50.0)
    book = _book(((x4, 1.0),))
    usd = span.compute(book, span.snapshot()).maintenance_margin[0]
    eur = euro.compute(book, make_market(as_of=date(2026, 1, 15))).maintenance_margin[0]
    assert usd == 750.0 and eur == pytest.approx(750.0 * 1.17)
    with pytest.raises(MissingDataError, match="no fx for EUR"):
        euro.compute(book, euro.snapshot())


def test_snapshot_detail_and_description() -> None:
    span = StandardPortfolioAnalysisOfRisk.from_params(span_file=DATA / "cme_intra.spn")
    snap = span.snapshot()
    assert snap.as_of == date(2026, 1, 15) and "cme_intra.spn" in snap.notes["span"]
    x2 = Future(symbol="X2", underlying="X", expiry=date(2026, 2, 20), multiplier=50.0)
    result = span.compute(_book(((x2, -2.0),), as_of=date(2026, 1, 14)), snap)
    assert result.accounts_json()[0]["detail"] == {"combined_commodities": {"X": {
        "scanning_risk": 1000.0, "scenario": 11, "intra_spread_charge": 0.0,
        "delivery_charge": 0.0, "inter_spread_credit": 0.0, "short_option_minimum": 0.0,
        "risk": 1000.0, "net_option_value": 0.0}}}
    assert result.describe is not None
    assert result.describe("X", 14) == ("X scenario 15: price up 2 x range, vol unchanged "
                                        "(35% covered)")
    assert any("file is of 2026-01-15, the book of 2026-01-14" in n for n in result.notes)
    undated = StandardPortfolioAnalysisOfRisk.from_params(
        span_file=DATA / "cme_intra.spn").risk_parameters
    assert undated.business_date is not None


def test_parameter_errors_are_located() -> None:
    from dataclasses import replace

    from crossmargin.params.loader import load_params

    params = load_params("span")
    bad = replace(params, parameters={**params.parameters, "initial_to_maintenance": 0.5})
    with pytest.raises(InputError, match=r"2026.11-1.yaml: initial_to_maintenance=0.5"):
        StandardPortfolioAnalysisOfRisk.from_params(bad, span_file=DATA / "cme_intra.spn")
    bad = replace(params, parameters={**params.parameters, "scenario_weights": [1] * 15})
    with pytest.raises(InputError, match="scenario_weights: must be 16 non-negative"):
        StandardPortfolioAnalysisOfRisk.from_params(bad, span_file=DATA / "cme_intra.spn")


def test_option_on_future_matches_its_portfolio() -> None:
    span = StandardPortfolioAnalysisOfRisk.from_params(span_file=DATA / "mcmillan_sp.spn")
    fut = Future(symbol="SPZ2", underlying="SP", expiry=date(1992, 12, 17), multiplier=500.0)
    on_physical = Option(underlying="SP", right=Right.CALL, strike=410.0,
                         expiry=date(1992, 12, 17), multiplier=500.0)
    # an option on the physical is not the option on the future the file lists
    with pytest.raises(InputError, match=r"SP 1992-12-17 410 C'?: no contract of product SP"):
        span.compute(_book(((on_physical, 1.0),)), span.snapshot())
    on_future = FutureOption(future=fut, right=Right.PUT, strike=410.0,
                             expiry=date(1992, 12, 17), multiplier=500.0)
    with pytest.raises(InputError, match="for this expiry and strike"):
        span.compute(_book(((on_future, 1.0),)), span.snapshot())
