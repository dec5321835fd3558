"""Random books for the property tests of scenario methods: one account, few positions."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import Instrument
from tests.conftest import AS_OF


def position_lists(n_instruments: int) -> st.SearchStrategy[list[tuple[int, float]]]:
    """Lists of 1 to 8 (instrument index, non-zero quantity in [-50, 50]) pairs."""
    return st.lists(
        st.tuples(st.integers(0, n_instruments - 1),
                  st.floats(-50, 50, allow_nan=False).filter(lambda q: abs(q) > 1e-3)),
        min_size=1, max_size=8,
    )


def one_account(universe: Sequence[Instrument], pos: list[tuple[int, float]]) -> Book:
    """Return a book of one account holding ``quantity`` of ``universe[index]``."""
    return Book.from_accounts(
        [Account(id="A", positions=tuple(Position(instrument=universe[i], quantity=q)
                                         for i, q in pos))],
        as_of=AS_OF, currency="USD")
