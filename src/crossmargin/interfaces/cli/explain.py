"""``crossmargin explain``: one account's margin split into its positions and lines."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from crossmargin.book.io import load_portfolio
from crossmargin.core.jsonout import dumps_document
from crossmargin.core.values import parse_date
from crossmargin.interfaces.cli.errors import guarded
from crossmargin.interfaces.cli.market import (
    AsOfOption,
    MarketOption,
    MaxStaleOption,
    PortfolioArgument,
    market_for,
)
from crossmargin.methods.registry import get_method

__all__ = ["ExplainFormat", "explain_command", "explain_table"]


class ExplainFormat(StrEnum):
    """Output formats of ``crossmargin explain``."""

    TABLE = "table"
    JSON = "json"


def _quantity(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.6g}"


def explain_table(console: Console, doc: dict[str, Any]) -> None:
    """Print an attribution (its JSON form, amounts to the cent) as a table."""
    currency = doc["currency"]
    table = Table(title=f"{doc['method']} margin of {doc['account']}: "
                        f"{doc['initial_margin']:,.2f} {currency}", title_justify="left")
    for name, justify in (("Position", "left"), ("Asset class", "left"),
                          ("Quantity", "right"), ("Contribution", "right"),
                          ("Add-ons", "right"), ("Total", "right"),
                          ("Incremental", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for p in doc["positions"]:
        add_ons = sum(p["add_ons"].values())
        table.add_row(
            p["instrument"] + ("" if p["margined"] else " (not margined)"),
            p["asset_class"], _quantity(p["quantity"]), f"{p['contribution']:,.2f}",
            f"{add_ons:,.2f}" if p["add_ons"] else "-", f"{p['total']:,.2f}",
            "-" if p["incremental"] is None else f"{p['incremental']:,.2f}")
    table.add_section()
    for name, amount in doc["adjustments"].items():
        table.add_row(name, "", "", "", "", f"{amount:,.2f}", "")
    table.add_section()
    table.add_row("initial margin", "", "", "", "", f"{doc['check']['sum']:,.2f}", "")
    console.print(table)
    classes = ", ".join(f"{k} {v:,.2f}" for k, v in doc["asset_classes"].items())
    console.print(f"by asset class: {classes or '-'}")
    driver = doc["driver"]
    if driver:
        tail = len(driver["scenarios"])
        console.print(f"driver: {driver['group']}, {driver['scenario']}"
                      + (f" (mean of {tail} tail scenarios)" if tail > 1 else "")
                      + f", loss {driver['loss']:,.2f} {currency}")
    for note in doc["notes"]:
        console.print(f"[dim]note: {note}[/dim]")


@guarded
def explain_command(
    portfolio: PortfolioArgument,
    account: Annotated[str, typer.Option("--account", help="Account id.")],
    method: Annotated[str, typer.Option(
        help="Scenario method: grid, tims, crypto-pm, fhs.")] = "grid",
    market: MarketOption = None,
    as_of: AsOfOption = None,
    output_format: Annotated[ExplainFormat, typer.Option("--format")] = ExplainFormat.TABLE,
    incremental: Annotated[bool, typer.Option(
        "--incremental/--no-incremental",
        help="Also margin the account without each position.")] = True,
    max_stale_days: MaxStaleOption = None,
) -> None:
    """Split an account's margin into its positions' contributions and named lines.

    Contributions are each position's share of the scenario losses at the driving
    scenarios (the tail for expected shortfall); what the method adds beyond them
    (floors, minima, credits, add-ons, rounding) is shown as lines, and everything
    adds up to the initial margin.
    """
    from crossmargin.analytics.attribution import explain

    book = load_portfolio(portfolio, as_of=parse_date(as_of, field="--as-of") if as_of
                          else None)
    snap = market_for(book, market, as_of, max_stale_days or [])
    doc = explain(get_method(method), book, snap, account,
                  incremental=incremental).to_json()
    if output_format is ExplainFormat.JSON:
        typer.echo(dumps_document(doc), nl=False)
        return
    explain_table(Console(width=None if sys.stdout.isatty() else 160), doc)
