"""Build a :class:`MarketSnapshot` for a date from the bundled real history.

Each series contributes its last observation on or before the date, if that is no
older than the staleness limit of its kind; anything older is left out (and a look-up
then fails naming the series and its coverage) unless the caller allows more days, in
which case the snapshot's notes say how stale it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from crossmargin.core.errors import InputError
from crossmargin.market.history import CURVE_TENORS, load_history, series_info
from crossmargin.market.snapshot import Curve, MarketSnapshot, VolSurface

__all__ = ["DEFAULT_STALE_DAYS", "snapshot_from_history"]

#: Calendar days an observation may be older than the as-of date, by kind of data:
#: four days spans a weekend plus a holiday for exchange-traded series.
DEFAULT_STALE_DAYS: Mapping[str, int] = {"price": 4, "vol": 4, "curve": 4}

#: Stablecoins are valued at their peg in the bundled data (an assumption, noted).
_PEGS = {"USDT": 1.0, "USDC": 1.0}
_PRICE_KINDS = {"equity_index", "equity", "etf", "commodity", "crypto", "vol_index"}


def _last_on_or_before(frame: pd.DataFrame, as_of: pd.Timestamp
                       ) -> tuple[dict[str, float], dict[str, pd.Timestamp | None]]:
    """Return each column's last value on or before ``as_of`` and the date it was seen."""
    upto = frame.loc[:as_of].to_numpy(dtype=np.float64)
    valid = ~np.isnan(upto)
    has = valid.any(axis=0) if upto.size else np.zeros(frame.shape[1], dtype=bool)
    last = upto.shape[0] - 1 - np.argmax(valid[::-1], axis=0) if upto.size else \
        np.zeros(frame.shape[1], dtype=np.int64)
    values: dict[str, float] = {}
    dates: dict[str, pd.Timestamp | None] = {}
    for j, column in enumerate(frame.columns):
        values[column] = float(upto[last[j], j]) if has[j] else float("nan")
        dates[column] = pd.Timestamp(frame.index[last[j]]) if has[j] else None
    return values, dates


def snapshot_from_history(
    as_of: date, *, max_stale_days: Mapping[str, int] | None = None
) -> MarketSnapshot:
    r"""Return the market on ``as_of`` from the bundled history.

    Parameters
    ----------
    as_of : date
        Valuation date.
    max_stale_days : mapping, optional
        Override of :data:`DEFAULT_STALE_DAYS` by kind (``price``, ``vol``, ``curve``).

    Notes
    -----
    Prices, implied-volatility proxies (``IV_<symbol>``, derived) and the Treasury par
    curve (``UST_*``) come from the history. The USD short rate is derived from the
    3-month par yield :math:`y` as the continuously compounded
    :math:`r = 4 \ln(1 + y/4)`. USDT and USDC are valued at their 1.0 peg, and no
    dividend yields are bundled (carry is the rate alone): both are noted on the
    snapshot.
    """
    limits = {**DEFAULT_STALE_DAYS, **(max_stale_days or {})}
    for kind, days in limits.items():
        if kind not in DEFAULT_STALE_DAYS or days < 0:
            raise InputError("unknown kind or negative days (kinds: price, vol, curve)",
                             field=f"max_stale_days.{kind}", value=days)
    history = load_history()
    info = series_info()
    stamp = pd.Timestamp(as_of)
    first, last = history.index[0].date(), history.index[-1].date()
    if not first <= as_of <= last:
        raise InputError(f"outside the bundled history ({first} to {last})", field="as_of",
                         value=as_of.isoformat())
    values, dates = _last_on_or_before(history, stamp)
    notes: dict[str, str] = {}
    hints: dict[str, str] = {}

    def fresh(column: str, kind: str) -> bool:
        when = dates[column]
        if when is None:
            return False
        age = (stamp - when).days
        if age > limits[kind]:
            return False
        if age > DEFAULT_STALE_DAYS[kind]:
            label = "UST curve" if column.startswith("UST_") else column
            notes[label] = (f"{label} from {when.date()} "
                            f"({age} days before {as_of}; allowed {limits[kind]} days)")
        return True

    def coverage(column: str) -> str:
        row = info.loc[column]
        return (f"bundled {column} covers {row['first_date'].date()} to "
                f"{row['last_date'].date()}")

    prices: dict[str, float] = {}
    vols: dict[str, VolSurface] = {}
    for column in history.columns:
        kind = str(info.loc[column, "kind"]) if column in info.index else ""
        if column.startswith("IV_"):
            symbol = column[3:]
            if fresh(column, "vol"):
                vols[symbol] = VolSurface.flat(float(values[column]))
            else:
                hints.setdefault(symbol, coverage(column))
        elif kind in _PRICE_KINDS:
            if fresh(column, "price"):
                prices[column] = float(values[column])
            else:
                hints[column] = coverage(column)
    curves: dict[str, Curve] = {}
    rates: dict[str, float] = {}
    tenor_cols = [(c, t) for c, t in CURVE_TENORS if c in history.columns]
    usable = [(c, t) for c, t in tenor_cols if fresh(c, "curve")]
    if len(usable) >= 2:
        curves["UST"] = Curve(tenors=np.array([t for _, t in usable]),
                              yields=np.array([float(values[c]) for c, _ in usable]))
        y3m = curves["UST"].par_yield(0.25)
        rates["USD"] = float(4.0 * np.log1p(y3m / 4.0))
        notes["USD rate"] = "USD rate derived from the 3-month Treasury par yield"
    else:
        hints["UST"] = coverage(tenor_cols[0][0]) if tenor_cols else "no curve bundled"
        hints["USD"] = "the USD rate is derived from the UST curve: " + hints["UST"]
    notes["pegs"] = "USDT and USDC valued at their 1.0 peg (assumption)"
    notes["dividends"] = "no dividend yields bundled: equity carry is the USD rate alone"
    return MarketSnapshot(
        as_of=as_of,
        prices=prices,
        vols=vols,
        rates=rates,
        curves=curves,
        fx=dict(_PEGS),
        source=f"bundled history on {as_of.isoformat()}",
        notes={k: v for k, v in notes.items() if k in ("pegs", "dividends") or
               "days before" in v},
        hints=hints,
    )
