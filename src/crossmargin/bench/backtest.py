r"""Benchmark of the backtest: a population of accounts rolled through the real history.

One run builds a seeded population of ``accounts`` accounts priced on the first day
(the population generator's books when it is installed, else the method benchmark's
desk profiles, :func:`crossmargin.bench.methods.bench_book`), then backtests one method
or arrangement over ``days`` business days of the bundled history: each day the market
known that day, the margin of every account at once and the realised P&L over the
margin period of risk by full revaluation.

Notes
-----
The report gives the seconds of the whole run and their split between building the
day's market, the realised P&L and the margin computations, the seconds per day and per
account-day, and the backtest's own statistics (so that a fast run is seen to be a
real one). After the bundled Treasury curve ends (2017-03-29) the run allows the curve
to be as stale as its last day needs, and says so. Timings are wall-clock; never assert
them in tests.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from importlib import import_module
from typing import Any

import pandas as pd

from crossmargin.analytics.backtest import BacktestParameters, run_backtest
from crossmargin.analytics.rolling import ReferenceCalendar
from crossmargin.bench.methods import CURVE_SERIES, bench_book
from crossmargin.core.errors import InputError
from crossmargin.market.build import DEFAULT_STALE_DAYS, snapshot_from_history
from crossmargin.market.history import series_info

__all__ = ["run_backtest_bench"]

#: The population generator's module, used when present.
POPULATIONS = "crossmargin.analytics.populations"
#: Default first days: the generator's books hold Treasuries, which the bundled curve
#: prices up to 2017-03-29; the fallback book holds coins, bundled from 2017-10.
POPULATION_START = date(2016, 1, 4)
FALLBACK_START = date(2018, 1, 2)

Generator = Callable[..., Any]


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(peak / 2**20 if sys.platform == "darwin" else peak / 2**10)


def _generator() -> Generator | None:
    """Return the population generator, or ``None`` where it is not installed."""
    try:
        generate: Generator | None = getattr(import_module(POPULATIONS),
                                             "generate_population", None)
    except ImportError:
        return None
    return generate


def run_backtest_bench(*, accounts: int = 10_000, days: int = 250, method: str | None = "fhs",
                       arrangement: str | None = None, start: date | None = None,
                       positions: int = 10, seed: int = 0, generator: bool = True
                       ) -> dict[str, Any]:
    """Time a backtest of a population; return a JSON-ready report.

    Parameters
    ----------
    accounts : int
        Accounts in the population.
    days : int
        Business days of the backtest, from ``start``.
    method, arrangement : str or None
        What is backtested (exactly one).
    start : date, optional
        First day; the population is built on it (``POPULATION_START`` for the
        generator's population, ``FALLBACK_START`` for the fallback book).
    positions : int
        Positions per account of the fallback book.
    seed : int
        Seed of the population.
    generator : bool
        Use the population generator when it is installed (else the fallback book,
        :func:`crossmargin.bench.methods.bench_book`).

    Notes
    -----
    A warm-up backtest of a slice of the population over two days (compiling the
    kernels) runs before the timing starts.
    """
    generate = _generator() if generator else None
    start = start or (POPULATION_START if generate is not None else FALLBACK_START)
    settings = BacktestParameters.from_params()
    calendar = ReferenceCalendar.from_history(settings.reference)
    run = calendar.following(start, days)
    if len(run) < days:
        raise InputError("the bundled history ends before that many business days",
                         field="days", value=days)
    first, end = run[0], run[-1]
    horizon = settings.period(method or arrangement or "").days
    last = max(calendar.after(end, horizon) or end, end + timedelta(days=horizon))
    curve_end = pd.to_datetime(series_info()["last_date"]).loc[CURVE_SERIES].date()
    stale = {"curve": max((last - curve_end).days, DEFAULT_STALE_DAYS["curve"])}
    market = snapshot_from_history(first, max_stale_days=stale)
    if generate is not None:
        book = generate(accounts, as_of=first, seed=seed, market=market)
        source = f"{POPULATIONS}.generate_population"
    else:
        book = bench_book(accounts=accounts, positions=positions, market=market, seed=seed)
        source = "crossmargin.bench.methods.bench_book"
    small = book.select_positions(book.pos_account < min(book.n_accounts, 100))
    run_backtest(small, start=first, end=run[min(1, days - 1)], method=method,
                 arrangement=arrangement, max_stale_days=stale)
    t0 = time.perf_counter()
    result = run_backtest(book, start=first, end=end, method=method,
                          arrangement=arrangement, max_stale_days=stale)
    seconds = time.perf_counter() - t0
    rolled = result.rolling
    pooled = result.tests()[1].row()
    n_days = len(rolled.dates)
    return {
        "model": rolled.label, "kind": result.kind, "population": source,
        "accounts": book.n_accounts, "positions": book.n_positions,
        "instruments": len(book.instruments), "from": first.isoformat(),
        "to": end.isoformat(), "days": n_days, "skipped_days": len(rolled.skipped),
        "mpor_days": rolled.mpor_days,
        "seconds": round(seconds, 3),
        "seconds_per_day": round(seconds / n_days, 4),
        "per_account_day_us": round(seconds / (n_days * book.n_accounts) * 1e6, 3),
        "seconds_split": {k: round(v, 3) for k, v in rolled.seconds.items()},
        "observations": pooled["observations"], "exceptions": pooled["exceptions"],
        "coverage": pooled["coverage"], "traffic_light": pooled["traffic_light"],
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "notes": [f"the Treasury curve may be {stale['curve']} days stale (the bundled "
                  f"curve ends on {curve_end})"] if last > curve_end else [],
    }
