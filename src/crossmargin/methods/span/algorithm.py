r"""The SPAN calculation for a whole book: every account at once, one array per charge.

Positions are regrouped into (account, combined commodity) segments. The scanning risk
of each segment goes through the shared segment kernel over the 16 risk-array scenarios;
the other charges are vectorised over segments, with loops over combined commodities,
tiers and spreads only (a handful each), never over accounts.

Notes
-----
For account :math:`a` and combined commodity :math:`g`, with :math:`q_p` the quantity of
position :math:`p`, :math:`A_{i,s}` the risk array of its contract :math:`i` and
:math:`w_s` the scenario weights:

.. math::
   S_{a,g} = \max\Big(0, \max_s w_s \sum_{p \in (a,g)} q_p A_{i_p,s}\Big), \qquad
   R_{a,g} = \max\big(S_{a,g} + C^{intra}_{a,g} + C^{spot}_{a,g} - K^{inter}_{a,g},\;
   M^{som}_{a,g}\big),

.. math::
   MM_a = \max\Big(0, \sum_g R_{a,g} - NOV_a\Big), \qquad
   IM_a = \max\Big(0, \rho \sum_g R_{a,g} - NOV_a\Big).

- Deltas: :math:`\delta_p = q_p \, d_i \, sc_i` (composite delta times delta scaling),
  summed per tier (``intraTiers``) or per period (``pLeg``).
- Intra-commodity spreads, in priority order: with legs :math:`l` of side
  :math:`\sigma_l = \pm 1` and ratio :math:`r_l`, the spreads formed are
  :math:`n = \min_l \max(\sigma_l D_l, 0)/r_l + \min_l \max(-\sigma_l D_l, 0)/r_l`; the
  legs' deltas shrink by :math:`n r_l` and the charge grows by :math:`n \times` rate.
- Delivery month (``spotRate``): the period's delta :math:`|D^{spot}|` is charged
  ``sprd`` on the part consumed by intra-commodity spreads of its tier and ``outr`` on the
  rest.
- Weighted futures price risk (``NORMAL``): price risk / :math:`|\sum_p \delta_p|` with
  price risk = scan loss minus time risk (mean of scenarios 1 and 2) minus volatility
  risk (half the difference between the worst scenario and its pair).
- Inter-commodity spreads, in priority order, on the net delta of each leg's commodity
  (or inter tier), delivery-month positions excluded: the credit of each leg is
  rate :math:`\times` WFPR :math:`\times\, n r_l`.
- Short option minimum per ``somTiers`` tier: rate :math:`\times \max` (short calls,
  short puts), on net positions per contract.
- Net option value: premium-style options at ``p`` :math:`\times` ``cvf``.

References
----------
.. [1] CME Group, "CME SPAN methodology overview" and "Inter/Intra spread calculations"
   (cmegroup.com/clearing/margins/spread-calc.html).
.. [2] CME Group, PC-SPAN report documentation: "Combined Commodities" (WPR method:
   price risk / net delta), "Intra Spreads" and "Inter Spreads" (priority, sides A/B,
   ratios).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from crossmargin.book.book import Book
from crossmargin.core.errors import InputError
from crossmargin.core.typing import BoolArray, FloatArray, IntArray
from crossmargin.kernels import WeightedMax, reduce_segments
from crossmargin.methods.base import Segments, floor_residue, segment_positions
from crossmargin.methods.span.model import (
    PUT,
    CombinedCommodity,
    ScanPoints,
    Spread,
    Tier,
    pick_rate,
)

__all__ = ["HeldContracts", "SpanCharges", "span_charges"]

#: Net deltas smaller than this are no position (rounding of offsetting legs).
DELTA_EPS = 1e-9
_FLAT = frozenset({"F", "FLAT", ""})
_WPR = frozenset({"WPR", ""})


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class HeldContracts:
    """What the risk-parameter file says of each instrument of a book.

    Attributes
    ----------
    commodities : tuple of CombinedCommodity
        The combined commodities the book holds.
    fx : FloatArray, shape (n_commodities,)
        Book currency per unit of each commodity's currency (its charges' unit).
    cc : IntArray, shape (n_instruments,)
        Index into ``commodities``.
    losses : FloatArray, shape (n_instruments, 16)
        Risk arrays in the book's currency (loss of one long contract).
    delta : FloatArray, shape (n_instruments,)
        Composite delta times delta scaling factor, per contract.
    tier_period : IntArray, shape (n_instruments,)
        Period that places the contract in a tier.
    is_option : BoolArray, shape (n_instruments,)
    right : IntArray, shape (n_instruments,)
    value : FloatArray, shape (n_instruments,)
        Premium value of one long contract in the book's currency (0 for futures and
        futures-style options).
    """

    commodities: tuple[CombinedCommodity, ...]
    fx: FloatArray
    cc: IntArray
    losses: FloatArray
    delta: FloatArray
    tier_period: IntArray
    is_option: BoolArray
    right: IntArray
    value: FloatArray


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SpanCharges:
    """SPAN charges of every (account, combined commodity) segment.

    Attributes
    ----------
    segments : Segments
    scan, intra, delivery, inter, som, nov, risk : FloatArray, shape (n_segments,)
        Scanning risk, intra-commodity spread charge, delivery month charge,
        inter-commodity spread credit, short option minimum, net option value and the
        commodity's risk requirement.
    loss : FloatArray, shape (n_segments,)
        Weighted worst scenario loss before the floor.
    driver : IntArray, shape (n_segments,)
        Scenario (0-based) of the scanning risk.
    """

    segments: Segments
    scan: FloatArray
    intra: FloatArray
    delivery: FloatArray
    inter: FloatArray
    som: FloatArray
    nov: FloatArray
    risk: FloatArray
    loss: FloatArray
    driver: IntArray


@dataclass(slots=True)
class _Positions:
    """Positions in segment order, and each commodity's slice of them."""

    seg: IntArray
    instrument: IntArray
    quantity: FloatArray
    delta: FloatArray
    order: IntArray
    bounds: IntArray
    seg_order: IntArray
    seg_bounds: IntArray

    def of(self, g: int) -> tuple[IntArray, IntArray, IntArray]:
        """Return commodity ``g``'s segments, its positions and their local rows."""
        rows = self.seg_order[self.seg_bounds[g]:self.seg_bounds[g + 1]]
        pos = self.order[self.bounds[g]:self.bounds[g + 1]]
        local = np.searchsorted(rows, self.seg[pos])
        return rows, pos, local


def _sum_by(index: IntArray, *, weights: FloatArray, minlength: int) -> FloatArray:
    """Sum ``weights`` by ``index`` (``numpy.bincount`` as float64)."""
    out: FloatArray = np.asarray(np.bincount(index, weights=weights, minlength=minlength),
                                 dtype=np.float64)
    return out


def _by(values: IntArray, n: int) -> tuple[IntArray, IntArray]:
    """Order ``values`` in ``[0, n)`` stably (radix sort for small ``n``); group bounds."""
    keys = values.astype(np.int16) if n < 2**15 else values
    order = np.argsort(keys, kind="stable")
    return order, np.searchsorted(values[order], np.arange(n + 1))


def _tier_index(tiers: tuple[Tier, ...], period: IntArray) -> IntArray:
    """Index of the first tier holding each period, -1 where none does."""
    out = np.full(period.shape, -1, dtype=np.int64)
    for k, tier in enumerate(tiers):
        out = np.where((out < 0) & tier.contains(period), k, out)
    return out


def _buckets(cc: CombinedCommodity) -> tuple[tuple[Tier, ...], bool]:
    """Return the delta buckets of a commodity's intra-commodity spreads."""
    by_period = {leg.period is not None for s in cc.intra_spreads for leg in s.legs}
    if len(by_period) > 1:
        raise InputError("mixes tier legs and period legs, which is not supported",
                         field=f"ccDef[cc={cc.code}]/dSpread")
    if by_period == {True}:
        periods = sorted({int(leg.period) for s in cc.intra_spreads for leg in s.legs
                          if leg.period is not None})
        return tuple(Tier(number=p, start=p, end=p) for p in periods), True
    return cc.intra_tiers, False


def _leg_columns(spread: Spread, cc: CombinedCommodity, buckets: tuple[Tier, ...],
                 by_period: bool, where: str) -> IntArray:
    cols = []
    for leg in spread.legs:
        if leg.cc != cc.code:
            raise InputError("an intra-commodity spread leg names another commodity",
                             field=f"{where}/cc", value=leg.cc)
        key = leg.period if by_period else leg.tier
        found = [k for k, b in enumerate(buckets) if b.number == key]
        if not found:
            raise InputError("no tier with this number", field=f"{where}/tn", value=key)
        cols.append(found[0])
    if len(set(cols)) != len(cols):
        raise InputError("two legs of one spread name the same tier", field=where)
    return np.asarray(cols, dtype=np.int64)


def _form(avail: FloatArray, sides: FloatArray, ratios: FloatArray
          ) -> tuple[FloatArray, FloatArray]:
    """Spreads formed on each row in either direction (A long/B short, or reverse)."""
    signed = avail * sides
    up = np.min(np.maximum(signed, 0.0) / ratios, axis=1)
    down = np.min(np.maximum(-signed, 0.0) / ratios, axis=1)
    return up, down


def _intra(cc: CombinedCommodity, fx: float, rate_id: int, local: IntArray, m: int,
           bucket: IntArray, delta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Intra-commodity spread charge per segment, the delta each bucket gave to spreads."""
    buckets, by_period = _buckets(cc)
    nb = max(len(buckets), 1)
    inside = bucket >= 0
    D = _sum_by(local[inside] * nb + bucket[inside], weights=delta[inside],
                    minlength=m * nb).reshape(m, nb)
    used = np.zeros((m, nb))
    charge = np.zeros(m)
    where = f"ccDef[cc={cc.code}]"
    for k, spread in sorted(enumerate(cc.intra_spreads), key=lambda e: e[1].priority):
        at = f"{where}/dSpread[{k + 1}]"
        if spread.charge_method not in _FLAT:
            raise InputError("unsupported intra-commodity charge method (F or FLAT)",
                             field=f"{at}/chargeMeth", value=spread.charge_method)
        cols = _leg_columns(spread, cc, buckets, by_period, at)
        sides = np.asarray([leg.side for leg in spread.legs], dtype=np.float64)
        ratios = np.asarray([leg.ratio for leg in spread.legs], dtype=np.float64)
        up, down = _form(D[:, cols], sides, ratios)
        D[:, cols] -= (up - down)[:, None] * sides * ratios
        used[:, cols] += (up + down)[:, None] * ratios
        charge += (up + down) * pick_rate(spread.rates, rate_id, where=f"{at}/rate") * fx
    return charge, used


def _delivery(cc: CombinedCommodity, fx: float, local: IntArray, m: int,
              period: IntArray, inst: IntArray, delta: FloatArray, used: FloatArray
              ) -> tuple[FloatArray, BoolArray]:
    """Delivery month charge per segment; which positions are in their delivery month.

    ``period`` is per instrument, ``inst``, ``delta`` and ``local`` per position.
    """
    buckets, _ = _buckets(cc)
    charge = np.zeros(m)
    in_spot = np.zeros(inst.shape, dtype=bool)
    for rate in cc.spot_rates:
        spot = Tier(number=0, start=rate.period, end=rate.period)
        member = spot.contains(period)[inst]
        in_spot |= member
        amount = np.abs(_sum_by(local, weights=np.where(member, delta, 0.0),
                                    minlength=m))
        holder = _tier_index(buckets, np.asarray([rate.period]))[0]
        spread_part = np.minimum(amount, used[:, holder]) if holder >= 0 else np.zeros(m)
        charge += (rate.spread * spread_part + rate.outright * (amount - spread_part)) * fx
    return charge, in_spot


def _som_tiers(held: HeldContracts, rate_id: int) -> tuple[IntArray, FloatArray]:
    """Short option minimum tier of each instrument (-1 for none) and each tier's rate."""
    rates: list[float] = []
    tier_of = np.full(held.cc.size, -1, dtype=np.int64)
    for g, cc in enumerate(held.commodities):
        index = _tier_index(cc.som_tiers, held.tier_period)
        for k, tier in enumerate(cc.som_tiers):
            tier_of[(held.cc == g) & (index == k)] = len(rates)
            rates.append(pick_rate(tier.rates, rate_id,
                                   where=f"ccDef[cc={cc.code}]/somTiers/tier[{k + 1}]")
                         * float(held.fx[g]))
    return np.where(held.is_option, tier_of, -1), np.asarray(rates, dtype=np.float64)


def _runs(key: IntArray) -> IntArray:
    """Start of each run of equal values in a sorted key."""
    out: IntArray = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return out


def _som(seg: IntArray, instrument: IntArray, quantity: FloatArray,
         held: HeldContracts, rate_id: int, n_seg: int) -> FloatArray:
    """Return the short option minimum per segment.

    Per tier: the rate times the larger of the net short calls and net short puts
    (positions netted per contract first).
    """
    tier_of, rates = _som_tiers(held, rate_id)
    held_in = tier_of[instrument] >= 0
    if not held_in.any():
        return np.zeros(n_seg)
    n_i, n_t = held.cc.size, rates.size
    inst = instrument[held_in]
    # one sort by (segment, tier, contract): positions come sorted by segment already
    key = (seg[held_in] * n_t + tier_of[inst]) * n_i + inst
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = _runs(key)
    short = np.maximum(-np.add.reduceat(quantity[held_in][order], starts), 0.0)
    cell, contract = key[starts] // n_i, key[starts] % n_i
    puts = held.right[contract] == PUT
    first = _runs(cell)
    calls_n = np.add.reduceat(np.where(puts, 0.0, short), first)
    puts_n = np.add.reduceat(np.where(puts, short, 0.0), first)
    cells = cell[first]
    return _sum_by(cells // n_t, weights=np.maximum(calls_n, puts_n) * rates[cells % n_t],
                   minlength=n_seg)


def _wfpr(p: _Positions, pos: IntArray, local: IntArray, losses: FloatArray,
          points: ScanPoints, weights: FloatArray, loss: FloatArray, driver: IntArray
          ) -> FloatArray:
    """Weighted futures price risk of a commodity's segments (price risk per net delta).

    ``pos`` and ``local`` are the commodity's positions and their rows among its
    segments, whose scanning losses and drivers are ``loss`` and ``driver``.
    """
    m = loss.size
    inst, qty = p.instrument[pos], p.quantity[pos]

    def at(scenario: IntArray) -> FloatArray:
        s = scenario[local]
        return _sum_by(local, weights=qty * losses[inst, s] * weights[s], minlength=m)

    pair = points.paired[driver]
    paired = at(np.where(pair >= 0, pair, driver))
    time_risk = 0.5 * (at(np.zeros(m, np.int64)) + at(np.ones(m, np.int64)))
    price = np.where(pair >= 0, 0.5 * (loss + paired), loss) - time_risk
    size = np.abs(_sum_by(local, weights=p.delta[pos], minlength=m))
    out: FloatArray = np.where(size > DELTA_EPS,
                               np.maximum(price, 0.0) / np.maximum(size, DELTA_EPS), 0.0)
    return out


def _inter(spreads: tuple[Spread, ...], held: HeldContracts, n_accounts: int,
           available: Mapping[tuple[int, int], FloatArray], wfpr: Mapping[int, FloatArray],
           rate_id: int) -> dict[int, FloatArray]:
    """Inter-commodity spread credit per account, by commodity."""
    index = {cc.code: g for g, cc in enumerate(held.commodities)}
    pools = {key: value.copy() for key, value in available.items()}
    credit: dict[int, FloatArray] = {}
    for k, spread in sorted(enumerate(spreads), key=lambda e: e[1].priority):
        at = f"interSpreads/dSpread[{k + 1}]"
        if any(leg.cc not in index for leg in spread.legs):
            continue
        if spread.charge_method not in _WPR:
            raise InputError("unsupported inter-commodity charge method (WPR)",
                             field=f"{at}/chargeMeth", value=spread.charge_method)
        rate = pick_rate(spread.rates, rate_id, where=f"{at}/rate")
        if not 0.0 <= rate <= 1.0:
            raise InputError("a WPR credit rate is a fraction in [0, 1]",
                             field=f"{at}/rate/val", value=rate)
        keys = [(index[leg.cc], leg.tier or 0) for leg in spread.legs]
        sides = np.asarray([leg.side for leg in spread.legs], dtype=np.float64)
        ratios = np.asarray([leg.ratio for leg in spread.legs], dtype=np.float64)
        avail = np.stack([pools[key] for key in keys], axis=1)
        up, down = _form(avail, sides, ratios)
        for j, key in enumerate(keys):
            pools[key] = pools[key] - (up - down) * sides[j] * ratios[j]
            g = key[0]
            credit[g] = credit.get(g, np.zeros(n_accounts)) + \
                rate * wfpr[g] * (up + down) * ratios[j]
    return credit


def _inter_keys(spreads: tuple[Spread, ...], held: HeldContracts) -> dict[int, set[int]]:
    """Return the (commodity, inter tier) delta pools the inter spreads draw on."""
    index = {cc.code: g for g, cc in enumerate(held.commodities)}
    keys: dict[int, set[int]] = {}
    for spread in spreads:
        if all(leg.cc in index for leg in spread.legs):
            for leg in spread.legs:
                keys.setdefault(index[leg.cc], set()).add(leg.tier or 0)
    return keys


def span_charges(book: Book, held: HeldContracts, *, points: ScanPoints,
                 weights: FloatArray, rate_id: int, inter_spreads: tuple[Spread, ...]
                 ) -> SpanCharges:
    """Return the SPAN charges of every (account, combined commodity) segment of ``book``.

    Parameters
    ----------
    book : Book
        The positions SPAN margins (instruments aligned with ``held``).
    held : HeldContracts
    points : ScanPoints
        Scan point definitions (the pairs of scenarios, for the price risk).
    weights : FloatArray, shape (16,)
        Weight of each risk array value in the scanning risk.
    rate_id : int
        The rate (``r``) of the requirement computed (maintenance).
    inter_spreads : tuple of Spread
        The file's inter-commodity spreads.

    Raises
    ------
    InputError
        An unsupported charge or WPR method, a spread leg naming an undefined tier.
    """
    n_cc = len(held.commodities)
    seg = segment_positions(book, held.cc, max(n_cc, 1))
    n_seg = seg.account.size
    pnl = np.ascontiguousarray(-held.losses)
    reduced = reduce_segments(pnl=pnl, seg_offsets=seg.offsets, pos_instrument=seg.instrument,
                              pos_quantity=seg.quantity, reduction=WeightedMax(weights=weights))
    scan = floor_residue(reduced.value, seg, pnl)
    pos_seg = np.repeat(np.arange(n_seg, dtype=np.int64), np.diff(seg.offsets))
    order, bounds = _by(held.cc[seg.instrument], n_cc)
    seg_order, seg_bounds = _by(seg.group, n_cc)
    p = _Positions(seg=pos_seg, instrument=seg.instrument, quantity=seg.quantity,
                   delta=seg.quantity * held.delta[seg.instrument], order=order, bounds=bounds,
                   seg_order=seg_order, seg_bounds=seg_bounds)
    intra, delivery = np.zeros(n_seg), np.zeros(n_seg)
    keys = _inter_keys(inter_spreads, held)
    available: dict[tuple[int, int], FloatArray] = {}
    wfpr: dict[int, FloatArray] = {}
    for g, cc in enumerate(held.commodities):
        rows, pos, local = p.of(g)
        inst, delta, fx = p.instrument[pos], p.delta[pos], float(held.fx[g])
        bucket = _tier_index(_buckets(cc)[0], held.tier_period)[inst]
        intra[rows], used = _intra(cc, fx, rate_id, local, rows.size, bucket, delta)
        delivery[rows], in_spot = _delivery(cc, fx, local, rows.size, held.tier_period, inst,
                                            delta, used)
        for tn in keys.get(g, ()):
            member = ~in_spot
            if tn:
                tiers = [t for t in cc.inter_tiers if t.number == tn]
                if not tiers:
                    raise InputError("no inter tier with this number",
                                     field=f"ccDef[cc={cc.code}]/interTiers/tier/tn",
                                     value=tn)
                member &= tiers[0].contains(held.tier_period)[inst]
            pool = np.zeros(book.n_accounts)
            pool[seg.account[rows]] = _sum_by(local, weights=np.where(member, delta, 0.0),
                                              minlength=rows.size)
            available[(g, tn)] = pool
        if g in keys:
            if cc.wfpr_method not in ("NORMAL", ""):
                raise InputError("unsupported weighted price risk method (NORMAL)",
                                 field=f"ccDef[cc={cc.code}]/wfprMeth", value=cc.wfpr_method)
            wfpr[g] = np.zeros(book.n_accounts)
            wfpr[g][seg.account[rows]] = _wfpr(p, pos, local, held.losses, points, weights,
                                               reduced.value[rows], reduced.driver[rows])
    inter = np.zeros(n_seg)
    for g, per_account in _inter(inter_spreads, held, book.n_accounts, available, wfpr,
                                 rate_id).items():
        rows = seg_order[seg_bounds[g]:seg_bounds[g + 1]]
        inter[rows] = per_account[seg.account[rows]]
    som = _som(pos_seg, seg.instrument, seg.quantity, held, rate_id, n_seg)
    nov = _sum_by(pos_seg, weights=seg.quantity * held.value[seg.instrument],
                      minlength=n_seg)
    risk = np.maximum(np.maximum(scan + intra + delivery - inter, som), 0.0)
    return SpanCharges(segments=seg, scan=scan, intra=intra, delivery=delivery, inter=inter,
                       som=som, nov=nov, risk=risk, loss=reduced.value,
                       driver=reduced.driver)
