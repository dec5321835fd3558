r"""A SPAN risk-parameter file held in memory: contracts as columns, definitions as values.

The model mirrors the SPAN 4 XML layout (``spanFile > pointInTime > clearingOrg``): the
clearing organisation's rate definitions (``pbRateDef``), scan point definitions
(``pointDef``), currency conversions (``curConv``), product portfolios (``futPf``,
``oofPf``, ``oopPf``, ``phyPf``) and their contracts, combined commodity definitions
(``ccDef``) and inter-commodity spreads (``interSpreads``). Contracts, which number in
the hundreds of thousands in a published file, are held column-wise in
:class:`Contracts`; everything else is a small frozen value.

Notes
-----
Units follow the published files. A risk array holds 16 values ``a`` for one long
contract, losses positive, in the portfolio's currency per contract (the contract value
factor ``cvf`` is already applied); the two extreme scenarios are already multiplied by
their covered fraction (the scan point ``weight``), so the array values are the amounts
that count. Periods (``pe``) are kept as written, ``YYYYMM`` or ``YYYYMMDD``, as integers.

References
----------
.. [1] CME Group, "Components of SPAN" (risk arrays: one long position, losses positive,
   in the performance bond currency of the contract).
.. [2] CME Group, PC-SPAN report documentation, "Risk Scenarios" (scan point price and
   volatility definitions, weight, paired scenario).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import ClassVar

import numpy as np

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.core.values import parse_number

__all__ = [
    "CALL",
    "FUTURE",
    "NO_RIGHT",
    "OPEN_PERIOD",
    "OPTION",
    "PHYSICAL",
    "PUT",
    "SCENARIOS",
    "CombinedCommodity",
    "Contracts",
    "CurrencyConversion",
    "Portfolio",
    "PortfolioLink",
    "PortfolioType",
    "Rate",
    "RateDefinition",
    "RiskParameters",
    "ScanPoints",
    "SpotRate",
    "Spread",
    "SpreadLeg",
    "Tier",
    "maintenance_rate",
    "period_bounds",
    "period_of",
    "pick_rate",
]

#: Risk array values per contract.
SCENARIOS = 16
#: Contract kinds (``Contracts.kind``).
FUTURE, OPTION, PHYSICAL = 0, 1, 2
#: Option rights (``Contracts.right``).
NO_RIGHT, CALL, PUT = 0, 1, 2
#: A tier bound or period left open in the file.
OPEN_PERIOD = 0

#: ``(rate id r, value)`` of a ``rate`` element.
Rate = tuple[int, float]


class PortfolioType(StrEnum):
    """Product portfolio kinds, as ``pfType`` names them in a ``pfLink``."""

    FUT = "FUT"
    OOF = "OOF"
    OOP = "OOP"
    PHY = "PHY"

    @property
    def element(self) -> str:
        """The element that holds a portfolio of this kind (``futPf``...)."""
        return {"FUT": "futPf", "OOF": "oofPf", "OOP": "oopPf", "PHY": "phyPf"}[self.value]


def period_bounds(period: IntArray) -> tuple[IntArray, IntArray]:
    """Return the first and last day (``YYYYMMDD``) each period covers.

    ``YYYYMM`` covers its month (days 01 to 31 as ordered integers), ``YYYYMMDD`` its
    day, and :data:`OPEN_PERIOD` every day.
    """
    p = np.asarray(period, dtype=np.int64)
    month = p < 1_000_000
    lo = np.where(month, p * 100 + 1, p)
    hi = np.where(month, p * 100 + 31, p)
    lo = np.where(p == OPEN_PERIOD, 0, lo)
    hi = np.where(p == OPEN_PERIOD, 99_999_999, hi)
    return lo.astype(np.int64), hi.astype(np.int64)


def period_of(day: date) -> int:
    """Return ``day`` as a ``YYYYMMDD`` period."""
    return day.year * 10_000 + day.month * 100 + day.day


def maintenance_rate(definitions: Sequence[RateDefinition]) -> int:
    """Return the rate id (``r``) of the maintenance requirement.

    Notes
    -----
    The ``pbRateDef`` with ``isM`` set, preferring customer speculator accounts
    (``acctType`` ``S``) and core requirements; rate 1 when the file defines none.
    """
    found = sorted((d for d in definitions if d.maintenance),
                   key=lambda d: (not d.customer, d.account_type not in ("S", "SPEC"),
                                  d.classification not in ("", "CORE")))
    return found[0].rate_id if found else 1


def pick_rate(rates: tuple[Rate, ...], rate_id: int, *, where: str) -> float:
    """Return the value of rate ``rate_id`` among ``rates`` (the only one if just one).

    Raises
    ------
    InputError
        When no rate has that id and there is not exactly one rate.
    """
    for r, value in rates:
        if r == rate_id:
            return value
    if len(rates) == 1:
        return rates[0][1]
    raise InputError(f"no rate with r={rate_id} among {len(rates)} rates", field=where)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ScanPoints:
    """The scan point definitions (``pointDef/scanPointDef``), one per array value.

    Attributes
    ----------
    price : FloatArray, shape (16,)
        Underlying price move as a multiple of the price scan range.
    vol : FloatArray, shape (16,)
        Volatility move as a multiple of the volatility scan range.
    weight : FloatArray, shape (16,)
        Fraction of the scenario's loss the array value holds (the covered fraction).
    paired : IntArray, shape (16,)
        Index of the paired scenario (same price move, opposite volatility move), -1
        when none (the extreme moves).
    """

    price: FloatArray
    vol: FloatArray
    weight: FloatArray
    paired: IntArray

    def __post_init__(self) -> None:
        for name in ("price", "vol", "weight", "paired"):
            arr = np.asarray(getattr(self, name))
            if arr.shape != (SCENARIOS,):
                raise InputError(f"needs {SCENARIOS} scan points, got {arr.shape[0]}",
                                 field=f"pointDef.scanPointDef.{name}")
            if not np.isfinite(arr).all():
                raise InputError("scan point moves and weights must be finite numbers",
                                 field=f"pointDef.scanPointDef.{name}",
                                 value=float(arr[np.argmax(~np.isfinite(arr))]))
        if np.any(np.asarray(self.weight) < 0):
            raise InputError("scan point weights must not be negative",
                             field="pointDef.scanPointDef.weight")
        bad = (self.paired < -1) | (self.paired >= SCENARIOS)
        if bad.any():
            raise InputError("paired point out of range", field="pointDef.scanPointDef."
                             "pairedPoint", value=int(self.paired[np.argmax(bad)]) + 1)

    @classmethod
    def from_parameters(cls, p: object, *, where: str) -> ScanPoints:
        """Build scan points from a parameter mapping.

        The mapping holds lists ``price``, ``vol``, ``weight`` and ``paired`` (1-based,
        0 for none) of 16 numbers each.
        """
        if not isinstance(p, Mapping):
            raise InputError("must be a mapping", field=where, value=p)

        def column(name: str) -> list[float]:
            values = p.get(name)
            if not isinstance(values, Sequence) or isinstance(values, str):
                raise InputError("must be a list of 16 numbers", field=f"{where}.{name}",
                                 value=values)
            return [parse_number(v, field=f"{where}.{name}[{k}]")
                    for k, v in enumerate(values)]

        return cls(price=np.asarray(column("price")), vol=np.asarray(column("vol")),
                   weight=np.asarray(column("weight")),
                   paired=np.asarray(column("paired"), dtype=np.int64) - 1)

    def label(self, scenario: int) -> str:
        """Describe scenario ``scenario`` (0-based) in words."""
        move = float(self.price[scenario])
        vol = float(self.vol[scenario])
        third = round(abs(move) * 3)
        size = {0: "unchanged", 1: "1/3 of range", 2: "2/3 of range",
                3: "full range"}.get(third, f"{abs(move):g} x range")
        price = "price unchanged" if move == 0 else f"price {'up' if move > 0 else 'down'} {size}"
        volatility = "vol unchanged" if vol == 0 else f"vol {'up' if vol > 0 else 'down'}"
        covered = float(self.weight[scenario])
        tail = "" if covered == 1 else f" ({covered:.0%} covered)"
        return f"scenario {scenario + 1}: {price}, {volatility}{tail}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Portfolio:
    """A product portfolio (``futPf``, ``oofPf``, ``oopPf`` or ``phyPf``).

    Attributes
    ----------
    pf_id : int
        ``pfId``, unique within the exchange.
    code : str
        ``pfCode``: the product code a book's ``underlying`` names.
    type : PortfolioType
    name : str
    currency : str
        Currency of prices and risk arrays.
    cvf : float
        Contract value factor, for contracts that give none.
    value_method : str
        ``valueMeth``: ``FUT`` for futures-style valuation (no premium), else premium.
    exchange : str
        ``exch`` of the enclosing ``exchange`` element.
    """

    pf_id: int
    code: str
    type: PortfolioType
    name: str = ""
    currency: str = "USD"
    cvf: float = 1.0
    value_method: str = ""
    exchange: str = ""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Contracts:
    """Every contract of the file, one row each, in file order.

    Attributes
    ----------
    portfolio : IntArray, shape (n,)
        Index into :attr:`RiskParameters.portfolios`.
    cid : IntArray, shape (n,)
        ``cId`` within the portfolio.
    kind : IntArray, shape (n,)
        :data:`FUTURE`, :data:`OPTION` or :data:`PHYSICAL`.
    period : IntArray, shape (n,)
        ``pe`` of the contract (of its ``series`` for an option); 0 for a physical.
    right : IntArray, shape (n,)
        :data:`CALL`, :data:`PUT` or :data:`NO_RIGHT`.
    strike : FloatArray, shape (n,)
        ``k`` (NaN unless an option).
    price : FloatArray, shape (n,)
        ``p``, per unit of ``cvf``.
    delta : FloatArray, shape (n,)
        Composite delta of the risk array (``ra/d``).
    cvf : FloatArray, shape (n,)
        Contract value factor (the book's ``multiplier``).
    scaling : FloatArray, shape (n,)
        Delta scaling factor ``sc``.
    price_scan, vol_scan : FloatArray, shape (n,)
        ``scanRate`` of the contract (of its series for an option), NaN when absent.
    und_pf, und_cid : IntArray, shape (n,)
        ``undC`` (``pfId``, ``cId``) of an option's underlying contract, -1 when none.
    arrays : FloatArray, shape (n, 16)
        Risk arrays: loss of one long contract per scenario, currency per contract.
    """

    portfolio: IntArray
    cid: IntArray
    kind: IntArray
    period: IntArray
    right: IntArray
    strike: FloatArray
    price: FloatArray
    delta: FloatArray
    cvf: FloatArray
    scaling: FloatArray
    price_scan: FloatArray
    vol_scan: FloatArray
    und_pf: IntArray
    und_cid: IntArray
    arrays: FloatArray

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "portfolio", "cid", "kind", "period", "right", "strike", "price", "delta", "cvf",
        "scaling", "price_scan", "vol_scan", "und_pf", "und_cid", "arrays")

    def __post_init__(self) -> None:
        n = self.portfolio.shape[0]
        for name in self.COLUMNS:
            arr = getattr(self, name)
            if arr.shape[0] != n:
                raise ValueError(f"contract column {name} has {arr.shape[0]} rows, not {n}")
            arr.setflags(write=False)
        if self.arrays.shape != (n, SCENARIOS):
            raise ValueError(f"risk arrays must have shape ({n}, {SCENARIOS})")

    def __len__(self) -> int:
        return int(self.portfolio.shape[0])


@dataclass(frozen=True, slots=True, kw_only=True)
class Tier:
    """A tier of contract periods (``intraTiers``, ``interTiers``, ``somTiers``).

    Attributes
    ----------
    number : int
        ``tn``.
    start, end : int
        ``sPe`` and ``ePe`` (:data:`OPEN_PERIOD` when absent: the tier covers all).
    rates : tuple of Rate
        ``rate`` elements (a short option minimum tier's charge per short option).
    """

    number: int
    start: int = OPEN_PERIOD
    end: int = OPEN_PERIOD
    rates: tuple[Rate, ...] = ()

    def contains(self, period: IntArray) -> np.ndarray:
        """Return which periods (``YYYYMM`` or ``YYYYMMDD``) lie within the tier."""
        lo, hi = period_bounds(period)
        start = period_bounds(np.asarray([self.start]))[0][0]
        end = period_bounds(np.asarray([self.end]))[1][0]
        inside: np.ndarray = (lo >= start) & (hi <= end)
        return inside


@dataclass(frozen=True, slots=True, kw_only=True)
class SpreadLeg:
    """One leg of a spread: a tier (``tLeg``) or a period (``pLeg``) of a commodity.

    Attributes
    ----------
    cc : str
        Combined commodity of the leg.
    side : int
        +1 for side ``A``, -1 for side ``B`` (legs on opposite sides have opposite signs).
    ratio : float
        ``i``: deltas of the leg per spread.
    tier : int or None
        ``tn`` of a tier leg (0 names the whole commodity).
    period : int or None
        ``pe`` of a period leg.
    """

    cc: str
    side: int
    ratio: float
    tier: int | None = None
    period: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Spread:
    """A delta spread (``dSpread``): legs, a charge method and its rate.

    Attributes
    ----------
    priority : int
        ``spread``: spreads are formed in increasing priority number.
    charge_method : str
        ``chargeMeth`` as written (``F``/``FLAT`` charge per spread, ``WPR`` weighted
        price risk credit).
    rates : tuple of Rate
    legs : tuple of SpreadLeg
    """

    priority: int
    charge_method: str
    rates: tuple[Rate, ...]
    legs: tuple[SpreadLeg, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotRate:
    """A delivery (spot) month charge (``spotRate``).

    Attributes
    ----------
    rate_id : int
        ``r``.
    period : int
        ``pe``: the contract period in delivery.
    spread : float
        ``sprd``: charge per delta of the period consumed by intra-commodity spreads.
    outright : float
        ``outr``: charge per remaining (outright) delta of the period.
    """

    rate_id: int
    period: int
    spread: float
    outright: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioLink:
    """A ``pfLink``: a portfolio that belongs to a combined commodity."""

    code: str
    type: PortfolioType
    pf_id: int = -1
    exchange: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CombinedCommodity:
    """A combined commodity definition (``ccDef``).

    Attributes
    ----------
    code : str
        ``cc``.
    name, currency : str
    wfpr_method : str
        ``wfprMeth``: how the weighted futures price risk is computed (``NORMAL``).
    links : tuple of PortfolioLink
    intra_tiers, inter_tiers, som_tiers : tuple of Tier
    spot_rates : tuple of SpotRate
    intra_spreads : tuple of Spread
        The commodity's ``dSpread`` elements (intra-commodity spreads).
    """

    code: str
    name: str = ""
    currency: str = "USD"
    wfpr_method: str = "NORMAL"
    links: tuple[PortfolioLink, ...] = ()
    intra_tiers: tuple[Tier, ...] = ()
    inter_tiers: tuple[Tier, ...] = ()
    som_tiers: tuple[Tier, ...] = ()
    spot_rates: tuple[SpotRate, ...] = ()
    intra_spreads: tuple[Spread, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RateDefinition:
    """A performance bond rate definition (``pbRateDef``)."""

    rate_id: int
    maintenance: bool
    customer: bool = True
    account_type: str = ""
    classification: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrencyConversion:
    """A ``curConv``: ``factor`` units of ``target`` per unit of ``source``."""

    source: str
    target: str
    factor: float


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RiskParameters:
    """One SPAN risk-parameter file.

    Attributes
    ----------
    source : str
        The file it was read from (or ``<memory>``).
    sha256 : str
        SHA-256 of the file's bytes (empty for a model built in memory).
    business_date : date or None
        ``pointInTime/date``.
    clearing_org : str
        ``clearingOrg/ec``.
    rate_definitions : tuple of RateDefinition
    conversions : tuple of CurrencyConversion
    scan_points : ScanPoints or None
        ``pointDef``, when the file gives one.
    portfolios : tuple of Portfolio
    contracts : Contracts
    combined : tuple of CombinedCommodity
    inter_spreads : tuple of Spread
    """

    source: str
    sha256: str
    business_date: date | None
    clearing_org: str
    rate_definitions: tuple[RateDefinition, ...]
    conversions: tuple[CurrencyConversion, ...]
    scan_points: ScanPoints | None
    portfolios: tuple[Portfolio, ...]
    contracts: Contracts
    combined: tuple[CombinedCommodity, ...]
    inter_spreads: tuple[Spread, ...]

    def __post_init__(self) -> None:
        codes = [c.code for c in self.combined]
        if len(set(codes)) != len(codes):
            dup = next(c for c in codes if codes.count(c) > 1)
            raise InputError("combined commodity defined twice", source=self.source,
                             field="ccDef.cc", value=dup)

    def maintenance_rate(self) -> int:
        """Return the rate id (``r``) of the maintenance requirement."""
        return maintenance_rate(self.rate_definitions)

    def portfolio_cc(self) -> IntArray:
        """Return the combined commodity (index into ``combined``) of each portfolio.

        Portfolios are linked by ``pfLink`` (``pfCode`` and ``pfType``); -1 where no
        combined commodity links a portfolio.
        """
        owner: dict[tuple[str, str], int] = {}
        for g, cc in enumerate(self.combined):
            for link in cc.links:
                owner.setdefault((link.code, link.type.value), g)
        return np.asarray([owner.get((p.code, p.type.value), -1) for p in self.portfolios],
                          dtype=np.int64)

    def tier_periods(self) -> IntArray:
        """Return the period that places each contract in a tier.

        A future's own period; an option's underlying future's period when its ``undC``
        names a future of the file, else its series period.
        """
        c = self.contracts
        out = c.period.astype(np.int64).copy()
        opt = np.flatnonzero((c.kind == OPTION) & (c.und_pf >= 0))
        if opt.size == 0:
            return out
        pf_ids = np.asarray([p.pf_id for p in self.portfolios], dtype=np.int64)
        fut = np.flatnonzero(c.kind == FUTURE)
        keys = pf_ids[c.portfolio[fut]] * (1 << 32) + c.cid[fut]
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        want = c.und_pf[opt] * (1 << 32) + c.und_cid[opt]
        pos = np.clip(np.searchsorted(keys, want), 0, max(keys.size - 1, 0))
        found = keys.size > 0
        hit = (keys[pos] == want) if found else np.zeros(opt.size, dtype=bool)
        out[opt[hit]] = c.period[fut[order[pos[hit]]]]
        return out
