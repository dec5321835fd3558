"""Reference data: classify a symbol as coin, index, ETF, commodity or curve."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import yaml

from crossmargin.book.instruments import AssetClass, ProductClass

__all__ = ["RefData", "refdata"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RefData:
    """What the engine knows about symbols before it sees a price.

    Attributes
    ----------
    coins, stablecoins, curves, commodities : frozenset of str
        Symbols of each kind.
    index_classes : dict
        Index or ETF symbol to its FINRA 4210(g) product class.
    indexes : frozenset of str
        Symbols that are indexes (cash-settled options, not shares).
    """

    coins: frozenset[str]
    stablecoins: frozenset[str]
    curves: frozenset[str]
    commodities: frozenset[str]
    indexes: frozenset[str]
    index_classes: dict[str, ProductClass]

    def asset_class_of(self, symbol: str) -> AssetClass:
        """Return the silo of an underlying symbol (the future or option built on it)."""
        if symbol in self.coins:
            return AssetClass.CRYPTO
        if symbol in self.curves:
            return AssetClass.TREASURY
        if symbol in self.commodities:
            return AssetClass.COMMODITY
        if symbol in self.indexes:
            return AssetClass.EQUITY_INDEX
        return AssetClass.EQUITY

    def knows(self, symbol: str) -> bool:
        """Tell whether ``symbol`` is a coin, curve, commodity or index named here."""
        return any(symbol in known for known in (self.coins, self.curves, self.commodities,
                                                 self.indexes))

    def product_class_of(self, symbol: str) -> ProductClass:
        """Return the 4210(g) product class of an equity or index symbol."""
        return self.index_classes.get(symbol, ProductClass.SINGLE_STOCK)


@lru_cache(maxsize=1)
def refdata() -> RefData:
    """Return the bundled reference data (``book/data/refdata.yaml``)."""
    raw = yaml.safe_load((files("crossmargin.book") / "data" / "refdata.yaml").read_text())
    classes = {
        sym: ProductClass(cls)
        for table in ("indexes", "etfs")
        for sym, cls in raw[table].items()
    }
    return RefData(
        coins=frozenset(raw["coins"]),
        stablecoins=frozenset(raw["stablecoins"]),
        curves=frozenset(raw["curves"]),
        commodities=frozenset(raw["commodities"]),
        indexes=frozenset(raw["indexes"]),
        index_classes=classes,
    )
