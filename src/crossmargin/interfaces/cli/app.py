"""The ``crossmargin`` command line."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from crossmargin.book.io import load_portfolio
from crossmargin.core.errors import InputError
from crossmargin.core.jsonout import dumps_document
from crossmargin.core.values import parse_date
from crossmargin.examples import demo_portfolio_path
from crossmargin.interfaces.cli.backtest import backtest_command, procyclicality_command
from crossmargin.interfaces.cli.bench import bench_app
from crossmargin.interfaces.cli.compare import compare_command, compare_table
from crossmargin.interfaces.cli.errors import distinct, guarded, write_atomically
from crossmargin.interfaces.cli.explain import explain_command
from crossmargin.interfaces.cli.market import (
    AsOfOption,
    MarketOption,
    MaxStaleOption,
    PortfolioArgument,
    market_for,
)
from crossmargin.interfaces.cli.population import population_command
from crossmargin.interfaces.cli.render import margin_json, margin_table
from crossmargin.interfaces.cli.report import report_command
from crossmargin.interfaces.cli.stress import stress_command
from crossmargin.market.build import snapshot_from_history
from crossmargin.methods.registry import METHODS, get_method
from crossmargin.results.hashing import input_hash

__all__ = ["app", "main"]

app = typer.Typer(
    name="crossmargin",
    help="Unified cross-margining: today's margin regimes and one-portfolio margin.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(bench_app, name="bench")
app.command(name="compare")(compare_command)
app.command(name="explain")(explain_command)
app.command(name="stress")(stress_command)
app.command(name="backtest")(backtest_command)
app.command(name="procyclicality")(procyclicality_command)
app.command(name="population")(population_command)
app.command(name="report")(report_command)


class OutputFormat(StrEnum):
    """Output formats of the reporting commands."""

    TABLE = "table"
    JSON = "json"


def _console(*, record: bool = False) -> Console:
    """Return a console: the terminal's width, or 160 columns when writing to a pipe."""
    return Console(record=record, width=None if sys.stdout.isatty() else 160)


@app.command()
@guarded
def margin(
    portfolio: PortfolioArgument,
    market: MarketOption = None,
    as_of: AsOfOption = None,
    method: Annotated[list[str] | None, typer.Option(
        help=f"Method(s) to run: {', '.join(sorted(METHODS))}.")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
    out: Annotated[Path | None, typer.Option(help="Write the output to this file.")] = None,
    max_stale_days: MaxStaleOption = None,
    span_file: Annotated[Path | None, typer.Option(
        "--span-file", help="SPAN 4 XML risk-parameter file (or its .zip or .gz) for "
                            "--method span (alone, it is the market data).")] = None,
) -> None:
    """Compute margin requirements of every account of PORTFOLIO."""
    from crossmargin.methods.span.method import StandardPortfolioAnalysisOfRisk

    book = load_portfolio(portfolio, as_of=parse_date(as_of, field="--as-of") if as_of
                          else None)
    names = distinct(method, field="--method") or ["grid"]
    if span_file is not None and "span" not in names:
        raise InputError("is for --method span", field="--span-file", value=str(span_file))
    methods = [get_method(name, **({"span_file": span_file} if name == "span" else {}))
               for name in names]
    only = methods[0] if len(methods) == 1 else None
    snap = only.snapshot() if isinstance(only, StandardPortfolioAnalysisOfRisk) and \
        market is None and as_of is None else market_for(book, market, as_of,
                                                         max_stale_days or [])
    results = [m.compute(book, snap) for m in methods]
    fingerprint = input_hash(book, snap, [m.params for m in methods])
    if output_format is OutputFormat.JSON:
        pieces = margin_json(book, results, input_hash=fingerprint)
        if out is not None:
            write_atomically(out, pieces)
        else:
            typer.echo("".join(pieces), nl=False)
        return
    console = _console(record=out is not None)
    margin_table(console, book, results,
                 title=f"Margin on {snap.as_of} ({book.source}, market: {snap.source})")
    if out is not None:
        write_atomically(out, console.export_text())


@app.command()
@guarded
def demo(
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Run the main job on the bundled real history: today's patchwork against one portfolio.

    A mixed book (stocks, index options, futures, bitcoin spot, perpetuals and options,
    oil and gold) is margined silo by silo as today (strategy-based securities, SPAN
    futures, crypto portfolio margin, collateral allocated across silos), by the CME-FICC
    conservative rule and as one unified FHS portfolio, with the capital each frees.
    """
    from crossmargin.arrangements.compare import compare

    book = load_portfolio(demo_portfolio_path())
    assert book.as_of is not None
    # The bundled Treasury curve ends on 2017-03-29 (its source file's last day); the
    # demo allows that staleness explicitly and says so under the table.
    snap = snapshot_from_history(book.as_of, max_stale_days={"curve": 500})
    cmp = compare(book, snap)
    if output_format is OutputFormat.JSON:
        typer.echo(dumps_document(cmp.to_json()), nl=False)
        return
    console = _console()
    console.print(f"crossmargin demo: {book.n_accounts} accounts, {book.n_positions} "
                  f"positions, {len(book.instruments)} instruments, real market history "
                  f"on {book.as_of}")
    compare_table(console, cmp)


def main() -> None:
    """Entry point of the ``crossmargin`` console script.

    A usage error (an unknown option, a value out of its range or choices) prints one
    line on stderr, naming the command, the option and the value, and exits with 2, as
    bad input does.
    """
    try:
        code = app(standalone_mode=False, prog_name="crossmargin")
    except typer.Abort:
        print("crossmargin: aborted", file=sys.stderr)
        raise SystemExit(1) from None
    except Exception as err:
        if not _usage_error(err):
            raise
        context = getattr(err, "ctx", None)
        command = context.command_path if context is not None else "crossmargin"
        message = " ".join(str(err.format_message()).split())  # type: ignore[attr-defined]
        if message:  # none where the command was given no arguments: its help was shown
            print(f"{command}: {message} (see {command} --help)", file=sys.stderr)
        raise SystemExit(2) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def _usage_error(err: Exception) -> bool:
    """Tell a usage error (an invalid option or value) by its class name.

    The class comes from typer's own parser, or from Click under older typer releases.
    """
    return any(cls.__name__ == "UsageError" for cls in type(err).__mro__)
