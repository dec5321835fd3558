r"""Contingency charges of crypto portfolio margin, per (account, pool, underlying) segment.

Three add-ons cover what the scenario grid does not: a delta contingency on the net
delta-one notional (liquidation cost of a directional position), a roll contingency on
the net futures notional times years to expiry (a move of the annualised basis), and a
charge per naked short option, netted per expiry and strike. All are computed for every
segment at once with ``np.bincount``, never with a loop over accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from crossmargin.book.instruments import Future, Instrument, Option
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.methods.base import Segments
from crossmargin.methods.crypto_pm.pools import is_delta_one
from crossmargin.pricing.revalue import year_fraction

__all__ = ["ContingencyCharges", "contingencies"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ContingencyCharges:
    """Contingencies of each segment, in the segment's pool currency.

    Attributes
    ----------
    delta, roll, option : FloatArray, shape (n_segments,)
    """

    delta: FloatArray
    roll: FloatArray
    option: FloatArray


def _strike_keys(instruments: Sequence[Instrument]) -> tuple[IntArray, int]:
    """Index of each option's (expiry, strike), -1 for other instruments; and the count."""
    keys: dict[tuple[date, float], int] = {}
    out = np.full(len(instruments), -1, dtype=np.int64)
    for i, inst in enumerate(instruments):
        if isinstance(inst, Option):
            out[i] = keys.setdefault((inst.expiry, inst.strike), len(keys))
    return out, max(len(keys), 1)


def contingencies(*, segments: Segments, instruments: Sequence[Instrument],
                  notional: FloatArray, as_of: date, delta_rate: FloatArray,
                  roll_rate: FloatArray, option_rate: FloatArray) -> ContingencyCharges:
    r"""Return each segment's delta, roll and naked short option contingencies.

    Parameters
    ----------
    segments : Segments
        Positions regrouped into (account, pool and underlying) segments.
    instruments : sequence of Instrument, shape (n_instruments,)
    notional : FloatArray, shape (n_instruments,)
        Notional per unit in the pool currency (see
        :class:`~crossmargin.methods.crypto_pm.pools.PoolPnL`).
    as_of : date
        Valuation date (years to expiry of futures).
    delta_rate, roll_rate, option_rate : FloatArray, shape (n_segments,)
        Each segment's delta contingency fraction :math:`c_\Delta`, annualised move
        risk :math:`a` and naked short option fraction :math:`c_{opt}`.

    Returns
    -------
    ContingencyCharges

    Notes
    -----
    With :math:`q_p` the quantity and :math:`n_i` the notional per unit,

    .. math::
       C^{\Delta}_g = c_\Delta \Bigl|\sum_{p \in g,\ \text{delta one}} q_p n_{i_p}\Bigr|,
       \qquad
       C^{roll}_g = a \Bigl|\sum_{p \in g,\ \text{futures}} q_p n_{i_p} T_{i_p}\Bigr|,

    .. math:: C^{opt}_g = c_{opt} \sum_{(T, K)} \max\Bigl(0,
       -\sum_{p \in g,\ \text{options at } (T, K)} q_p n_{i_p}\Bigr),

    :math:`T` in years: a parallel move :math:`a` of the annualised basis changes a
    future's value by :math:`n T a`, so calendar spreads pay for their residual. Calls and
    puts at one strike net (a long call covers a short put's count, as venues count
    naked shorts per strike).

    References
    ----------
    .. [1] Deribit API ``private/pme/simulate`` (annualised_move_risk) and the older
       Deribit portfolio margin page (contingency per net short option per strike).
    .. [2] Derive v2-core ``PMRMLib_2`` (perpetual contingency on notional,
       ``_addOptionContingency``: naked shorts per strike times spot).
    """
    n_seg = segments.offsets.size - 1
    seg = np.repeat(np.arange(n_seg), np.diff(segments.offsets))
    inst, qty = segments.instrument, segments.quantity
    delta_one = np.array([is_delta_one(i) for i in instruments], dtype=bool)
    years = np.array([year_fraction(as_of, i.expiry) if isinstance(i, Future) else 0.0
                      for i in instruments])
    exposure = qty * notional[inst]
    net_delta = np.bincount(seg, weights=exposure * delta_one[inst], minlength=n_seg)
    net_roll = np.bincount(seg, weights=exposure * years[inst], minlength=n_seg)
    key_of, n_keys = _strike_keys(instruments)
    held = key_of[inst] >= 0
    key = seg[held] * n_keys + key_of[inst[held]]
    order = np.argsort(key, kind="stable")  # already sorted by segment: runs merge fast
    key = key[order]
    starts = np.flatnonzero(np.r_[key[:1] == key[:1], key[1:] != key[:-1]])  # [] if none
    net = np.add.reduceat(exposure[held][order], starts)
    naked = np.bincount(key[starts] // n_keys, weights=np.maximum(-net, 0.0),
                        minlength=n_seg)
    return ContingencyCharges(delta=delta_rate * np.abs(net_delta),
                              roll=roll_rate * np.abs(net_roll), option=option_rate * naked)
