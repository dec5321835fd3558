"""``crossmargin report``: the evidence report of a population, one offline HTML file."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from crossmargin.core.errors import InputError
from crossmargin.core.jsonout import dumps_document
from crossmargin.core.values import parse_date
from crossmargin.interfaces.cli.errors import guarded, write_atomically
from crossmargin.interfaces.cli.market import MaxStaleOption, market_for, stale_limits

__all__ = ["report_command"]


def _summary_table(console: Console, doc: dict[str, Any]) -> None:
    console.print(f"Evidence report on {doc['as_of']} ({doc['accounts']:,} accounts): "
                  f"{doc['out']}")
    table = Table()
    table.add_column("Section")
    table.add_column("Status")
    for name, status in doc["sections"].items():
        table.add_row(name, "[green]done[/]" if status == "done"
                      else f"[yellow]not available[/]: {status}")
    console.print(table)
    console.print(", ".join(f"{k} {v:.1f} s" for k, v in doc["seconds"].items()))
    for path in doc["png"]:
        console.print(f"png: {path}")


@guarded
def report_command(
    population: Annotated[Path, typer.Option(
        "--population", help="Population file (.parquet with its .collateral.parquet "
                             "sidecar, or any portfolio file).")],
    out: Annotated[Path, typer.Option(help="The HTML report to write.")],
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Date of the report (default: the population file's).")] = None,
    start: Annotated[str | None, typer.Option(
        "--from", help="First day of the backtest window (default: 250 business days "
                       "before the as-of date).")] = None,
    end: Annotated[str | None, typer.Option(
        "--to", help="Last day of the backtest window (default: the as-of date).")] = None,
    png_dir: Annotated[Path | None, typer.Option(
        "--png-dir", help="Also write the charts as PNG images to this folder.")] = None,
    max_stale_days: MaxStaleOption = None,
    output_format: Annotated[str, typer.Option(
        "--format", help="What to print when done: table or json.")] = "table",
) -> None:
    """Write the evidence report of a population: one self-contained offline HTML file.

    Capital freed by arrangement, asset class and strategy; backtests and traffic lights;
    procyclicality; stress and Cover-2; the parameters and data used, with sources.
    """
    from crossmargin.analytics.report.evidence import gather_evidence, read_population
    from crossmargin.analytics.report.figures import report_figures
    from crossmargin.analytics.report.html import render_html
    from crossmargin.analytics.report.png import export_png

    if output_format not in ("table", "json"):
        raise InputError("expected table or json", field="--format", value=output_format)
    when = parse_date(as_of, field="--as-of") if as_of else None
    labelled = read_population(population, as_of=when)
    book = labelled.book
    if book.as_of is None:
        raise InputError("the population file names no date: give --as-of DATE",
                         source=str(population), field="--as-of")
    snap = market_for(book, None, None, max_stale_days or [])
    first = parse_date(start, field="--from") if start else None
    last = parse_date(end, field="--to") if end else None
    stale = stale_limits(max_stale_days or [])
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True),
                  transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("report", total=None)

        def on_progress(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        evidence = gather_evidence(book, snap, start=first, end=last, max_stale_days=stale,
                                   strategies=labelled.strategies,
                                   strategy_source=labelled.source, on_progress=on_progress)
        progress.update(task, description="render", completed=0, total=1)
        clock = time.perf_counter()
        figures = report_figures(evidence)
        page = render_html(evidence, figures=figures)
        seconds = {**evidence.seconds, "render": time.perf_counter() - clock}
        # the images first: without a browser they fail, and then nothing is written
        pngs = [str(p) for p in export_png(figures, png_dir)] if png_dir is not None else []
        write_atomically(out, page)
    missing = evidence.unavailable()
    doc = {"out": str(out), "as_of": evidence.population.as_of.isoformat(),
           "accounts": evidence.population.accounts,
           "sections": {"capital": "done", **{k: missing.get(k, "done") for k in
                                              ("backtest", "procyclicality", "stress")}},
           "seconds": {k: round(v, 3) for k, v in seconds.items()}, "png": pngs}
    if output_format == "json":
        typer.echo(dumps_document(doc), nl=False)
        return
    _summary_table(Console(width=None if sys.stdout.isatty() else 160), doc)
