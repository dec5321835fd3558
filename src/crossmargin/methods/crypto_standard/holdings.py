"""Net holdings per account and group, with open orders and collateral, as flat arrays.

Venue margin rules apply to the net position an account holds in one contract (or its
net balance of one coin), not to the lines of a portfolio file, and count open orders at
their worst-case fill. These helpers turn a :class:`~crossmargin.book.book.Book` into
such segments with array operations only: the per-account tuples of orders and collateral
are flattened once, never walked account by account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, compress
from operator import attrgetter

import numpy as np
import numpy.typing as npt

from crossmargin.book.book import Book
from crossmargin.book.instruments import Instrument
from crossmargin.core.errors import InputError
from crossmargin.core.typing import BoolArray, FloatArray, IntArray

__all__ = ["Balances", "Holdings", "OpenOrders", "account_sums", "collateral_balances",
           "net_holdings", "open_orders"]

ObjectArray = npt.NDArray[np.object_]


def account_sums(index: IntArray, values: FloatArray, n: int) -> FloatArray:
    """Return the sums of ``values`` by ``index`` (an account or segment), shape (n,)."""
    return np.bincount(index, weights=values, minlength=n).astype(np.float64)


def _flat_account(counts: IntArray) -> IntArray:
    return np.repeat(np.arange(counts.size, dtype=np.int64), counts)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class OpenOrders:
    """The open orders a method covers, flattened.

    Attributes
    ----------
    instruments : tuple of Instrument, shape (n_instruments,)
        The book's instruments, then the covered ones that only orders name.
    account, instrument : IntArray, shape (n_orders,)
    quantity : FloatArray, shape (n_orders,)
        Buys positive, sells negative.
    limit_price : FloatArray, shape (n_orders,)
        Limit price per unit in the instrument's quote currency; NaN for market orders.
    notes : tuple of str
        What was left out (orders on instruments the method does not cover).
    """

    instruments: tuple[Instrument, ...]
    account: IntArray
    instrument: IntArray
    quantity: FloatArray
    limit_price: FloatArray
    notes: tuple[str, ...]


def open_orders(book: Book, *, covers: Callable[[Instrument], bool], method: str
                ) -> OpenOrders:
    """Flatten the book's open orders, keeping those on instruments ``method`` covers.

    Raises
    ------
    InputError
        When an order quantity is not finite.
    """
    flat = tuple(chain.from_iterable(book.orders))
    counts = np.fromiter(map(len, book.orders), dtype=np.int64, count=book.n_accounts)
    insts = list(map(attrgetter("instrument"), flat))
    index = {inst: i for i, inst in enumerate(book.instruments)}
    for inst in dict.fromkeys(insts):
        index.setdefault(inst, len(index))
    row = np.fromiter(map(index.__getitem__, insts), dtype=np.int64, count=len(insts))
    quantity = np.fromiter(map(attrgetter("quantity"), flat), dtype=np.float64,
                           count=len(flat))
    limit = np.array(list(map(attrgetter("limit_price"), flat)), dtype=np.float64)
    account = _flat_account(counts)
    if not np.all(np.isfinite(quantity)):
        bad = int(np.flatnonzero(~np.isfinite(quantity))[0])
        raise InputError("must be finite", source=book.source,
                         field=f"accounts[{int(account[bad])}].orders.quantity",
                         value=float(quantity[bad]))
    covered = np.fromiter(map(covers, index), dtype=bool, count=len(index))
    keep = covered[row]
    notes: tuple[str, ...] = ()
    if not keep.all():
        notes = (f"{method} leaves {int((~keep).sum())} open order(s) on instruments "
                 "outside its scope unmargined",)
    # the book's instruments keep their rows; uncovered ones only orders name are dropped
    listed = covered | (np.arange(len(index)) < len(book.instruments))
    new_row = np.cumsum(listed) - 1
    return OpenOrders(instruments=tuple(compress(index, listed)), account=account[keep],
                      instrument=new_row[row[keep]], quantity=quantity[keep],
                      limit_price=limit[keep], notes=notes)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Balances:
    """Collateral balances flattened.

    Attributes
    ----------
    account : IntArray, shape (n_balances,)
    asset : ObjectArray of str, shape (n_balances,)
    amount : FloatArray, shape (n_balances,)
        Negative for a borrow.
    """

    account: IntArray
    asset: ObjectArray
    amount: FloatArray


def collateral_balances(book: Book) -> Balances:
    """Flatten the book's collateral balances (every account, every asset)."""
    flat = tuple(chain.from_iterable(book.collateral))
    counts = np.fromiter(map(len, book.collateral), dtype=np.int64, count=book.n_accounts)
    return Balances(
        account=_flat_account(counts),
        asset=np.array(list(map(attrgetter("asset"), flat)), dtype=object),
        amount=np.fromiter(map(attrgetter("amount"), flat), dtype=np.float64,
                           count=len(flat)),
    )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Holdings:
    """Net holdings of (account, group) segments and the open orders on each.

    Attributes
    ----------
    account, group : IntArray, shape (n_segments,)
        Sorted by account, then group.
    quantity : FloatArray, shape (n_segments,)
        Net quantity held.
    bids, asks : FloatArray, shape (n_segments,)
        Total quantity of open buy and sell orders (both non-negative).
    order_segment : IntArray, shape (n_orders,)
        Segment of each order.
    order_buy : BoolArray, shape (n_orders,)
        True for a buy order.
    """

    account: IntArray
    group: IntArray
    quantity: FloatArray
    bids: FloatArray
    asks: FloatArray
    order_segment: IntArray
    order_buy: BoolArray

    def order_sums(self, values: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Sum ``values`` (one per order) over each segment's buy and sell orders."""
        n = self.account.size
        return (account_sums(self.order_segment, np.where(self.order_buy, values, 0.0), n),
                account_sums(self.order_segment, np.where(self.order_buy, 0.0, values), n))


def net_holdings(*, n_groups: int, account: IntArray, group: IntArray, quantity: FloatArray,
                 order_account: IntArray, order_group: IntArray, order_quantity: FloatArray
                 ) -> Holdings:
    r"""Net the quantities and the open orders of each (account, group) segment.

    Parameters
    ----------
    n_groups : int
        Number of groups (contracts, coins) that ``group`` indexes.
    account, group : IntArray, shape (n,)
        Account and group of each holding line (positions, balances).
    quantity : FloatArray, shape (n,)
    order_account, order_group : IntArray, shape (n_orders,)
    order_quantity : FloatArray, shape (n_orders,)
        Buys positive.

    Notes
    -----
    :math:`q_{a,g} = \sum q`, :math:`B_{a,g} = \sum_{o>0} o`, :math:`A_{a,g} =
    \sum_{o<0} |o|`; a segment exists where an account holds or orders something.
    """
    key = account * n_groups + group
    order_key = order_account * n_groups + order_group
    keys, inverse = np.unique(np.concatenate([key, order_key]), return_inverse=True)
    n = keys.size
    order_segment = inverse[key.size:].astype(np.int64)
    buy = order_quantity > 0
    return Holdings(
        account=(keys // n_groups).astype(np.int64),
        group=(keys % n_groups).astype(np.int64),
        quantity=account_sums(inverse[:key.size], quantity, n),
        bids=account_sums(order_segment, np.where(buy, order_quantity, 0.0), n),
        asks=account_sums(order_segment, np.where(buy, 0.0, -order_quantity), n),
        order_segment=order_segment,
        order_buy=buy,
    )
