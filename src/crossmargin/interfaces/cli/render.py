"""Render margin results as JSON (stable shape) or as a rich table."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from crossmargin.book.book import Book
from crossmargin.core.jsonout import dumps_document, iter_document
from crossmargin.interfaces.cli.errors import write_atomically
from crossmargin.results.margin import MarginResult

__all__ = ["TABLE_ACCOUNTS", "emit", "margin_json", "margin_table"]

#: Accounts a margin table lists at most (the JSON has every account).
TABLE_ACCOUNTS = 100


def emit(doc: Mapping[str, Any], *, output_format: str, out: Path | None,
         table: Callable[[Console], None]) -> None:
    """Print a command's output, or write it to ``out``: ``doc`` as JSON, or a table.

    Parameters
    ----------
    doc : mapping
        The command's JSON document.
    output_format : str
        ``json`` or ``table``.
    out : Path, optional
        File to write (atomically) instead of printing.
    table : callable
        ``table(console)`` prints the table form (the terminal's width, or 160 columns
        when writing to a pipe or a file).
    """
    if output_format == "json":
        text = dumps_document(doc)
        if out is not None:
            write_atomically(out, text)
        else:
            typer.echo(text, nl=False)
        return
    console = Console(record=out is not None, width=None if sys.stdout.isatty() else 160)
    table(console)
    if out is not None:
        write_atomically(out, console.export_text())


def margin_json(book: Book, results: Sequence[MarginResult], *, input_hash: str
                ) -> Iterator[str]:
    """Yield the documented JSON of ``crossmargin margin`` in pieces, account by account.

    Shape: ``{"as_of", "currency", "input_hash", "notes", "accounts": [{"account",
    "methods": [{"method", "initial_margin", "maintenance_margin", "components",
    "driver", "params": {"id", "version", "source"}}]}]}``. Each account is built as it
    is written, so a book of any size never sits in memory as JSON.
    """
    accounts = ({"account": acct, "methods": [r.account_json(a) for r in results]}
                for a, acct in enumerate(book.account_ids))
    payload = {
        "as_of": results[0].as_of.isoformat() if results else None,
        "currency": book.currency,
        "input_hash": input_hash,
        "notes": sorted({n for r in results for n in r.notes}),
        "accounts": accounts,
    }
    return iter_document(payload)


def margin_table(console: Console, book: Book, results: Sequence[MarginResult],
                 *, title: str) -> None:
    """Print one row per account and method: requirements and what drove them.

    A book of more than ``TABLE_ACCOUNTS`` accounts lists the ones with the largest
    initial margin under the first method, in book order, and says how many it leaves
    out (the JSON has every account).
    """
    table = Table(title=title, title_justify="left")
    table.add_column("Account")
    table.add_column("Method")
    table.add_column(f"Initial ({book.currency})", justify="right")
    table.add_column(f"Maintenance ({book.currency})", justify="right")
    table.add_column("Largest group charge")
    table.add_column("Driving scenario")
    shown_rows = list(range(book.n_accounts))
    if results and book.n_accounts > TABLE_ACCOUNTS:
        largest = np.argsort(-results[0].initial_margin, kind="stable")[:TABLE_ACCOUNTS]
        shown_rows = np.sort(largest).tolist()
    for a in shown_rows:
        for result in results:
            row = result.account_json(a)
            groups = row["components"].get("groups", {})
            top = max(groups.items(), key=lambda kv: kv[1]) if groups else ("", 0.0)
            table.add_row(
                book.account_ids[a],
                result.method,
                f"{row['initial_margin']:,.2f}",
                f"{row['maintenance_margin']:,.2f}",
                f"{top[0]} {top[1]:,.2f}" if groups else "-",
                str(row["driver"].get("scenario", "-")),
            )
    console.print(table)
    if len(shown_rows) < book.n_accounts:
        console.print(f"[dim]{len(shown_rows):,} of {book.n_accounts:,} accounts shown: the "
                      f"largest initial margins under {results[0].method}; --format json "
                      f"lists every account[/dim]")
    for note in sorted({n for r in results for n in r.notes}):
        console.print(f"[dim]note: {note}[/dim]")
