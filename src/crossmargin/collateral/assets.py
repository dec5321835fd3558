"""Collateral assets: what each pledged balance is, and balances netted per account.

A balance names its asset by a code (``USD``, ``BTC``, ``AAPL``, ``GOLD``) or, for a
bond, carries the bond's terms. Balances are flattened once into columnar holdings, one
per (account, asset), so that valuation and haircuts run over arrays, never per account.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from crossmargin.book.book import Book
from crossmargin.book.instruments import Bond, Instrument
from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet

__all__ = [
    "GOLD",
    "AssetKind",
    "CollateralAsset",
    "Holdings",
    "classify",
    "holdings",
    "unit_values",
]

#: The price symbol of gold (per troy ounce), as the bundled history and refdata name it.
GOLD = "GOLD"


class AssetKind(StrEnum):
    """What a collateral asset is."""

    CASH = "cash"
    STABLECOIN = "stablecoin"
    COIN = "coin"
    EQUITY = "equity"
    GOLD = "gold"
    BOND = "bond"
    COMMODITY = "commodity"


@dataclass(frozen=True, slots=True, kw_only=True)
class CollateralAsset:
    """One distinct collateral asset.

    Attributes
    ----------
    name : str
        The code or symbol the book gives (``USD``, ``BTC``, ``AAPL``, a bond's symbol).
    kind : AssetKind
    currency : str
        The currency it is denominated or quoted in: a cash currency or coin is its own;
        a security or gold is quoted in the market's base currency; a bond in its own.
    instrument : Bond or None
        The bond's terms, for a bond.
    """

    name: str
    kind: AssetKind
    currency: str
    instrument: Bond | None = None

    @property
    def label(self) -> str:
        """A short name for tables and explanations."""
        if self.instrument is None:
            return self.name
        return f"{self.name} {self.instrument.coupon:.3%} {self.instrument.maturity.isoformat()}"


def classify(name: str, instrument: Instrument | None, market: MarketSnapshot, *,
             field: str = "collateral") -> CollateralAsset:
    """Say what a collateral asset is, from reference data and the market.

    Parameters
    ----------
    name : str
        The balance's asset code or symbol.
    instrument : Instrument or None
        Terms given with the balance (a bond).
    market : MarketSnapshot
        Tells a currency (base currency or an FX entry) from a priced security.
    field : str
        Where the balance was found, for the error message.

    Raises
    ------
    InputError
        An index or curve (not something that can be pledged), terms that are not a
        bond's, or an asset that is none of a currency, coin, gold, commodity, priced
        security or bond: an unknown asset is never valued at zero.
    """
    ref = refdata()
    if instrument is not None:
        if not isinstance(instrument, Bond):
            raise InputError("only a bond's terms may be given with a collateral balance",
                             field=field, value=instrument.label)
        return CollateralAsset(name=name, kind=AssetKind.BOND, currency=instrument.currency,
                               instrument=instrument)
    if name in ref.stablecoins:
        return CollateralAsset(name=name, kind=AssetKind.STABLECOIN, currency=name)
    if name in ref.coins:
        return CollateralAsset(name=name, kind=AssetKind.COIN, currency=name)
    base = market.base_currency
    if name == GOLD:
        return CollateralAsset(name=name, kind=AssetKind.GOLD, currency=base)
    if name in ref.commodities:
        return CollateralAsset(name=name, kind=AssetKind.COMMODITY, currency=base)
    if name in ref.indexes or name in ref.curves:
        raise InputError("an index or a curve cannot be pledged as collateral", field=field,
                         value=name)
    if name == base or name in market.fx:
        return CollateralAsset(name=name, kind=AssetKind.CASH, currency=name)
    if name in market.prices:
        return CollateralAsset(name=name, kind=AssetKind.EQUITY, currency=base)
    raise InputError(
        f"unknown collateral asset: not a currency with an FX rate, a coin, gold, a bond "
        f"or a security with a price on {market.as_of.isoformat()}",
        source=market.source, field=field, value=name)


_Key = tuple[str, Instrument | None]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Holdings:
    """Collateral balances netted per (account, asset), sorted by account then asset.

    Attributes
    ----------
    keys : tuple of (str, Instrument or None), shape (n_assets,)
        Each distinct asset once (code and bond terms), sorted by code.
    offsets : IntArray, shape (n_accounts + 1,)
        Holdings of account ``a`` are ``offsets[a]:offsets[a + 1]``.
    account : IntArray, shape (n_holdings,)
    asset : IntArray, shape (n_holdings,)
        Index into ``keys``.
    amount : FloatArray, shape (n_holdings,)
        Net amount: units of a currency or coin, shares, troy ounces, face of a bond.
    """

    keys: tuple[_Key, ...]
    offsets: IntArray
    account: IntArray
    asset: IntArray
    amount: FloatArray


def holdings(book: Book) -> Holdings:
    """Flatten ``book.collateral`` into holdings, netting lines of one asset per account.

    Two lines of one asset in one account (a deposit and a loan of BTC, say) become one
    net holding, as the venues net an asset's balance and liability before any haircut.

    Raises
    ------
    InputError
        A balance whose amount is not finite.
    """
    index: dict[_Key, int] = {}
    acct: list[int] = []
    asset: list[int] = []
    amount: list[float] = []
    for a, balances in enumerate(book.collateral):
        for c in balances:
            acct.append(a)
            asset.append(index.setdefault((c.asset, c.instrument), len(index)))
            amount.append(c.amount)
    amounts = np.asarray(amount, dtype=np.float64)
    if not np.all(np.isfinite(amounts)):
        row = int(np.flatnonzero(~np.isfinite(amounts))[0])
        raise InputError("must be a finite number", source=book.source,
                         field=f"accounts[{acct[row]}].collateral.amount",
                         value=float(amounts[row]))
    keys = sorted(index, key=lambda k: (k[0], repr(k[1])))
    remap = np.empty(len(keys), dtype=np.int64)
    remap[[index[k] for k in keys]] = np.arange(len(keys))
    n_assets = max(len(keys), 1)
    flat = np.asarray(acct, dtype=np.int64) * n_assets + remap[np.asarray(asset, np.int64)]
    unique, inverse = np.unique(flat, return_inverse=True)
    net = np.bincount(inverse, weights=amounts, minlength=unique.size).astype(np.float64)
    account = (unique // n_assets).astype(np.int64)
    counts = np.bincount(account, minlength=book.n_accounts)
    return Holdings(
        keys=tuple(keys),
        offsets=np.r_[0, np.cumsum(counts)].astype(np.int64),
        account=account,
        asset=(unique % n_assets).astype(np.int64),
        amount=net,
    )


def unit_values(keys: tuple[_Key, ...], market: MarketSnapshot, *, currency: str
                ) -> FloatArray:
    """Return the value of one unit of each asset in ``currency``.

    A currency or coin converts at ``market.fx_rate``; a security or gold at its price
    (``fx_rate`` falls back to ``prices``); a bond at its full price per unit of face off
    the snapshot's curve.

    Returns
    -------
    FloatArray, shape (n_assets,)

    Raises
    ------
    MissingDataError
        A price, FX rate or curve that is absent: a balance is never valued at zero.
    """
    out = np.empty(len(keys), dtype=np.float64)
    rows: list[int] = []
    bonds: list[Instrument] = []
    for k, (name, inst) in enumerate(keys):
        if inst is None:
            out[k] = market.fx_rate(name, to=currency)
        else:
            rows.append(k)
            bonds.append(inst)
    if bonds:
        base = ScenarioSet(names=("base",), strict=False, source="collateral valuation")
        out[rows] = revalue(bonds, market=market, scenarios=base, currency=currency).base_value
    return out
