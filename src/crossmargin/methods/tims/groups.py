"""Class groups and product groups of FINRA 4210(g) / OCC TIMS portfolio margin.

A *class group* is an underlying with every eligible product on it: the stock or ETF,
its options, security futures, and the index futures and futures options on a
broad-based index (an ES future belongs to the SPX class group). A *product group* is a
set of class groups on highly correlated broad-based indexes (SPX and SPY), between
which a fraction of one class group's gain may offset another's loss at the same
valuation point. Single stocks never belong to a product group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from crossmargin.book.instruments import AssetClass, Bond, CryptoSpot, Instrument, Perpetual
from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError
from crossmargin.core.typing import IntArray
from crossmargin.core.values import parse_number

__all__ = ["ClassGroups", "ProductGroup", "is_eligible", "parse_product_groups"]

#: The silos whose products 4210(g) portfolio margin covers.
ELIGIBLE = frozenset({AssetClass.EQUITY, AssetClass.EQUITY_INDEX})
#: Product classes between whose class groups a product group may offset.
OFFSETTING = frozenset({"broad-based", "broad-based-high-cap"})


def is_eligible(instrument: Instrument) -> bool:
    """Return whether 4210(g) portfolio margin covers ``instrument``.

    Stocks and ETFs, options on them and on equity indexes, security futures and equity
    index futures and their options are covered; coins, perpetuals, Treasuries, rates
    and commodities are not (their silo is named by the instrument and by the reference
    data of its underlying, and both must be equity).
    """
    if isinstance(instrument, CryptoSpot | Perpetual | Bond):
        return False
    return (instrument.asset_class in ELIGIBLE
            and refdata().asset_class_of(instrument.underlying_symbol) in ELIGIBLE)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductGroup:
    """Class groups on related broad-based indexes that offset each other in part.

    Attributes
    ----------
    name : str
    offset : float
        Fraction of a class group's gain that offsets the other class groups' losses at
        the same valuation point, in ``[0, 1]``.
    class_groups : tuple of str
        The underlyings of the member class groups.
    """

    name: str
    offset: float
    class_groups: tuple[str, ...]

    def __post_init__(self) -> None:
        where = f"product_groups.{self.name}"
        if not 0.0 <= self.offset <= 1.0:
            raise InputError("must be in [0, 1]", field=f"{where}.offset", value=self.offset)
        if len(self.class_groups) < 2:
            raise InputError("a product group needs at least two class groups",
                             field=f"{where}.class_groups", value=list(self.class_groups))
        for symbol in self.class_groups:
            kind = refdata().product_class_of(symbol).value
            if kind not in OFFSETTING:
                raise InputError(f"is {kind}, not a broad-based index: only broad-based "
                                 "class groups offset (single stocks never do)",
                                 field=f"{where}.class_groups", value=symbol)


def parse_product_groups(raw: object) -> tuple[ProductGroup, ...]:
    """Return the product groups of a parameter file's ``product_groups`` mapping.

    Raises
    ------
    InputError
        A malformed entry, an offset outside ``[0, 1]``, a class group that is not a
        broad-based index or that belongs to two product groups.
    """
    if not isinstance(raw, Mapping):
        raise InputError("must be a mapping of name to {offset, class_groups}",
                         field="product_groups", value=raw)
    groups: list[ProductGroup] = []
    seen: dict[str, str] = {}
    for name, entry in raw.items():
        where = f"product_groups.{name}"
        if not isinstance(entry, Mapping):
            raise InputError("must be a mapping {offset, class_groups}", field=where,
                             value=entry)
        members = entry.get("class_groups")
        if not isinstance(members, Sequence) or isinstance(members, str):
            raise InputError("must be a list of underlyings", field=f"{where}.class_groups",
                             value=members)
        for symbol in members:
            if str(symbol) in seen:
                raise InputError(f"already belongs to product group {seen[str(symbol)]}",
                                 field=f"{where}.class_groups", value=symbol)
            seen[str(symbol)] = str(name)
        groups.append(ProductGroup(
            name=str(name),
            offset=parse_number(entry.get("offset"), field=f"{where}.offset"),
            class_groups=tuple(str(s) for s in members),
        ))
    return tuple(groups)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ClassGroups:
    """The class groups of a set of instruments.

    Class groups are numbered so that the members of each product group are adjacent
    (product groups first, in parameter-file order, then the rest by name): segments of
    one account sorted by class group then hold each product group as one run.

    Attributes
    ----------
    names : tuple of str, shape (n_groups,)
        Underlying of each class group.
    product_group : IntArray, shape (n_groups,)
        Index of each class group's product group, -1 for none.
    of_instrument : IntArray, shape (n_instruments,)
        Class group of each instrument.
    """

    names: tuple[str, ...]
    product_group: IntArray
    of_instrument: IntArray

    @classmethod
    def of(cls, instruments: Sequence[Instrument],
           product_groups: Sequence[ProductGroup]) -> ClassGroups:
        """Group ``instruments`` by underlying, numbering product-group members first."""
        rank = {s: (k, j) for k, pg in enumerate(product_groups)
                for j, s in enumerate(pg.class_groups)}
        symbols = {i.underlying_symbol for i in instruments}
        names = tuple(sorted(symbols, key=lambda s: (*rank.get(s, (len(product_groups), 0)),
                                                     s)))
        index = {s: k for k, s in enumerate(names)}
        return cls(
            names=names,
            product_group=np.asarray([rank[s][0] if s in rank else -1 for s in names],
                                     dtype=np.int64),
            of_instrument=np.asarray([index[i.underlying_symbol] for i in instruments],
                                     dtype=np.int64),
        )

    @property
    def size(self) -> int:
        """Number of class groups."""
        return len(self.names)
