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
  :math:`\min(k K_p + \max(S - K_p, 0), m_L K_c)\, m` plus the put's own requirement
  plus :math:`v_c`: the lesser of 10% of the put's exercise price plus its
  out-of-the-money amount and 25% of the call's exercise price. A conversion (put and
  call of one exercise price :math:`K` and expiry) has its own rule, :math:`k K m`.

Short stock hedged by options, with :math:`I_S` and :math:`M_S` the short stock's own
initial and maintenance requirements per share as held alone (its proceeds :math:`S`
included: the greater of Reg T's 150% and the FINRA 4210(c) maintenance, and :math:`S`
plus the FINRA 4210(c) short maintenance) and :math:`k_c` the long call's rate:

- covered put (short stock, short put): initial :math:`I_S m`, the put adds nothing (its
  proceeds may be applied); maintenance :math:`(M_S + \max(K_p - S, 0))\, m + v_p`, the
  short stock's requirement plus the put's in-the-money amount;
- protective call (short stock, long call): initial :math:`I_S m` plus the call's own
  requirement; maintenance :math:`S m + \min(k_c K_c + \max(K_c - S, 0), M_S - S)\, m`
  plus the call's own requirement;
- reversal (short stock, long call, short put): initial as the protective call;
  maintenance :math:`(S + \max(K_p - S, 0) + \min(k_c K_c + \max(K_c - \underline S,
  0), M_S - S))\, m` plus the call's own requirement plus :math:`v_p`, the stock valued at
  no less than the put's strike, :math:`\underline S = \max(S, K_p)`. With
  :math:`K_p = K_c = K` (a reverse conversion) that is :math:`k_c K m` plus the put's
  in-the-money amount.

An instance's initial requirement is floored at its maintenance requirement, as for
positions held alone.

References
----------
.. [1] Cboe Margin Manual (April 2000): "Short Put and Short Underlying", "Long Call and
   Short Underlying", "Conversion", "Reverse Conversion", "Collar".
.. [2] FINRA Rule 4210(f)(2), requirements for components held with options: long call
   with short stock, conversions, reverse conversions, collars.
.. [3] Regulation T, 12 CFR 220.12(c): a short sale requires 150% of its value.
.. [4] Broker statements of the short-stock rules: tastytrade help centre, "Covered Put
   (Short Stock paired with a Short Put)" and "Protective Call (Short Stock and Long
   Call)"; TradeStation, "Options margin requirements" (covered in-the-money put: the
   short stock requirement plus 100% of the put's in-the-money amount); OptionsHouse,
   "Reverse Conversion" (maintenance 10% of the strike plus the put's in-the-money
   amount).
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
    "covered_put", "protective_call", "reversal",
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


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Hedge:
    """Stock holdings paired with option holdings: one contract and its shares each."""

    stock: IntArray  # holding of the stock leg, non-decreasing
    option: IntArray  # holding of the option leg
    price: FloatArray  # the stock's price per share
    shares: FloatArray  # shares one contract delivers: the stock leg's units, unsigned
    strike: FloatArray


def _hedges(t: _Terms, idx: IntArray, *, long_stock: bool, call: bool, long: bool) -> _Hedge:
    """Stock of one side, at least one contract's shares, with options of one right and side."""
    stock = idx[t.of.is_stock & (t.is_long == long_stock)]
    options = idx[~t.of.is_stock & (t.of.is_call == call) & (t.is_long == long)]
    ia, ib = _cross(t.segment[stock], t.segment[options])
    s, o = stock[ia], options[ib]
    keep = (t.of.currency[s] == t.of.currency[o]) & (t.capacity[s] >= t.of.multiplier[o])
    s, o = s[keep], o[keep]
    return _Hedge(stock=s, option=o, price=t.of.value[s], shares=t.of.multiplier[o],
                  strike=t.of.strike[o])


def _on_one_lot(a: _Hedge, b: _Hedge) -> tuple[IntArray, IntArray]:
    """Pairs (i, j) of hedges ``a[i]`` and ``b[j]`` on one stock holding, one contract size."""
    i, j = _cross(a.stock, b.stock)
    keep = a.shares[i] == b.shares[j]
    return i[keep], j[keep]


def _instances(name: str, legs: tuple[IntArray, ...], units: tuple[FloatArray, ...], *,
               initial: FloatArray, maintenance: FloatArray) -> _Template:
    """Instances of strategy ``name``: one array of holdings and of signed units per leg."""
    return _Template(strategy=np.full(legs[0].size, _INDEX[name], dtype=np.int64),
                     holdings=np.stack(legs, axis=1), units=np.stack(units, axis=1),
                     initial=initial, maintenance=maintenance)


def _hedged_requirement(pct: float, strike: FloatArray, valued: FloatArray, *, call: bool,
                        alone: FloatArray) -> FloatArray:
    """Return the requirement per share of stock hedged by a long option.

    ``pct`` of the option's exercise price plus its out-of-the-money amount against the
    stock valued at ``valued``, when lower than ``alone`` (the stock's own).
    """
    otm = strike - valued if call else valued - strike
    out: FloatArray = np.minimum(pct * strike + np.maximum(otm, 0.0), alone)
    return out


def _hedged_long_stock(t: _Terms, idx: IntArray, stock: StockRule, option: OptionRule
                       ) -> list[_Template]:
    """Covered calls, protective puts and collars (conversions among them)."""
    c = _hedges(t, idx, long_stock=True, call=True, long=False)
    p = _hedges(t, idx, long_stock=True, call=False, long=True)
    rate = stock.maintenance_long
    covered = _instances(
        "covered_call", (c.stock, c.option), (c.shares, -np.ones_like(c.shares)),
        initial=stock.initial_long * c.price * c.shares,
        maintenance=rate * np.minimum(c.price, c.strike) * c.shares + t.of.value[c.option])
    put_initial = stock.initial_long * p.price * p.shares + t.alone_initial[p.option]
    protective = _instances(
        "protective_put", (p.stock, p.option), (p.shares, np.ones_like(p.shares)),
        initial=put_initial,
        maintenance=_hedged_requirement(option.protective_strike_pct, p.strike, p.price,
                                        call=False, alone=rate * p.price) * p.shares
        + t.alone_maintenance[p.option])
    i, j = _on_one_lot(c, p)
    conversion = ((c.strike[i] == p.strike[j])
                  & (t.of.expiry[c.option[i]] == t.of.expiry[p.option[j]]))
    pct = option.protective_strike_pct
    collar_stock = np.where(conversion, pct * p.strike[j], _hedged_requirement(
        pct, p.strike[j], c.price[i], call=False, alone=rate * c.strike[i]))
    collar = _instances(
        "collar", (c.stock[i], p.option[j], c.option[i]),
        (c.shares[i], np.ones(i.size), -np.ones(i.size)),
        initial=put_initial[j],
        maintenance=collar_stock * c.shares[i]
        + t.alone_maintenance[p.option[j]] + t.of.value[c.option[i]])
    return [covered, protective, collar]


def _hedged_short_stock(t: _Terms, idx: IntArray, option: OptionRule) -> list[_Template]:
    """Covered puts, protective calls and reversals (reverse conversions among them).

    The short stock's own requirements per share (:math:`I_S`, :math:`M_S`, its proceeds
    included) are its requirements held alone, the low-priced shorts' minimums included.
    """
    p = _hedges(t, idx, long_stock=False, call=False, long=False)
    c = _hedges(t, idx, long_stock=False, call=True, long=True)
    itm = np.maximum(p.strike - p.price, 0.0)
    covered = _instances(
        "covered_put", (p.stock, p.option), (-p.shares, -np.ones_like(p.shares)),
        initial=t.alone_initial[p.stock] * p.shares,
        maintenance=(t.alone_maintenance[p.stock] + itm) * p.shares + t.of.value[p.option])
    call_initial = t.alone_initial[c.stock] * c.shares + t.alone_initial[c.option]
    beyond = t.alone_maintenance[c.stock] - c.price  # short stock's own, proceeds aside
    protective = _instances(
        "protective_call", (c.stock, c.option), (-c.shares, np.ones_like(c.shares)),
        initial=call_initial,
        maintenance=(c.price + _hedged_requirement(
            option.protective_call_strike_pct, c.strike, c.price, call=True, alone=beyond))
        * c.shares + t.alone_maintenance[c.option])
    i, j = _on_one_lot(c, p)
    floored = np.maximum(c.price[i], p.strike[j])  # valued at no less than the put's strike
    reversal = _instances(
        "reversal", (c.stock[i], c.option[i], p.option[j]),
        (-c.shares[i], np.ones(i.size), -np.ones(i.size)),
        initial=call_initial[i],
        maintenance=(c.price[i] + itm[j] + _hedged_requirement(
            option.protective_call_strike_pct, c.strike[i], floored, call=True,
            alone=beyond[i])) * c.shares[i]
        + t.alone_maintenance[c.option[i]] + t.of.value[p.option[j]])
    return [covered, protective, reversal]


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
             *_hedged_long_stock(t, idx, stock, option), *_hedged_short_stock(t, idx, option)]
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
