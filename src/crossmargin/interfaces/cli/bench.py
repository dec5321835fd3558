"""``crossmargin bench``: benchmarks that report JSON (or a table)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from crossmargin.core.jsonout import dumps_document
from crossmargin.interfaces.cli.errors import distinct, guarded

__all__ = ["bench_app"]

bench_app = typer.Typer(
    help="Benchmarks: the kernel against a scipy.sparse baseline and the machine's limits.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class ReductionName(StrEnum):
    """Reductions the kernel benchmark can time."""

    ES = "es"
    MAX = "max"
    WMAX = "wmax"
    VAR = "var"


class PrecisionName(StrEnum):
    """Precisions of the kernel's segment pass (see ``reduce_segments``)."""

    AUTO = "auto"
    MIXED = "mixed"
    DOUBLE = "double"


class BenchFormat(StrEnum):
    """Output formats of the benchmarks."""

    JSON = "json"
    TABLE = "table"


#: Options every benchmark command shares.
FormatOption = Annotated[BenchFormat, typer.Option("--format", help="json or table.")]
PopulationAccounts = Annotated[int, typer.Option(min=1, help="Accounts in the population.")]
PopulationSeed = Annotated[int, typer.Option(help="Seed of the population.")]


@bench_app.callback()
def _bench() -> None:
    """Benchmarks: the kernel against a scipy.sparse baseline and the machine's limits."""


def _emit(report: dict[str, Any], output_format: BenchFormat) -> None:
    """Print a benchmark report as JSON or as tables."""
    if output_format is BenchFormat.JSON:
        typer.echo(dumps_document(report), nl=False)
    else:
        _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    """Print scalar measures as one table and each list of records as its own table."""
    console = Console()
    table = Table(title="crossmargin bench")
    table.add_column("measure")
    table.add_column("value", justify="right")
    records: dict[str, list[dict[str, Any]]] = {}
    for key, value in report.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            records[key] = value
        else:
            table.add_row(key, json.dumps(value))
    console.print(table)
    for key, rows in records.items():
        sub = Table(title=key)
        columns = list(dict.fromkeys(k for row in rows for k in row))
        for col in columns:
            sub.add_column(col, justify="left" if col == columns[0] else "right")
        for row in rows:
            sub.add_row(*(json.dumps(row.get(col)) for col in columns))
        console.print(sub)


@bench_app.command()
@guarded
def kernel(
    accounts: Annotated[int, typer.Option(min=1, help="Accounts in the synthetic book.")
                        ] = 1_000_000,
    positions: Annotated[int, typer.Option(min=1, help="Positions per account.")] = 10,
    scenarios: Annotated[int, typer.Option(min=1, help="Scenarios (columns of pnl).")] = 1000,
    instruments: Annotated[int, typer.Option(min=1, help="Distinct instruments (rows of pnl).")
                           ] = 5000,
    reduction: Annotated[ReductionName, typer.Option(
        help="es (expected shortfall), max, wmax (weighted max) or var.")] = ReductionName.ES,
    confidence: Annotated[float, typer.Option(
        help="Confidence of es and var, strictly between 0 and 1: "
             "k = ceil((1 - confidence) x scenarios).")] = 0.99,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic book.")] = 0,
    baseline_accounts: Annotated[int, typer.Option(
        min=1, help="Accounts on which the scipy.sparse baseline is timed, then scaled.")
                                 ] = 50_000,
    precision: Annotated[PrecisionName, typer.Option(
        help="auto, mixed (float32 filter settled in float64) or double; the results "
             "are the same bit for bit.")] = PrecisionName.AUTO,
    repeats: Annotated[int, typer.Option(
        min=1, help="Kernel runs (best reported; more on a noisy machine).")] = 3,
    keep_memory: Annotated[bool, typer.Option(
        help="Let the allocator keep freed memory between runs (glibc mallopt), as a "
             "long-running batch would; the first run pays for fresh memory either way."
    )] = True,
    output_format: FormatOption = BenchFormat.JSON,
) -> None:
    """Time the segment kernel on a seeded synthetic book; report against the limits.

    Reports seconds, peak memory, the scipy.sparse baseline (timed on a subset and
    scaled), the fraction of the machine's dense FLOP limit and the what-if latency.
    """
    from crossmargin.bench.kernel import run_kernel_bench
    from crossmargin.core.memory import keep_freed_memory

    kept = keep_freed_memory() if keep_memory else False
    report = run_kernel_bench(accounts=accounts, positions=positions, scenarios=scenarios,
                              instruments=instruments, reduction=reduction.value,
                              confidence=confidence, seed=seed,
                              baseline_accounts=baseline_accounts,
                              precision=precision.value, repeats=repeats)
    report["keeps_freed_memory"] = kept
    _emit(report, output_format)


@bench_app.command()
@guarded
def methods(
    accounts: Annotated[int, typer.Option(min=1, help="Accounts in the book.")] = 100_000,
    positions: Annotated[int, typer.Option(min=1, help="Positions per account.")] = 10,
    method: Annotated[list[str] | None, typer.Option(
        help="Method(s) to time (default: all registered).")] = None,
    as_of: Annotated[str, typer.Option(
        "--as-of", help="Date of the bundled history the book is priced on.")
                     ] = "2018-06-29",
    seed: Annotated[int, typer.Option(help="Seed of the book.")] = 0,
    output_format: FormatOption = BenchFormat.JSON,
) -> None:
    """Time every margin method on one realistic book priced from the bundled history.

    Reports each method's seconds beside one kernel pass over the same positions.
    """
    from crossmargin.bench.methods import run_methods_bench
    from crossmargin.core.values import parse_date

    report = run_methods_bench(accounts=accounts, positions=positions,
                               methods=distinct(method, field="--method") or None,
                               as_of=parse_date(as_of, field="--as-of"), seed=seed)
    _emit(report, output_format)


@bench_app.command()
@guarded
def span(
    products: Annotated[int, typer.Option(min=1, help="Products in the SPAN file.")
                        ] = 10_000,
    futures: Annotated[int, typer.Option(min=1, help="Futures months per product.")] = 4,
    options: Annotated[int, typer.Option(min=0, help="Options per product.")] = 4,
    repeats: Annotated[int, typer.Option(min=1, help="Timed reads (best reported).")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic file.")] = 0,
    output_format: FormatOption = BenchFormat.JSON,
) -> None:
    """Time the streaming SPAN 4 XML reader on a published-size synthetic file.

    The file is written by the SPAN publisher (full revaluation of every contract) to
    a temporary folder, read back and compared, then removed.
    """
    from crossmargin.bench.span import run_span_bench

    report = run_span_bench(products=products, futures=futures, options=options,
                            repeats=repeats, seed=seed)
    _emit(report, output_format)


@bench_app.command()
@guarded
def stress(
    accounts: PopulationAccounts = 10_000,
    members: Annotated[int, typer.Option(min=1, help="Clearing members.")] = 50,
    method: Annotated[str | None, typer.Option(
        help="Margin held: a method (default: the unified arrangement).")] = None,
    as_of: Annotated[str, typer.Option("--as-of", help="Base date.")] = "2018-06-29",
    seed: PopulationSeed = 0,
    output_format: FormatOption = BenchFormat.JSON,
) -> None:
    """Time margining and stressing a generated population (Cover-1 / Cover-2)."""
    from crossmargin.bench.stress import run_stress_bench
    from crossmargin.core.values import parse_date

    report = run_stress_bench(accounts=accounts, members=members, method=method,
                              arrangement=None if method else "unified",
                              as_of=parse_date(as_of, field="--as-of"), seed=seed)
    _emit(report, output_format)


@bench_app.command()
@guarded
def backtest(
    accounts: PopulationAccounts = 10_000,
    days: Annotated[int, typer.Option(min=1, help="Business days rolled through.")] = 250,
    method: Annotated[str | None, typer.Option(
        help="Method backtested (default fhs, unless --arrangement).")] = None,
    arrangement: Annotated[str | None, typer.Option(
        help="Arrangement backtested instead of a method.")] = None,
    seed: PopulationSeed = 0,
    output_format: FormatOption = BenchFormat.JSON,
) -> None:
    """Time a daily backtest of a generated population over the bundled history."""
    from crossmargin.bench.backtest import run_backtest_bench

    report = run_backtest_bench(accounts=accounts, days=days,
                                method=None if arrangement else (method or "fhs"),
                                arrangement=arrangement, seed=seed)
    _emit(report, output_format)


@bench_app.command()
@guarded
def report(
    accounts: PopulationAccounts = 10_000,
    days: Annotated[int, typer.Option(min=1, help="Business days of the window.")] = 250,
    as_of: Annotated[str, typer.Option("--as-of", help="Date of the report.")
                     ] = "2018-12-31",
    seed: PopulationSeed = 0,
    output_format: FormatOption = BenchFormat.JSON,
) -> None:
    """Time the evidence report of a generated population, stage by stage."""
    from crossmargin.bench.report import run_report_bench
    from crossmargin.core.values import parse_date

    report = run_report_bench(accounts=accounts, days=days,
                              as_of=parse_date(as_of, field="--as-of"), seed=seed)
    _emit(report, output_format)
