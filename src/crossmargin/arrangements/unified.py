r"""One portfolio: every position margined together, one collateral pool.

The unified arrangement is what the joint request for comment asks about: stocks,
options, futures, Treasuries and crypto derivatives of one account margined as one
portfolio by a single model (filtered historical simulation by default), against one
pool of collateral valued after haircuts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from crossmargin.arrangements.pool import value_pool
from crossmargin.arrangements.result import ArrangementResult
from crossmargin.arrangements.silo import Silo, silo_of
from crossmargin.book.book import Book
from crossmargin.core.errors import InputError
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.registry import METHODS, method_for
from crossmargin.params.loader import ParamSet, load_params

__all__ = ["PoolSpec", "UnifiedArrangement", "pool_spec"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolSpec:
    """Which haircut schedule values each collateral kind in a single pool."""

    by_kind: Mapping[str, str]
    default: str


def pool_spec(params: ParamSet) -> PoolSpec:
    """Read the ``pool`` section of the arrangements' parameters."""
    raw = params.parameters.get("pool", {})
    if not isinstance(raw, Mapping) or "default_schedule" not in raw:
        raise InputError("needs default_schedule", source=params.path or params.id,
                         field="pool")
    return PoolSpec(by_kind={str(k): str(v) for k, v in dict(raw.get("schedules", {})).items()},
                    default=str(raw["default_schedule"]))


def method_name(params: ParamSet, section: str, override: str | None) -> str:
    """Return the method of ``section`` (or ``override``), checked against the registry."""
    raw = params.parameters.get(section, {})
    default = str(raw.get("method", "")) if isinstance(raw, Mapping) else ""
    name = override or default
    if name not in METHODS:
        raise InputError(f"unknown method (known: {', '.join(sorted(METHODS))})",
                         source=params.path or params.id, field=f"{section}.method",
                         value=name)
    return name


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class UnifiedArrangement:
    r"""Every position under one model; all collateral in one pool.

    Parameters
    ----------
    params : ParamSet
    method : str
        The unified model (``fhs`` by default).
    pool : PoolSpec
    method_options : mapping of str to mapping
        Method name -> extra inputs of that method.

    Notes
    -----
    :math:`IM_a = M(\text{all positions of } a)`, :math:`C_a = \sum_h V_h` with each
    holding valued under its kind's schedule (wrong-way risk judged against the whole
    portfolio); :math:`O_a`, the cross-silo offset, is what one model saves by seeing
    the silos together.

    References
    ----------
    .. [1] SEC and CFTC, joint request for comment on portfolio margining (June 2026).
    .. [2] CPMI-IOSCO, Principles for financial market infrastructures (2012),
       principle 6 (margin) and principle 5 (collateral).
    """

    name: ClassVar[str] = "unified"
    params: ParamSet
    method: str
    pool: PoolSpec
    method_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: ParamSet | None = None, *, method: str | None = None,
                    method_options: Mapping[str, Mapping[str, Any]] | None = None,
                    ) -> UnifiedArrangement:
        """Build the arrangement from the arrangements' parameter set."""
        params = params or load_params("arrangements")
        return cls(params=params, method=method_name(params, "unified", method),
                   pool=pool_spec(params), method_options=dict(method_options or {}))

    def compute(self, book: Book, market: MarketSnapshot) -> ArrangementResult:
        """Margin every account as one portfolio against one collateral pool.

        Besides the requirement, the components give the same model run on each silo's
        positions alone and the cross-silo offset: what margining the silos together
        saves under one and the same model.
        """
        method = method_for(self.method, book, market,
                            **self.method_options.get(self.method, {}))
        result = method.compute(book, market)
        pool = value_pool(book, market, by_kind=self.pool.by_kind, default=self.pool.default)
        of_instrument = np.asarray([silo_of(i).value for i in book.instruments] or [""],
                                   dtype=object)
        pos_silo = of_instrument[book.pos_instrument] if book.n_positions else \
            of_instrument[:0]
        alone = {s.value: np.zeros(book.n_accounts) for s in Silo}
        for silo in dict.fromkeys(str(x) for x in pos_silo):
            alone[silo] = method.compute(book.select_positions(pos_silo == silo),
                                         market).initial_margin
        standalone = np.sum(list(alone.values()), axis=0)

        def detail(a: int) -> dict[str, Any]:
            row = result.account_json(a)
            return {"method": self.method, "driver": row["driver"],
                    "margin_detail": row.get("detail", {}), "collateral": pool.detail(a)}

        return ArrangementResult(
            arrangement=self.name, currency=book.currency, account_ids=book.account_ids,
            initial_margin=result.initial_margin,
            maintenance_margin=result.maintenance_margin, collateral_value=pool.total,
            components={**{f"{self.method}.{k}": v for k, v in result.components.items()},
                        **{f"{self.method}.{s}_alone": v for s, v in alone.items()},
                        "cross_silo_offset": standalone - result.initial_margin},
            detail=detail, notes=result.notes,
        )
