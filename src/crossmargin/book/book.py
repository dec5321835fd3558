"""Accounts and the columnar :class:`Book` that holds many of them.

A book keeps each distinct instrument once and its positions as flat arrays sorted by
account (CSR layout), so a million accounts cost a few arrays, not a million objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from crossmargin.book.instruments import Instrument
from crossmargin.core.errors import InputError
from crossmargin.core.money import check_currency
from crossmargin.core.typing import BoolArray, FloatArray, IntArray

__all__ = ["Account", "Book", "Collateral", "Order", "Position"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """A quantity of one instrument; ``mark`` (price per unit) overrides the model price."""

    instrument: Instrument
    quantity: float
    mark: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Collateral:
    """A collateral balance: cash in a currency, a coin, or a security by symbol.

    ``instrument`` carries the terms of a pledged security that a symbol alone does not
    describe (a Treasury note: coupon and maturity); ``amount`` is then its face value.
    """

    asset: str
    amount: float
    instrument: Instrument | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """An open order: worst-case fill of ``quantity`` at ``limit_price`` (or market)."""

    instrument: Instrument
    quantity: float
    limit_price: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """One account: positions, collateral balances, open orders and its clearing member."""

    id: str
    positions: tuple[Position, ...] = ()
    collateral: tuple[Collateral, ...] = ()
    orders: tuple[Order, ...] = ()
    member: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, weakref_slot=True)
class Book:
    """Many accounts in columnar form.

    Attributes
    ----------
    as_of : date or None
        Valuation date the book was written for (``None`` when the file gives none).
    currency : str
        Reporting currency.
    account_ids : tuple of str, shape (n_accounts,)
    instruments : tuple of Instrument, shape (n_instruments,)
        Each distinct instrument once.
    account_offsets : IntArray, shape (n_accounts + 1,)
        Positions of account ``a`` are ``account_offsets[a]:account_offsets[a+1]``.
    pos_instrument : IntArray, shape (n_positions,)
        Row of ``instruments`` each position holds.
    pos_quantity : FloatArray, shape (n_positions,)
    marks : FloatArray, shape (n_instruments,)
        Price per unit given in the file, NaN where the model prices the instrument.
    collateral : tuple of tuple of Collateral, shape (n_accounts,)
    orders : tuple of tuple of Order, shape (n_accounts,)
    source : str
        Where the book was read from (for error messages and provenance).
    members : tuple of str, shape (n_accounts,) or ()
        The clearing member each account belongs to (for Cover-1 / Cover-2); empty when
        the file names none, each account then standing alone.
    """

    as_of: date | None
    currency: str
    account_ids: tuple[str, ...]
    instruments: tuple[Instrument, ...]
    account_offsets: IntArray
    pos_instrument: IntArray
    pos_quantity: FloatArray
    marks: FloatArray
    collateral: tuple[tuple[Collateral, ...], ...]
    orders: tuple[tuple[Order, ...], ...]
    source: str = "<memory>"
    members: tuple[str, ...] = ()
    _index: dict[Instrument, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        check_currency(self.currency, field="currency", source=self.source)
        n_acc = len(self.account_ids)
        if self.account_offsets.shape != (n_acc + 1,):
            raise InputError("account_offsets must have n_accounts + 1 entries",
                             source=self.source, field="account_offsets")
        if self.members and len(self.members) != n_acc:
            raise InputError("members must name one clearing member per account",
                             source=self.source, field="member")
        if len(set(self.account_ids)) != n_acc:
            dup = pd.Series(self.account_ids).duplicated()
            raise InputError("duplicate account id", source=self.source, field="accounts.id",
                             value=self.account_ids[int(np.argmax(dup.to_numpy()))])
        for arr in (self.account_offsets, self.pos_instrument, self.pos_quantity, self.marks):
            arr.setflags(write=False)
        self._index.update({inst: i for i, inst in enumerate(self.instruments)})

    @property
    def n_accounts(self) -> int:
        """Number of accounts."""
        return len(self.account_ids)

    @property
    def n_positions(self) -> int:
        """Number of positions over all accounts."""
        return int(self.pos_quantity.shape[0])

    @property
    def pos_account(self) -> IntArray:
        """Account row of each position, shape (n_positions,)."""
        counts = np.diff(self.account_offsets)
        return np.repeat(np.arange(self.n_accounts, dtype=np.int64), counts)

    def instrument_index(self, instrument: Instrument) -> int | None:
        """Return the row of ``instrument`` in this book, or ``None`` if not held."""
        return self._index.get(instrument)

    def account(self, index: int) -> Account:
        """Return account ``index`` as an object (for display and single-account work)."""
        lo, hi = int(self.account_offsets[index]), int(self.account_offsets[index + 1])
        positions = tuple(
            Position(
                instrument=self.instruments[int(i)],
                quantity=float(q),
                mark=None if np.isnan(self.marks[int(i)]) else float(self.marks[int(i)]),
            )
            for i, q in zip(self.pos_instrument[lo:hi], self.pos_quantity[lo:hi], strict=True)
        )
        return Account(
            id=self.account_ids[index],
            positions=positions,
            collateral=self.collateral[index],
            orders=self.orders[index],
            member=self.members[index] if self.members else None,
        )

    def positions_frame(self) -> pd.DataFrame:
        """Return one row per position: account, instrument label, kind, quantity."""
        inst = self.pos_instrument
        return pd.DataFrame(
            {
                "account": np.asarray(self.account_ids, dtype=object)[self.pos_account],
                "instrument": np.asarray([i.label for i in self.instruments], dtype=object)[inst],
                "kind": np.asarray([i.kind for i in self.instruments], dtype=object)[inst],
                "asset_class": np.asarray(
                    [i.asset_class.value for i in self.instruments], dtype=object
                )[inst],
                "quantity": self.pos_quantity,
            }
        )

    @classmethod
    def from_accounts(
        cls,
        accounts: Sequence[Account],
        *,
        as_of: date | None,
        currency: str,
        source: str = "<memory>",
    ) -> Book:
        """Build a book from account objects, deduplicating instruments.

        Raises
        ------
        InputError
            When two positions on one instrument give different marks.
        """
        index: dict[Instrument, int] = {}
        marks: list[float] = []
        offsets = [0]
        pos_inst: list[int] = []
        pos_qty: list[float] = []
        for a, acct in enumerate(accounts):
            for p, pos in enumerate(acct.positions):
                row = index.setdefault(pos.instrument, len(index))
                if row == len(marks):
                    marks.append(np.nan)
                if pos.mark is not None:
                    if not np.isnan(marks[row]) and marks[row] != pos.mark:
                        raise InputError(
                            f"conflicts with mark {marks[row]!r} given for the same instrument",
                            source=source,
                            field=f"accounts[{a}].positions[{p}].mark",
                            value=pos.mark,
                        )
                    marks[row] = pos.mark
                pos_inst.append(row)
                pos_qty.append(pos.quantity)
            offsets.append(len(pos_inst))
        return cls(
            as_of=as_of,
            currency=currency,
            account_ids=tuple(a.id for a in accounts),
            instruments=tuple(index),
            account_offsets=np.asarray(offsets, dtype=np.int64),
            pos_instrument=np.asarray(pos_inst, dtype=np.int64),
            pos_quantity=np.asarray(pos_qty, dtype=np.float64),
            marks=np.asarray(marks, dtype=np.float64),
            collateral=tuple(a.collateral for a in accounts),
            orders=tuple(a.orders for a in accounts),
            source=source,
            members=tuple(a.member or a.id for a in accounts)
            if any(a.member for a in accounts) else (),
        )

    def select_positions(self, keep: BoolArray) -> Book:
        """Return the book restricted to the positions where ``keep`` is true.

        Every account stays (possibly with no positions, collateral and orders intact);
        instruments no kept position holds are dropped.

        Parameters
        ----------
        keep : BoolArray, shape (n_positions,)
        """
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (self.n_positions,):
            raise ValueError("keep must have one entry per position")
        used = np.unique(self.pos_instrument[keep])
        new_row = np.full(len(self.instruments), -1, dtype=np.int64)
        new_row[used] = np.arange(used.size)
        counts = np.bincount(self.pos_account[keep], minlength=self.n_accounts)
        return Book(
            as_of=self.as_of,
            currency=self.currency,
            account_ids=self.account_ids,
            instruments=tuple(self.instruments[int(i)] for i in used),
            account_offsets=np.r_[0, np.cumsum(counts)].astype(np.int64),
            pos_instrument=new_row[self.pos_instrument[keep]],
            pos_quantity=self.pos_quantity[keep].copy(),
            marks=self.marks[used].copy(),
            collateral=self.collateral,
            orders=self.orders,
            source=self.source,
            members=self.members,
        )

    def accounts(self) -> Iterable[Account]:
        """Iterate the accounts as objects (slow for large books; for display)."""
        return (self.account(i) for i in range(self.n_accounts))
