"""``crossmargin bench kernel`` end to end on a tiny book: shape of the report, never timings."""

from __future__ import annotations

import json
import platform
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from crossmargin.bench.kernel import run_kernel_bench
from crossmargin.core.errors import InputError
from crossmargin.interfaces.cli.app import app
from crossmargin.interfaces.cli.bench import bench_app

runner = CliRunner()

REQUIRED = {"accounts", "positions", "scenarios", "seconds", "peak_rss_mb", "baseline_seconds",
            "speedup_vs_baseline", "limit_seconds", "fraction_of_limit", "whatif_p50_us",
            "whatif_p99_us"}
TINY = ["--accounts", "2000", "--positions", "5", "--scenarios", "96", "--instruments", "300",
        "--baseline-accounts", "500"]


def test_bench_kernel_json() -> None:
    result = runner.invoke(app, ["bench", "kernel", *TINY, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) >= REQUIRED
    assert (doc["accounts"], doc["positions"], doc["scenarios"]) == (2000, 5, 96)
    assert doc["reduction"] == "es" and doc["k"] == 1  # ceil(0.01 x 96)
    assert doc["baseline_accounts_timed"] == 500 and doc["baseline_scaled"] is True
    for key in REQUIRED - {"accounts", "positions", "scenarios"}:
        assert isinstance(doc[key], float) and doc[key] > 0, key
    assert doc["max_rel_diff_vs_baseline"] < 1e-12
    assert doc["whatif_p50_us"] <= doc["whatif_p99_us"]


def test_bench_kernel_table() -> None:
    result = runner.invoke(bench_app, ["kernel", *TINY, "--reduction", "wmax",
                                       "--repeats", "2", "--format", "table"])
    assert result.exit_code == 0, result.stderr
    assert "fraction_of_limit" in result.stdout and "wmax" in result.stdout


def test_bench_kernel_repeats() -> None:
    result = runner.invoke(app, ["bench", "kernel", *TINY, "--repeats", "4"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["kernel_runs_seconds"]) == 4
    assert doc["seconds"] == min(doc["kernel_runs_seconds"])


def test_bench_kernel_memory_policy() -> None:
    """The allocator policy is reported: kept by default (glibc), not with the flag off."""
    result = runner.invoke(app, ["bench", "kernel", *TINY, "--no-keep-memory"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["keeps_freed_memory"] is False
    result = runner.invoke(app, ["bench", "kernel", *TINY])
    assert result.exit_code == 0, result.stderr
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert json.loads(result.stdout)["keeps_freed_memory"] is glibc


@pytest.mark.parametrize(("reduction", "k"), [("max", 1), ("var", 10)])
def test_run_kernel_bench_other_reductions(reduction: str, k: int) -> None:
    doc = run_kernel_bench(accounts=500, positions=3, scenarios=100, instruments=50,
                           reduction=reduction, confidence=0.9, baseline_accounts=100,
                           repeats=1, whatif_orders=20, matmul_size=128, copy_mb=8)
    assert set(doc) >= REQUIRED
    assert doc["k"] == k and doc["baseline_scaled"] is True
    assert doc["max_rel_diff_vs_baseline"] < 1e-12


def test_bench_kernel_bad_options() -> None:
    result = runner.invoke(app, ["bench", "kernel", "--reduction", "mean"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["bench", "kernel", "--accounts", "0"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["bench", "kernel", "--repeats", "0"])
    assert result.exit_code == 2


def test_run_kernel_bench_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="reduction"):
        run_kernel_bench(accounts=10, reduction="mean")
    with pytest.raises(InputError, match="accounts"):
        run_kernel_bench(accounts=0)


def test_bench_kernel_bad_confidence() -> None:
    result = runner.invoke(app, ["bench", "kernel", *TINY, "--confidence", "1.5"])
    assert result.exit_code == 2
    assert "confidence" in result.stderr


def test_bench_methods_json() -> None:
    """``crossmargin bench methods``: every method's row on a small realistic book."""
    result = runner.invoke(app, ["bench", "methods", "--accounts", "300", "--method", "grid",
                                 "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["accounts"] == 300 and doc["kernel_seconds"] > 0
    (row,) = doc["methods"]
    assert row["method"] == "grid" and row["seconds"] > 0 and row["ratio_to_kernel"] > 0
    assert 0 < row["accounts_with_margin"] <= 300


def test_bench_book_profiles_hold_hedges() -> None:
    """The bench book draws distinct instruments per account from its desk profile."""
    from datetime import date

    from crossmargin.bench.methods import bench_book
    from crossmargin.market.build import snapshot_from_history

    market = snapshot_from_history(date(2018, 6, 29), max_stale_days={"curve": 500})
    book = bench_book(accounts=50, positions=6, market=market, seed=1)
    assert book.n_positions == 300 and np.all(book.pos_quantity != 0)
    for a in range(book.n_accounts):
        rows = book.pos_instrument[book.account_offsets[a]:book.account_offsets[a + 1]]
        assert np.unique(rows).size == rows.size
