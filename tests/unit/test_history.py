"""Tests of the bundled daily history and its loader."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crossmargin.market.history import (
    CURVE_TENORS,
    KINDS,
    load_history,
    series_ids,
    series_info,
)

FIRST = pd.Timestamp("1990-01-01")
LAST = pd.Timestamp("2022-12-31")


@pytest.fixture(scope="module")
def hist() -> pd.DataFrame:
    return load_history()


@pytest.fixture(scope="module")
def info() -> pd.DataFrame:
    return series_info()


def test_calendar_is_every_day(hist: pd.DataFrame) -> None:
    assert isinstance(hist.index, pd.DatetimeIndex)
    assert hist.index.name == "date"
    expected = pd.date_range(FIRST, LAST, freq="D")
    assert len(hist) == len(expected) == 12053
    assert (hist.index == expected).all()
    assert hist.index.is_monotonic_increasing and hist.index.is_unique


def test_columns_are_sorted_float64(hist: pd.DataFrame) -> None:
    assert list(hist.columns) == sorted(hist.columns)
    assert all(dtype == np.float64 for dtype in hist.dtypes)
    assert hist.notna().any().all(), "every series has at least one observation"


def test_no_forward_fill_on_weekends(hist: pd.DataFrame) -> None:
    saturday = hist.index.day_of_week == 5
    sunday = hist.index.day_of_week == 6
    exchange = [*series_ids("equity_index"), *series_ids("equity"), *series_ids("etf")]
    exchange += [*series_ids("rate"), "VIX", "WTI", "GOLD"]
    for sid in exchange:
        col = hist[sid]
        assert col[saturday | sunday].isna().all(), f"{sid} has weekend values"
    # SPX in particular: empty on every Saturday, present on most weekdays.
    assert hist.loc[saturday, "SPX"].isna().all()
    assert hist["SPX"].notna().sum() > 8000


def test_crypto_trades_every_day(hist: pd.DataFrame) -> None:
    btc = hist.loc["2017-10-01":"2019-09-30", "BTC"]
    assert btc.notna().all()
    saturdays = btc[btc.index.day_of_week == 5]
    assert len(saturdays) > 100 and saturdays.notna().all()
    for coin in ("ETH", "LTC", "XRP", "EOS"):
        assert hist.loc["2017-10-01":"2019-09-30", coin].notna().all()
    # No source covers BTC in Q4 2019: the gap stays empty (no filling).
    assert hist.loc["2019-10-01":"2019-12-31", "BTC"].isna().all()
    # The four empty rows of the 2020- daily source stay empty.
    for day in ("2020-04-17", "2020-10-09", "2020-10-12", "2020-10-13"):
        assert math.isnan(hist.at[pd.Timestamp(day), "BTC"])
    assert hist.loc["2020-01-01":"2021-12-28", "BTC"].notna().sum() > 700


def test_no_consecutive_repeats_where_the_source_filled(hist: pd.DataFrame) -> None:
    gold = hist["GOLD"].dropna()
    assert (gold.diff().iloc[1:] != 0).all()
    assert math.isnan(hist.at[pd.Timestamp("2018-12-25"), "GOLD"])


def test_values_positive(hist: pd.DataFrame, info: pd.DataFrame) -> None:
    for sid, kind in info["kind"].items():
        col = hist[sid].dropna()
        if kind == "rate":
            assert (col >= 0).all() and (col < 0.2).all(), sid
        else:
            assert (col > 0).all(), sid
        assert np.isfinite(col).all(), sid


def test_spot_values(hist: pd.DataFrame) -> None:
    assert hist.at[pd.Timestamp("2018-06-29"), "SPX"] == pytest.approx(2718.37)
    assert hist.at[pd.Timestamp("1990-01-02"), "SPX"] == pytest.approx(359.69)
    assert 6000 <= hist.at[pd.Timestamp("2018-06-30"), "BTC"] <= 6500
    assert hist.at[pd.Timestamp("2017-03-29"), "UST_10Y"] == pytest.approx(0.0239)
    assert hist.at[pd.Timestamp("2018-06-29"), "VIX"] == pytest.approx(16.09)
    assert hist.at[pd.Timestamp("2018-06-29"), "IV_SPX"] == pytest.approx(0.1609)


def test_series_csv_matches_columns(hist: pd.DataFrame, info: pd.DataFrame) -> None:
    assert list(info.index) == list(hist.columns)
    assert info.index.name == "id"
    assert set(info["kind"]) <= set(KINDS)
    for sid, row in info.iterrows():
        col = hist[sid].dropna()
        assert col.index[0] == row["first_date"], sid
        assert col.index[-1] == row["last_date"], sid
        assert row["source_package"] and row["source_file"] and row["licence"], sid
        assert row["transformation"], sid
        assert "/" not in str(row["source_file"])[:1], "no absolute paths"


def test_derived_flags(info: pd.DataFrame) -> None:
    derived = info.index[info["derived"]]
    assert all(sid.startswith("IV_") for sid in derived)
    assert all(info.at[sid, "derived"] for sid in info.index if sid.startswith("IV_"))
    expected = {"IV_SPX", "IV_COMP", "IV_BTC", "IV_ETH", "IV_WTI", "IV_GOLD"}
    expected |= {f"IV_{s}" for s in info.index[info["kind"] == "equity"] if s in _SKFOLIO}
    assert set(derived) == expected
    for sid in derived:
        assert info.at[sid, "kind"] == "vol_index"
        assert "proxy" in info.at[sid, "transformation"]


_SKFOLIO = frozenset(
    {"AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO"}
    | {"LLY", "MRK", "MSFT", "PEP", "PFE", "PG", "RRC", "UNH", "WMT", "XOM"}
)


def test_series_ids_by_kind(info: pd.DataFrame) -> None:
    all_ids = series_ids()
    assert all_ids == list(info.index)
    by_kind = [sid for kind in KINDS for sid in series_ids(kind)]
    assert sorted(by_kind) == sorted(all_ids)
    assert set(_SKFOLIO) <= set(series_ids("equity"))
    assert {"SPY", "TLT", "IEF", "EEM"} <= set(series_ids("etf"))
    assert len(series_ids("etf")) == 23
    assert {"BTC", "ETH"} <= set(series_ids("crypto"))
    with pytest.raises(ValueError, match="unknown kind"):
        series_ids("bond")


def test_curve_tenors(hist: pd.DataFrame) -> None:
    ids = [sid for sid, _ in CURVE_TENORS]
    years = [t for _, t in CURVE_TENORS]
    assert sorted(ids) == series_ids("rate")
    assert years == sorted(years) and years[0] == pytest.approx(1 / 12)
    assert years[-1] == 30.0
    curve = hist.loc["2017-03-29", ids]
    assert curve.notna().all()


def test_cache_cannot_be_corrupted() -> None:
    first = load_history()
    first.iloc[:, :] = -1.0
    del first["SPX"]
    again = load_history()
    assert again.at[pd.Timestamp("2018-06-29"), "SPX"] == pytest.approx(2718.37)
    meta = series_info()
    meta.loc["SPX", "kind"] = "crypto"
    assert series_info().at["SPX", "kind"] == "equity_index"


def _ewma(prices: pd.Series, periods: float) -> pd.Series:
    """The documented recipe, re-implemented independently of the build script."""
    lam, burn, gap = 0.94, 60, 10
    out: dict[pd.Timestamp, float] = {}
    var: float | None = None
    sq: list[float] = []
    obs = prices.dropna()
    for (d0, p0), (d1, p1) in zip(obs.iloc[:-1].items(), obs.iloc[1:].items(), strict=True):
        if (d1 - d0).days > gap:
            var, sq = None, []
            continue
        r2 = math.log(p1 / p0) ** 2
        if var is None:
            sq.append(r2)
            if len(sq) == burn:
                var = sum(sq) / burn
        else:
            var = lam * var + (1 - lam) * r2
        if var is not None and var > 0:
            out[d1] = math.sqrt(var * periods)
    return pd.Series(out, dtype="float64")


@pytest.mark.parametrize(("sid", "periods"), [("AAPL", 252.0), ("GOLD", 252.0), ("BTC", 365.0)])
def test_iv_proxy_follows_documented_recipe(hist: pd.DataFrame, sid: str, periods: float) -> None:
    expected = _ewma(hist[sid], periods)
    got = hist[f"IV_{sid}"].dropna()
    assert list(got.index) == list(expected.index)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-5)


def test_iv_spx_uses_vix_where_available(hist: pd.DataFrame) -> None:
    vix = hist["VIX"].dropna()
    np.testing.assert_allclose(hist.loc[vix.index, "IV_SPX"], vix / 100.0, rtol=1e-12)
    outside = hist["SPX"].notna() & hist["VIX"].isna()
    ewma = _ewma(hist["SPX"], 252.0)
    sel = ewma.index[outside.loc[ewma.index].to_numpy()]
    np.testing.assert_allclose(hist.loc[sel, "IV_SPX"], ewma.loc[sel], rtol=1e-5)
    assert hist["IV_SPX"].notna().sum() == len(set(sel) | set(vix.index))
