"""Market value of collateral balances in the reporting currency (before haircuts)."""

from __future__ import annotations

import numpy as np

from crossmargin.book.book import Book
from crossmargin.collateral.assets import holdings, unit_values
from crossmargin.core.typing import FloatArray
from crossmargin.market.snapshot import MarketSnapshot

__all__ = ["collateral_market_value"]


def collateral_market_value(book: Book, market: MarketSnapshot) -> FloatArray:
    r"""Return each account's collateral at market value in the book's currency.

    Cash and coins convert at ``market.fx_rate``; a security is valued at its price and
    a bond at its full price off the curve. A balance that cannot be valued raises (it is
    never counted as zero). Haircuts are applied by
    :func:`~crossmargin.collateral.haircuts.value_collateral`.

    Returns
    -------
    FloatArray, shape (n_accounts,)

    Notes
    -----
    :math:`C_a = \sum_j q_{a,j} \, X_j`, with :math:`X_j` units of reporting currency per
    unit of asset :math:`j`.
    """
    held = holdings(book)
    value = held.amount * unit_values(held.keys, market, currency=book.currency)[held.asset]
    return np.bincount(held.account, weights=value, minlength=book.n_accounts).astype(np.float64)
