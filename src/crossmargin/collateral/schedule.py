"""Eligibility and haircut schedules, read from versioned parameter files.

One schedule says, for every kind of collateral asset, whether it is eligible and how
much of its value counts: the BCBS-IOSCO / Basel standard haircut grid
(``collateral-basel``) or crypto venues' size-tiered collateral ratios
(``collateral-crypto``). A section a file leaves out makes that kind ineligible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from crossmargin.book.refdata import refdata
from crossmargin.collateral.assets import AssetKind, CollateralAsset
from crossmargin.collateral.concentration import ConcentrationLimit
from crossmargin.collateral.tiers import CollateralTiers
from crossmargin.core.errors import InputError
from crossmargin.core.money import check_currency
from crossmargin.core.values import parse_number
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.pricing.revalue import year_fraction

__all__ = [
    "AssetRule",
    "DebtHaircuts",
    "EquityHaircuts",
    "HaircutSchedule",
    "IssuerKind",
    "WrongWayRule",
    "load_schedule",
]


def _fraction(value: object, field: str) -> float:
    number = parse_number(value, field=field, positive=True)
    if number > 1:
        raise InputError("must be a fraction in [0, 1]", field=field, value=value)
    return number


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError("must be a mapping", field=field, value=value)
    return value


def _names(value: object, field: str) -> frozenset[str]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InputError("must be a list of names", field=field, value=value)
    return frozenset(str(v) for v in value)


class IssuerKind(StrEnum):
    """Issuer of a debt security, as the haircut grids distinguish them."""

    SOVEREIGN = "sovereign"
    OTHER = "other"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Issuer:
    kind: IssuerKind
    rating: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DebtHaircuts:
    """Haircuts of debt securities by issuer kind, rating band and residual maturity.

    Parameters
    ----------
    maturity_years : tuple of float
        Upper bounds of the maturity buckets but the last (``(1, 5)``: up to 1 year,
        over 1 to 5, over 5).
    haircuts : mapping of (IssuerKind, str) to tuple of float
        Haircut per bucket for an issuer kind and rating band (``"AAA-AA"``).
    issuers : mapping of str to (IssuerKind, str)
        A bond's issuer, by the curve it is priced off (``UST``), and its rating band.
    """

    maturity_years: tuple[float, ...]
    haircuts: Mapping[tuple[IssuerKind, str], tuple[float, ...]]
    issuers: Mapping[str, _Issuer]

    @classmethod
    def parse(cls, raw: object, *, field: str) -> DebtHaircuts:
        """Read the ``debt`` section of a schedule."""
        p = _mapping(raw, field)
        years = p.get("maturity_years")
        if not isinstance(years, Sequence) or isinstance(years, str):
            raise InputError("must be a list of years", field=f"{field}.maturity_years",
                             value=years, has_value=True)
        bounds = tuple(parse_number(y, field=f"{field}.maturity_years", positive=True)
                       for y in years)
        if any(b <= a for a, b in zip((0.0, *bounds), bounds, strict=False)):
            raise InputError("must be positive and increasing", field=f"{field}.maturity_years",
                             value=list(years))
        table: dict[tuple[IssuerKind, str], tuple[float, ...]] = {}
        for kind, bands in _mapping(p.get("haircuts"), f"{field}.haircuts").items():
            issuer = _choice(IssuerKind, kind, f"{field}.haircuts.{kind}")
            for band, row in _mapping(bands, f"{field}.haircuts.{kind}").items():
                where = f"{field}.haircuts.{kind}.{band}"
                if not isinstance(row, Sequence) or len(row) != len(bounds) + 1:
                    raise InputError(f"needs {len(bounds) + 1} haircuts, one per maturity "
                                     "bucket", field=where, value=row)
                table[issuer, str(band)] = tuple(_fraction(h, where) for h in row)
        issuers: dict[str, _Issuer] = {}
        for curve, spec in _mapping(p.get("issuers", {}), f"{field}.issuers").items():
            where = f"{field}.issuers.{curve}"
            s = _mapping(spec, where)
            entry = _Issuer(kind=_choice(IssuerKind, s.get("kind"), f"{where}.kind"),
                            rating=str(s.get("rating")))
            if (entry.kind, entry.rating) not in table:
                raise InputError("no haircuts for this issuer kind and rating",
                                 field=f"{where}.rating", value=entry.rating)
            issuers[str(curve)] = entry
        return cls(maturity_years=bounds, haircuts=table, issuers=issuers)

    def lookup(self, *, issuer: str, years: float) -> tuple[float, str] | None:
        """Return the haircut and its row label, or ``None`` for an unknown issuer."""
        entry = self.issuers.get(issuer)
        if entry is None:
            return None
        bucket = int(np.searchsorted(self.maturity_years, years, side="left"))
        edges = (0.0, *self.maturity_years)
        span = (f"over {edges[bucket]:g}y" if bucket == len(self.maturity_years)
                else f"{edges[bucket]:g}-{edges[bucket + 1]:g}y")
        return (self.haircuts[entry.kind, entry.rating][bucket],
                f"{entry.kind.value} {entry.rating}, {span}")


def _choice(enum: type[IssuerKind], value: object, field: str) -> IssuerKind:
    try:
        return enum(str(value))
    except ValueError:
        raise InputError("not an allowed value", field=field, value=value,
                         has_value=True) from None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class EquityHaircuts:
    """Haircuts of listed equities and ETFs.

    Parameters
    ----------
    main_index : float
        Haircut of a main-index equity (or a fund tracking a main index).
    other : float or None
        Haircut of any other listed equity; ``None``: not eligible.
    main_index_members : frozenset of str
        Stocks counted as main-index members.
    main_index_classes : frozenset of str
        Product classes (refdata, FINRA 4210(g)) of funds counted as main-index.
    """

    main_index: float
    other: float | None
    main_index_members: frozenset[str]
    main_index_classes: frozenset[str]

    @classmethod
    def parse(cls, raw: object, *, field: str) -> EquityHaircuts:
        """Read the ``equity`` section of a schedule."""
        p = _mapping(raw, field)
        other = p.get("other")
        return cls(
            main_index=_fraction(p.get("main_index"), f"{field}.main_index"),
            other=None if other is None else _fraction(other, f"{field}.other"),
            main_index_members=_names(p.get("main_index_members", []),
                                      f"{field}.main_index_members"),
            main_index_classes=_names(p.get("main_index_classes", []),
                                      f"{field}.main_index_classes"),
        )

    def is_main_index(self, symbol: str) -> bool:
        """Whether ``symbol`` is a main-index stock or a fund of a main-index class."""
        return (symbol in self.main_index_members
                or refdata().product_class_of(symbol).value in self.main_index_classes)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class WrongWayRule:
    """How wrong-way risk is detected and penalised.

    Parameters
    ----------
    spot_bump : float
        Relative price move used to read the sign of the exposure to a collateral asset.
    curve_bump : float
        Parallel yield shift (decimal) used for a bond pledged as collateral.
    add_on : float
        Haircut added to collateral flagged as wrong-way (0: flag only).
    proxies : mapping of str to tuple of str
        Symbols that move with a collateral asset (an ETF and its index, a staked token
        and its coin), bumped together with it.
    """

    spot_bump: float = 0.01
    curve_bump: float = 0.0001
    add_on: float = 0.0
    proxies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: object, *, field: str) -> WrongWayRule:
        """Read the ``wrong_way`` section of a schedule."""
        p = _mapping(raw, field)
        spot = parse_number(p.get("spot_bump"), field=f"{field}.spot_bump", positive=True,
                            allow_zero=False)
        curve = parse_number(p.get("curve_bump"), field=f"{field}.curve_bump", positive=True,
                             allow_zero=False)
        if spot >= 1:
            raise InputError("must be below 1", field=f"{field}.spot_bump", value=spot)
        return cls(
            spot_bump=spot, curve_bump=curve,
            add_on=_fraction(p.get("add_on"), f"{field}.add_on"),
            proxies={str(k): tuple(sorted(_names(v, f"{field}.proxies.{k}")))
                     for k, v in _mapping(p.get("proxies", {}), f"{field}.proxies").items()},
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class AssetRule:
    """What a schedule says about one collateral asset.

    Attributes
    ----------
    eligible : bool
    tiers : CollateralTiers
        Ratios of its positive value that count (before add-ons); zero if ineligible.
    category : str
        The schedule row that applies (``"sovereign AAA-AA, 1-5y"``, ``"BTC tiers"``).
    reason : str
        Why an ineligible asset counts nothing (empty when eligible).
    limit : ConcentrationLimit
    """

    eligible: bool
    tiers: CollateralTiers
    category: str
    reason: str
    limit: ConcentrationLimit


_NONE = CollateralTiers.flat(haircut=1.0)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class HaircutSchedule:
    r"""An eligibility and haircut schedule for collateral.

    Parameters
    ----------
    params : ParamSet
        The parameter set the numbers came from (id, version, source).
    currency : str
        Currency of the amounts in the schedule (bracket bounds, exempt amounts).
    currency_mismatch : float
        Haircut added when an asset's currency differs from the exposure's.
    cash : mapping of str to float
        Eligible cash currencies and their haircuts.
    debt : DebtHaircuts or None
    equity : EquityHaircuts or None
    gold : float or None
    coins : mapping of str to CollateralTiers
        Coins, tokens and stablecoins by code.
    other_coins : CollateralTiers or None
        Ratios of a known coin the schedule does not list (``None``: ineligible).
    excess_haircut : float
        Haircut of the value above a concentration limit (1: counts nothing).
    limits : mapping of str to ConcentrationLimit
        By asset code, or by class (``equity``, ``gold``, ``coin``, ``bond-sovereign``,
        ``bond-other``...); the code wins.
    wrong_way : WrongWayRule

    Notes
    -----
    For a positive balance of market value :math:`x` (reporting currency), eligible, with
    brackets :math:`(b_k, r_k)` scaled into the reporting currency and additive haircuts
    :math:`a` (currency mismatch, wrong-way), the value after haircut is
    :math:`V = \sum_k \max(r_k - a, 0)\,\max(\min(x, b_k) - b_{k-1}, 0)`; a flat haircut
    :math:`h` is the single bracket :math:`r = 1 - h`, so :math:`V = x (1 - h - a)`.
    A negative balance (a liability) counts at its full value; an ineligible positive
    balance counts zero.

    References
    ----------
    .. [1] BCBS-IOSCO, "Margin requirements for non-centrally cleared derivatives",
       Appendix B (standardised haircut schedule), 2013, revised 2015 and 2019.
    .. [2] Basel Committee, Basel II comprehensive version (June 2006), paras 151-152.
    .. [3] Binance, "Binance Cross Margin Collateral Haircuts"; OKX, discount rate tiers;
       Deribit, cross-collateral haircuts.
    """

    params: ParamSet
    currency: str
    currency_mismatch: float
    cash: Mapping[str, float]
    debt: DebtHaircuts | None
    equity: EquityHaircuts | None
    gold: float | None
    coins: Mapping[str, CollateralTiers]
    other_coins: CollateralTiers | None
    excess_haircut: float
    limits: Mapping[str, ConcentrationLimit]
    wrong_way: WrongWayRule

    @classmethod
    def from_params(cls, params: ParamSet) -> HaircutSchedule:
        """Build a schedule from a parameter set.

        Raises
        ------
        InputError
            Located in the parameter file, naming the malformed field.
        """
        p: Mapping[str, Any] = params.parameters
        try:
            conc = _mapping(p.get("concentration", {}), "concentration")
            limits: dict[str, ConcentrationLimit] = {}
            for key, spec in _mapping(conc.get("limits", {}), "concentration.limits").items():
                where = f"concentration.limits.{key}"
                s = _mapping(spec, where)
                try:
                    limits[str(key)] = ConcentrationLimit(
                        max_share=parse_number(s.get("max_share"), field=f"{where}.max_share"),
                        exempt_below=parse_number(s.get("exempt_below", 0.0),
                                                  field=f"{where}.exempt_below"))
                except InputError as err:
                    raise InputError(err.reason, field=f"{where}.{err.field}",
                                     value=err.value) from None
            other = p.get("other_coins")
            return cls(
                params=params,
                currency=check_currency(p.get("currency"), field="currency"),
                currency_mismatch=_fraction(p.get("currency_mismatch"), "currency_mismatch"),
                cash={check_currency(k, field="cash"): _fraction(v, f"cash.{k}")
                      for k, v in _mapping(p.get("cash", {}), "cash").items()},
                debt=None if p.get("debt") is None else DebtHaircuts.parse(p["debt"],
                                                                           field="debt"),
                equity=None if p.get("equity") is None else EquityHaircuts.parse(
                    p["equity"], field="equity"),
                gold=None if p.get("gold") is None else _fraction(p["gold"], "gold"),
                coins={str(k): CollateralTiers.parse(v, field=f"coins.{k}")
                       for k, v in _mapping(p.get("coins", {}), "coins").items()},
                other_coins=None if other is None else CollateralTiers.parse(
                    other, field="other_coins"),
                excess_haircut=_fraction(conc.get("excess_haircut", 1.0),
                                         "concentration.excess_haircut"),
                limits=limits,
                wrong_way=WrongWayRule.parse(p.get("wrong_way", {}), field="wrong_way"),
            )
        except InputError as err:
            located = InputError(err.reason, field=f"parameters.{err.field}", value=err.value,
                                 has_value=err.has_value)
            raise located.located(params.path or params.id) from None

    @property
    def name(self) -> str:
        """The schedule's id and version (``collateral-basel 2026.11-1``)."""
        return f"{self.params.id} {self.params.version}"

    def _ineligible(self, what: str) -> tuple[CollateralTiers, str, str]:
        return _NONE, what, f"{what} is not eligible under {self.name}"

    def rule(self, asset: CollateralAsset, *, as_of: date) -> AssetRule:
        """Return what the schedule says about ``asset`` on ``as_of``.

        Raises
        ------
        InputError
            A bond that matured before ``as_of``.
        """
        tiers, category, reason = self._tiers(asset, as_of)
        limit = (self.limits.get(asset.name) or self.limits.get(self._limit_class(asset))
                 or ConcentrationLimit())
        return AssetRule(eligible=not reason, tiers=tiers, category=category, reason=reason,
                         limit=limit)

    def _limit_class(self, asset: CollateralAsset) -> str:
        """Return the class whose concentration limit applies (``bond-sovereign``...)."""
        if asset.instrument is None:
            return asset.kind.value
        entry = self.debt.issuers.get(asset.instrument.curve) if self.debt else None
        return f"bond-{entry.kind.value if entry else IssuerKind.OTHER.value}"

    def _tiers(self, asset: CollateralAsset, as_of: date) -> tuple[CollateralTiers, str, str]:
        kind = asset.kind
        if kind is AssetKind.CASH:
            if asset.name in self.cash:
                return CollateralTiers.flat(haircut=self.cash[asset.name]), \
                    f"cash {asset.name}", ""
            return self._ineligible(f"cash in {asset.name}")
        if kind in (AssetKind.COIN, AssetKind.STABLECOIN):
            if asset.name in self.coins:
                return self.coins[asset.name], f"{kind.value} {asset.name}", ""
            if self.other_coins is not None:
                return self.other_coins, f"unlisted {kind.value}", ""
            return self._ineligible(f"{kind.value} {asset.name}")
        if kind is AssetKind.EQUITY:
            if self.equity is None:
                return self._ineligible("equity")
            if self.equity.is_main_index(asset.name):
                return CollateralTiers.flat(haircut=self.equity.main_index), \
                    "main-index equity", ""
            if self.equity.other is not None:
                return CollateralTiers.flat(haircut=self.equity.other), "other listed equity", ""
            return self._ineligible("equity outside the main index")
        if kind is AssetKind.GOLD:
            if self.gold is None:
                return self._ineligible("gold")
            return CollateralTiers.flat(haircut=self.gold), "gold", ""
        if kind is AssetKind.BOND and asset.instrument is not None:
            years = year_fraction(as_of, asset.instrument.maturity)
            if years <= 0:
                raise InputError(f"matured before {as_of.isoformat()}",
                                 field="collateral.maturity", value=asset.label)
            if self.debt is None:
                return self._ineligible("debt")
            found = self.debt.lookup(issuer=asset.instrument.curve, years=years)
            if found is None:
                return self._ineligible(f"debt of issuer {asset.instrument.curve}")
            return CollateralTiers.flat(haircut=found[0]), found[1], ""
        return self._ineligible(f"{kind.value} {asset.name}")


def load_schedule(name: str = "collateral-basel", *, version: str | None = None,
                  path: str | Path | None = None) -> HaircutSchedule:
    """Load a bundled schedule (latest version by default) or a schedule file by path.

    Parameters
    ----------
    name : str
        ``collateral-basel`` or ``collateral-crypto`` (the parameter file's ``id``).
    version : str, optional
    path : str or Path, optional
        A schedule file of the same shape.
    """
    return HaircutSchedule.from_params(load_params(name, version=version, path=path))
