r"""The per-contract minimum of FINRA 4210(g) portfolio margin.

A class group's requirement is at least a fixed amount per contract ($.375 x the
contract multiplier) for each option, security future and related instrument (index
futures and options on them); for a long option the amount is capped at the option's
market value. Shares carry no minimum.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from crossmargin.book.instruments import Future, FutureOption, Instrument, Option
from crossmargin.core.typing import FloatArray
from crossmargin.methods.base import Segments

__all__ = ["contract_minimum", "segment_minimum"]


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
    n_inst = max(short.size, 1)
    seg_of_pos = np.repeat(np.arange(n_seg, dtype=np.int64), np.diff(segments.offsets))
    keys, inverse = np.unique(seg_of_pos * n_inst + segments.instrument, return_inverse=True)
    net = np.bincount(inverse.ravel(), weights=segments.quantity, minlength=keys.size)
    inst = keys % n_inst
    unit = np.where(net > 0, long[inst], short[inst])
    out: FloatArray = np.bincount(keys // n_inst, weights=np.abs(net) * unit,
                                  minlength=n_seg).astype(np.float64)
    return out
