"""A reproducible fingerprint of a computation's inputs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from weakref import WeakKeyDictionary

import numpy as np

from crossmargin.book.book import Book
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.params.loader import ParamSet

__all__ = ["input_hash"]


def _update_mapping(h: hashlib._Hash, name: str, mapping: Mapping[str, object]) -> None:
    h.update(name.encode())
    for key, value in sorted(mapping.items()):
        h.update(f"{key}={value!r};".encode())


#: Digest of each live book: a book is immutable, and hashing a large one's collateral
#: and orders is the slow part, so it is done once per book.
_BOOK_DIGESTS: WeakKeyDictionary[Book, bytes] = WeakKeyDictionary()


def _book_digest(book: Book) -> bytes:
    """Return the SHA-256 digest of everything in ``book`` (cached per book)."""
    cached = _BOOK_DIGESTS.get(book)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    h.update(f"{book.as_of}|{book.currency}|".encode())
    for inst in book.instruments:
        h.update(repr(inst).encode())
    h.update("|".join(book.account_ids).encode())
    for arr in (book.account_offsets, book.pos_instrument, book.pos_quantity, book.marks):
        h.update(np.ascontiguousarray(arr).tobytes())
    # every field of every balance, account by account (twice as fast as repr())
    h.update("\n".join(";".join(f"{c.asset}:{c.amount!r}:{c.instrument!r}" for c in row)
                       for row in book.collateral).encode())
    h.update(repr(book.orders).encode())
    digest = h.digest()
    _BOOK_DIGESTS[book] = digest
    return digest


def input_hash(book: Book, market: MarketSnapshot | None, params: Iterable[ParamSet]) -> str:
    """Return the SHA-256 (hex) of the book, the market and the parameter sets.

    Notes
    -----
    Hashes the instruments' ``repr``, the position arrays' bytes, the collateral and the
    open orders (once per book), every market table (volatility surfaces and curves by
    their arrays) and each parameter set's id, version and values. Equal inputs give
    equal hashes on any machine with the same byte order.
    """
    h = hashlib.sha256()
    h.update(_book_digest(book))
    if market is not None:
        h.update(f"{market.as_of}|{market.base_currency}".encode())
        for name in ("prices", "rates", "fx", "dividends", "funding"):
            _update_mapping(h, name, getattr(market, name))
        for key, surface in sorted(market.vols.items()):
            h.update(key.encode())
            for arr in (surface.expiries, surface.moneyness, surface.vols):
                h.update(np.asarray(arr, dtype=np.float64).tobytes())
        for key, curve in sorted(market.curves.items()):
            h.update(key.encode() + curve.tenors.tobytes() + curve.yields.tobytes())
    for p in params:
        h.update(f"{p.id}|{p.version}|{sorted(p.parameters.items())!r}".encode())
    return h.hexdigest()
