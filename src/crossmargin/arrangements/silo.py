r"""Today's patchwork: securities, futures and crypto each margined alone.

Every position belongs to one regulatory silo, decided by what it is and where it
trades: shares, listed equity and index options and Treasury securities are securities
(SEC: Reg T / FINRA 4210, or 4210(g) portfolio margin); futures and options on futures
are futures (CFTC: CME SPAN); spot coins, perpetual swaps and the linear or inverse
futures and options of crypto venues are crypto (the venue's own margin). Each silo is
margined by its own method, sees only its own positions, and must be covered by
collateral posted to it, which only some asset kinds may be; the account's collateral is
allocated across silos by :func:`~crossmargin.arrangements.allocation.allocate_collateral`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np

from crossmargin.arrangements.allocation import allocate_collateral
from crossmargin.arrangements.pool import asset_kinds, dense_by_account, schedule
from crossmargin.arrangements.result import ArrangementResult
from crossmargin.book.book import Book
from crossmargin.book.instruments import (
    AssetClass,
    CryptoSpot,
    Instrument,
    Perpetual,
    Settlement,
)
from crossmargin.collateral import AssetKind, value_collateral
from crossmargin.collateral.haircuts import floor_cents
from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import ceil_cents
from crossmargin.methods.registry import METHODS, method_for
from crossmargin.methods.strategy.method import CONVENTION as STRATEGY_CONVENTION
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.results.margin import MarginResult

__all__ = ["Silo", "SiloArrangement", "SiloSpec", "silo_of"]


class Silo(StrEnum):
    """The regulatory silos of today's patchwork."""

    SECURITIES = "securities"
    FUTURES = "futures"
    CRYPTO = "crypto"


#: How the silo states the securities requirements (replacing the strategy method's note).
NET_OF_PROCEEDS = ("securities silo: strategy requirements net of short sale proceeds "
                   "(the proceeds are in the account), so each is the equity to deposit")
_FUTURE_KINDS = frozenset({"future", "future_option", "treasury_future", "rate_future"})


def silo_of(instrument: Instrument) -> Silo:
    """Return the silo an instrument is margined in under today's patchwork.

    Notes
    -----
    Crypto venue products are spot coins, perpetuals and contracts settled ``linear``
    (in a stablecoin) or ``inverse`` (in coin); a cash-settled bitcoin future is a
    CME-style futures contract; everything else listed is a future if it is a future or
    an option on one, and a security otherwise.
    """
    if isinstance(instrument, CryptoSpot | Perpetual):
        return Silo.CRYPTO
    settlement = getattr(instrument, "settlement", None)
    if instrument.asset_class is AssetClass.CRYPTO and settlement in (
            Settlement.LINEAR, Settlement.INVERSE):
        return Silo.CRYPTO
    if instrument.kind in _FUTURE_KINDS:
        return Silo.FUTURES
    return Silo.SECURITIES


@dataclass(frozen=True, slots=True, kw_only=True)
class SiloSpec:
    """One silo: its margin method and the collateral it accepts.

    Attributes
    ----------
    silo : Silo
    method : str
        Name of the silo's margin method (a key of the method registry).
    routes : mapping of str to str
        Instrument kind -> the method that margins that kind in this silo instead (US
        Treasury notes and bonds under FINRA 4210(e)(2) in the securities silo).
    accepts : frozenset of AssetKind
        Collateral kinds the silo recognises.
    schedule : str
        Haircut schedule applied to collateral posted to the silo.
    """

    silo: Silo
    method: str
    accepts: frozenset[AssetKind]
    schedule: str
    routes: Mapping[str, str] = field(default_factory=dict)

    def method_of(self, instrument: Instrument) -> str:
        """Return the method that margins ``instrument`` in this silo."""
        return self.routes.get(instrument.kind, self.method)


def _spec(silo: Silo, raw: Any, override: str | None) -> SiloSpec:
    where = f"silos.{silo.value}"
    if not isinstance(raw, Mapping):
        raise InputError("must be a mapping", field=where)
    method = override or str(raw.get("method", ""))
    routes = {str(k): str(v) for k, v in dict(raw.get("routes", {})).items()}
    for field_name, name in ((f"{where}.method", method),
                             *((f"{where}.routes.{k}", v) for k, v in routes.items())):
        if name not in METHODS:
            raise InputError(f"unknown method (known: {', '.join(sorted(METHODS))})",
                             field=field_name, value=name)
    return SiloSpec(silo=silo, method=method, routes=routes,
                    accepts=asset_kinds(list(raw.get("accepts", [])), field=f"{where}.accepts"),
                    schedule=str(raw.get("schedule", "")))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SiloArrangement:
    r"""Each silo margined alone, each covered by the collateral posted to it.

    Parameters
    ----------
    params : ParamSet
        The arrangements' parameter set.
    silos : tuple of SiloSpec
        The silos in the order of ``Silo``.
    method_options : mapping of str to mapping
        Extra inputs of a method by name (the SPAN file of the futures silo).

    Notes
    -----
    With :math:`R_{a,s}` the requirement of account :math:`a`'s positions in silo
    :math:`s` under that silo's method,

    .. math:: IM_a = \sum_s R_{a,s}, \qquad
              C_a = \sum_s \min(\text{posted}_{a,s}, R_{a,s}) + \text{free}_a
                    - \text{unfunded liabilities}_a

    where the posting solves the allocation program (minimum total shortfall). A method
    that states short positions with their proceeds (Reg T: short stock 150%) counts
    here net of its ``short_proceeds`` component: the proceeds are in the account from
    the sale, so :math:`R` is the equity the customer must deposit. A
    liability (a negative balance) is a claim any asset may cover, at that asset's best
    value among the silos.

    References
    ----------
    .. [1] SEC and CFTC, joint request for comment on portfolio margining (June 2026).
    """

    name: ClassVar[str] = "silo"
    params: ParamSet
    silos: tuple[SiloSpec, ...]
    method_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: ParamSet | None = None, *,
                    methods: Mapping[str, str] | None = None,
                    method_options: Mapping[str, Mapping[str, Any]] | None = None,
                    ) -> SiloArrangement:
        """Build the arrangement; ``methods`` overrides a silo's method by silo name."""
        params = params or load_params("arrangements")
        raw = dict(params.parameters.get("silos", {}))
        chosen = dict(methods or {})
        unknown = set(chosen) - {s.value for s in Silo}
        if unknown:
            raise InputError("unknown silo (known: securities, futures, crypto)",
                             field="silo", value=sorted(unknown)[0])
        try:
            silos = tuple(_spec(s, raw.get(s.value), chosen.get(s.value)) for s in Silo)
        except InputError as err:
            raise err.located(params.path or params.id) from None
        return cls(params=params, silos=silos, method_options=dict(method_options or {}))

    def split(self, book: Book) -> IntArray:
        """Return the silo index of each position of ``book``."""
        of_instrument = np.asarray([list(Silo).index(silo_of(i)) for i in book.instruments],
                                   dtype=np.int64)
        out: IntArray = of_instrument[book.pos_instrument] if book.n_positions else \
            np.zeros(0, dtype=np.int64)
        return out

    def margin(self, book: Book, market: MarketSnapshot) -> list[list[MarginResult]]:
        """Return each silo's method results on its own positions (empty when none).

        A silo's positions go to its method, or to the method its ``routes`` name for
        their kind; each method sees only the positions routed to it.
        """
        pos_silo = self.split(book)
        out: list[list[MarginResult]] = []
        for k, spec in enumerate(self.silos):
            names = np.asarray([spec.method_of(i) for i in book.instruments] or [""],
                               dtype=object)
            pos_method = names[book.pos_instrument] if book.n_positions else names[:0]
            results = []
            for name in dict.fromkeys(str(m) for m in pos_method[pos_silo == k]):
                keep = (pos_silo == k) & (pos_method == name)
                part = book.select_positions(keep)
                method = method_for(name, part, market, **self.method_options.get(name, {}))
                results.append(method.compute(part, market))
            out.append(results)
        return out

    def compute(self, book: Book, market: MarketSnapshot) -> ArrangementResult:
        """Margin every account silo by silo and allocate its collateral across silos."""
        results = self.margin(book, market)
        n, n_silos = book.n_accounts, len(self.silos)
        im = np.zeros((n, n_silos))
        mm = np.zeros((n, n_silos))
        for k, silo_results in enumerate(results):
            for res in silo_results:
                proceeds = res.components.get("short_proceeds", np.zeros(n))
                im[:, k] += np.maximum(res.initial_margin - proceeds, 0.0)
                mm[:, k] += np.maximum(res.maintenance_margin - proceeds, 0.0)
        pos_silo = self.split(book)
        per_silo: list[FloatArray] = []
        market_value: FloatArray = np.zeros(0)
        offsets: IntArray = np.zeros(n + 1, dtype=np.int64)
        kinds: list[AssetKind] = []
        labels: list[str] = []
        for k, spec in enumerate(self.silos):
            val = value_collateral(book, market, schedule(spec.schedule),
                                   exposures=book.select_positions(pos_silo == k))
            kinds = [val.assets[int(a)].kind for a in val.asset]
            labels = [val.assets[int(a)].label for a in val.asset]
            accepted = np.asarray([kd in spec.accepts for kd in kinds], dtype=bool)
            per_silo.append(np.where(accepted & (val.amount > 0), val.value, 0.0))
            market_value, offsets = val.market_value, val.offsets
        values_h = np.stack(per_silo, axis=1) if per_silo else np.zeros((0, n_silos))
        liability = np.maximum(-market_value, 0.0)
        claims = np.bincount(np.repeat(np.arange(n), np.diff(offsets)), weights=liability,
                             minlength=n) if liability.size else np.zeros(n)
        values = dense_by_account(np.c_[values_h, values_h.max(axis=1, initial=0.0)
                                        if values_h.size else np.zeros(0)], offsets)
        alloc = allocate_collateral(values=values, requirement=np.c_[im, claims])
        covered = np.minimum(alloc.covered[:, :n_silos], im)
        collateral = floor_cents(covered.sum(axis=1) + alloc.excess - alloc.shortfall[:, -1])
        components: dict[str, FloatArray] = {}
        for k, spec in enumerate(self.silos):
            components[f"{spec.silo.value}.initial_margin"] = im[:, k]
            components[f"{spec.silo.value}.shortfall"] = alloc.shortfall[:, k]
        notes = {note for rs in results for r in rs for note in r.notes}
        if STRATEGY_CONVENTION in notes:  # the silo states requirements net of proceeds
            notes = (notes - {STRATEGY_CONVENTION}) | {NET_OF_PROCEEDS}

        def detail(a: int) -> dict[str, Any]:
            silos: dict[str, Any] = {}
            lo = int(offsets[a])
            for k, spec in enumerate(self.silos):
                posted = {
                    labels[lo + j]: round(float(alloc.share[a, j, k]
                                                            * values[a, j, k]), 2)
                    for j in range(int(offsets[a + 1] - offsets[a]))
                    if alloc.share[a, j, k] > 1e-12
                }
                silos[spec.silo.value] = {
                    "initial_margin": float(im[a, k]),
                    "maintenance_margin": float(mm[a, k]),
                    "collateral_posted": posted,
                    "shortfall": round(float(alloc.shortfall[a, k]), 2),
                    "methods": {r.method: {"initial_margin": float(r.initial_margin[a]),
                                           "driver": r.driver_json(a)}
                                for r in results[k]},
                }
            return {"silos": silos}

        return ArrangementResult(
            arrangement=self.name, currency=book.currency, account_ids=book.account_ids,
            initial_margin=ceil_cents(im.sum(axis=1)),
            maintenance_margin=ceil_cents(mm.sum(axis=1)),
            collateral_value=collateral, components=components, detail=detail,
            notes=tuple(sorted(notes)),
        )
