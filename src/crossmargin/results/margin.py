"""Margin results: typed, columnar for many accounts, explainable for each one.

A result says, for every account, the initial and maintenance requirement, the
components that add up to it, what drove it (the group and scenario), which parameter
set produced it and a hash of the inputs, so that any figure can be reproduced.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from crossmargin.core.money import round_up
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.results.risk import ScenarioRisk

__all__ = ["MarginResult", "SegmentCharges"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SegmentCharges:
    """Charges of (account, group) segments, for explanation.

    Attributes
    ----------
    account : IntArray, shape (n_segments,)
        Account row of each segment.
    group : IntArray, shape (n_segments,)
        Index into ``group_names``.
    group_names : tuple of str
        Names of the groups (an underlying, a curve, a combined commodity).
    charge : FloatArray, shape (n_segments,)
        The segment's requirement (after its floor).
    loss : FloatArray, shape (n_segments,)
        The segment's worst scenario loss before flooring.
    scenario : IntArray, shape (n_segments,)
        The scenario that drove the segment's loss.
    """

    account: IntArray
    group: IntArray
    group_names: tuple[str, ...]
    charge: FloatArray
    loss: FloatArray
    scenario: IntArray


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MarginResult:
    """The requirements one method produced for a whole book.

    Attributes
    ----------
    method : str
        Method name (``grid``, ``span``...).
    currency : str
        Currency of every amount (the book's reporting currency).
    as_of : date
    params : mapping
        ``{"id", "version", "source"}`` of the parameter set used.
    input_hash : str
        SHA-256 of the book, market and parameters that produced the result.
    account_ids : tuple of str, shape (n_accounts,)
    initial_margin, maintenance_margin : FloatArray, shape (n_accounts,)
        Requirements, rounded up to the cent.
    components : mapping of str to FloatArray, shape (n_accounts,)
        Named parts of the requirement per account.
    segments : SegmentCharges, optional
        Per-group charges and drivers.
    scenario_names : tuple of str
        Labels of the scenarios that ``segments.scenario`` indexes.
    describe : callable, optional
        ``describe(group, scenario)`` gives the scenario as it applies to one group
        (e.g. ``"SPX -8.00%, vol +25%"``); falls back to ``scenario_names``.
    notes : tuple of str
        Caveats the reader must see (stale market data, assumptions).
    detail : callable, optional
        ``detail(account_row)`` gives a method's own explanation of one account as a
        JSON-ready mapping (the strategy pairing chosen, SPAN charges per combined
        commodity...); it appears as ``"detail"`` in the account's JSON.
    scenario_risk : ScenarioRisk, optional
        What a scenario method's reduction saw (P&L, segments, drivers, tails) and what
        it added beyond the segment charges, for attribution
        (:mod:`crossmargin.analytics.attribution`); ``None`` for other methods.
    """

    method: str
    currency: str
    as_of: date
    params: Mapping[str, str]
    input_hash: str
    account_ids: tuple[str, ...]
    initial_margin: FloatArray
    maintenance_margin: FloatArray
    components: Mapping[str, FloatArray] = field(default_factory=dict)
    segments: SegmentCharges | None = None
    scenario_names: tuple[str, ...] = ()
    describe: Callable[[str, int], str] | None = None
    notes: tuple[str, ...] = ()
    detail: Callable[[int], Mapping[str, Any]] | None = None
    scenario_risk: ScenarioRisk | None = None

    def __post_init__(self) -> None:
        for name in ("initial_margin", "maintenance_margin"):
            values = getattr(self, name)
            if values.shape != (len(self.account_ids),):
                raise ValueError(f"{name} must have one value per account")
            if not np.all(np.isfinite(values)) or np.any(values < 0):
                raise ValueError(f"{name} must be finite and non-negative")

    def to_frame(self) -> pd.DataFrame:
        """Return one row per account: requirements and components."""
        frame = pd.DataFrame(
            {
                "account": self.account_ids,
                "method": self.method,
                "currency": self.currency,
                "initial_margin": self.initial_margin,
                "maintenance_margin": self.maintenance_margin,
                **{f"component.{k}": v for k, v in self.components.items()},
            }
        )
        return frame.set_index("account")

    def _segment_rows(self) -> dict[int, np.ndarray]:
        if self.segments is None:
            return {}
        order = np.argsort(self.segments.account, kind="stable")
        accounts = self.segments.account[order]
        bounds = np.searchsorted(accounts, np.arange(len(self.account_ids) + 1))
        return {a: order[bounds[a]:bounds[a + 1]] for a in range(len(self.account_ids))}

    def account_json(self, index: int, *, rows: np.ndarray | None = None,
                     describe: Callable[[str, int], str] | None = None) -> dict[str, Any]:
        """Return the JSON object of one account for this method.

        ``describe`` stands in for the result's own (a cached copy, when many accounts
        are written).
        """
        describe = describe or self.describe
        components: dict[str, Any] = {
            k: _amount(float(v[index])) for k, v in self.components.items()
        }
        driver: dict[str, Any] = {}
        if self.segments is not None:
            seg = self.segments
            if rows is None:
                rows = np.flatnonzero(seg.account == index)
            if rows.size:
                components["groups"] = {
                    seg.group_names[int(seg.group[r])]: _amount(float(seg.charge[r]))
                    for r in rows
                }
                top = rows[int(np.argmax(seg.charge[rows]))]
                group = seg.group_names[int(seg.group[top])]
                scenario = int(seg.scenario[top])
                driver = {
                    "group": group,
                    "scenario": describe(group, scenario) if describe
                    else (self.scenario_names[scenario] if self.scenario_names else scenario),
                    "loss": _amount(float(seg.loss[top])),
                }
        out: dict[str, Any] = {
            "method": self.method,
            "initial_margin": _amount(float(self.initial_margin[index])),
            "maintenance_margin": _amount(float(self.maintenance_margin[index])),
            "components": components,
            "driver": driver,
            "params": dict(self.params),
        }
        if self.detail is not None:
            out["detail"] = dict(self.detail(index))
        return out

    def accounts_json(self) -> list[dict[str, Any]]:
        """Return the JSON object of every account (for books of modest size)."""
        rows = self._segment_rows()
        # a driving scenario is described once, however many accounts it drives
        describe = functools.cache(self.describe) if self.describe else None
        return [self.account_json(a, rows=rows.get(a), describe=describe)
                for a in range(len(self.account_ids))]


def _amount(value: float) -> float:
    """Round an amount for output: requirements up to the cent, never NaN."""
    if not math.isfinite(value):
        raise ValueError("non-finite amount in a margin result")
    return round_up(value) if value >= 0 else -round_up(-value)
