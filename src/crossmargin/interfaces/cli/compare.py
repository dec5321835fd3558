"""``crossmargin compare``: the patchwork against one portfolio, account by account."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from crossmargin.arrangements import ARRANGEMENTS
from crossmargin.book.io import load_portfolio
from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_date
from crossmargin.interfaces.cli.errors import distinct, guarded
from crossmargin.interfaces.cli.market import (
    AsOfOption,
    MarketOption,
    MaxStaleOption,
    PortfolioArgument,
    market_for,
)
from crossmargin.interfaces.cli.render import emit

if TYPE_CHECKING:
    from crossmargin.arrangements.compare import Comparison

__all__ = ["compare_command", "compare_table"]


def _pairs(values: list[str], *, field: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError("expected SILO=METHOD", field=field, value=item)
        out[key.strip()] = value.strip()
    return out


def compare_table(console: Console, cmp: Comparison) -> None:
    """Print one row per account and arrangement, with what produced the figure."""
    table = Table(title=f"Arrangements on {cmp.as_of} (amounts in {cmp.currency})",
                  title_justify="left")
    for name in ("Account", "Arrangement", "Initial", "Maintenance", "Collateral",
                 "Excess", "Freed vs silo", "What drove it"):
        table.add_column(name, justify="left" if name in ("Account", "Arrangement",
                                                          "What drove it") else "right")
    doc = cmp.to_json()
    for acct in doc["accounts"]:
        for k, row in enumerate(acct["arrangements"]):
            excess = row["excess"]
            table.add_row(
                acct["account"] if k == 0 else "", row["arrangement"],
                f"{row['initial_margin']:,.2f}", f"{row['maintenance_margin']:,.2f}",
                f"{row['collateral_value']:,.2f}",
                f"[{'green' if excess >= 0 else 'red'}]{excess:,.2f}[/]",
                f"{row['capital_freed_vs_silo']:,.2f}", _why(row))
        table.add_section()
    console.print(table)
    for note in doc["notes"]:
        console.print(f"[dim]note: {note}[/dim]")


def _why(row: dict[str, Any]) -> str:
    comp, detail = row["components"], row.get("detail", {})
    if row["arrangement"] == "silo":
        parts = [f"{k.split('.')[0]} {v:,.0f}" for k, v in comp.items()
                 if k.endswith(".initial_margin") and v]
        short = sum(v for k, v in comp.items() if k.endswith(".shortfall"))
        return ", ".join(parts) + (f"; short {short:,.0f}" if short else "")
    if row["arrangement"] == "conservative":
        return f"binding: {detail.get('binding', '-')}"
    offset = comp.get("cross_silo_offset", 0.0)
    driver = detail.get("driver", {}).get("scenario", "")
    return f"cross-silo offset {offset:,.0f}" + (f"; {driver}" if driver else "")


@guarded
def compare_command(
    portfolio: PortfolioArgument,
    market: MarketOption = None,
    as_of: AsOfOption = None,
    arrangement: Annotated[list[str] | None, typer.Option(
        help=f"Arrangements besides silo: {', '.join(ARRANGEMENTS[1:])} (default: all).")
    ] = None,
    silo_method: Annotated[list[str] | None, typer.Option(
        "--silo-method", help="Override a silo's method, e.g. securities=tims.")] = None,
    unified_method: Annotated[str | None, typer.Option(
        help="The unified model (default from the parameter file: fhs).")] = None,
    span_file: Annotated[Path | None, typer.Option(
        "--span-file", help="SPAN 4 XML file for the futures silo's span method.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    out: Annotated[Path | None, typer.Option(help="Write the output to this file.")] = None,
    max_stale_days: MaxStaleOption = None,
) -> None:
    """Compare today's silos, the conservative rule and one unified portfolio.

    For every account: initial and maintenance margin, collateral after haircuts, the
    excess or shortfall, and the capital freed against the silos.
    """
    from crossmargin.arrangements.compare import compare

    if output_format not in ("table", "json"):
        raise InputError("expected table or json", field="--format", value=output_format)
    book = load_portfolio(portfolio, as_of=parse_date(as_of, field="--as-of") if as_of
                          else None)
    snap = market_for(book, market, as_of, max_stale_days or [])
    options = {"span": {"span_file": span_file}} if span_file is not None else {}
    chosen = distinct(arrangement, field="--arrangement") or ARRANGEMENTS[1:]
    cmp = compare(book, snap, arrangements=("silo", *chosen),
                  silo_methods=_pairs(silo_method or [], field="--silo-method"),
                  unified_method=unified_method, method_options=options)
    emit(cmp.to_json(), output_format=output_format, out=out,
         table=lambda console: compare_table(console, cmp))
