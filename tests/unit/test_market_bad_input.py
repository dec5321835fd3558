"""Bad market input fails at load with one line naming the file, the field and the value."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.core.errors import InputError
from crossmargin.market.io import load_market, read_market
from crossmargin.market.snapshot import Curve, MarketSnapshot, VolSurface
from crossmargin.methods.crypto_standard.conversion import forward_price

EXAMPLES = Path(__file__).parents[2] / "examples"
SMILE = {"expiries": [0.1, 0.25, 0.5], "moneyness": [-0.3, 0.0, 0.3],
         "vols": [[0.8, 0.7, 0.78], [0.78, 0.68, 0.74], [0.76, 0.67, 0.72]]}


def _load(tmp_path: Path, body: str) -> str:
    """Write ``body`` after a valid header and return the load error's message."""
    path = tmp_path / "m.yaml"
    prices = "" if body.startswith("prices") else "prices: {BTC: 6385.0}\n"
    path.write_text(f"as_of: 2018-06-29\n{prices}{body}\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning on the way to the error
        with pytest.raises(InputError) as info:
            load_market(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message


def _smile(**changes: object) -> str:
    return f"vols: {{BTC: {dict(SMILE, **changes)}}}".replace("None", "null")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_smile(expiries=[0.5, 0.25, 0.1]),
         "vols.BTC.expiries=[0.5, 0.25, 0.1]: must be strictly increasing"),
        (_smile(expiries=[0.25, 0.25, 0.5]),
         "vols.BTC.expiries=[0.25, 0.25, 0.5]: must be strictly increasing"),
        (_smile(moneyness=[0, 0, 0]), "vols.BTC.moneyness=[0.0, 0.0, 0.0]: must be strictly"),
        (_smile(expiries=[0, 0.25, 0.5]), "vols.BTC.expiries[0]=0: must be positive"),
        (_smile(moneyness=[-0.3, ".nan", 0.3]), "vols.BTC.moneyness[1]='.nan': must be a"),
        (_smile(vols=[[0.8, 0.7, 0.78], [0.78, 0.68, 0.74]]),
         "vols.BTC.vols: vols must be a grid of 3 expiries x 3 moneyness points"),
        (_smile(vols=[[0.8, 0.7, 0.78], [0.78, -0.1, 0.74], [0.76, 0.67, 0.72]]),
         "vols.BTC.vols[1][1]=-0.1: must be positive"),
        (_smile(vols=[[0.8, 0.7, 0.78], [0.78, 11, 0.74], [0.76, 0.67, 0.72]]),
         "vols.BTC.vols[1][1]=11: outside the plausible range [0, 10]"),
        (_smile(expiries=0.25), "vols.BTC.expiries=0.25: must be a list"),
        (_smile(expiries=None), "vols.BTC.expiries=None: must be a list"),
        (_smile(moneyness=True), "vols.BTC.moneyness=True: must be a list"),
        (_smile(vols=0.7), "vols.BTC.vols=0.7: must be a list"),
        (_smile(vols=[[0.8, 0.7, 0.78], 0.7, [0.76, 0.67, 0.72]]),
         "vols.BTC.vols[1]=0.7: must be a list"),
        (_smile(vols=[[0.8, 0.7], [0.8, 0.7, 0.6], [0.8, 0.7, 0.6]]),
         "vols.BTC.vols[0]=[0.8, 0.7]: needs one vol per moneyness point (3)"),
        ("vols: {BTC: {expiries: [0.1], moneyness: [0]}}",
         "vols.BTC.vols: a smile has exactly the keys"),
        (_smile(smile=1), "vols.BTC.smile: a smile has exactly the keys"),
        ("vols: {BTC: 11}", "vols.BTC=11: outside the plausible range [0, 10]"),
    ],
)
def test_bad_smile_is_rejected(tmp_path: Path, body: str, expected: str) -> None:
    assert expected in _load(tmp_path, body)


@pytest.mark.parametrize("section", ["dividends", "funding", "rates", "fx", "prices", "vols",
                                     "curves"])
@pytest.mark.parametrize("value", ["[]", "false", "0", "[{BTC: 0.1}]", "text"])
def test_present_section_must_be_a_mapping(tmp_path: Path, section: str, value: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(f"as_of: 2018-06-29\n{section}: {value}\n")
    with pytest.raises(InputError, match=rf"m\.yaml: {section}=.*: must be a mapping"):
        load_market(path)


def test_absent_or_null_section_is_empty() -> None:
    snap = read_market({"as_of": "2018-06-29", "prices": {"BTC": 6385.0}, "funding": None})
    assert dict(snap.funding) == {} and dict(snap.dividends) == {}


def test_unknown_sections_of_mixed_key_types_are_reported() -> None:
    with pytest.raises(InputError, match=r"m: 1=2: unknown market section"):
        read_market({"as_of": "2018-06-29", 1: 2, "zz": 3, None: 4}, source="m")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("rates: {USD: 1.0e+300}", "rates.USD=1e+300: outside the plausible range [-10, 10]"),
        ("rates: {USD: -11}", "rates.USD=-11: outside the plausible range"),
        ("dividends: {BTC: 1.0e+300}", "dividends.BTC=1e+300: outside the plausible range"),
        ("funding: {BTC: 25}", "funding.BTC=25: outside the plausible range"),
        ("curves: {UST: {1Y: 0.02, 2Y: 1.0e+300}}", "curves.UST.2Y=1e+300: outside"),
        ("prices: {SPY: 1.0e-300}", "prices.SPY=1e-300: outside the plausible range"),
        ("prices: {SPY: 1.0e+300}", "prices.SPY=1e+300: outside the plausible range"),
        ("fx: {EUR: 0}", "fx.EUR=0: must be positive"),
        ("fx: {EUR: .inf}", "fx.EUR=inf: must be a finite number"),
        ("fx: {EUR: 1.0e-20}", "fx.EUR=1e-20: outside the plausible range"),
    ],
)
def test_implausible_values_are_rejected(tmp_path: Path, body: str, expected: str) -> None:
    assert expected in _load(tmp_path, body)


@pytest.mark.parametrize("name", ["m.txt", "m.csv", "m"])
def test_market_file_extension_must_be_yaml_or_json(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text((EXAMPLES / "market.yaml").read_text())
    with pytest.raises(InputError, match=r"unknown market file format \(use \.yaml, \.yml"):
        load_market(path)


def test_json_and_yml_market_files_load(tmp_path: Path) -> None:
    (tmp_path / "m.yml").write_text((EXAMPLES / "market.yaml").read_text())
    (tmp_path / "m.json").write_text('{"as_of": "2018-06-29", "prices": {"BTC": 6385.0}}')
    assert load_market(tmp_path / "m.yml").price("BTC") == load_market(
        tmp_path / "m.json").price("BTC")


@pytest.mark.parametrize(
    ("expiries", "moneyness", "vols", "field"),
    [
        ([0.5, 0.25], [0.0], [[0.2], [0.2]], "expiries"),
        ([0.25, 0.25], [0.0], [[0.2], [0.2]], "expiries"),
        ([-1.0], [0.0], [[0.2]], "expiries"),
        ([1.0], [0.1, 0.1], [[0.2, 0.2]], "moneyness"),
        ([1.0], [np.nan], [[0.2]], "moneyness"),
        ([], [], [], "expiries"),
        ([1.0], [0.0], [[0.2, 0.3]], "vols"),
        ([1.0], [0.0], [[np.inf]], "vols"),
        ([1.0], [0.0], [[0.0]], "vols"),
    ],
)
def test_vol_surface_validates_every_route(expiries: list[float], moneyness: list[float],
                                           vols: list[list[float]], field: str) -> None:
    with pytest.raises(InputError) as info:
        VolSurface(expiries=np.array(expiries), moneyness=np.array(moneyness),
                   vols=np.array(vols))
    assert info.value.field == field


def test_curve_reports_its_name(tmp_path: Path) -> None:
    assert "curves.UST={'1Y': 0.02}: a curve maps at least two" in _load(
        tmp_path, "curves: {UST: {1Y: 0.02}}")
    assert "curves.UST.tenors=[1.0, 1.0]: must be strictly increasing" in _load(
        tmp_path, "curves: {UST: {1Y: 0.02, 12M: 0.03}}")
    with pytest.raises(InputError, match="tenors"):
        Curve(tenors=np.array([2.0, 1.0]), yields=np.array([0.02, 0.03]))


def test_forward_price_overflow_is_an_input_error() -> None:
    market = MarketSnapshot(as_of=date(2018, 6, 29), prices={"BTC": 6385.0},
                            rates={"USD": 1e300}, source="m.yaml")
    with pytest.raises(InputError, match=r"m\.yaml: BTC-28SEP18=.*forward price overflows"):
        forward_price(market, symbol="BTC", currency="USD", expiry=date(2018, 9, 28),
                      what="BTC-28SEP18")
