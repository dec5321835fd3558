r"""Strategy templates: which holdings of one segment combine, and what one instance costs.

A candidate is one way to combine holdings of one (account, underlying) segment into a
strategy; an instance of it uses a fixed number of units (contracts, or the shares one
contract delivers) of each leg. Candidates are found for all segments at once, with
array joins, never a loop over accounts; the pairing (:mod:`.pairing`) then chooses how
many instances of each to form.

Requirements of one instance, short proceeds included (the convention of :mod:`.rules`);
:math:`v` is a contract's value, :math:`m` its multiplier, :math:`S` the underlying's
price per share, :math:`K` an exercise price, :math:`M` an uncovered short's margin
(:func:`~.rules.naked_margin`):

- option spreads (vertical, calendar, butterfly, iron condor, box): the long legs are paid
  in full and the spread adds its maximum potential loss, the largest loss of the legs'
  intrinsic values at a zero price and at every exercise price present,
  :math:`\sum_{long} v + \mathrm{MPL}`; a long leg may not expire before a short one;
- straddle or strangle (a short call and a short put):
  :math:`v_c + v_p + \max(M_c, M_p)`;
- covered call (long stock, short call): initial :math:`i_L S m`, the call adds nothing;
  maintenance :math:`m_L \min(S, K) m + v_c`, the stock valued at no more than the strike;
- protective put (long stock, long put): initial :math:`i_L S m` plus the put's own
  requirement; maintenance :math:`\min(k K m + \max(S - K, 0) m, m_L S m)` plus the put's;
- collar (long stock, long put, short call): initial as the protective put; maintenance
  :math:`\min(k K_p m + \max(S - K_p, 0) m, m_L \min(S, K_c) m)` plus the put's own
  requirement plus :math:`v_c`.

An instance's initial requirement is floored at its maintenance requirement, as for
positions held alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossmargin.core.typing import BoolArray, FloatArray, IntArray
from crossmargin.methods.strategy.holdings import Holdings
from crossmargin.methods.strategy.rules import OptionRule, StockRule, UnitRequirements
from crossmargin.methods.strategy.terms import InstrumentTerms

__all__ = ["STRATEGIES", "Candidates", "candidate_strategies", "capacity", "ranges"]

#: Strategy names; ``Candidates.strategy`` indexes this tuple.
STRATEGIES: tuple[str, ...] = (
    "vertical_spread", "calendar_spread", "butterfly", "iron_condor", "box_spread",
    "straddle", "strangle", "covered_call", "protective_put", "collar",
)
_INDEX = {name: k for k, name in enumerate(STRATEGIES)}
#: A saving below this fraction of the legs' requirements held alone is rounding noise.
SAVING_TOLERANCE = 1e-9


def capacity(quantity: FloatArray) -> FloatArray:
    """Return the whole units (shares or contracts) of each holding available to pair."""
    out: FloatArray = np.floor(np.abs(quantity) + 1e-9)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Candidates:
    """Candidate strategy instances, sorted by segment.

    Attributes
    ----------
    strategy : IntArray, shape (n,)
        Index into :data:`STRATEGIES`.
    segment : IntArray, shape (n,)
        Segment of the holdings the candidate combines (non-decreasing).
    initial, maintenance : FloatArray, shape (n,)
        Requirement of one instance, in the reporting currency.
    saving_initial, saving_maintenance : FloatArray, shape (n,)
        What one instance saves against its legs held alone (zero when it saves nothing).
    leg_offsets : IntArray, shape (n + 1,)
        Legs of candidate ``c`` are ``leg_offsets[c]:leg_offsets[c + 1]``.
    leg_holding : IntArray, shape (n_legs,)
        Holding of each leg.
    leg_units : FloatArray, shape (n_legs,)
        Units of the holding one instance uses, signed like the holding.
    """

    strategy: IntArray
    segment: IntArray
    initial: FloatArray
    maintenance: FloatArray
    saving_initial: FloatArray
    saving_maintenance: FloatArray
    leg_offsets: IntArray
    leg_holding: IntArray
    leg_units: FloatArray

    @property
    def size(self) -> int:
        """Number of candidates."""
        return int(self.strategy.size)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Terms:
    """Terms of each holding: its instrument's (``of``) and its own."""

    of: InstrumentTerms
    segment: IntArray
    is_long: BoolArray
    capacity: FloatArray
    alone_initial: FloatArray  # requirement of one unit held alone, on its side
    alone_maintenance: FloatArray
    naked: FloatArray


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Template:
    """Instances of one template: legs (n, L) with signed units, one requirement each."""

    strategy: IntArray
    holdings: IntArray
    units: FloatArray
    initial: FloatArray
    maintenance: FloatArray


def ranges(starts: IntArray, counts: IntArray) -> IntArray:
    """Return the concatenation of ``arange(s, s + n)`` for each start and count."""
    total = int(counts.sum())
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    out: IntArray = np.repeat(starts, counts) + within
    return out


def _cross(group_a: IntArray, group_b: IntArray) -> tuple[IntArray, IntArray]:
    """Return all index pairs (i, j) with ``group_a[i] == group_b[j]``.

    ``group_b`` must be non-decreasing; pairs come in the order of ``i``, then ``j``.
    """
    lo = np.searchsorted(group_b, group_a, side="left").astype(np.int64)
    count = np.searchsorted(group_b, group_a, side="right") - lo
    ia = np.repeat(np.arange(group_a.size, dtype=np.int64), count)
    return ia, ranges(lo, count)


def _max_loss(t: _Terms, holdings: IntArray, units: FloatArray) -> FloatArray:
    """Return the maximum potential loss of option legs (n, L).

    The legs' intrinsic values are netted at a zero price and at every exercise price
    present; the loss is the largest (zero if none).
    """
    strike = t.of.strike[holdings]
    points = np.concatenate([np.zeros((holdings.shape[0], 1)), strike], axis=1)
    gap = points[:, :, None] - strike[:, None, :]
    intrinsic = np.maximum(np.where(t.of.is_call[holdings][:, None, :], gap, -gap), 0.0)
    payoff = (intrinsic * (units * t.of.multiplier[holdings])[:, None, :]).sum(axis=2)
    out: FloatArray = np.maximum(-payoff.min(axis=1), 0.0)
    return out


def _option_spread(t: _Terms, strategy: IntArray, holdings: IntArray, units: FloatArray
                   ) -> _Template:
    """Spread of options: long legs paid in full plus the maximum potential loss."""
    paid = (np.maximum(units, 0.0) * t.of.value[holdings]).sum(axis=1)
    cost = paid + _max_loss(t, holdings, units)
    return _Template(strategy=strategy, holdings=holdings, units=units, initial=cost,
                     maintenance=cost)


def _same(t: _Terms, a: IntArray, b: IntArray) -> BoolArray:
    """Legs that may combine: same multiplier and currency."""
    o = t.of
    out: BoolArray = (o.multiplier[a] == o.multiplier[b]) & (o.currency[a] == o.currency[b])
    return out


def _spreads(t: _Terms, idx: IntArray) -> tuple[IntArray, IntArray]:
    """Long and short legs of every two-option spread (same right, long expires later)."""
    longs = idx[~t.of.is_stock & t.is_long]
    shorts = idx[~t.of.is_stock & ~t.is_long]
    ia, ib = _cross(t.segment[longs], t.segment[shorts])
    a, b = longs[ia], shorts[ib]
    keep = _same(t, a, b) & (t.of.is_call[a] == t.of.is_call[b]) \
        & (t.of.expiry[a] >= t.of.expiry[b])
    return a[keep], b[keep]


def _two_leg_spreads(t: _Terms, long: IntArray, short: IntArray) -> _Template:
    calendar = t.of.expiry[long] != t.of.expiry[short]
    strategy = np.where(calendar, _INDEX["calendar_spread"], _INDEX["vertical_spread"])
    units = np.tile(np.array([1.0, -1.0]), (long.size, 1))
    return _option_spread(t, strategy.astype(np.int64), np.stack([long, short], axis=1),
                          units)


def _butterflies(t: _Terms, long: IntArray, short: IntArray) -> list[_Template]:
    """Return butterflies: two same-expiry spreads sharing one leg.

    Sharing the short leg makes a long butterfly, sharing the long leg a short one; the
    shared strike lies between the other two.
    """
    same = t.of.expiry[long] == t.of.expiry[short]
    long, short = long[same], short[same]
    out = []
    for shared, wing, sign in ((short, long, 1.0), (long, short, -1.0)):
        order = np.argsort(shared, kind="stable")
        s, w = shared[order], wing[order]
        i, j = _cross(s, s)
        keep = (t.of.strike[w[i]] < t.of.strike[s[i]]) & (t.of.strike[s[i]] < t.of.strike[w[j]]) \
            & (t.capacity[s[i]] >= 2)
        i, j = i[keep], j[keep]
        holdings = np.stack([w[i], s[i], w[j]], axis=1)
        units = np.tile(np.array([sign, -2.0 * sign, sign]), (i.size, 1))
        out.append(_option_spread(t, np.full(i.size, _INDEX["butterfly"], dtype=np.int64),
                                  holdings, units))
    return out


def _condors(t: _Terms, long: IntArray, short: IntArray) -> _Template:
    """Return iron condors: a credit put spread and a credit call spread of one expiry.

    When the two spreads use the same two strikes the combination is a (short) box.
    """
    strike = t.of.strike
    credit = (t.of.expiry[long] == t.of.expiry[short]) & np.where(
        t.of.is_call[short], strike[short] < strike[long], strike[short] > strike[long])
    puts = credit & ~t.of.is_call[short]
    calls = credit & t.of.is_call[short]
    pl, ps, cl, cs = long[puts], short[puts], long[calls], short[calls]
    i, j = _cross(t.segment[pl], t.segment[cl])
    keep = _same(t, pl[i], cl[j]) & (t.of.expiry[pl[i]] == t.of.expiry[cl[j]])
    i, j = i[keep], j[keep]
    box = (t.of.strike[cs[j]] == t.of.strike[pl[i]]) & (t.of.strike[cl[j]] == t.of.strike[ps[i]])
    strategy = np.where(box, _INDEX["box_spread"], _INDEX["iron_condor"]).astype(np.int64)
    holdings = np.stack([pl[i], ps[i], cs[j], cl[j]], axis=1)
    units = np.tile(np.array([1.0, -1.0, -1.0, 1.0]), (i.size, 1))
    return _option_spread(t, strategy, holdings, units)


def _straddles(t: _Terms, idx: IntArray) -> _Template:
    calls = idx[~t.of.is_stock & t.of.is_call & ~t.is_long]
    puts = idx[~t.of.is_stock & ~t.of.is_call & ~t.is_long]
    ia, ib = _cross(t.segment[calls], t.segment[puts])
    c, p = calls[ia], puts[ib]
    keep = _same(t, c, p)
    c, p = c[keep], p[keep]
    same = (t.of.strike[c] == t.of.strike[p]) & (t.of.expiry[c] == t.of.expiry[p])
    strategy = np.where(same, _INDEX["straddle"], _INDEX["strangle"]).astype(np.int64)
    cost = t.of.value[c] + t.of.value[p] + np.maximum(t.naked[c], t.naked[p])
    return _Template(strategy=strategy, holdings=np.stack([c, p], axis=1),
                     units=np.tile(np.array([-1.0, -1.0]), (c.size, 1)),
                     initial=cost, maintenance=cost)


def _stock_pairs(t: _Terms, idx: IntArray, *, call: bool, long: bool
                 ) -> tuple[IntArray, IntArray]:
    """Long stock of at least one contract's shares, with options of one right and side."""
    stock = idx[t.of.is_stock & t.is_long]
    options = idx[~t.of.is_stock & (t.of.is_call == call) & (t.is_long == long)]
    ia, ib = _cross(t.segment[stock], t.segment[options])
    s, o = stock[ia], options[ib]
    keep = (t.of.currency[s] == t.of.currency[o]) & (t.capacity[s] >= t.of.multiplier[o])
    return s[keep], o[keep]


def _hedged_stock(t: _Terms, idx: IntArray, stock: StockRule, option: OptionRule
                  ) -> list[_Template]:
    """Covered calls, protective puts and collars."""
    s, c = _stock_pairs(t, idx, call=True, long=False)
    price, m = t.of.value[s], t.of.multiplier[c]
    cc_mm = stock.maintenance_long * np.minimum(price, t.of.strike[c]) * m + t.of.value[c]
    covered = _Template(
        strategy=np.full(s.size, _INDEX["covered_call"], dtype=np.int64),
        holdings=np.stack([s, c], axis=1), units=np.stack([m, -np.ones_like(m)], axis=1),
        initial=stock.initial_long * price * m, maintenance=cc_mm)

    ps, p = _stock_pairs(t, idx, call=False, long=True)
    price_p, mp = t.of.value[ps], t.of.multiplier[p]
    put_floor = (option.protective_strike_pct * t.of.strike[p]
                 + np.maximum(price_p - t.of.strike[p], 0.0)) * mp
    protective = _Template(
        strategy=np.full(ps.size, _INDEX["protective_put"], dtype=np.int64),
        holdings=np.stack([ps, p], axis=1), units=np.stack([mp, np.ones_like(mp)], axis=1),
        initial=stock.initial_long * price_p * mp + t.alone_initial[p],
        maintenance=np.minimum(put_floor, stock.maintenance_long * price_p * mp)
        + t.alone_maintenance[p])

    i, j = _cross(s, ps)
    keep = t.of.multiplier[c[i]] == t.of.multiplier[p[j]]
    i, j = i[keep], j[keep]
    collar_stock = np.minimum(put_floor[j], stock.maintenance_long
                              * np.minimum(price[i], t.of.strike[c[i]]) * m[i])
    collar = _Template(
        strategy=np.full(i.size, _INDEX["collar"], dtype=np.int64),
        holdings=np.stack([s[i], p[j], c[i]], axis=1),
        units=np.stack([m[i], np.ones(i.size), -np.ones(i.size)], axis=1),
        initial=protective.initial[j],
        maintenance=collar_stock + t.alone_maintenance[p[j]] + t.of.value[c[i]])
    return [covered, protective, collar]


def _holding_terms(holdings: Holdings, terms: InstrumentTerms, unit: UnitRequirements
                   ) -> _Terms:
    inst = holdings.instrument
    is_long = holdings.quantity > 0
    return _Terms(
        of=terms.take(inst), segment=holdings.segment, is_long=is_long,
        capacity=capacity(holdings.quantity),
        alone_initial=np.where(is_long, unit.long_initial[inst], unit.short_initial[inst]),
        alone_maintenance=np.where(is_long, unit.long_maintenance[inst],
                                   unit.short_maintenance[inst]),
        naked=unit.naked[inst],
    )


def candidate_strategies(*, holdings: Holdings, terms: InstrumentTerms,
                         unit: UnitRequirements, stock: StockRule, option: OptionRule
                         ) -> Candidates:
    """Return every candidate strategy of every segment that saves on either requirement.

    Parameters
    ----------
    holdings : Holdings
    terms : InstrumentTerms
    unit : UnitRequirements
        Requirements of each instrument held alone.
    stock, option : StockRule, OptionRule

    Notes
    -----
    A candidate whose instances save nothing against their legs held alone is dropped:
    it can never lower the total. The work is a handful of array joins per template, so
    it grows with the number of pairs of legs within segments, not with accounts.
    """
    t = _holding_terms(holdings, terms, unit)
    idx = np.arange(holdings.size, dtype=np.int64)
    long, short = _spreads(t, idx)
    parts = [_two_leg_spreads(t, long, short), *_butterflies(t, long, short),
             _condors(t, long, short), _straddles(t, idx),
             *_hedged_stock(t, idx, stock, option)]
    counts = np.concatenate([np.full(p.strategy.size, p.holdings.shape[1]) for p in parts])
    leg_holding = np.concatenate([p.holdings.ravel() for p in parts]).astype(np.int64)
    leg_units = np.concatenate([p.units.ravel() for p in parts])
    strategy = np.concatenate([p.strategy for p in parts]).astype(np.int64)
    maintenance = np.concatenate([p.maintenance for p in parts])
    initial = np.maximum(np.concatenate([p.initial for p in parts]), maintenance)
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    starts = offsets[:-1]
    weight = np.abs(leg_units)
    alone_im = np.add.reduceat(weight * t.alone_initial[leg_holding], starts) \
        if starts.size else np.zeros(0)
    alone_mm = np.add.reduceat(weight * t.alone_maintenance[leg_holding], starts) \
        if starts.size else np.zeros(0)
    save_im = alone_im - initial
    save_mm = alone_mm - maintenance
    save_im = np.where(save_im > SAVING_TOLERANCE * alone_im, save_im, 0.0)
    save_mm = np.where(save_mm > SAVING_TOLERANCE * alone_mm, save_mm, 0.0)
    keep = (save_im > 0) | (save_mm > 0)
    segment = t.segment[leg_holding[starts]] if starts.size else np.zeros(0, dtype=np.int64)
    order = np.flatnonzero(keep)
    order = order[np.lexsort((strategy[order], segment[order]))]
    legs = ranges(offsets[order], counts[order])
    return Candidates(
        strategy=strategy[order], segment=segment[order], initial=initial[order],
        maintenance=maintenance[order], saving_initial=save_im[order],
        saving_maintenance=save_mm[order],
        leg_offsets=np.r_[0, np.cumsum(counts[order])].astype(np.int64),
        leg_holding=leg_holding[legs], leg_units=leg_units[legs],
    )
