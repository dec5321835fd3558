"""Stress results: loss, resources and uncovered loss per account and scenario."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from crossmargin.analytics.cover import CoverN, cover_n, sum_rows
from crossmargin.analytics.stress_scenarios import StressScenario
from crossmargin.core.money import round_up
from crossmargin.core.typing import FloatArray, IntArray

__all__ = ["MarginHeld", "StressResult", "defaulter_resources"]


def defaulter_resources(*, initial_margin: FloatArray, collateral_base: FloatArray,
                        collateral: FloatArray) -> FloatArray:
    r"""Return what a defaulter leaves to cover its loss, shape (n_accounts, n_scenarios).

    Parameters
    ----------
    initial_margin, collateral_base : FloatArray, shape (n_accounts,)
        :math:`IM_a` and the collateral counted today :math:`C_a`.
    collateral : FloatArray, shape (n_accounts, n_scenarios)
        The collateral counted under each scenario :math:`C_{a,s}`.

    Notes
    -----
    :math:`R_{a,s} = \max(IM_a, C_a) + C_{a,s} - C_a`: the margin requirement, assumed met
    (what the collateral does not cover called and paid in cash, which does not move),
    plus any collateral beyond it; the collateral part moves with the scenario.
    """
    base = collateral_base[:, None]
    out: FloatArray = np.maximum(initial_margin[:, None], base) + collateral - base
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MarginHeld:
    """What each account holds against its positions on the base date.

    Attributes
    ----------
    label : str
        What produced the figures (``"arrangement unified"``, ``"method grid"``).
    initial_margin : FloatArray, shape (n_accounts,)
    collateral_value : FloatArray, shape (n_accounts,)
        Collateral counted after haircuts.
    params : mapping
        ``{"id", "version", "source"}`` of the method's or arrangement's parameters.
    notes : tuple of str
    """

    label: str
    initial_margin: FloatArray
    collateral_value: FloatArray
    params: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StressResult:
    r"""Stressed loss, resources and uncovered loss of every account under every scenario.

    Attributes
    ----------
    as_of : date
    currency : str
        Currency of every amount.
    account_ids : tuple of str, shape (n_accounts,)
    members : tuple of str, shape (n_members,)
        Clearing members (the accounts themselves when the book names none).
    member_of : IntArray, shape (n_accounts,)
    scenarios : tuple of StressScenario, shape (n_scenarios,)
    loss : FloatArray, shape (n_accounts, n_scenarios)
        Loss of the positions (a gain negative), rounded up to the cent.
    margin : MarginHeld
    collateral : FloatArray, shape (n_accounts, n_scenarios)
        Collateral counted under the scenario :math:`C_{a,s}`, rounded down to the cent.
    uncovered : FloatArray, shape (n_accounts, n_scenarios)
        :math:`U_{a,s}` (see :mod:`crossmargin.analytics.stress`), rounded up to the cent.
    params : mapping
        ``{"id", "version", "source"}`` of the stress parameters.
    worst_accounts : int
        Accounts listed per scenario in the JSON.
    notes : tuple of str
    """

    as_of: date
    currency: str
    account_ids: tuple[str, ...]
    members: tuple[str, ...]
    member_of: IntArray
    scenarios: tuple[StressScenario, ...]
    loss: FloatArray
    margin: MarginHeld
    collateral: FloatArray
    uncovered: FloatArray
    params: Mapping[str, str]
    worst_accounts: int
    notes: tuple[str, ...] = ()

    @property
    def resources(self) -> FloatArray:
        """The defaulter's resources :math:`R_{a,s}`, shape (n_accounts, n_scenarios)."""
        return defaulter_resources(initial_margin=self.margin.initial_margin,
                                   collateral_base=self.margin.collateral_value,
                                   collateral=self.collateral)

    @property
    def member_uncovered(self) -> FloatArray:
        """Uncovered loss per member and scenario, shape (n_members, n_scenarios)."""
        return sum_rows(self.uncovered, into=self.member_of, n_into=len(self.members))

    def cover(self, n: int) -> CoverN:
        """Return Cover-``n`` of every scenario (``n`` = 1 or 2)."""
        return cover_n(self.member_uncovered, n=n)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per (account, scenario) with every figure."""
        n_acc, n_scen = self.loss.shape
        account = np.repeat(np.arange(n_acc), n_scen)
        ids = np.asarray(self.account_ids, dtype=object)
        frame = pd.DataFrame({
            "account": ids[account],
            "member": np.asarray(self.members, dtype=object)[self.member_of][account],
            "scenario": np.tile([s.name for s in self.scenarios], n_acc),
            "kind": np.tile([s.kind.value for s in self.scenarios], n_acc),
            "loss": self.loss.ravel(),
            "initial_margin": self.margin.initial_margin[account],
            "collateral_base": self.margin.collateral_value[account],
            "collateral": self.collateral.ravel(),
            "resources": self.resources.ravel(),
            "uncovered": self.uncovered.ravel(),
        })
        return frame.set_index(["account", "scenario"])

    def _members_json(self, cover: CoverN, s: int) -> list[dict[str, Any]]:
        return [{"member": self.members[int(m)], "uncovered": round_up(float(v))}
                for m, v in zip(cover.members[s], cover.losses[s], strict=True)
                if m >= 0 and v > 0]

    def _worst(self, s: int) -> list[dict[str, Any]]:
        """Return the accounts with the largest uncovered loss under ``s``, worst first."""
        unc, loss = self.uncovered[:, s], self.loss[:, s]
        n = self.worst_accounts
        positive = np.flatnonzero(unc > 0)
        if positive.size > n:
            cut = np.partition(unc[positive], positive.size - n)[positive.size - n]
            positive = positive[unc[positive] >= cut]
        order = positive[np.lexsort((positive, -loss[positive], -unc[positive]))][:n]
        resources = self.resources[:, s]
        return [{"account": self.account_ids[a],
                 "member": self.members[int(self.member_of[a])],
                 "loss": float(loss[a]),
                 "initial_margin": float(self.margin.initial_margin[a]),
                 "collateral_base": float(self.margin.collateral_value[a]),
                 "collateral": float(self.collateral[a, s]),
                 "resources": round(float(resources[a]), 2),
                 "uncovered": float(unc[a])} for a in order]

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON of ``crossmargin stress``.

        Shape: ``{"as_of", "currency", "margin": {"source", "params"}, "params",
        "accounts", "members", "scenarios": [{"name", "kind", "title", "start", "end",
        "loss", "collateral_change", "uncovered", "accounts_losing",
        "accounts_uncovered", "cover_1": {"amount", "members": [{"member",
        "uncovered"}]}, "cover_2": {...}, "worst_accounts": [{"account", "member",
        "loss", "initial_margin", "collateral_base", "collateral", "resources",
        "uncovered"}]}], "cover_1": {"amount", "scenario", "members"}, "cover_2":
        {...}, "notes"}``. ``loss`` sums the losses of the accounts that lose.
        """
        covers = {n: self.cover(n) for n in (1, 2)}
        change = self.collateral - self.margin.collateral_value[:, None]
        scenarios = []
        for s, sc in enumerate(self.scenarios):
            scenarios.append({
                "name": sc.name, "kind": sc.kind.value, "title": sc.title,
                "start": sc.start.isoformat() if sc.start else None,
                "end": sc.end.isoformat() if sc.end else None,
                "loss": round_up(float(np.maximum(self.loss[:, s], 0.0).sum())),
                "collateral_change": round(float(change[:, s].sum()), 2),
                "uncovered": round_up(float(self.uncovered[:, s].sum())),
                "accounts_losing": int(np.count_nonzero(self.loss[:, s] > 0)),
                "accounts_uncovered": int(np.count_nonzero(self.uncovered[:, s] > 0)),
                **{f"cover_{n}": {"amount": round_up(float(c.amount[s])),
                                  "members": self._members_json(c, s)}
                   for n, c in covers.items()},
                "worst_accounts": self._worst(s),
            })
        return {
            "as_of": self.as_of.isoformat(), "currency": self.currency,
            "margin": {"source": self.margin.label, "params": dict(self.margin.params)},
            "params": dict(self.params),
            "accounts": len(self.account_ids), "members": len(self.members),
            "scenarios": scenarios,
            **{f"cover_{n}": {"amount": round_up(float(c.amount[c.worst])),
                              "scenario": self.scenarios[c.worst].name,
                              "members": self._members_json(c, c.worst)}
               for n, c in covers.items()},
            "notes": list(self.notes),
        }


