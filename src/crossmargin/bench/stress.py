"""Benchmark of a stress run on a population of accounts spread over clearing members.

The population comes from :func:`crossmargin.analytics.populations.generate_population`
where that module is installed, else from the methods benchmark's seeded book
(:func:`~crossmargin.bench.methods.bench_book`, no collateral), its accounts dealt to
``members`` clearing members in turn. The report times the margin held (a method or an
arrangement) and the stress run (scenarios, revaluation, aggregation, Cover-1/Cover-2)
separately, after a warm-up on a small slice. Timings are wall-clock; never assert
them in tests.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import date
from importlib import import_module
from typing import Any

from crossmargin.analytics.stress import StressTest, margin_held
from crossmargin.bench.methods import bench_book
from crossmargin.book.book import Book
from crossmargin.market.build import snapshot_from_history
from crossmargin.market.snapshot import MarketSnapshot

__all__ = ["run_stress_bench"]

_POPULATIONS = "crossmargin.analytics.populations"


def _population(*, accounts: int, positions: int, members: int, market: MarketSnapshot,
                seed: int) -> tuple[Book, str]:
    """Return the benchmark's book and what produced it."""
    try:
        module = import_module(_POPULATIONS)
    except ModuleNotFoundError:
        book = bench_book(accounts=accounts, positions=positions, market=market, seed=seed)
        dealt = tuple(f"CM{a % members:03d}" for a in range(accounts))
        return (dataclasses.replace(book, members=dealt, _index={}),
                "bench_book (no collateral), accounts dealt to members in turn")
    book = module.generate_population(accounts, as_of=market.as_of, seed=seed,
                                      members=members)
    assert isinstance(book, Book)
    return book, "generate_population"


def run_stress_bench(*, accounts: int = 10_000, positions: int = 10, members: int = 50,
                     method: str | None = None, arrangement: str | None = "unified",
                     as_of: date = date(2018, 6, 29), seed: int = 0) -> dict[str, Any]:
    """Time a stress run with the default scenarios; return a JSON-ready report.

    Parameters
    ----------
    accounts, positions : int
        Shape of the population (positions per account where the bench book is used).
    members : int
        Clearing members the accounts belong to.
    method, arrangement : str, optional
        The margin held (one of the two; the unified arrangement by default).
    as_of : date
        Date of the bundled history the population is priced on (the Treasury curve may
        be stale, as in the methods benchmark, and the report says so).
    seed : int
        Seed of the population.
    """
    market = snapshot_from_history(as_of, max_stale_days={"curve": 500})
    book, origin = _population(accounts=accounts, positions=positions, members=members,
                               market=market, seed=seed)
    test = StressTest.from_params()
    small = book.select_positions(book.pos_account < min(book.n_accounts, 200))
    test.run(small, market, margin=margin_held(small, market, method=method,
                                               arrangement=arrangement))
    t0 = time.perf_counter()
    held = margin_held(book, market, method=method, arrangement=arrangement)
    t1 = time.perf_counter()
    result = test.run(book, market, margin=held)
    t2 = time.perf_counter()
    doc = result.to_json()
    t3 = time.perf_counter()
    return {
        "as_of": as_of.isoformat(),
        "population": origin,
        "accounts": book.n_accounts,
        "positions": book.n_positions,
        "instruments": len(book.instruments),
        "members": len(result.members),
        "scenarios": len(result.scenarios),
        "margin": held.label,
        "margin_seconds": round(t1 - t0, 4),
        "stress_seconds": round(t2 - t1, 4),
        "json_seconds": round(t3 - t2, 4),
        "stress_per_account_us": round((t2 - t1) / book.n_accounts * 1e6, 3),
        "cover_1": doc["cover_1"]["amount"],
        "cover_1_scenario": doc["cover_1"]["scenario"],
        "cover_2": doc["cover_2"]["amount"],
        "cover_2_scenario": doc["cover_2"]["scenario"],
        "notes": doc["notes"],
    }
