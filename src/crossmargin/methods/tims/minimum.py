r"""The per-contract minimum of FINRA 4210(g) portfolio margin.

A class group's requirement is at least a fixed amount per contract ($.375 x the
contract multiplier) for each option, security future and related instrument (index
futures and options on them); for a long option the amount is capped at the option's
market value. Shares carry no minimum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from crossmargin.book.instruments import Future, FutureOption, Instrument, Option
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.methods.base import Segments

__all__ = ["MinimumTopUp", "contract_minimum", "segment_minimum"]


def contract_minimum(*, instruments: Sequence[Instrument], base_value: FloatArray,
                     per_contract: float) -> tuple[FloatArray, FloatArray]:
    r"""Return the minimum per short and per long unit of each instrument.

    Parameters
    ----------
    instruments : sequence of Instrument, shape (n,)
    base_value : FloatArray, shape (n,)
        Market value of one unit (one contract: premium x multiplier for an option), in
        the reporting currency.
    per_contract : float
        The minimum per unit of multiplier, in the reporting currency.

    Returns
    -------
    short, long : FloatArray, shape (n,)

    Notes
    -----
    :math:`m_i = c \cdot M_i` for options, futures and futures options (multiplier
    :math:`M_i`), 0 otherwise; a long option's is :math:`\min(m_i, V_i)`, its market
    value :math:`V_i`.

    References
    ----------
    .. [1] FINRA Rule 4210(g), minimum margin: $.375 for each listed option, security
       future and related instrument x its multiplier, not to exceed the market value of
       a long option.
    """
    n = len(instruments)
    multiplier = np.fromiter(
        (i.multiplier if isinstance(i, Option | FutureOption | Future) else 0.0
         for i in instruments), dtype=np.float64, count=n)
    is_option = np.fromiter((isinstance(i, Option | FutureOption) for i in instruments),
                            dtype=bool, count=n)
    short: FloatArray = per_contract * multiplier
    long: FloatArray = np.where(is_option, np.minimum(short, np.maximum(base_value, 0.0)),
                                short)
    return short, long


def segment_minimum(segments: Segments, *, short: FloatArray, long: FloatArray
                    ) -> FloatArray:
    r"""Return each segment's minimum: its net contracts times their minimum per unit.

    Parameters
    ----------
    segments : Segments
        Positions by (account, class group).
    short, long : FloatArray, shape (n_instruments,)
        From :func:`contract_minimum`.

    Returns
    -------
    FloatArray, shape (n_segments,)

    Notes
    -----
    Positions on one instrument in one segment are netted first (a long and a short of
    the same series are no contracts at all):
    :math:`\mathrm{min}_g = \sum_{i} |n_{g,i}| \, m_i^{\operatorname{sign} n_{g,i}}`
    with :math:`n_{g,i} = \sum_{p \in g, i_p = i} q_p`.
    """
    n_seg = segments.offsets.size - 1
    if segments.quantity.size == 0:
        return np.zeros(n_seg)
    seg_of_pos = np.repeat(np.arange(n_seg, dtype=np.int64), np.diff(segments.offsets))
    held = _NetContracts.of(segment=seg_of_pos, instrument=segments.instrument,
                            quantity=segments.quantity, short=short, long=long)
    out: FloatArray = np.bincount(held.segment, weights=np.abs(held.net) * held.unit,
                                  minlength=n_seg).astype(np.float64)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _NetContracts:
    """Net contracts per (segment, instrument) and the minimum per contract of each.

    ``which`` gives, for each position, its (segment, instrument) pair.
    """

    segment: IntArray
    net: FloatArray
    unit: FloatArray
    which: IntArray

    @classmethod
    def of(cls, *, segment: IntArray, instrument: IntArray, quantity: FloatArray,
           short: FloatArray, long: FloatArray) -> _NetContracts:
        n_inst = max(short.size, 1)
        keys, inverse = np.unique(segment * n_inst + instrument, return_inverse=True)
        which = inverse.ravel().astype(np.int64, copy=False)
        net = np.bincount(which, weights=quantity,
                          minlength=keys.size).astype(np.float64, copy=False)
        inst = keys % n_inst
        return cls(segment=keys // n_inst, net=net, which=which,
                   unit=np.where(net > 0, long[inst], short[inst]))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MinimumTopUp:
    r"""What the per-contract minimum adds to each class group, shared by its positions.

    A class group's charge is :math:`\max(R_g, \mathrm{min}_g)`; the top-up
    :math:`\max(0, \mathrm{min}_g - R_g)` is per contract by construction, so each
    position carries the part of it that its contracts bring to the minimum:

    .. math:: t_p = \max(0, \mathrm{min}_g - R_g)\,
              \frac{q_p \operatorname{sign}(n_{g,i_p})\, m_{i_p}}{\mathrm{min}_g},

    which sums to the top-up over the class group (the net contracts :math:`n_{g,i}` as
    in :func:`segment_minimum`).

    Attributes
    ----------
    segments : Segments
        Positions by (account, class group); ``account`` non-decreasing.
    short, long : FloatArray, shape (n_instruments,)
        From :func:`contract_minimum`.
    minimum, risk : FloatArray, shape (n_segments,)
        Each class group's minimum and its floored scenario loss.
    """

    segments: Segments
    short: FloatArray
    long: FloatArray
    minimum: FloatArray
    risk: FloatArray

    def __call__(self, account: int) -> Mapping[str, FloatArray]:
        """Return ``{"contract_minimum": t}`` over the entries of ``account``'s segments."""
        seg = self.segments
        first, stop = (int(x) for x in np.searchsorted(seg.account, [account, account + 1]))
        lo, hi = int(seg.offsets[first]), int(seg.offsets[stop])
        segment = np.repeat(np.arange(first, stop, dtype=np.int64),
                            np.diff(seg.offsets[first:stop + 1]))
        held = _NetContracts.of(segment=segment, instrument=seg.instrument[lo:hi],
                                quantity=seg.quantity[lo:hi], short=self.short,
                                long=self.long)
        minimum = self.minimum[segment]
        top_up = np.maximum(minimum - self.risk[segment], 0.0)
        per_contract = seg.quantity[lo:hi] * np.sign(held.net[held.which]) \
            * held.unit[held.which]
        share = np.divide(per_contract, minimum, out=np.zeros(hi - lo), where=minimum > 0)
        return {"contract_minimum": top_up * share}
