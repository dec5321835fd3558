r"""Benchmark of every margin method on one realistic book built on real market data.

One run builds a seeded book of ``accounts`` accounts on an instrument universe priced
from the bundled history on ``as_of`` (stocks, index and stock options across
strikes and expiries, index, commodity and crypto futures, linear and inverse perpetuals,
inverse crypto options, Treasury notes), each account drawn from one of a few desk
profiles (equity with options, index options, futures, crypto, multi-asset), then times
each method's ``compute`` on the whole book after a warm-up on a small slice of it.

Notes
-----
Besides each method's seconds the report gives, for the same accounts and positions, the
seconds of one pass of the segment kernel over a random ``pnl`` of ``kernel_scenarios``
scenarios (maximum loss), the yardstick the methods are compared with:
``ratio_to_kernel = seconds / kernel_seconds``. Timings are wall-clock; never assert
them in tests.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from crossmargin.book.book import Book
from crossmargin.book.instruments import Instrument
from crossmargin.book.parse import parse_instrument
from crossmargin.core.errors import InputError
from crossmargin.kernels import MaxLoss, reduce_segments, warmup
from crossmargin.market.build import snapshot_from_history
from crossmargin.market.history import series_info
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import MarginMethod
from crossmargin.methods.registry import METHODS, method_for

__all__ = ["PROFILES", "bench_book", "run_methods_bench"]

#: The desk profiles accounts are drawn from: name -> instrument pools of the universe.
PROFILES: Mapping[str, tuple[str, ...]] = {
    "equity-options": ("stock", "stock_option"),
    "index-options": ("index_option", "index_future", "stock"),
    "futures": ("index_future", "commodity_future", "crypto_future", "treasury"),
    "crypto": ("crypto_perp", "crypto_future", "crypto_option", "crypto_spot"),
    "multi-asset": ("stock", "index_future", "crypto_perp", "crypto_future", "treasury",
                    "index_option"),
}

_STOCKS = ("AAPL", "MSFT", "JPM", "XOM", "JNJ", "PG", "KO", "WMT")
_COINS = ("BTC", "ETH")
#: The curve tenor whose coverage decides whether the book holds Treasuries, and how old
#: its last observation may be: after the bundled curve ends, a Treasury cannot be
#: margined by the history-based methods, so the bench book leaves them out (and says so).
CURVE_SERIES = "UST_10Y"
CURVE_STALE_DAYS = 4


def _expiries(as_of: date, months: Sequence[int]) -> list[date]:
    """Third Fridays ``months`` months after ``as_of``."""
    out = []
    for m in months:
        year, month = as_of.year + (as_of.month - 1 + m) // 12, (as_of.month - 1 + m) % 12 + 1
        first = date(year, month, 1)
        out.append(first + timedelta(days=(4 - first.weekday()) % 7 + 14))
    return out


def _strikes(spot: float, width: float, n: int) -> list[float]:
    step = 10 ** np.floor(np.log10(spot * width / n))
    grid = np.round(np.linspace(spot * (1 - width), spot * (1 + width), n) / step) * step
    return sorted({float(k) for k in grid})


def universe(market: MarketSnapshot) -> dict[str, list[Instrument]]:
    """Return the benchmark's instruments by pool, priced off ``market``."""
    as_of = market.as_of
    listed, crypto = _expiries(as_of, (1, 2, 3)), _expiries(as_of, (1, 3))
    pools: dict[str, list[dict[str, Any]]] = {
        "stock": [{"type": "equity", "symbol": s} for s in _STOCKS],
        "stock_option": [
            {"type": "option", "underlying": s, "right": r, "strike": k,
             "expiry": e.isoformat(), "style": "american"}
            for s in _STOCKS[:4] for e in listed[:2] for r in ("call", "put")
            for k in _strikes(market.price(s), 0.15, 5)],
        "index_option": [
            {"type": "option", "underlying": "SPX", "right": r, "strike": k,
             "expiry": e.isoformat(), "settlement": "cash"}
            for e in listed for r in ("call", "put")
            for k in _strikes(market.price("SPX"), 0.12, 9)],
        "index_future": [
            {"type": "future", "symbol": f"ES{i}", "underlying": "SPX",
             "expiry": e.isoformat(), "multiplier": 50} for i, e in enumerate(listed)],
        "commodity_future": [
            {"type": "future", "symbol": f"{u}{i}", "underlying": u, "expiry": e.isoformat(),
             "multiplier": m} for u, m in (("WTI", 1000), ("GOLD", 100))
            for i, e in enumerate(listed)],
        "treasury": [
            {"type": "bond", "symbol": f"UST-{y}Y", "coupon": c,
             "maturity": as_of.replace(year=as_of.year + y).isoformat()}
            for y, c in ((2, 0.025), (5, 0.0275), (10, 0.02875))],
        "crypto_spot": [{"type": "spot", "asset": c, "quote": "USD"} for c in _COINS],
        "crypto_perp": [
            {"type": "perpetual", "underlying": c, "settlement": s, "quote": "USDT",
             "multiplier": 1 if s == "linear" else 100}
            for c in _COINS for s in ("linear", "inverse")],
        "crypto_future": [
            {"type": "future", "symbol": f"{c}F{i}", "underlying": c, "expiry": e.isoformat(),
             "multiplier": 1} for c in _COINS for i, e in enumerate(crypto)],
        "crypto_option": [
            {"type": "option", "underlying": c, "right": r, "strike": k,
             "expiry": e.isoformat(), "settlement": "inverse", "multiplier": 1}
            for c in _COINS for e in crypto for r in ("call", "put")
            for k in _strikes(market.price(c), 0.3, 5)],
    }
    if not _curve_covers(as_of):
        del pools["treasury"]
    return {name: [parse_instrument(rec, path=f"bench.{name}[{i}]")
                   for i, rec in enumerate(recs)] for name, recs in pools.items()}


def _curve_covers(as_of: date) -> bool:
    """Whether the bundled Treasury curve reaches ``as_of`` (within a long weekend)."""
    last = pd.to_datetime(series_info()["last_date"]).loc[CURVE_SERIES].date()
    return (as_of - last).days <= CURVE_STALE_DAYS


#: Typical absolute quantity of one position by instrument kind (units of the contract).
_SIZE = {"equity": 500.0, "option": 10.0, "future": 4.0, "bond": 200_000.0, "spot": 2.0,
         "perpetual": 5.0}


def bench_book(*, accounts: int, positions: int, market: MarketSnapshot, seed: int = 0
               ) -> Book:
    """Return a seeded book of ``accounts`` accounts of ``positions`` positions each.

    Each account follows one desk profile of ``PROFILES`` and holds distinct instruments
    of that profile's pools, with signed quantities around the kind's typical size.
    """
    rng = np.random.default_rng(seed)
    pools = universe(market)
    instruments: list[Instrument] = [i for name in pools for i in pools[name]]
    start = np.cumsum([0] + [len(pools[n]) for n in pools])
    pool_row = {n: np.arange(start[k], start[k + 1]) for k, n in enumerate(pools)}
    profile_rows = [np.concatenate([pool_row[p] for p in pools_of if p in pool_row])
                    for pools_of in PROFILES.values()]
    profile = rng.integers(0, len(profile_rows), size=accounts)
    pos_inst = np.empty((accounts, positions), dtype=np.int64)
    for k, rows in enumerate(profile_rows):
        members = np.flatnonzero(profile == k)
        if rows.size < positions:
            raise InputError(f"profile has only {rows.size} instruments",
                             field="positions", value=positions)
        picks = np.argsort(rng.random((members.size, rows.size)), axis=1)[:, :positions]
        pos_inst[members] = rows[picks]
    size = np.asarray([_SIZE[i.kind] for i in instruments])
    qty = np.maximum(1.0, np.round(size[pos_inst] * rng.lognormal(0.0, 0.6, pos_inst.shape)))
    qty *= rng.choice([-1.0, 1.0], size=pos_inst.shape)
    return Book(
        as_of=market.as_of, currency="USD",
        account_ids=tuple(f"B{a:07d}" for a in range(accounts)),
        instruments=tuple(instruments),
        account_offsets=np.arange(accounts + 1, dtype=np.int64) * positions,
        pos_instrument=pos_inst.ravel(), pos_quantity=qty.ravel(),
        marks=np.full(len(instruments), np.nan),
        collateral=((),) * accounts, orders=((),) * accounts, source="bench book",
    )


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(peak / 2**20 if sys.platform == "darwin" else peak / 2**10)


def _kernel_seconds(book: Book, scenarios: int, seed: int) -> float:
    pnl = np.random.default_rng(seed).standard_normal((len(book.instruments), scenarios))
    warmup()
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        reduce_segments(pnl=pnl, seg_offsets=book.account_offsets,
                        pos_instrument=book.pos_instrument, pos_quantity=book.pos_quantity,
                        reduction=MaxLoss())
        best = min(best, time.perf_counter() - t0)
    return float(best)


def run_methods_bench(*, accounts: int = 100_000, positions: int = 10,
                      methods: Sequence[str] | None = None, as_of: date = date(2018, 6, 29),
                      kernel_scenarios: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Time each method on one book; return a JSON-ready report.

    Parameters
    ----------
    accounts, positions : int
        Shape of the book.
    methods : sequence of str, optional
        Method names (default: every registered method).
    as_of : date
        Market date of the bundled history the book is priced on (the Treasury curve is
        allowed to be stale, as in the demo, and the report says so).
    kernel_scenarios : int
        Scenarios of the kernel pass used as the yardstick.
    seed : int
        Seed of the book.

    Notes
    -----
    Each method is built for the book (:func:`~crossmargin.methods.registry.method_for`:
    SPAN publishes its risk parameters for the book's futures and options) before the
    timing starts.
    """
    names = list(methods or sorted(METHODS))
    market = snapshot_from_history(as_of, max_stale_days={"curve": 500})
    book = bench_book(accounts=accounts, positions=positions, market=market, seed=seed)
    small = book.select_positions(book.pos_account < min(accounts, 200))
    kernel = _kernel_seconds(book, kernel_scenarios, seed)
    rows: list[dict[str, Any]] = []
    for name in names:
        method: MarginMethod = method_for(name, book, market)
        method.compute(small, market)  # compile and cache outside the timing
        t0 = time.perf_counter()
        result = method.compute(book, market)
        seconds = time.perf_counter() - t0
        rows.append({
            "method": name,
            "params_version": method.params.version,
            "seconds": round(seconds, 4),
            "per_account_us": round(seconds / accounts * 1e6, 3),
            "ratio_to_kernel": round(seconds / kernel, 2),
            "accounts_with_margin": int(np.count_nonzero(result.initial_margin)),
            "total_initial_margin": float(result.initial_margin.sum()),
        })
    return {
        "as_of": as_of.isoformat(),
        "accounts": accounts,
        "positions_per_account": positions,
        "instruments": len(book.instruments),
        "kernel_scenarios": kernel_scenarios,
        "kernel_seconds": round(kernel, 4),
        "methods": rows,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "notes": sorted(set(market.notes.values()) | (
            set() if _curve_covers(as_of) else
            {f"no Treasuries in the book: the bundled curve ends before {as_of}"})),
    }
