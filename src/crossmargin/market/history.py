"""Bundled daily market history: loader and metadata.

The package ships one wide table of real daily closes, ``data/history.csv.gz``, with one
row per calendar day from 1990-01-01 to 2022-12-31 and one column per series id, plus
``data/series.csv`` describing each series (kind, unit, source, licence, coverage and the
exact transformation applied). Cells without an observation are ``NaN``: nothing is
forward-filled. ``data/PROVENANCE.md`` documents sources and checks; the files are rebuilt
byte for byte by ``scripts/build_history.py``.

Series ids are the price symbols used by the engine (``SPX``, ``AAPL``, ``BTC``,
``UST_10Y``, ...). Columns whose id starts with ``IV_`` are derived implied-volatility
proxies (``derived`` is true in :func:`series_info`).
"""

from __future__ import annotations

import functools
import gzip
import io
from importlib.resources import files
from typing import Final

import pandas as pd

__all__ = [
    "CURVE_TENORS",
    "KINDS",
    "load_history",
    "series_ids",
    "series_info",
]

KINDS: Final[tuple[str, ...]] = (
    "equity_index",
    "equity",
    "etf",
    "vol_index",
    "commodity",
    "crypto",
    "rate",
)
"""Allowed values of the ``kind`` column of :func:`series_info`."""

CURVE_TENORS: Final[tuple[tuple[str, float], ...]] = (
    ("UST_1M", 1.0 / 12.0),
    ("UST_3M", 0.25),
    ("UST_6M", 0.5),
    ("UST_1Y", 1.0),
    ("UST_2Y", 2.0),
    ("UST_3Y", 3.0),
    ("UST_5Y", 5.0),
    ("UST_7Y", 7.0),
    ("UST_10Y", 10.0),
    ("UST_20Y", 20.0),
    ("UST_30Y", 30.0),
)
"""US Treasury par-yield (CMT) curve columns and their tenors in years, shortest first.

The values in those columns are decimal yields (``0.0239`` means 2.39%).
"""

_DATA = "data"
_HISTORY = "history.csv.gz"
_SERIES = "series.csv"
_DATE_FORMAT = "%Y-%m-%d"
_SERIES_COLUMNS: Final[tuple[str, ...]] = (
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


@functools.lru_cache(maxsize=1)
def _history() -> pd.DataFrame:
    resource = files("crossmargin.market").joinpath(_DATA).joinpath(_HISTORY)
    raw = gzip.decompress(resource.read_bytes())
    frame = pd.read_csv(
        io.BytesIO(raw),
        dtype={"date": str},
        keep_default_na=False,
        na_values=[""],
    )
    index = pd.DatetimeIndex(pd.to_datetime(frame.pop("date"), format=_DATE_FORMAT), name="date")
    frame.index = index
    frame = frame.astype("float64")
    frame.columns.name = None
    return frame


@functools.lru_cache(maxsize=1)
def _series() -> pd.DataFrame:
    resource = files("crossmargin.market").joinpath(_DATA).joinpath(_SERIES)
    text = resource.read_bytes().decode("utf-8")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    if tuple(frame.columns) != _SERIES_COLUMNS:
        msg = f"{_SERIES} has columns {list(frame.columns)}, expected {list(_SERIES_COLUMNS)}"
        raise ValueError(msg)
    flags = frame["derived"].map({"true": True, "false": False})
    if flags.isna().any():
        msg = f"{_SERIES}: 'derived' must be 'true' or 'false'"
        raise ValueError(msg)
    frame["derived"] = flags.astype(bool)
    for col in ("first_date", "last_date"):
        frame[col] = pd.to_datetime(frame[col], format=_DATE_FORMAT)
    return frame.set_index("id")


def load_history() -> pd.DataFrame:
    """Load the bundled daily history.

    Returns
    -------
    pandas.DataFrame
        One row per calendar day from 1990-01-01 to 2022-12-31 (a ``DatetimeIndex``
        named ``date``, weekends included), one ``float64`` column per series id, sorted
        by id. A cell is ``NaN`` where the series has no observation that day (weekend,
        holiday, outside its coverage); values are never forward-filled. Prices are in
        the units given by :func:`series_info`; ``rate`` columns are decimal yields.

    Notes
    -----
    The file is parsed once and cached; every call returns a fresh deep copy, so callers
    may modify the result freely without affecting later calls.

    Examples
    --------
    >>> from crossmargin.market.history import load_history
    >>> hist = load_history()
    >>> float(hist.loc["2018-06-29", "SPX"])
    2718.37
    """
    return _history().copy(deep=True)


def series_info() -> pd.DataFrame:
    """Describe every bundled series.

    Returns
    -------
    pandas.DataFrame
        Indexed by series id (the columns of :func:`load_history`, same order), with
        columns ``kind`` (one of :data:`KINDS`), ``unit``, ``currency`` (empty for
        dimensionless series), ``source_package``, ``source_file``, ``licence``,
        ``first_date`` and ``last_date`` (timestamps of the first and last observation),
        ``derived`` (bool) and ``transformation`` (what was done to the source data).
        A fresh copy is returned on every call.
    """
    return _series().copy(deep=True)


def series_ids(kind: str | None = None) -> list[str]:
    """List series ids, optionally of one kind.

    Parameters
    ----------
    kind : str or None, optional
        One of :data:`KINDS`; ``None`` (the default) lists every series.

    Returns
    -------
    list of str
        Series ids in column order (sorted).

    Raises
    ------
    ValueError
        If ``kind`` is not one of :data:`KINDS`.
    """
    info = _series()
    if kind is None:
        return [str(i) for i in info.index]
    if kind not in KINDS:
        msg = f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}"
        raise ValueError(msg)
    return [str(i) for i in info.index[info["kind"] == kind]]
