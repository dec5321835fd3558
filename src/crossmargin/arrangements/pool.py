"""Collateral as the arrangements see it: one pool, or one value per silo.

Each asset kind is valued under the haircut schedule made for it (coins and stablecoins
under a crypto venue's schedule, cash, securities, Treasuries and gold under the
BCBS-IOSCO grid); a silo recognises only the kinds it accepts. Holdings come from
:func:`~crossmargin.collateral.value_collateral`, one per (account, asset), sorted by
account, so every schedule's valuation lines up holding by holding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from crossmargin.book.book import Book
from crossmargin.collateral import (
    AssetKind,
    CollateralValuation,
    HaircutSchedule,
    load_schedule,
    value_collateral,
)
from crossmargin.collateral.haircuts import floor_cents
from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.market.snapshot import MarketSnapshot

__all__ = ["CollateralPool", "asset_kinds", "dense_by_account", "schedule", "value_pool"]


@cache
def schedule(name: str) -> HaircutSchedule:
    """Return the latest bundled haircut schedule ``name`` (cached)."""
    return load_schedule(name)


def asset_kinds(names: Sequence[str], *, field: str) -> frozenset[AssetKind]:
    """Parse a list of asset kinds from a parameter file."""
    try:
        return frozenset(AssetKind(n) for n in names)
    except ValueError:
        raise InputError(f"unknown asset kind (known: {', '.join(k.value for k in AssetKind)})",
                         field=field, value=list(names)) from None


def dense_by_account(values: FloatArray, offsets: IntArray) -> FloatArray:
    """Lay per-holding rows out as (account, rank within account, ...), zero padded.

    Parameters
    ----------
    values : FloatArray, shape (n_holdings, ...)
    offsets : IntArray, shape (n_accounts + 1,)
        Holdings of account ``a`` are ``offsets[a]:offsets[a + 1]``.
    """
    counts = np.diff(offsets)
    width = int(counts.max(initial=0))
    account = np.repeat(np.arange(counts.size), counts)
    rank = np.arange(values.shape[0]) - offsets[:-1][account]
    out = np.zeros((counts.size, max(width, 1), *values.shape[1:]))
    out[account, rank] = values
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CollateralPool:
    """Every account's collateral valued under the schedule of each holding's kind.

    Attributes
    ----------
    valuations : mapping of str to CollateralValuation
        Each schedule's valuation of every holding.
    chosen : ndarray of str, shape (n_holdings,)
        The schedule that values each holding.
    value : FloatArray, shape (n_holdings,)
        What each holding counts for under its schedule (a liability: its full value,
        negative).
    total : FloatArray, shape (n_accounts,)
        Sum of ``value`` per account, rounded down to the cent.
    """

    valuations: Mapping[str, CollateralValuation]
    chosen: np.ndarray
    value: FloatArray
    total: FloatArray

    @property
    def reference(self) -> CollateralValuation:
        """One of the valuations, for what all share (holdings, assets, offsets)."""
        return next(iter(self.valuations.values()))

    def kinds(self) -> list[AssetKind]:
        """Kind of each holding."""
        ref = self.reference
        return [ref.assets[int(a)].kind for a in ref.asset]

    def detail(self, account_row: int) -> list[dict[str, Any]]:
        """Return account ``account_row``'s holdings, each under its own schedule."""
        ref = self.reference
        lo, hi = int(ref.offsets[account_row]), int(ref.offsets[account_row + 1])
        names = {str(self.chosen[h]) for h in range(lo, hi)}
        holdings = {n: self.valuations[n].detail(account_row)["holdings"] for n in names}
        return [{**holdings[str(self.chosen[h])][h - lo], "schedule": str(self.chosen[h])}
                for h in range(lo, hi)]


def value_pool(book: Book, market: MarketSnapshot, *, by_kind: Mapping[str, str],
               default: str, exposures: Book | None = None) -> CollateralPool:
    r"""Value every account's collateral as one pool.

    Parameters
    ----------
    book : Book
    market : MarketSnapshot
    by_kind : mapping of str to str
        Asset kind (``coin``, ``stablecoin``...) -> haircut schedule name.
    default : str
        Schedule of the other kinds.
    exposures : Book, optional
        Positions the pool secures (for the wrong-way check; default: the book's).

    Notes
    -----
    :math:`C_a = \lfloor \sum_{h \in a} V_h^{s(h)} \rfloor_{\text{cent}}`, with
    :math:`s(h)` the schedule of holding :math:`h`'s kind.
    """
    names = sorted({default, *by_kind.values()})
    valuations = {n: value_collateral(book, market, schedule(n), exposures=exposures)
                  for n in names}
    ref = valuations[default]
    of_asset = np.asarray([by_kind.get(a.kind.value, default) for a in ref.assets] or [""],
                          dtype=object)
    chosen = of_asset[ref.asset] if ref.asset.size else np.empty(0, dtype=object)
    value = np.zeros(ref.asset.size)
    for n in names:
        mask = chosen == n
        value[mask] = valuations[n].value[mask]
    account = ref.account
    total = floor_cents(np.bincount(account, weights=value, minlength=book.n_accounts)
                        .astype(np.float64))
    return CollateralPool(valuations=valuations, chosen=chosen, value=value, total=total)
