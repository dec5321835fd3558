"""Market value of collateral balances in the reporting currency (before haircuts)."""

from __future__ import annotations

import numpy as np

from crossmargin.book.book import Book
from crossmargin.core.typing import FloatArray
from crossmargin.market.snapshot import MarketSnapshot

__all__ = ["collateral_market_value"]


def collateral_market_value(book: Book, market: MarketSnapshot) -> FloatArray:
    r"""Return each account's collateral at market value in the book's currency.

    Cash and coins convert at ``market.fx_rate``; a security is valued at its price.
    A balance that cannot be valued raises (it is never counted as zero).

    Returns
    -------
    FloatArray, shape (n_accounts,)

    Notes
    -----
    :math:`C_a = \sum_j q_{a,j} \, X_j`, with :math:`X_j` units of reporting currency per
    unit of asset :math:`j`. Haircuts are not applied here.
    """
    rates: dict[str, float] = {}
    out = np.zeros(book.n_accounts)
    for a, balances in enumerate(book.collateral):
        for c in balances:
            if c.asset not in rates:
                rates[c.asset] = market.fx_rate(c.asset, to=book.currency)
            out[a] += c.amount * rates[c.asset]
    return out
