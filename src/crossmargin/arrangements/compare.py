"""Side by side: the patchwork, the conservative-of-two rule and one unified portfolio.

For every account, each arrangement's initial and maintenance margin, the collateral
that counts after haircuts, the excess or shortfall, and the capital freed against the
silo arrangement (silo initial margin less the arrangement's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from crossmargin.arrangements import ARRANGEMENTS
from crossmargin.arrangements.conservative import ConservativeArrangement
from crossmargin.arrangements.result import ArrangementResult
from crossmargin.arrangements.silo import SiloArrangement
from crossmargin.arrangements.unified import UnifiedArrangement
from crossmargin.book.book import Book
from crossmargin.core.errors import InputError
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.params.loader import ParamSet, load_params

__all__ = ["ARRANGEMENTS", "Comparison", "compare"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Comparison:
    """Every arrangement's result on one book.

    Attributes
    ----------
    as_of : date
    currency : str
    account_ids : tuple of str
    results : tuple of ArrangementResult
        In the order of ``ARRANGEMENTS`` (those asked for); the first is ``silo``.
    params : mapping
        ``{"id", "version", "source"}`` of the arrangements' parameter set.
    """

    as_of: date
    currency: str
    account_ids: tuple[str, ...]
    results: tuple[ArrangementResult, ...]
    params: Mapping[str, str]

    @property
    def notes(self) -> list[str]:
        """Every arrangement's caveats, once each."""
        return sorted({n for r in self.results for n in r.notes})

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON of ``crossmargin compare``.

        Shape: ``{"as_of", "currency", "params", "notes", "accounts": [{"account",
        "arrangements": [{"arrangement", "initial_margin", "maintenance_margin",
        "collateral_value", "excess", "capital_freed_vs_silo", "components",
        "detail"}]}]}``.
        """
        silo = self.results[0]
        accounts = [
            {"account": acct,
             "arrangements": [r.account_json(a, silo_initial=float(silo.initial_margin[a]))
                              for r in self.results]}
            for a, acct in enumerate(self.account_ids)
        ]
        return {"as_of": self.as_of.isoformat(), "currency": self.currency,
                "params": dict(self.params), "notes": self.notes, "accounts": accounts}

    def to_frame(self) -> pd.DataFrame:
        """Return one row per (account, arrangement) with the headline figures."""
        silo = self.results[0]
        rows = [
            {"account": acct, "arrangement": r.arrangement,
             "initial_margin": float(r.initial_margin[a]),
             "maintenance_margin": float(r.maintenance_margin[a]),
             "collateral_value": float(r.collateral_value[a]),
             "excess": float(r.excess[a]),
             "capital_freed_vs_silo": float(silo.initial_margin[a] - r.initial_margin[a])}
            for a, acct in enumerate(self.account_ids) for r in self.results
        ]
        return pd.DataFrame(rows).set_index(["account", "arrangement"])


def compare(book: Book, market: MarketSnapshot, *, params: ParamSet | None = None,
            arrangements: Sequence[str] = ARRANGEMENTS,
            silo_methods: Mapping[str, str] | None = None,
            unified_method: str | None = None,
            method_options: Mapping[str, Mapping[str, Any]] | None = None) -> Comparison:
    """Run the arrangements on ``book`` and return them side by side.

    Parameters
    ----------
    book : Book
    market : MarketSnapshot
    params : ParamSet, optional
        The arrangements' parameters (the latest bundled set by default).
    arrangements : sequence of str
        Which to run besides ``silo`` (always run: the others are measured against it).
    silo_methods : mapping of str to str, optional
        Silo name -> method, overriding the parameter file (``securities=tims``).
    unified_method : str, optional
        The unified model (default from the parameter file: ``fhs``).
    method_options : mapping, optional
        Method name -> extra inputs (``{"span": {"span_file": ...}}``).
    """
    unknown = [a for a in arrangements if a not in ARRANGEMENTS]
    if unknown:
        raise InputError(f"unknown arrangement (known: {', '.join(ARRANGEMENTS)})",
                         field="arrangement", value=unknown[0])
    params = params or load_params("arrangements")
    options = dict(method_options or {})
    silo = SiloArrangement.from_params(params, methods=silo_methods,
                                       method_options=options).compute(book, market)
    out = [silo]
    if "conservative" in arrangements:
        out.append(ConservativeArrangement.from_params(params, method_options=options)
                   .compute(book, market, silo=silo))
    if "unified" in arrangements:
        unified = UnifiedArrangement.from_params(params, method=unified_method,
                                                 method_options=options)
        out.append(unified.compute(book, market))
    return Comparison(as_of=market.as_of, currency=book.currency,
                      account_ids=book.account_ids, results=tuple(out),
                      params=params.info())
