"""Each account's net position per instrument, grouped by (account, underlying).

Strategies combine positions of one account on one underlying, so the method works on
these segments; positions on the same instrument net first (a long and a short of one
option series are no position at all).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossmargin.book.book import Book
from crossmargin.core.typing import FloatArray, IntArray

__all__ = ["Holdings", "net_holdings"]

#: A net quantity smaller than this fraction of the gross quantity it nets is zero.
NET_TOLERANCE = 1e-12


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Holdings:
    """Net positions sorted by account, underlying and instrument.

    Attributes
    ----------
    account : IntArray, shape (n,)
    instrument : IntArray, shape (n,)
    quantity : FloatArray, shape (n,)
        Signed net quantity (shares or contracts), never zero.
    segment : IntArray, shape (n,)
        The (account, underlying) segment of each holding, increasing.
    segment_offsets : IntArray, shape (n_segments + 1,)
        Holdings of segment ``s`` are ``segment_offsets[s]:segment_offsets[s + 1]``.
    segment_account : IntArray, shape (n_segments,)
    segment_underlying : IntArray, shape (n_segments,)
    """

    account: IntArray
    instrument: IntArray
    quantity: FloatArray
    segment: IntArray
    segment_offsets: IntArray
    segment_account: IntArray
    segment_underlying: IntArray

    @property
    def size(self) -> int:
        """Number of holdings."""
        return int(self.quantity.size)


def net_holdings(book: Book, underlying: IntArray) -> Holdings:
    """Net ``book``'s positions per (account, instrument) and group them by underlying.

    Parameters
    ----------
    book : Book
    underlying : IntArray, shape (n_instruments,)
        Underlying index of each instrument of the book.
    """
    n_inst = max(len(book.instruments), 1)
    n_und = int(underlying.max()) + 1 if underlying.size else 1
    key = (book.pos_account * n_und + underlying[book.pos_instrument]) * n_inst \
        + book.pos_instrument
    keys, inverse = np.unique(key, return_inverse=True)
    quantity = np.bincount(inverse, weights=book.pos_quantity, minlength=keys.size)
    gross = np.bincount(inverse, weights=np.abs(book.pos_quantity), minlength=keys.size)
    keep = np.abs(quantity) > NET_TOLERANCE * gross
    keys, quantity = keys[keep], quantity[keep]
    seg_key = keys // n_inst
    new = np.empty(seg_key.size, dtype=bool)
    new[:1] = True
    np.not_equal(seg_key[1:], seg_key[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    segment = np.cumsum(new) - 1
    return Holdings(
        account=(seg_key // n_und).astype(np.int64),
        instrument=(keys % n_inst).astype(np.int64),
        quantity=quantity.astype(np.float64),
        segment=segment.astype(np.int64),
        segment_offsets=np.r_[starts, keys.size].astype(np.int64),
        segment_account=(seg_key[starts] // n_und).astype(np.int64),
        segment_underlying=(seg_key[starts] % n_und).astype(np.int64),
    )
