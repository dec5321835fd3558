r"""What a scenario method hands over so that its requirements can be attributed.

A scenario method reduces, for each (account, group) segment, the losses
:math:`L_{g,s} = -\sum_{p \in g} q_p \mathrm{pnl}_{i_p,s}` over its scenarios (see
:mod:`crossmargin.kernels.reduce`). :class:`ScenarioRisk` keeps what that reduction saw
(the P&L matrix, the segments, each segment's driving scenario and, for expected
shortfall, its tail) together with what the method adds beyond the segments' scenario
charges, so that :mod:`crossmargin.analytics.attribution` can split any account's
requirement into per-position contributions and named lines without computing anything
again.

Memory: every array is one the method computed anyway and is held by reference; nothing
here is of size accounts x scenarios. A tail (``n_segments x k`` scenario indices) is
kept only by methods whose reduction is an expected shortfall, which keep it for their
own explanation already; maxima and value at risk need the driver alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from crossmargin.core.typing import FloatArray, IntArray

__all__ = ["PositionAddOns", "ScenarioRisk"]

#: ``position_addons(account)``: add-ons that are per position by construction, each an
#: array over the account's segment entries (see :attr:`ScenarioRisk.position_addons`).
PositionAddOns = Callable[[int], Mapping[str, FloatArray]]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ScenarioRisk:
    r"""The scenario losses behind a method's result, as its reduction saw them.

    Segments are in the order of :attr:`MarginResult.segments
    <crossmargin.results.margin.MarginResult.segments>` where the method fills both;
    an *entry* is one position of one segment (CSR order).

    Attributes
    ----------
    pnl : FloatArray, shape (n_rows, n_scenarios)
        Profit per unit of each instrument row under each scenario, gains positive, as
        the reduction saw it (weights the method folds into the rows included), in the
        segment's currency.
    offsets : IntArray, shape (n_segments + 1,)
        CSR offsets: segment ``g`` holds entries ``offsets[g]:offsets[g + 1]``.
    instrument : IntArray, shape (n_entries,)
        Row of ``pnl`` of each entry.
    quantity : FloatArray, shape (n_entries,)
        Signed quantity of each entry.
    position : IntArray or None, shape (n_entries,)
        Position of the result's book behind each entry; ``None`` when the entries are
        the book's positions in order.
    account : IntArray, shape (n_segments,)
        Account row of each segment, non-decreasing.
    group : IntArray, shape (n_segments,)
        Group of each segment: an index into ``MarginResult.segments.group_names``.
    driver : IntArray, shape (n_segments,)
        The scenario that drove each segment's loss.
    tail : IntArray or None, shape (n_segments, k)
        The ``k`` scenarios an expected shortfall averaged; ``None`` when the driver
        alone sets the loss (maximum, weighted maximum, value at risk).
    weights : FloatArray or None, shape (n_scenarios,)
        Scenario weights the reduction applied to the losses (a weighted maximum, e.g.
        SPAN's extreme moves at 35%); ``None`` for weight 1.
    charge : FloatArray, shape (n_segments,)
        Each segment's scenario charge after the method's floor, in its currency.
    scale : FloatArray or None, shape (n_segments,)
        Value of one unit of the segment's currency in the reporting currency; ``None``
        when every segment is in the reporting currency.
    adjustments : mapping of str to FloatArray, shape (n_accounts,)
        What the method adds (positive) or credits (negative) beyond the segment
        charges and the position add-ons, per account, in the reporting currency: the
        parts not attributable to single positions.
    position_addons : callable or None
        ``position_addons(account)`` returns the add-ons that are per position by
        construction (a per-contract minimum, a close-out cost), each an array over the
        account's entries ``offsets[first]:offsets[stop]`` (its segments ``first`` to
        ``stop - 1``), in the reporting currency. Computed on demand, for one account.

    Notes
    -----
    With :math:`T_g` the driving scenario set of segment :math:`g` (the driver, or the
    tail) and :math:`w_s` the weights, the requirement of account :math:`a` is, before
    rounding up to the cent,

    .. math:: \sum_{g \in a} x_g\, \mathrm{charge}_g + \sum_n A_{n,a}
              + \sum_{p \in a} \mathrm{addon}_p,

    and :math:`x_g \frac{1}{|T_g|} \sum_{s \in T_g} w_s L_{g,s}` is the segment's
    scenario loss that the positions share (:math:`x_g` the ``scale``).
    """

    pnl: FloatArray
    offsets: IntArray
    instrument: IntArray
    quantity: FloatArray
    position: IntArray | None
    account: IntArray
    group: IntArray
    driver: IntArray
    charge: FloatArray
    tail: IntArray | None = None
    weights: FloatArray | None = None
    scale: FloatArray | None = None
    adjustments: Mapping[str, FloatArray] = field(default_factory=dict)
    position_addons: PositionAddOns | None = None

    def __post_init__(self) -> None:
        n_seg = self.offsets.size - 1
        n_entries = self.quantity.size
        checks = (
            ("instrument", self.instrument.shape == (n_entries,)),
            ("position", self.position is None or self.position.shape == (n_entries,)),
            ("account", self.account.shape == (n_seg,)),
            ("group", self.group.shape == (n_seg,)),
            ("driver", self.driver.shape == (n_seg,)),
            ("charge", self.charge.shape == (n_seg,)),
            ("tail", self.tail is None or self.tail.shape[0] == n_seg),
            ("weights", self.weights is None or self.weights.shape == (self.pnl.shape[1],)),
            ("scale", self.scale is None or self.scale.shape == (n_seg,)),
        )
        for name, ok in checks:
            if not ok:
                raise ValueError(f"ScenarioRisk.{name} does not match the segments")

    def segment_range(self, account: int) -> tuple[int, int]:
        """Return the first and one past the last segment of ``account``."""
        first, stop = np.searchsorted(self.account, [account, account + 1])
        return int(first), int(stop)

    def scenario_sets(self, first: int, stop: int) -> IntArray:
        """Return the driving scenario set of segments ``first:stop``, shape (n, k)."""
        if self.tail is None:
            out: IntArray = self.driver[first:stop, None]
            return out
        tail: IntArray = self.tail[first:stop]
        return tail
