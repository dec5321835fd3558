r"""The CME-FICC way: two models on the joint portfolio, the more conservative applies.

Under the CME-FICC cross-margining agreement each clearing house runs its own model on
the joint portfolio, the higher requirement applies, and the customer's saving against
margining each side alone is capped. Here the two models (by default filtered historical
simulation and the scenario grid) both see the whole account, and the saving against
the silo arrangement is capped at a parameter share (80%).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from crossmargin.arrangements.pool import value_pool
from crossmargin.arrangements.result import ArrangementResult
from crossmargin.arrangements.silo import SiloArrangement
from crossmargin.arrangements.unified import PoolSpec, pool_spec
from crossmargin.book.book import Book
from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_number
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import ceil_cents
from crossmargin.methods.registry import METHODS, method_for
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.results.margin import MarginResult

__all__ = ["ConservativeArrangement"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ConservativeArrangement:
    r"""The higher of two models on the joint portfolio, savings capped against silos.

    Parameters
    ----------
    params : ParamSet
    models : tuple of str
        The two (or more) methods run on the whole account.
    savings_cap : float
        Largest share of the silo requirement the arrangement may save.
    pool : PoolSpec
    method_options : mapping of str to mapping

    Notes
    -----
    .. math:: IM_a = \min\Big(\max\big(M_1(a), M_2(a), (1 - c)\, IM^{\text{silo}}_a\big),
              IM^{\text{silo}}_a\Big)

    and likewise for maintenance, with :math:`c` the savings cap; collateral is one pool.
    Cross-margining is an election: an account never posts more under it than its silos
    would ask, so the figure is capped at the silo requirement (the detail says when the
    models' figure was above it).

    References
    ----------
    .. [1] CME Group and FICC, cross-margining arrangement for Treasury cash and futures
       (each clearing house's model on the combined portfolio, the more conservative
       result, customer savings capped at 80%); METHODOLOGY.md section 6.
    """

    name: ClassVar[str] = "conservative"
    params: ParamSet
    models: tuple[str, ...]
    savings_cap: float
    pool: PoolSpec
    method_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 <= self.savings_cap <= 1:
            raise InputError("must be in [0, 1]", source=self.params.path or self.params.id,
                             field="conservative.savings_cap", value=self.savings_cap)
        for m in self.models:
            if m not in METHODS:
                raise InputError(f"unknown method (known: {', '.join(sorted(METHODS))})",
                                 source=self.params.path or self.params.id,
                                 field="conservative.models", value=m)

    @classmethod
    def from_params(cls, params: ParamSet | None = None, *,
                    models: Sequence[str] | None = None,
                    method_options: Mapping[str, Mapping[str, Any]] | None = None,
                    ) -> ConservativeArrangement:
        """Build the arrangement from the arrangements' parameter set."""
        params = params or load_params("arrangements")
        raw = params.parameters.get("conservative", {})
        if not isinstance(raw, Mapping):
            raise InputError("must be a mapping", source=params.path or params.id,
                             field="conservative")
        return cls(params=params,
                   models=tuple(models or [str(m) for m in raw.get("models", [])]),
                   savings_cap=parse_number(raw.get("savings_cap"),
                                            field="conservative.savings_cap"),
                   pool=pool_spec(params), method_options=dict(method_options or {}))

    def compute(self, book: Book, market: MarketSnapshot, *,
                silo: ArrangementResult | None = None) -> ArrangementResult:
        """Margin every account by each model and keep the most conservative figure."""
        if silo is None:
            silo = SiloArrangement.from_params(self.params, method_options=self.method_options
                                               ).compute(book, market)
        results = [method_for(m, book, market, **self.method_options.get(m, {}))
                   .compute(book, market) for m in self.models]
        return self.combine(book, market, silo=silo, results=results)

    def combine(self, book: Book, market: MarketSnapshot, *, silo: ArrangementResult,
                results: Sequence[MarginResult]) -> ArrangementResult:
        """Return the arrangement from results already computed on ``book`` and ``market``.

        ``results`` are the models' results, in the order of ``models``; a caller that
        has them (a backtest that also runs the unified model) saves computing them
        twice.
        """
        if len(results) != len(self.models):
            raise ValueError("one result per model")
        floor = 1.0 - self.savings_cap
        im_all = np.stack([r.initial_margin for r in results]
                          + [ceil_cents(floor * silo.initial_margin)])
        mm_all = np.stack([r.maintenance_margin for r in results]
                          + [ceil_cents(floor * silo.maintenance_margin)])
        im_all = np.vstack([im_all, silo.initial_margin])
        mm_all = np.vstack([mm_all, silo.maintenance_margin])
        im = np.minimum(im_all[:-1].max(axis=0), im_all[-1])
        mm = np.minimum(mm_all[:-1].max(axis=0), mm_all[-1])
        binding = np.where(im_all[:-1].max(axis=0) > im_all[-1], len(self.models) + 1,
                           np.argmax(im_all[:-1], axis=0))
        labels = (*self.models, "savings cap", "silo (models above it)")
        pool = value_pool(book, market, by_kind=self.pool.by_kind, default=self.pool.default)
        components = {f"{m}.initial_margin": r.initial_margin
                      for m, r in zip(self.models, results, strict=True)}
        components["savings_cap_floor"] = im_all[-2]

        def detail(a: int) -> dict[str, Any]:
            return {"binding": labels[int(binding[a])],
                    "models": {m: r.driver_json(a)
                               for m, r in zip(self.models, results, strict=True)},
                    "collateral": pool.detail(a)}

        return ArrangementResult(
            arrangement=self.name, currency=book.currency, account_ids=book.account_ids,
            initial_margin=im, maintenance_margin=mm,
            collateral_value=pool.total, components=components, detail=detail,
            notes=tuple(sorted({n for r in results for n in r.notes} | set(silo.notes))),
        )
