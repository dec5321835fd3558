from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.market.build import snapshot_from_history
from crossmargin.market.io import load_market, parse_tenor
from crossmargin.market.snapshot import VolSurface

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_example_market_file_loads() -> None:
    snap = load_market(EXAMPLES / "market.yaml")
    assert snap.as_of == date(2018, 6, 29)
    assert snap.price("SPY") == pytest.approx(271.28)
    assert snap.curve("UST").par_yield(10) == pytest.approx(0.0285)
    assert snap.fx_rate("BTC", to="USD") == pytest.approx(6385.0)
    btc = snap.vol_surface("BTC")
    assert btc.vol(time=np.array(0.25), log_moneyness=np.array(0.0)) == pytest.approx(0.68)


def test_vol_surface_interpolates_bilinearly_and_flat_outside() -> None:
    s = VolSurface(expiries=np.array([0.5, 1.0]), moneyness=np.array([-0.1, 0.1]),
                   vols=np.array([[0.3, 0.2], [0.4, 0.3]]))
    assert s.vol(time=np.array(0.75), log_moneyness=np.array(0.0)) == pytest.approx(0.3)
    assert s.vol(time=np.array(5.0), log_moneyness=np.array(1.0)) == pytest.approx(0.3)
    assert s.vol(time=np.array(0.1), log_moneyness=np.array(-1.0)) == pytest.approx(0.3)


@pytest.mark.parametrize(("text", "years"), [("3M", 0.25), ("10Y", 10.0), ("2W", 14 / 365.25),
                                             (0.5, 0.5)])
def test_parse_tenor(text: object, years: float) -> None:
    assert parse_tenor(text, field="t") == pytest.approx(years)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("prices: {SPX: .nan}", "prices.SPX=nan: must be a finite number"),
        ("prices: {SPX: -5}", "prices.SPX=-5: must be positive"),
        ("prices: {SPX: 1}\nvols: {SPX: 0}", "vols.SPX=0: must be positive"),
        ("prices: {SPX: 1}\nbogus: 1", "bogus=1: unknown market section"),
        ("as_of: 2018-02-30\nprices: {}", "as_of='2018-02-30': not a date"),
    ],
)
def test_bad_market_file(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "m.yaml"
    body = line if line.startswith("as_of") else f"as_of: 2018-06-29\n{line}"
    path.write_text(body + "\n")
    with pytest.raises(InputError) as info:
        load_market(path)
    assert str(info.value).startswith(str(path))
    assert expected in str(info.value)


def test_missing_price_names_symbol_and_date(market) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MissingDataError, match="no price for TSLA on 2018-06-29"):
        market.price("TSLA")


def test_history_snapshot_on_a_trading_day() -> None:
    snap = snapshot_from_history(date(2016, 6, 30))
    assert snap.price("SPX") == pytest.approx(2098.94, rel=1e-4)
    assert snap.price("SPY") > 200
    assert "USD" in snap.rates and 0 < snap.rate("USD") < 0.01
    assert snap.curve("UST").tenors[0] == pytest.approx(1 / 12)
    assert snap.vol_surface("SPX").vols.item() > 0


def test_history_snapshot_weekend_uses_friday_within_limit() -> None:
    sat = snapshot_from_history(date(2018, 6, 30), max_stale_days={"curve": 500})
    fri = snapshot_from_history(date(2018, 6, 29), max_stale_days={"curve": 500})
    assert sat.price("SPX") == fri.price("SPX")
    assert sat.price("BTC") != fri.price("BTC")  # crypto trades on Saturday


def test_history_snapshot_refuses_stale_curve_by_default() -> None:
    snap = snapshot_from_history(date(2018, 6, 29))
    with pytest.raises(MissingDataError, match=r"curves.UST: no curve for UST on 2018-06-29 "
                                               r"\(bundled UST_\w+ covers"):
        snap.curve("UST")
    with pytest.raises(MissingDataError, match="no price for SPY"):
        snap.price("SPY")
    allowed = snapshot_from_history(date(2018, 6, 29), max_stale_days={"curve": 500})
    assert "UST curve" in allowed.notes and "457 days" in allowed.notes["UST curve"]


def test_history_snapshot_rejects_dates_outside_and_unknown_kinds() -> None:
    with pytest.raises(InputError, match="outside the bundled history"):
        snapshot_from_history(date(1980, 1, 1))
    with pytest.raises(InputError, match=r"max_stale_days\.prices"):
        snapshot_from_history(date(2018, 6, 29), max_stale_days={"prices": 3})
