"""``crossmargin population``: write a seeded population of accounts as Parquet."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from crossmargin.core.errors import InputError
from crossmargin.core.jsonout import dumps_document
from crossmargin.core.values import parse_date, parse_number
from crossmargin.interfaces.cli.errors import guarded
from crossmargin.interfaces.cli.market import MaxStaleOption, stale_limits
from crossmargin.market.build import snapshot_from_history

if TYPE_CHECKING:
    from crossmargin.analytics.populations import Population

__all__ = ["population_command", "population_summary"]


def _mix(values: list[str]) -> dict[str, float] | None:
    """Parse ``--mix ARCHETYPE=WEIGHT`` options (``None`` when none is given)."""
    out: dict[str, float] = {}
    for item in values:
        name, sep, weight = item.partition("=")
        if not sep or not name.strip():
            raise InputError("expected ARCHETYPE=WEIGHT", field="--mix", value=item)
        out[name.strip()] = parse_number(weight, field=f"--mix {name.strip()}", positive=True)
    return out or None


def population_summary(pop: Population) -> dict[str, Any]:
    """Return accounts, positions and collateral shortfalls per archetype (JSON-ready)."""
    book = pop.book
    positions = np.bincount(pop.archetype[book.pos_account], minlength=len(pop.archetypes))
    short = pop.collateral_value < pop.rough_requirement
    rows = []
    for k, name in enumerate(pop.archetypes):
        mine = pop.archetype == k
        rows.append({
            "archetype": name,
            "accounts": int(mine.sum()),
            "positions": int(positions[k]),
            "median_rough_requirement": round(float(np.median(pop.rough_requirement[mine])),
                                              2),
            "short_of_rough_requirement": int(short[mine].sum()),
        })
    return {
        "as_of": book.as_of.isoformat() if book.as_of else None,
        "currency": book.currency,
        "accounts": book.n_accounts,
        "positions": book.n_positions,
        "instruments": len(book.instruments),
        "members": len(set(book.members)),
        "archetypes": rows,
        "notes": list(pop.notes),
    }


def _table(console: Console, doc: dict[str, Any]) -> None:
    table = Table(title=f"Population on {doc['as_of']}: {doc['accounts']:,} accounts, "
                        f"{doc['positions']:,} positions, {doc['instruments']:,} "
                        f"instruments, {doc['members']} clearing members",
                  title_justify="left")
    for name in ("Archetype", "Accounts", "Positions",
                 f"Median rough requirement ({doc['currency']})", "Short of it"):
        table.add_column(name, justify="left" if name == "Archetype" else "right")
    for row in doc["archetypes"]:
        table.add_row(row["archetype"], f"{row['accounts']:,}", f"{row['positions']:,}",
                      f"{row['median_rough_requirement']:,.2f}",
                      f"{row['short_of_rough_requirement']:,}")
    console.print(table)
    console.print(f"files: {', '.join(doc['files'])}; {doc['seconds']['generate']:.2f} s to "
                  f"draw, {doc['seconds']['write']:.2f} s to write")
    for note in doc["notes"]:
        console.print(f"[dim]note: {note}[/dim]")


@guarded
def population_command(
    accounts: Annotated[int, typer.Option("--accounts", help="Number of accounts.")],
    as_of: Annotated[str, typer.Option(
        "--as-of", help="Date: contracts listed and priced on the bundled history then.")],
    out: Annotated[Path, typer.Option(
        help="Parquet file of positions; FILE.collateral.parquet and FILE.accounts.parquet "
             "are written beside it.")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed writes the same files.")
                    ] = 0,
    members: Annotated[int | None, typer.Option(
        help="Clearing members (default from the parameter file).")] = None,
    mix: Annotated[list[str] | None, typer.Option(
        "--mix", help="Archetype weight, e.g. hedge_fund=2 (repeat; default from the "
                      "parameter file). A named archetype the date cannot support is an "
                      "error.")] = None,
    max_stale_days: MaxStaleOption = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Draw a seeded population of accounts from archetypes and write it as Parquet.

    Market makers, basis traders, covered-call and protective-put retail, hedge funds,
    Treasury basis trades, crypto funds and directional books, spread over clearing
    members, with collateral; archetypes the date's data cannot price are left out.
    """
    from crossmargin.analytics.populations import population, write_population

    if output_format not in ("table", "json"):
        raise InputError("expected table or json", field="--format", value=output_format)
    day = parse_date(as_of, field="--as-of")
    market = snapshot_from_history(day, max_stale_days=stale_limits(max_stale_days or []))
    status = Console(stderr=True).status(f"drawing {accounts:,} accounts") \
        if sys.stderr.isatty() else None
    if status is not None:
        status.start()
    try:
        t0 = time.perf_counter()
        pop = population(accounts, as_of=day, seed=seed, members=members,
                         mix=_mix(mix or []), market=market)
        t1 = time.perf_counter()
        files = write_population(pop, out)
        t2 = time.perf_counter()
    finally:
        if status is not None:
            status.stop()
    doc = {**population_summary(pop), "seed": seed, "files": [str(f) for f in files],
           "seconds": {"generate": round(t1 - t0, 3), "write": round(t2 - t1, 3)}}
    if output_format == "json":
        typer.echo(dumps_document(doc), nl=False)
        return
    _table(Console(width=None if sys.stdout.isatty() else 160), doc)
