"""``crossmargin backtest`` and ``crossmargin procyclicality`` on the bundled history."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crossmargin.arrangements import ARRANGEMENTS
from crossmargin.book.io import load_portfolio
from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_date
from crossmargin.interfaces.cli.errors import distinct, guarded
from crossmargin.interfaces.cli.market import PortfolioArgument, stale_limits
from crossmargin.interfaces.cli.render import emit
from crossmargin.methods.registry import METHODS

if TYPE_CHECKING:
    from crossmargin.analytics.backtest import BacktestResult
    from crossmargin.analytics.procyclicality import ProcyclicalityReport
    from crossmargin.analytics.rolling import Progress as DayProgress

__all__ = ["backtest_command", "procyclicality_command"]

#: Accounts listed in the backtest table (the ones with the most exceptions); JSON has all.
TABLE_ACCOUNTS = 20


@contextmanager
def _days_bar(what: str) -> Iterator[DayProgress]:
    """Yield a progress callback drawing a bar on a terminal (silent otherwise)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True,
                  disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _check_format(output_format: str) -> None:
    if output_format not in ("table", "json"):
        raise InputError("expected table or json", field="--format", value=output_format)


def _p(value: float) -> str:
    return f"{value:.4f}"


def backtest_table(console: Console, result: BacktestResult) -> None:
    """Print the book's statistics, then the accounts with the most exceptions."""
    doc = result.to_json()
    head = Table(title=f"Backtest of {doc['name']} ({doc['kind']}) from {doc['from']} to "
                       f"{doc['to']}: initial margin against the {doc['mpor_days']}-day "
                       f"realised loss, {doc['confidence']:.2%} confidence "
                       f"(amounts in {doc['currency']})", title_justify="left")
    head.add_column("Book (all accounts)")
    head.add_column("Value", justify="right")
    zones = doc["traffic_light_accounts"]
    worst = doc["worst_shortfall"]
    for name, value in (
        ("Observations (account-days)", f"{doc['observations']:,}"),
        ("Exceptions", f"{doc['exceptions']:,}"),
        ("Coverage", f"{doc['coverage']:.2%}"),
        ("Kupiec LR (p)", f"{doc['kupiec_lr']:.3f} ({_p(doc['kupiec_p'])})"),
        ("Christoffersen LR ind (p)",
         f"{doc['christoffersen_lr_ind']:.3f} ({_p(doc['christoffersen_p_ind'])})"),
        ("Christoffersen LR cc (p)",
         f"{doc['christoffersen_lr_cc']:.3f} ({_p(doc['christoffersen_p_cc'])})"),
        (f"Traffic light (last {doc['traffic_light_window']} days of each account)",
         f"{doc['traffic_light']} ({doc['traffic_light_exceptions']:,} of "
         f"{doc['traffic_light_observations']:,})"),
        ("Accounts green / yellow / red",
         f"{zones['green']:,} / {zones['yellow']:,} / {zones['red']:,}"),
        ("Worst shortfall (loss - margin)",
         f"{worst['amount']:,.2f} ({worst['account']}, {worst['date']})"),
        ("Business days (skipped)", f"{doc['days']:,} ({len(doc['skipped_days']):,})"),
    ):
        head.add_row(name, value)
    console.print(head)
    accounts = sorted(doc["accounts"], key=lambda a: (-a["exceptions"], a["account"]))
    table = Table(title=f"Accounts with the most exceptions ({min(len(accounts), TABLE_ACCOUNTS)}"
                        f" of {len(accounts):,}; all in --format json)", title_justify="left")
    for name in ("Account", "Obs", "Exc", "Coverage", "Kupiec p", "Christoffersen cc p",
                 "Zone", "Worst shortfall"):
        table.add_column(name, justify="left" if name in ("Account", "Zone") else "right")
    for row in accounts[:TABLE_ACCOUNTS]:
        table.add_row(row["account"], str(row["observations"]), str(row["exceptions"]),
                      f"{row['coverage']:.2%}", _p(row["kupiec_p"]),
                      _p(row["christoffersen_p_cc"]), str(row["traffic_light"]),
                      f"{row['worst_shortfall']['amount']:,.2f}")
    console.print(table)
    for note in doc["notes"]:
        console.print(f"[dim]note: {note}[/dim]")


def procyclicality_table(console: Console, report: ProcyclicalityReport) -> None:
    """Print one row per model: peak, trough, their ratio, the largest increases."""
    doc = report.to_json()
    table = Table(title=f"Procyclicality of the book's margin from {doc['from']} to "
                        f"{doc['to']} (amounts in {doc['currency']})", title_justify="left")
    for name in ("Model", "Peak", "Trough", "Peak/trough",
                 *(f"Largest {h}-day increase" for h in doc["horizons"])):
        table.add_column(name, justify="left" if name == "Model" else "right")
    for model in doc["models"]:
        ratio = model["peak_to_trough"]
        steps = [f"{i['absolute']:,.0f} ({i['relative']:.1%})" if i["relative"] is not None
                 else "-" if i["absolute"] is None else f"{i['absolute']:,.0f}"
                 for i in model["increases"]]
        table.add_row(model["label"], f"{model['peak']:,.0f}", f"{model['trough']:,.0f}",
                      "-" if ratio is None else f"{ratio:.2f}", *steps)
    console.print(table)
    for note in sorted({n for model in doc["models"] for n in model["notes"]}):
        console.print(f"[dim]note: {note}[/dim]")


_FROM = typer.Option("--from", help="First business day (YYYY-MM-DD).")
_TO = typer.Option("--to", help="Last business day (YYYY-MM-DD).")
_STALE = typer.Option("--max-stale-days",
                      help="Allow older history data, e.g. curve=500 (KIND=DAYS).")


@guarded
def backtest_command(
    portfolio: PortfolioArgument,
    start: Annotated[str, _FROM],
    end: Annotated[str, _TO],
    method: Annotated[str | None, typer.Option(
        help=f"Method to backtest: {', '.join(sorted(METHODS))}.")] = None,
    arrangement: Annotated[str | None, typer.Option(
        help=f"Arrangement to backtest: {', '.join(ARRANGEMENTS)}.")] = None,
    confidence: Annotated[float | None, typer.Option(
        help="Coverage tested (default from the parameter file: 0.99).")] = None,
    mpor_days: Annotated[int | None, typer.Option(
        "--mpor-days", min=1, help="Margin period of risk of the realised P&L (default per "
                                   "method: span 1, others 2; business days, crypto in "
                                   "calendar days).")] = None,
    span_file: Annotated[Path | None, typer.Option(
        "--span-file", help="SPAN 4 XML file for span (default: published each day from "
                            "the history known that day).")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    out: Annotated[Path | None, typer.Option(help="Write the output to this file.")] = None,
    max_stale_days: Annotated[list[str] | None, _STALE] = None,
) -> None:
    """Backtest a margin method or arrangement on the bundled real history.

    Each business day the initial margin is computed with only the data known that day
    and set against the loss the same positions realised over the margin period of risk.
    Reports observations, exceptions, coverage, Kupiec and Christoffersen statistics, the
    Basel traffic light and the worst shortfall, for the book and each account.
    """
    from crossmargin.analytics.backtest import run_backtest

    _check_format(output_format)
    book = load_portfolio(portfolio)
    options = {"span": {"span_file": span_file}} if span_file is not None else {}
    with _days_bar(f"backtest of {book.n_accounts:,} accounts") as progress:
        result = run_backtest(book, start=parse_date(start, field="--from"),
                              end=parse_date(end, field="--to"), method=method,
                              arrangement=arrangement, confidence=confidence,
                              mpor_days=mpor_days,
                              max_stale_days=stale_limits(max_stale_days or []),
                              method_options=options, progress=progress)
    emit(result.to_json(), output_format=output_format, out=out,
         table=lambda console: backtest_table(console, result))


@guarded
def procyclicality_command(
    portfolio: PortfolioArgument,
    start: Annotated[str, _FROM],
    end: Annotated[str, _TO],
    method: Annotated[list[str] | None, typer.Option(
        help=f"Method(s): {', '.join(sorted(METHODS))} (fhs when none is given).")] = None,
    arrangement: Annotated[list[str] | None, typer.Option(
        help=f"Arrangement(s): {', '.join(ARRANGEMENTS)}.")] = None,
    tools: Annotated[bool, typer.Option(
        "--tools/--no-tools", help="Also run fhs (and the arrangements using it) with its "
                                   "anti-procyclicality tools all off and each alone on.")
                     ] = True,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    out: Annotated[Path | None, typer.Option(help="Write the output to this file.")] = None,
    max_stale_days: Annotated[list[str] | None, _STALE] = None,
) -> None:
    """Measure how procyclical each model's margin of PORTFOLIO is over the history.

    Peak-to-trough ratio of the book's total margin and its largest 1-day and 5-day
    increases, per method and arrangement, with and without each anti-procyclicality
    tool of the FHS model.
    """
    from crossmargin.analytics.procyclicality import run_procyclicality

    _check_format(output_format)
    book = load_portfolio(portfolio)
    with _days_bar(f"margins of {book.n_accounts:,} accounts") as progress:
        report = run_procyclicality(book, start=parse_date(start, field="--from"),
                                    end=parse_date(end, field="--to"),
                                    methods=tuple(distinct(method, field="--method")),
                                    arrangements=tuple(distinct(arrangement,
                                                                field="--arrangement")),
                                    tools=tools,
                                    max_stale_days=stale_limits(max_stale_days or []),
                                    progress=progress)
    emit(report.to_json(), output_format=output_format, out=out,
         table=lambda console: procyclicality_table(console, report))
