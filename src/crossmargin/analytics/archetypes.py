r"""Account archetypes: economically sensible books, drawn for many accounts at once.

Each archetype is prepared once for a date (:class:`Universe`: the contracts listed on
it, priced off the market, with the deltas and DV01s its hedges need) and then draws the
positions of any number of accounts with numpy, never looping over accounts: a
:class:`Legs` table of ``(n_accounts, k)`` instrument rows and signed quantities, a zero
quantity meaning no position.

An archetype the date cannot support (no price, no volatility, no curve, a contract not
yet listed) raises :class:`~crossmargin.core.errors.MissingDataError` naming what is
missing while it is prepared, so that no population ever holds an instrument the market
of its date cannot price. A leg the archetype can do without (the options of a crypto
fund, one underlying of a market maker) is left out with a note instead.

Notes
-----
The hedges, per account :math:`a` (quantities :math:`q`, contract deltas :math:`\Delta`
in units of the underlying, values :math:`V` per unit in the reporting currency):

- market maker: options on one underlying, hedged with
  :math:`h_a = -\operatorname{round}(\sum_j q_{a,j} \Delta_j / \Delta_h)` units of the
  stock or index future, :math:`\Delta` from the Black-Scholes delta;
- basis trader: long :math:`N` coins of spot, a dated future or an inverse perpetual
  and short the same dollar delta (:math:`V/S` coins per unit) of another venue's
  perpetual;
- covered call / protective put: :math:`m` shares per written call / bought put;
- hedge fund: a basket of stocks with dollar weights :math:`w_i`, index futures sold
  for :math:`h \sum_i \beta_i w_i` of the index exposure (trailing betas);
- Treasury basis: notes of face :math:`F` against
  :math:`-\operatorname{round}(h F\,\mathrm{DV01}_n / \mathrm{DV01}_f)` note futures;
- crypto fund: perpetuals on each coin plus written and bought coin options;
- directional: one sign for every leg across stocks, index futures, coins and
  commodity futures.

References
----------
.. [1] J. C. Hull, Options, Futures, and Other Derivatives, 10th ed., Pearson, 2018:
   delta hedging (ch. 19), cross hedging with index futures and beta (ch. 3), duration
   based hedging with Treasury futures (ch. 6).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from crossmargin.analytics.listing import (
    contract_symbol,
    front_expiry,
    monthly_expiries,
    strike_grid,
)
from crossmargin.analytics.settings import Settings
from crossmargin.book.instruments import Instrument, Right
from crossmargin.book.parse import parse_instrument
from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.market.history import load_history
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.pricing.greeks import black_scholes_greeks
from crossmargin.pricing.revalue import revalue, year_fraction
from crossmargin.scenarios.base import ScenarioSet

__all__ = ["ARCHETYPES", "Draw", "Legs", "Universe", "trailing_betas", "treasury_notes"]

#: One basis point, the curve shift of a DV01.
_BP = 1e-4
#: Calls and puts.
_BOTH = (Right.CALL, Right.PUT)
#: Decimals quantities are written with (a multiple of a step such as 0.001, not the
#: binary float next to it).
_DECIMALS = 9


@dataclass(frozen=True, slots=True, kw_only=True)
class Legs:
    """Positions of ``n`` accounts of one archetype, ``k`` slots each.

    Attributes
    ----------
    instrument : IntArray, shape (n, k)
        Row of the universe each slot holds.
    quantity : FloatArray, shape (n, k)
        Signed quantity; zero where the slot holds nothing.
    """

    instrument: IntArray
    quantity: FloatArray


#: Draws the legs of ``n`` accounts with a generator.
Draw = Callable[[int, np.random.Generator], Legs]


@dataclass(slots=True, kw_only=True, eq=False)
class Universe:
    """The instruments a population holds, each once, and what the market says of them.

    Attributes
    ----------
    market : MarketSnapshot
        The market on the population's date.
    settings : Settings
        The ``parameters`` of the population parameter file.
    instruments : list of Instrument
        Each distinct instrument once, in the order added.
    notes : list of str
        Legs or underlyings left out, and why.
    """

    market: MarketSnapshot
    settings: Settings
    instruments: list[Instrument] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _rows: dict[Instrument, int] = field(default_factory=dict)

    @property
    def as_of(self) -> date:
        """The population's date."""
        return self.market.as_of

    @property
    def currency(self) -> str:
        """The reporting currency (the market's base currency)."""
        return self.market.base_currency

    def contract(self, key: str) -> Settings:
        """Return the terms of contract ``key`` (``parameters.contracts.<key>``)."""
        return self.settings.sub("contracts").sub(key)

    def add(self, records: Sequence[Mapping[str, Any]]) -> IntArray:
        """Add instruments given as portfolio records; return their rows."""
        rows = []
        for record in records:
            inst = parse_instrument(record)
            rows.append(self._rows.setdefault(inst, len(self._rows)))
            if rows[-1] == len(self.instruments):
                self.instruments.append(inst)
        return np.asarray(rows, dtype=np.int64)

    def row(self, instrument: Instrument) -> int:
        """Return the row of an instrument of the universe."""
        return self._rows[instrument]

    def _revalue(self, rows: IntArray, scenarios: ScenarioSet, what: str) -> FloatArray:
        insts = [self.instruments[int(r)] for r in np.ravel(rows)]
        try:
            reval = revalue(insts, market=self.market, scenarios=scenarios,
                            currency=self.currency)
        except MissingDataError as err:
            raise MissingDataError(f"{what}: {err.reason}", source=err.source,
                                   field=err.field) from None
        return np.column_stack([reval.base_value, reval.pnl])

    def value(self, rows: IntArray, *, what: str) -> FloatArray:
        """Return the value of one unit of each row in the reporting currency.

        Raises
        ------
        MissingDataError
            Something ``what`` needs is not in the market (the message says what).
        """
        base = ScenarioSet(names=("base",), strict=False, source="population")
        return np.asarray(self._revalue(rows, base, what)[:, 0])

    def dv01(self, rows: IntArray, *, what: str) -> FloatArray:
        r"""Return each row's gain per unit when its curve falls by one basis point.

        Notes
        -----
        Central difference of full revaluations under parallel shifts of :math:`\pm`1 bp.
        """
        shifts = ScenarioSet(names=("up", "down"), curve={"UST": np.array([_BP, -_BP])},
                             strict=False, source="population DV01")
        both = self._revalue(rows, shifts, what)
        return np.asarray((both[:, 2] - both[:, 1]) / 2.0)

    def require_listed(self, spec: Settings, what: str) -> None:
        """Raise when contract ``spec`` was not yet listed on the date."""
        listed = spec.day("listed")
        if listed > self.as_of:
            raise MissingDataError(f"{what} lists from {listed.isoformat()}",
                                   field=spec.field("listed"), value=listed.isoformat())

    def step(self, kind: str) -> float:
        """Return the smallest tradable quantity of a fractional ``kind``."""
        return self.settings.sub("contracts").sub("quantity_step").number(kind, low=1e-12)


# -- shared pieces -------------------------------------------------------------------------


def _lognormal(rng: np.random.Generator, median_sigma: tuple[float, float],
               shape: tuple[int, ...]) -> FloatArray:
    median, sigma = median_sigma
    out: FloatArray = median * np.exp(sigma * rng.standard_normal(shape))
    return out


def _units(notional: FloatArray, unit: FloatArray, step: FloatArray | float) -> FloatArray:
    """Round ``notional / unit`` to a multiple of ``step``, at least one step."""
    out: FloatArray = np.round(np.maximum(np.round(notional / unit / step), 1.0) * step,
                               _DECIMALS)
    return out


def _signs(rng: np.random.Generator, share: float, shape: tuple[int, ...]) -> FloatArray:
    """Return +1 with probability ``share``, else -1."""
    out: FloatArray = np.where(rng.random(shape) < share, 1.0, -1.0)
    return out


def _distinct(rng: np.random.Generator, n: int, choices: int, k: int) -> IntArray:
    """Return ``k`` distinct indices below ``choices`` for each of ``n`` rows."""
    out: IntArray = np.argsort(rng.random((n, choices)), axis=1)[:, :k].astype(np.int64)
    return out


def _each(what: str, names: Sequence[str], build: Callable[[str], Any],
          universe: Universe) -> dict[str, Any]:
    """Build ``build(name)`` for each name; drop (with a note) the names it cannot serve.

    Raises
    ------
    MissingDataError
        When no name can be served, with the first name's reason.
    """
    built: dict[str, Any] = {}
    gaps: list[str] = []
    for name in names:
        try:
            built[name] = build(name)
        except MissingDataError as err:
            gaps.append(err.reason)
    if not built:
        raise MissingDataError(gaps[0])
    universe.notes.extend(f"{what}: {gap} (left out)" for gap in gaps)
    return built


@dataclass(frozen=True, slots=True, kw_only=True)
class _Options:
    """Listed options on one underlying, shape (expiries, strikes, rights)."""

    rows: IntArray
    delta: FloatArray  # units of the underlying per contract
    spot: float
    multiplier: float


def _options(universe: Universe, underlying: str, *, moneyness: Sequence[float],
             rights: Sequence[Right]) -> _Options:
    """List the options on ``underlying``: expiries, strikes around the spot, rights."""
    market, ref = universe.market, refdata()
    expiry_rule = "third"
    if underlying in ref.coins:
        spec = universe.contract("coin_option")
        universe.require_listed(spec, f"{underlying} options")
        terms = {"settlement": "inverse", "style": "european"}
        expiry_rule = "last"
    elif underlying in ref.indexes:
        spec, terms = universe.contract("index_option"), {"settlement": "cash",
                                                           "style": "european"}
    else:
        spec, terms = universe.contract("equity_option"), {"settlement": "physical",
                                                            "style": "american"}
    multiplier = spec.number("multiplier", low=1e-12)
    months = [int(m) for m in universe.settings.sub("contracts").numbers("option_months")]
    expiries = monthly_expiries(universe.as_of, months, rule=expiry_rule)
    spot = market.price(underlying)
    strikes = strike_grid(spot, moneyness)
    records = [{"type": "option", "underlying": underlying, "right": r.value, "strike": float(k),
                "expiry": e.isoformat(), "multiplier": multiplier, **terms}
               for e in expiries for k in strikes for r in rights]
    rows = universe.add(records).reshape(len(expiries), len(strikes), len(rights))
    universe.value(rows, what=f"{underlying} options")
    rate, dividend = market.rate(universe.currency), market.dividend(underlying)
    time = np.array([year_fraction(universe.as_of, e) for e in expiries])[:, None, None]
    strike = strikes[None, :, None]
    forward = spot * np.exp((rate - dividend) * time)
    vol = market.vol_surface(underlying).vol(time=time, log_moneyness=np.log(strike / forward))
    is_call = np.array([r is Right.CALL for r in rights])[None, None, :]
    greeks = black_scholes_greeks(spot=spot, strike=strike, time=time, rate=rate,
                                  dividend=dividend, vol=vol, is_call=is_call)
    return _Options(rows=rows, delta=multiplier * np.asarray(greeks.delta), spot=spot,
                    multiplier=multiplier)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Linear:
    """A linear contract: its row, its units of the underlying per unit, its step."""

    row: int
    coins: float  # value per unit / spot: units of the underlying per unit held
    value: float  # value of one unit in the reporting currency
    step: float


def _linear(universe: Universe, record: Mapping[str, Any], *, underlying: str, step: float,
            what: str) -> _Linear:
    row = universe.add([record])
    value = float(universe.value(row, what=what)[0])
    return _Linear(row=int(row[0]), coins=value / universe.market.price(underlying),
                   value=value, step=step)


def _index_future(universe: Universe, underlying: str) -> _Linear:
    """Return the front contract of the first index future on ``underlying`` listed."""
    listed = [s for s in universe.settings.sub("contracts").items("index_futures")
              if s.text("underlying") == underlying and s.day("listed") <= universe.as_of]
    if not listed:
        raise MissingDataError(f"no {underlying} index future listed on "
                               f"{universe.as_of.isoformat()}")
    spec = listed[0]
    expiry = front_expiry(universe.as_of, min_days=_min_days(universe), cycle=3)
    record = {"type": "future", "symbol": contract_symbol(spec.text("root"), expiry),
              "underlying": underlying, "expiry": expiry.isoformat(),
              "multiplier": spec.number("multiplier", low=1e-12)}
    return _linear(universe, record, underlying=underlying, step=1.0,
                   what=f"{underlying} index future")


def _min_days(universe: Universe) -> int:
    return universe.settings.sub("contracts").count("future_min_days")


def _perpetuals(universe: Universe, coin: str) -> list[_Linear]:
    """Return the perpetuals on ``coin`` listed on the date (inverse and linear)."""
    out = []
    for key, settlement in (("inverse_perpetual", "inverse"), ("linear_perpetual", "linear")):
        spec = universe.contract(key)
        if coin not in spec.texts("coins") or spec.day("listed") > universe.as_of:
            continue
        record: dict[str, Any] = {"type": "perpetual", "underlying": coin,
                                  "settlement": settlement}
        if settlement == "inverse":
            record.update(multiplier=spec.number("face", low=1e-12), quote="USD")
            step = 1.0
        else:
            record.update(multiplier=1.0, quote=spec.text("quote"))
            step = universe.step("perpetual_linear")
        out.append(_linear(universe, record, underlying=coin, step=step,
                           what=f"{coin} {settlement} perpetual"))
    if not out:
        raise MissingDataError(f"no {coin} perpetual listed on {universe.as_of.isoformat()}")
    return out


def _stock(universe: Universe, symbol: str) -> _Linear:
    return _linear(universe, {"type": "equity", "symbol": symbol}, underlying=symbol,
                   step=1.0, what="shares")


def _settings(universe: Universe, name: str) -> Settings:
    return universe.settings.sub("archetypes").sub(name)


# -- the archetypes ------------------------------------------------------------------------


def market_maker(universe: Universe) -> Draw:
    """Options on one underlying per account, delta-hedged with the stock or index future."""
    p = _settings(universe, "market_maker")
    moneyness, legs = p.numbers("moneyness"), p.count("option_legs")
    index_share = p.number("index_share", low=0.0, high=1.0)
    notional, short = p.lognormal("leg_notional"), p.number("short_share", low=0.0, high=1.0)
    ref = refdata()

    def quote(name: str) -> tuple[_Options, _Linear]:
        options = _options(universe, name, moneyness=moneyness, rights=_BOTH)
        hedge = _index_future(universe, name) if name in ref.indexes else _stock(universe, name)
        return options, hedge

    books = _each("market_maker", p.texts("underlyings"), quote, universe)
    opts = [o for o, _ in books.values()]
    index = np.array([n in ref.indexes for n in books])
    weight = np.where(index, index_share, 1 - index_share) / np.where(
        index, index.sum(), (~index).sum())
    weight = weight / weight.sum() if weight.sum() > 0 else np.full(index.size, 1 / index.size)
    rows = np.stack([o.rows.ravel() for o in opts])  # (U, combos)
    delta = np.stack([o.delta.ravel() for o in opts])
    unit = np.array([o.multiplier * o.spot for o in opts])
    hedge_row = np.array([h.row for _, h in books.values()])
    hedge_delta = np.array([h.coins for _, h in books.values()])
    k = min(legs, rows.shape[1])

    def draw(n: int, rng: np.random.Generator) -> Legs:
        u = rng.choice(len(opts), size=n, p=weight)
        pick = _distinct(rng, n, rows.shape[1], k)
        contracts = _units(_lognormal(rng, notional, (n, k)), unit[u][:, None], 1.0)
        qty = -_signs(rng, short, (n, k)) * contracts
        exposure = np.sum(qty * delta[u[:, None], pick], axis=1)
        hedge = -np.round(exposure / hedge_delta[u])
        return Legs(instrument=np.column_stack([rows[u[:, None], pick], hedge_row[u]]),
                    quantity=np.column_stack([qty, hedge]))

    return draw


def _stock_with_option(universe: Universe, name: str, right: Right, option_sign: float
                       ) -> Draw:
    """Shares with one option per ``multiplier`` shares (covered call, protective put)."""
    p = _settings(universe, name)
    moneyness, notional = p.numbers("moneyness"), p.lognormal("notional")
    books = _each(name, universe.settings.texts("stocks"),
                  lambda s: (_options(universe, s, moneyness=moneyness, rights=(right,)),
                             _stock(universe, s)), universe)
    rows = np.stack([o.rows.ravel() for o, _ in books.values()])
    unit = np.array([o.multiplier * o.spot for o, _ in books.values()])
    mult = np.array([o.multiplier for o, _ in books.values()])
    stock_row = np.array([s.row for _, s in books.values()])

    def draw(n: int, rng: np.random.Generator) -> Legs:
        s = rng.integers(0, len(books), size=n)
        option = rows[s, rng.integers(0, rows.shape[1], size=n)]
        contracts = _units(_lognormal(rng, notional, (n,)), unit[s], 1.0)
        return Legs(instrument=np.column_stack([stock_row[s], option]),
                    quantity=np.column_stack([mult[s] * contracts, option_sign * contracts]))

    return draw


def covered_call(universe: Universe) -> Draw:
    """Retail: shares with one written out-of-the-money call per 100 shares."""
    return _stock_with_option(universe, "covered_call", Right.CALL, -1.0)


def protective_put(universe: Universe) -> Draw:
    """Retail: shares with one bought out-of-the-money put per 100 shares."""
    return _stock_with_option(universe, "protective_put", Right.PUT, 1.0)


def trailing_betas(as_of: date, symbols: Sequence[str], *, index: str, window: int
                   ) -> dict[str, float]:
    r"""Return each symbol's beta to ``index`` over the ``window`` daily returns to ``as_of``.

    Symbols with fewer than ``window`` joint returns by then are left out.

    Notes
    -----
    :math:`\beta = \operatorname{cov}(r_s, r_m) / \operatorname{var}(r_m)` of daily log
    returns between consecutive days on which both have a close (data known on
    ``as_of`` only).
    """
    frame = load_history().loc[:pd.Timestamp(as_of)]
    out: dict[str, float] = {}
    for symbol in symbols:
        joint = frame[[index, symbol]].dropna().tail(window + 1).to_numpy()
        if joint.shape[0] <= window:
            continue
        ret = np.diff(np.log(joint), axis=0)
        market = ret[:, 0] - ret[:, 0].mean()
        out[symbol] = float(np.dot(ret[:, 1] - ret[:, 1].mean(), market) / np.dot(market,
                                                                                    market))
    return out


def hedge_fund(universe: Universe) -> Draw:
    """Hedge fund: a long basket of stocks, index futures sold near its beta exposure."""
    p = _settings(universe, "hedge_fund")
    low, high = (int(v) for v in p.pair("basket", low=1))
    notional, ratio = p.lognormal("notional"), p.pair("hedge_ratio", low=0.0)
    future = _index_future(universe, "SPX")
    window = p.count("beta_window")
    betas = trailing_betas(universe.as_of, universe.settings.texts("stocks"), index="SPX",
                           window=window)
    if not betas:
        raise MissingDataError(f"no stock has {window} daily returns with SPX by "
                               f"{universe.as_of.isoformat()} (for its beta)")
    stocks = _each("hedge_fund", list(betas), lambda s: _stock(universe, s), universe)
    row = np.array([s.row for s in stocks.values()])
    price = np.array([s.value for s in stocks.values()])
    beta = np.array([betas[s] for s in stocks])
    k = min(high, row.size)
    sigma = p.number("weight_sigma", low=0.0)

    def draw(n: int, rng: np.random.Generator) -> Legs:
        pick = _distinct(rng, n, row.size, k)
        held = np.arange(k)[None, :] < rng.integers(min(low, k), k + 1, size=n)[:, None]
        weight = np.where(held, np.exp(sigma * rng.standard_normal((n, k))), 0.0)
        dollars = weight / weight.sum(axis=1, keepdims=True) * _lognormal(rng, notional,
                                                                          (n, 1))
        shares = np.where(held, np.maximum(np.round(dollars / price[pick]), 1.0), 0.0)
        exposure = np.sum(shares * price[pick] * beta[pick], axis=1)
        hedge = -np.round(rng.uniform(*ratio, size=n) * exposure / future.value)
        return Legs(instrument=np.column_stack([row[pick], np.full(n, future.row)]),
                    quantity=np.column_stack([shares, hedge]))

    return draw


def treasury_notes(universe: Universe, years: Sequence[float]) -> list[dict[str, Any]]:
    """Treasury notes maturing ``years`` ahead on a refunding date, coupons near par.

    Each maturity is the 15th of the February, May, August or November nearest to
    ``as_of`` plus the years; the coupon is the curve's par yield there, rounded to 1/8%.
    """
    curve = universe.market.curve("UST")
    out = []
    for y in years:
        target = pd.Timestamp(universe.as_of) + pd.DateOffset(days=round(365.25 * y))
        month = target.year * 12 + target.month - 1
        month += [0, -1, 1][(month - 1) % 3]  # nearest of Feb, May, Aug, Nov
        maturity = date(month // 12, month % 12 + 1, 15)
        coupon = max(round(curve.par_yield(year_fraction(universe.as_of, maturity)) * 800)
                     / 800, 1 / 800)
        out.append({"type": "bond", "symbol": f"T-{coupon * 100:.3f}-{maturity.isoformat()}",
                    "coupon": coupon, "maturity": maturity.isoformat()})
    return out


def treasury_basis(universe: Universe) -> Draw:
    """Long Treasury notes against note futures sold to the same DV01."""
    p = _settings(universe, "treasury_basis")
    low, high = p.pair("maturity_years", low=0.5)
    notes = universe.add(treasury_notes(universe, np.linspace(low, high, p.count("notes"))
                                        .tolist()))
    spec = universe.contract("note_future")
    universe.require_listed(spec, "note futures")
    expiry = front_expiry(universe.as_of, min_days=_min_days(universe), cycle=3)
    future = universe.add([{
        "type": "treasury_future", "symbol": contract_symbol(spec.text("root"), expiry),
        "underlying": "UST", "expiry": expiry.isoformat(),
        "multiplier": spec.number("multiplier", low=1e-12),
        "notional_coupon": spec.number("notional_coupon", low=0.0),
        "deliverable_years": spec.number("deliverable_years", low=1e-12)}])
    dv01 = universe.dv01(np.r_[notes, future], what="Treasury basis")
    face, lot = p.lognormal("face"), p.number("face_step", low=1.0)
    ratio = p.pair("hedge_ratio", low=0.0)

    def draw(n: int, rng: np.random.Generator) -> Legs:
        b = rng.integers(0, notes.size, size=n)
        held = _units(_lognormal(rng, face, (n,)), np.ones(n), lot)
        hedge = -np.maximum(np.round(rng.uniform(*ratio, size=n) * held * dv01[b] / dv01[-1]),
                            1.0)
        return Legs(instrument=np.column_stack([notes[b], np.full(n, future[0])]),
                    quantity=np.column_stack([held, hedge]))

    return draw


def _coin_future(universe: Universe, coin: str) -> _Linear:
    spec = universe.contract("coin_future")
    universe.require_listed(spec, f"{coin} futures")
    expiry = front_expiry(universe.as_of, min_days=_min_days(universe), rule="last")
    record = {"type": "future", "symbol": contract_symbol(spec.text("root"), expiry),
              "underlying": coin, "expiry": expiry.isoformat(),
              "multiplier": spec.number("multiplier", low=1e-12)}
    return _linear(universe, record, underlying=coin, step=1.0, what=f"{coin} futures")


def _optional(universe: Universe, what: str, build: Callable[[], _Linear]) -> list[_Linear]:
    """Return ``[build()]``, or nothing with a note when the date cannot support it."""
    try:
        return [build()]
    except MissingDataError as err:
        universe.notes.append(f"{what} left out: {err.reason}")
        return []


def basis_trader(universe: Universe) -> Draw:
    """Long spot, a dated future or a perpetual; short another venue's perpetual."""
    p = _settings(universe, "basis_trader")
    notional = p.lognormal("notional")

    def legs(coin: str) -> list[tuple[_Linear, _Linear]]:
        perps = _perpetuals(universe, coin)
        spot = _linear(universe, {"type": "spot", "asset": coin, "quote": "USD"},
                       underlying=coin, step=universe.step("spot"), what=f"{coin} spot")
        dated = _optional(universe, f"basis_trader: {coin} futures",
                          lambda: _coin_future(universe, coin)) \
            if coin in universe.contract("coin_future").texts("coins") else []
        return [(long, short) for long in [spot, *dated, *perps] for short in perps
                if long.row != short.row]

    pairs = [pair for found in _each("basis_trader", p.texts("coins"), legs,
                                     universe).values() for pair in found]
    long_leg = np.array([[a.row, a.coins, a.step] for a, _ in pairs])
    short_leg = np.array([[b.row, b.coins, b.step] for _, b in pairs])
    spot = np.array([a.value / a.coins for a, _ in pairs])

    def draw(n: int, rng: np.random.Generator) -> Legs:
        c = rng.integers(0, len(pairs), size=n)
        lo, sh = long_leg[c], short_leg[c]
        held = _units(_lognormal(rng, notional, (n,)) / spot[c], lo[:, 1], lo[:, 2])
        coins = held * lo[:, 1]
        short = -np.round(np.round(coins / sh[:, 1] / sh[:, 2]) * sh[:, 2], _DECIMALS)
        return Legs(instrument=np.column_stack([lo[:, 0], sh[:, 0]]).astype(np.int64),
                    quantity=np.column_stack([held, short]))

    return draw


def crypto_fund(universe: Universe) -> Draw:
    """Perpetuals on each coin, plus written and bought coin options where listed."""
    p = _settings(universe, "crypto_fund")
    notional, long_share = p.lognormal("notional"), p.number("long_share", low=0.0, high=1.0)
    short, legs = p.number("short_share", low=0.0, high=1.0), p.count("option_legs")
    perps = _each("crypto_fund", p.texts("coins"), lambda c: _perpetuals(universe, c),
                  universe)
    choices = [np.array([[x.row, x.coins, x.step] for x in perps[c]]) for c in perps]
    spot = np.array([perps[c][0].value / perps[c][0].coins for c in perps])
    try:
        books = _each("crypto_fund options", list(perps), lambda c: _options(
            universe, c, moneyness=p.numbers("moneyness"), rights=_BOTH), universe)
    except MissingDataError as err:
        universe.notes.append(f"{err.reason} (left out)")
        books = {}
    option_rows = np.concatenate([o.rows.ravel() for o in books.values()] or
                                 [np.empty(0, np.int64)])
    option_unit = np.concatenate([np.full(o.rows.size, o.multiplier * o.spot)
                                  for o in books.values()] or [np.empty(0)])
    k = min(legs, option_rows.size)

    def draw(n: int, rng: np.random.Generator) -> Legs:
        inst, qty = [], []
        for table, price in zip(choices, spot, strict=True):
            leg = table[rng.integers(0, len(table), size=n)]
            size = _units(_lognormal(rng, notional, (n,)) / price, leg[:, 1], leg[:, 2])
            inst.append(leg[:, 0].astype(np.int64))
            qty.append(_signs(rng, long_share, (n,)) * size)
        pick = _distinct(rng, n, option_rows.size, k)
        contracts = _units(_lognormal(rng, notional, (n, k)), option_unit[pick], 1.0)
        return Legs(instrument=np.column_stack([*inst, option_rows[pick]]),
                    quantity=np.column_stack([*qty, -_signs(rng, short, (n, k)) * contracts]))

    return draw


def directional(universe: Universe) -> Draw:
    """Unhedged: one direction for every leg, across stocks, index, coins and commodities."""
    p = _settings(universe, "directional")
    notional, long_share = p.lognormal("notional"), p.number("long_share", low=0.0, high=1.0)
    legs = p.sub("legs")
    futures = universe.settings.sub("contracts").items("commodity_futures")

    def commodity(spec: Settings) -> _Linear:
        underlying = spec.text("underlying")
        universe.require_listed(spec, f"{underlying} futures")
        expiry = front_expiry(universe.as_of, min_days=_min_days(universe))
        record = {"type": "future", "symbol": contract_symbol(spec.text("root"), expiry),
                  "underlying": underlying, "expiry": expiry.isoformat(),
                  "multiplier": spec.number("multiplier", low=1e-12)}
        return _linear(universe, record, underlying=underlying, step=1.0,
                       what=f"{underlying} futures")

    coins = sorted(refdata().coins & set(universe.market.prices))
    builders: dict[str, Callable[[], list[_Linear]]] = {
        "stock": lambda: list(_each("directional stocks", universe.settings.texts("stocks"),
                                    lambda s: _stock(universe, s), universe).values()),
        "index_future": lambda: [_index_future(universe, "SPX")],
        "coin": lambda: [x for c in coins for x in _optional_perps(universe, c)],
        "commodity_future": lambda: [x for spec in futures for x in _optional(
            universe, f"directional: {spec.text('underlying')} futures",
            partial(commodity, spec))],
    }
    tables: list[FloatArray] = []
    share: list[float] = []
    for kind in legs.data:
        if kind not in builders:
            raise InputError(f"unknown leg kind (known: {', '.join(builders)})",
                             field=legs.field(str(kind)))
        probability = legs.number(str(kind), low=0.0, high=1.0)
        try:
            found = builders[kind]()
        except MissingDataError as err:
            universe.notes.append(f"directional: {kind} left out: {err.reason}")
            continue
        if not found:
            universe.notes.append(f"directional: {kind} left out: none listed and priced on "
                                  f"{universe.as_of.isoformat()}")
        elif probability > 0:
            tables.append(np.array([[x.row, x.value, x.step] for x in found]))
            share.append(probability)
    if not tables:
        raise MissingDataError("directional: no leg kind can be priced on "
                               f"{universe.as_of.isoformat()}")
    chance = np.array(share)

    def draw(n: int, rng: np.random.Generator) -> Legs:
        held = rng.random((n, len(tables))) < chance
        none = ~held.any(axis=1)
        held[none, rng.integers(0, len(tables), size=int(none.sum()))] = True
        sign = _signs(rng, long_share, (n,))
        inst, qty = [], []
        for j, table in enumerate(tables):
            leg = table[rng.integers(0, len(table), size=n)]
            size = _units(_lognormal(rng, notional, (n,)), leg[:, 1], leg[:, 2])
            inst.append(leg[:, 0].astype(np.int64))
            qty.append(np.where(held[:, j], sign * size, 0.0))
        return Legs(instrument=np.column_stack(inst), quantity=np.column_stack(qty))

    return draw


def _optional_perps(universe: Universe, coin: str) -> list[_Linear]:
    try:
        return _perpetuals(universe, coin)
    except MissingDataError:
        return []


#: Archetype name -> its preparation on a universe; this order seeds their draws.
ARCHETYPES: Mapping[str, Callable[[Universe], Draw]] = {
    "market_maker": market_maker,
    "basis_trader": basis_trader,
    "covered_call": covered_call,
    "protective_put": protective_put,
    "hedge_fund": hedge_fund,
    "treasury_basis": treasury_basis,
    "crypto_fund": crypto_fund,
    "directional": directional,
}
