"""``crossmargin stress``: historical and hypothetical scenarios, uncovered loss, Cover-2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from crossmargin.arrangements import ARRANGEMENTS
from crossmargin.book.io import load_portfolio
from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_date
from crossmargin.interfaces.cli.errors import guarded
from crossmargin.interfaces.cli.market import (
    AsOfOption,
    MarketOption,
    MaxStaleOption,
    PortfolioArgument,
    market_for,
)
from crossmargin.interfaces.cli.render import emit
from crossmargin.methods.registry import METHODS

if TYPE_CHECKING:
    from crossmargin.analytics.stress import StressResult

__all__ = ["stress_command", "stress_table"]

#: The margin a stress run measures when neither --method nor --arrangement is given.
DEFAULT_ARRANGEMENT = "unified"


def _members(entry: dict[str, Any]) -> str:
    return ", ".join(m["member"] for m in entry["members"]) or "-"


def stress_table(console: Console, result: StressResult) -> None:
    """Print one row per scenario, then Cover-1 / Cover-2 and the notes."""
    doc = result.to_json()
    table = Table(title=f"Stress on {doc['as_of']}: {doc['accounts']} accounts, "
                        f"{doc['members']} members, margin: {doc['margin']['source']} "
                        f"(amounts in {doc['currency']})", title_justify="left")
    for name in ("Scenario", "Kind", "Loss", "Collateral change", "Uncovered",
                 "Accounts uncovered", "Cover-1", "Cover-2", "Cover-2 members",
                 "Worst account"):
        table.add_column(name, justify="left" if name in (
            "Scenario", "Kind", "Cover-2 members", "Worst account") else "right")
    for sc in doc["scenarios"]:
        worst = sc["worst_accounts"][0] if sc["worst_accounts"] else None
        table.add_row(
            sc["title"], sc["kind"], f"{sc['loss']:,.2f}", f"{sc['collateral_change']:,.2f}",
            f"[{'red' if sc['uncovered'] > 0 else 'green'}]{sc['uncovered']:,.2f}[/]",
            f"{sc['accounts_uncovered']:,}", f"{sc['cover_1']['amount']:,.2f}",
            f"{sc['cover_2']['amount']:,.2f}", _members(sc["cover_2"]),
            f"{worst['account']} {worst['uncovered']:,.2f}" if worst else "-")
    console.print(table)
    for n in (1, 2):
        cover = doc[f"cover_{n}"]
        console.print(f"Cover-{n}: {cover['amount']:,.2f} {doc['currency']} under "
                      f"{cover['scenario']} ({_members(cover)})")
    for note in doc["notes"]:
        console.print(f"[dim]note: {note}[/dim]")


@guarded
def stress_command(
    portfolio: PortfolioArgument,
    market: MarketOption = None,
    as_of: AsOfOption = None,
    scenarios: Annotated[Path | None, typer.Option(
        help="Scenario file (historical windows, hypothetical shocks) replacing the "
             "defaults of the stress parameter file.")] = None,
    method: Annotated[str | None, typer.Option(
        help=f"Margin held: a method ({', '.join(sorted(METHODS))}).")] = None,
    arrangement: Annotated[str | None, typer.Option(
        help=f"Margin held: an arrangement ({', '.join(ARRANGEMENTS)}; default "
             f"{DEFAULT_ARRANGEMENT}).")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    out: Annotated[Path | None, typer.Option(help="Write the output to this file.")] = None,
    max_stale_days: MaxStaleOption = None,
) -> None:
    """Stress PORTFOLIO: uncovered loss per account and Cover-1 / Cover-2 per scenario.

    Each scenario (historical windows of the bundled history, hypothetical shocks)
    revalues today's positions; the loss beyond the margin and collateral each account
    holds is uncovered, summed per clearing member.
    """
    from crossmargin.analytics.stress import StressTest, margin_held

    if output_format not in ("table", "json"):
        raise InputError("expected table or json", field="--format", value=output_format)
    if method is not None and arrangement is not None:
        raise InputError("give --method or --arrangement, not both", field="--method",
                         value=method)
    test = StressTest.from_params(scenarios=scenarios)
    book = load_portfolio(portfolio, as_of=parse_date(as_of, field="--as-of") if as_of
                          else None)
    snap = market_for(book, market, as_of, max_stale_days or [])
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True,
                  disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task(f"margin of {book.n_accounts:,} accounts", total=2)
        held = margin_held(book, snap, method=method, arrangement=None if method else
                           arrangement or DEFAULT_ARRANGEMENT)
        progress.update(task, advance=1, description="stress scenarios")
        result = test.run(book, snap, margin=held)
        progress.update(task, advance=1)
    emit(result.to_json(), output_format=output_format, out=out,
         table=lambda console: stress_table(console, result))
