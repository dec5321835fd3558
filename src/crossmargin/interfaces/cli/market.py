"""The market a command runs on: a market file, or the bundled history on a date."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, TypeAlias

import typer

from crossmargin.book.book import Book
from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_date
from crossmargin.market.build import snapshot_from_history
from crossmargin.market.io import load_market
from crossmargin.market.snapshot import MarketSnapshot

__all__ = ["AsOfOption", "MarketOption", "MaxStaleOption", "PortfolioArgument",
           "market_for", "stale_limits"]

#: The options a command that runs on a portfolio and its market takes (typer).
PortfolioArgument: TypeAlias = Annotated[Path, typer.Argument(
    help="Portfolio file (.yaml, .json, .csv, .parquet).")]
MarketOption: TypeAlias = Annotated[Path | None, typer.Option(
    help="Market file (.yaml/.json).")]
AsOfOption: TypeAlias = Annotated[str | None, typer.Option(
    "--as-of", help="Build the market from the bundled history on this date.")]
MaxStaleOption: TypeAlias = Annotated[list[str] | None, typer.Option(
    "--max-stale-days", help="Allow older history data, e.g. curve=500 (KIND=DAYS).")]


def stale_limits(values: list[str]) -> dict[str, int]:
    """Parse ``--max-stale-days KIND=DAYS`` options."""
    limits: dict[str, int] = {}
    for item in values:
        kind, _, days = item.partition("=")
        if not (days.strip().isascii() and days.strip().isdigit()):
            raise InputError("expected KIND=DAYS (kinds: price, vol, curve)",
                             field="--max-stale-days", value=item)
        limits[kind.strip()] = int(days)
    return limits


def market_for(book: Book, market: Path | None, as_of: str | None, stale: list[str]
               ) -> MarketSnapshot:
    """Return the market of ``book``: ``--market FILE`` or the history on ``--as-of``.

    Raises
    ------
    InputError
        Both or neither given where the book has no date, or a market file for another
        date than the portfolio's.
    """
    if market is not None and as_of is not None:
        raise InputError("give --market or --as-of, not both", field="--as-of", value=as_of)
    if market is not None:
        snap = load_market(market)
        if book.as_of is not None and book.as_of != snap.as_of:
            raise InputError(f"market is for {snap.as_of}, portfolio for {book.as_of}",
                             source=str(market), field="as_of", value=snap.as_of.isoformat())
        return snap
    when: date | None = parse_date(as_of, field="--as-of") if as_of else book.as_of
    if when is None:
        raise InputError("no as_of in the portfolio: give --market FILE or --as-of DATE",
                         source=book.source, field="as_of")
    return snapshot_from_history(when, max_stale_days=stale_limits(stale))
