r"""Benchmark of the evidence report: a population through every computation and the page.

One run draws a seeded population of ``accounts`` accounts on ``as_of`` with the
population generator, then times each stage of ``crossmargin report`` in the same
process: the arrangements side by side on the as-of date (capital freed), one pass over
the ``days`` business days before it (the backtests of every arrangement and the
procyclicality series, the unified model's tool variants included), the stress
scenarios with Cover-1 / Cover-2, and the rendering of the HTML page.

Notes
-----
After the bundled Treasury curve ends (2017-03-29) the run allows the curve to be as
stale as the window's last realised P&L needs, leaves the Treasury basis archetype out
of the population (the SPAN publisher calibrates Treasury futures on the curve's history
up to the date) and says so. A warm-up report of a
slice of the population over two days (compiling the kernels, loading the history)
runs before the timing starts. Timings are wall-clock; never assert them in tests.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import pandas as pd

from crossmargin.analytics.populations import population
from crossmargin.analytics.report.evidence import default_window, gather_evidence
from crossmargin.analytics.report.html import render_html
from crossmargin.analytics.report.sections import ProcyclicalityEvidence
from crossmargin.bench.methods import CURVE_SERIES
from crossmargin.market.build import DEFAULT_STALE_DAYS, snapshot_from_history
from crossmargin.market.history import series_info
from crossmargin.params.loader import load_params

__all__ = ["CURVE_ARCHETYPE", "WARMUP_ACCOUNTS", "run_report_bench"]

#: The archetype whose Treasury futures need the curve's history up to the date.
CURVE_ARCHETYPE = "treasury_basis"
#: Accounts of the warm-up report.
WARMUP_ACCOUNTS = 50
#: Calendar days after the window the realised P&L may need (a margin period of risk
#: of a few business days over a long weekend).
_PNL_REACH = 10


def _curve_end() -> date:
    """Return the last day of the bundled Treasury curve."""
    out: date = pd.to_datetime(series_info()["last_date"]).loc[CURVE_SERIES].date()
    return out


def run_report_bench(*, accounts: int = 10_000, days: int = 250,
                     as_of: date = date(2018, 12, 31), seed: int = 0) -> dict[str, Any]:
    """Time the evidence report of a generated population; return a JSON-ready report.

    Parameters
    ----------
    accounts : int
        Accounts in the population.
    days : int
        Business days of the backtest and procyclicality window, ending on ``as_of``.
    as_of : date
        Date of the population and the report.
    seed : int
        Seed of the population.

    Returns
    -------
    dict
        ``accounts``, ``positions``, ``instruments``, ``members``, ``as_of``, ``from``,
        ``to``, ``seconds`` (``population``, ``compare``, ``history`` = backtests and
        procyclicality, ``stress``, ``render``, ``total``), ``history_seconds`` (its
        split: ``market``, ``realised`` P&L, ``margin``), ``history_days`` (business
        days computed), ``html_bytes``, ``sections`` (each ``done`` or why not) and
        ``notes``.
    """
    start, end = default_window(as_of, days=days)
    curve_end = _curve_end()
    stale = {"curve": max((end + timedelta(days=_PNL_REACH) - curve_end).days,
                          DEFAULT_STALE_DAYS["curve"])}
    market = snapshot_from_history(as_of, max_stale_days=stale)
    mix, notes = None, []
    if as_of > curve_end + timedelta(days=DEFAULT_STALE_DAYS["curve"]):
        mix = {k: float(v) for k, v in load_params("populations").parameters["mix"].items()
               if k != CURVE_ARCHETYPE}
        notes = [f"the Treasury curve may be {stale['curve']} days stale (the bundled curve "
                 f"ends on {curve_end}); no {CURVE_ARCHETYPE} accounts: SPAN cannot publish "
                 "Treasury futures scan ranges from a curve history that ended before "
                 "the date"]
    clock = time.perf_counter()
    pop = population(accounts, as_of=as_of, seed=seed, market=market, mix=mix)
    built = time.perf_counter() - clock
    book = pop.book
    warm = pop.book.select_positions(book.pos_account < min(book.n_accounts,
                                                            WARMUP_ACCOUNTS))
    gather_evidence(warm, market, start=end - timedelta(days=3), end=end,
                    max_stale_days=stale)
    evidence = gather_evidence(book, market, start=start, end=end, max_stale_days=stale,
                               strategies=pop.labels(), strategy_source="generator")
    clock = time.perf_counter()
    page = render_html(evidence)
    rendered = time.perf_counter() - clock
    seconds = {"population": built, **evidence.seconds, "render": rendered}
    seconds["total"] = sum(seconds.values())
    missing = evidence.unavailable()
    return {
        "accounts": book.n_accounts, "positions": book.n_positions,
        "instruments": len(book.instruments), "members": evidence.population.members,
        "as_of": as_of.isoformat(), "from": start.isoformat(), "to": end.isoformat(),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "history_seconds": {k: round(v, 3) for k, v in evidence.history_seconds.items()},
        "history_days": len(evidence.procyclicality.series)
        if isinstance(evidence.procyclicality, ProcyclicalityEvidence) else 0,
        "html_bytes": len(page.encode("utf-8")),
        "sections": {k: missing.get(k, "done")
                     for k in ("backtest", "procyclicality", "stress")},
        "notes": notes,
    }
