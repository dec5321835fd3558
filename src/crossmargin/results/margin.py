"""Margin results: typed, columnar for many accounts, explainable for each one.

A result says, for every account, the initial and maintenance requirement, the
components that add up to it, what drove it (the group and scenario), which parameter
set produced it and a hash of the inputs, so that any figure can be reproduced.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.results.risk import ScenarioRisk

__all__ = ["MarginResult", "SegmentCharges", "output_amounts"]


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
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

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

    def _cached(self, key: str, build: Callable[[], Any]) -> Any:
        """Return ``build()``, computed once per result (a result never changes)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def segment_rows(self, index: int) -> IntArray:
        """Return the rows of ``segments`` that belong to account ``index``."""
        if self.segments is None:
            return np.zeros(0, dtype=np.int64)
        seg = self.segments

        def build() -> tuple[IntArray, IntArray]:
            order = np.argsort(seg.account, kind="stable")
            return order, np.searchsorted(seg.account[order],
                                          np.arange(len(self.account_ids) + 1))

        order, bounds = self._cached("rows", build)
        out: IntArray = order[bounds[index]:bounds[index + 1]]
        return out

    def _amounts(self, name: str, values: FloatArray) -> list[float]:
        """Return ``values`` rounded for output (:func:`output_amounts`), once per name."""
        rounded: list[float] = self._cached(f"amounts.{name}",
                                            lambda: output_amounts(values).tolist())
        return rounded

    def _describe(self, group: str, scenario: int) -> str | int:
        """Return a driving scenario in words, described once per (group, scenario)."""
        own = self.describe
        if own is None:
            return self.scenario_names[scenario] if self.scenario_names else scenario
        describe: Callable[[str, int], str] = self._cached("describe",
                                                           lambda: functools.cache(own))
        return describe(group, scenario)

    def driver_json(self, index: int) -> dict[str, Any]:
        """Return what drove account ``index``'s requirement: its largest group charge.

        ``{"group", "scenario", "loss"}``, or an empty mapping for a method without
        segments or an account without positions it margins.
        """
        seg = self.segments
        rows = self.segment_rows(index)
        if seg is None or rows.size == 0:
            return {}
        top = int(rows[int(np.argmax(seg.charge[rows]))])
        group = seg.group_names[int(seg.group[top])]
        return {"group": group, "scenario": self._describe(group, int(seg.scenario[top])),
                "loss": self._amounts("loss", seg.loss)[top]}

    def account_json(self, index: int) -> dict[str, Any]:
        """Return the JSON object of one account for this method."""
        components: dict[str, Any] = {
            k: self._amounts(f"component.{k}", v)[index] for k, v in self.components.items()
        }
        rows = self.segment_rows(index)
        if self.segments is not None and rows.size:
            seg = self.segments
            charge = self._amounts("charge", seg.charge)
            components["groups"] = {seg.group_names[int(seg.group[r])]: charge[r]
                                    for r in rows.tolist()}
        out: dict[str, Any] = {
            "method": self.method,
            "initial_margin": self._amounts("initial_margin", self.initial_margin)[index],
            "maintenance_margin": self._amounts("maintenance_margin",
                                                self.maintenance_margin)[index],
            "components": components,
            "driver": self.driver_json(index),
            "params": dict(self.params),
        }
        if self.detail is not None:
            out["detail"] = dict(self.detail(index))
        return out

    def accounts_json(self) -> list[dict[str, Any]]:
        """Return the JSON object of every account."""
        return [self.account_json(a) for a in range(len(self.account_ids))]


def output_amounts(values: FloatArray) -> FloatArray:
    r"""Round amounts for output: requirements up to the cent, credits down, never NaN.

    Raises
    ------
    ValueError
        When an amount is not finite.

    Notes
    -----
    :math:`\operatorname{sign}(x) \lceil |x| 10^2 (1 - 10^{-12}) \rceil / 10^2`, the same
    floating-point operations as :func:`crossmargin.core.money.round_up`, so each value
    equals its scalar rounding bit for bit.
    """
    x = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("non-finite amount in a margin result")
    a = np.abs(x) * 100.0
    up = np.ceil(a - np.abs(a) * 1e-12) / 100.0
    out: FloatArray = np.where(x >= 0, up, -up)
    return out
