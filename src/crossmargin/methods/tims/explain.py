"""What drove each TIMS requirement, in words: class groups, product groups, stress.

Built once per computation from the arrays the method already holds; each account's
explanation is assembled only when asked for (JSON output of a few accounts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crossmargin.core.money import round_up
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.methods.base import Segments
from crossmargin.methods.tims.groups import ProductGroup
from crossmargin.methods.tims.offsets import OffsetRuns
from crossmargin.scenarios.valuation_points import ValuationPoints, range_move, vol_label

__all__ = ["Explanation"]


def _cents(amount: float) -> float:
    """Round an explanatory amount (a loss, a credit) to the nearest cent."""
    return round(amount, 2)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Explanation:
    """Per-account explanation of a TIMS result.

    Attributes
    ----------
    points, stress_points : ValuationPoints
        The valuation points, and the concentration stress points.
    range_of : callable
        ``range_of(class_group)`` gives its (down, up) range.
    stress_range : (float, float)
        The concentration stress range.
    product_groups : tuple of ProductGroup
    class_groups : tuple of str, shape (n_groups,)
    segments : Segments
        Positions by (account, class group); ``account`` non-decreasing.
    loss, minimum, charge : FloatArray, shape (n_segments,)
        Largest loss, contract minimum and class-group charge of each segment.
    scenario : IntArray, shape (n_segments,)
        The valuation point that drove each segment's loss.
    runs : OffsetRuns
        (account, product group) pairs offset against each other.
    run_loss, run_requirement, run_credit : FloatArray, shape (n_runs,)
    run_scenario : IntArray, shape (n_runs,)
    stress_loss : FloatArray, shape (n_segments,) or (0,)
        Each segment's loss under the concentration stress (empty when off).
    stress_scenario : IntArray, shape (n_segments,) or (0,)
    """

    points: ValuationPoints
    stress_points: ValuationPoints
    range_of: Callable[[str], tuple[float, float]]
    stress_range: tuple[float, float]
    product_groups: tuple[ProductGroup, ...]
    class_groups: tuple[str, ...]
    segments: Segments
    loss: FloatArray
    minimum: FloatArray
    charge: FloatArray
    scenario: IntArray
    runs: OffsetRuns
    run_loss: FloatArray
    run_requirement: FloatArray
    run_credit: FloatArray
    run_scenario: IntArray
    stress_loss: FloatArray
    stress_scenario: IntArray

    def _moves(self, groups: Sequence[str], scenario: int, *, stress: bool = False) -> str:
        points = self.stress_points if stress else self.points
        fraction, vol = points.point(scenario)
        moves = []
        for g in groups:
            down, up = self.stress_range if stress else self.range_of(g)
            moves.append(f"{g} {float(range_move(fraction, down=down, up=up)):+.2%}")
        return f"{', '.join(moves)}, {vol_label(vol)}"

    def describe(self, group: str, scenario: int) -> str:
        """Return valuation point ``scenario`` as it moves ``group``: ``"SPX -8.00%, ..."``."""
        return self._moves([group], scenario)

    def detail(self, account: int) -> dict[str, Any]:
        """Return account ``account``'s class groups, product-group offsets and stress."""
        seg = self.segments
        lo, hi = (int(x) for x in np.searchsorted(seg.account, [account, account + 1]))
        class_groups = {
            self.class_groups[int(seg.group[g])]: {
                "loss": _cents(float(self.loss[g])),
                "minimum": round_up(float(self.minimum[g])),
                "charge": round_up(float(self.charge[g])),
                "scenario": self.describe(self.class_groups[int(seg.group[g])],
                                          int(self.scenario[g])),
            }
            for g in range(lo, hi)
        }
        out: dict[str, Any] = {"class_groups": class_groups}
        runs = self.runs
        r_lo, r_hi = (int(x) for x in np.searchsorted(runs.account, [account, account + 1]))
        offsets = []
        for r in range(r_lo, r_hi):
            first = int(runs.start[r])
            members = [self.class_groups[int(g)]
                       for g in seg.group[first:first + int(runs.count[r])]]
            pg = self.product_groups[int(runs.product_group[r])]
            offsets.append({
                "product_group": pg.name,
                "offset": pg.offset,
                "class_groups": members,
                "loss": _cents(float(self.run_loss[r])),
                "requirement": round_up(float(self.run_requirement[r])),
                "credit": _cents(float(self.run_credit[r])),
                "scenario": self._moves(members, int(self.run_scenario[r])),
            })
        if offsets:
            out["product_groups"] = offsets
        if self.stress_loss.size and hi > lo:
            worst = lo + int(np.argmax(self.stress_loss[lo:hi]))
            group = self.class_groups[int(seg.group[worst])]
            out["concentration"] = {
                "class_group": group,
                "loss": _cents(float(self.stress_loss[worst])),
                "scenario": self._moves([group], int(self.stress_scenario[worst]),
                                        stress=True),
            }
        return out
