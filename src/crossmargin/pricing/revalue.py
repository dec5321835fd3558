"""Full revaluation of instruments under a scenario set.

The result is the ``pnl[instrument, scenario]`` matrix that every scenario margin
method reduces.

Each distinct instrument is priced once at the base market and once per scenario, in
its own currency, then converted into the reporting currency at the (shocked) FX rate.
Everything is vectorised over scenarios; instruments are grouped by kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from crossmargin.book.instruments import (
    Bond,
    CryptoSpot,
    Equity,
    Future,
    FutureOption,
    Instrument,
    Option,
    Perpetual,
    RateFuture,
    Settlement,
    Style,
    TreasuryFuture,
)
from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError
from crossmargin.core.typing import BoolArray, FloatArray
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.pricing.american import american_gbsm
from crossmargin.pricing.black import gbsm
from crossmargin.pricing.bonds import bond_cash_flows
from crossmargin.pricing.curves import bootstrap_zero_curve, discount_factors
from crossmargin.pricing.implied import implied_vol
from crossmargin.scenarios.base import ScenarioSet, VolShift

__all__ = ["Revaluation", "revalue", "year_fraction"]

#: Day count for time to expiry of options and futures (ACT/365 fixed).
DAYS_PER_YEAR = 365.0
_VOL_FLOOR = 1e-4


def year_fraction(start: date, end: date) -> float:
    """Return ACT/365 years from ``start`` to ``end``."""
    return (end - start).days / DAYS_PER_YEAR


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Revaluation:
    """Instrument values and scenario P&L, per unit, in the reporting currency.

    Attributes
    ----------
    currency : str
        Reporting currency.
    base_value : FloatArray, shape (n_instruments,)
        Value of one unit today (for a linear future: its notional, multiplier x price).
    pnl : FloatArray, shape (n_instruments, n_scenarios)
        Gain of one unit under each scenario (losses negative), C-contiguous.
    """

    currency: str
    base_value: FloatArray
    pnl: FloatArray


@dataclass(slots=True, kw_only=True)
class _Context:
    market: MarketSnapshot
    scenarios: ScenarioSet
    currency: str
    _spots: dict[str, tuple[float, FloatArray]] = field(default_factory=dict)
    _zeros: dict[str, tuple[FloatArray, FloatArray, FloatArray]] = field(default_factory=dict)

    @property
    def horizon(self) -> float:
        return self.scenarios.horizon_days / DAYS_PER_YEAR

    def spot(self, symbol: str) -> tuple[float, FloatArray]:
        """Return the base price and shocked prices of ``symbol``, shapes () and (n_scen,)."""
        if symbol not in self._spots:
            s0 = self.market.price(symbol)
            self._spots[symbol] = (s0, s0 * (1.0 + self.scenarios.spot_returns(symbol)))
        return self._spots[symbol]

    def rate(self, currency: str) -> float:
        ccy = "USD" if currency in refdata().stablecoins else currency
        return self.market.rate(ccy)

    def times(self, expiry: date, what: str) -> tuple[float, float]:
        t0 = year_fraction(self.market.as_of, expiry)
        if t0 < 0:
            raise InputError(f"{what} expired before the valuation date "
                             f"{self.market.as_of.isoformat()}", field="expiry",
                             value=expiry.isoformat())
        return t0, max(t0 - self.horizon, 0.0)

    def zero_curve(self, name: str) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Tenors, base zero rates (n_t,) and shocked zero rates (n_scen, n_t)."""
        if name not in self._zeros:
            curve = self.market.curve(name)
            shifts = np.asarray(self.scenarios.curve_shifts(name), dtype=np.float64)
            if shifts.ndim == 1:
                shifts = shifts[:, None]
            elif shifts.shape[1] != curve.tenors.size:
                raise InputError("per-tenor curve shocks must match the curve's tenors",
                                 field=f"curve.{name}", value=shifts.shape)
            base = bootstrap_zero_curve(tenors=curve.tenors, par_yields=curve.yields)
            shocked = bootstrap_zero_curve(tenors=curve.tenors,
                                           par_yields=curve.yields[None, :] + shifts)
            self._zeros[name] = (curve.tenors, np.asarray(base), np.asarray(shocked))
        return self._zeros[name]

    def fx(self, currency: str) -> tuple[float, FloatArray]:
        """Return base and shocked units of reporting currency per unit of ``currency``."""
        x0 = self.market.fx_rate(currency, to=self.currency)
        moves = (1.0 + self.scenarios.fx_returns(currency)) / (
            1.0 + self.scenarios.fx_returns(self.currency)
        )
        return x0, x0 * moves


def _vol_shocked(ctx: _Context, underlying: str, vol: FloatArray) -> FloatArray:
    """Apply the scenario set's vol shocks to base vols of shape (n,); returns (n, S)."""
    shock = ctx.scenarios.vol_shocks(underlying)[None, :]
    if ctx.scenarios.vol_shift is VolShift.RELATIVE:
        out = vol[:, None] * (1.0 + shock)
    else:
        out = vol[:, None] + shock
    result: FloatArray = np.maximum(out, _VOL_FLOOR)
    return result


_Priced = tuple[FloatArray, FloatArray]  # base values (n,), scenario values (n, S)


def _linear(inst: Instrument, ctx: _Context) -> tuple[float, FloatArray]:
    return ctx.spot(inst.underlying_symbol)


def _forward(ctx: _Context, fut: Future) -> tuple[float, FloatArray, float, float]:
    """Return the base and shocked forward price of a carry future, and its times."""
    s0, s = ctx.spot(fut.underlying)
    t0, ts = ctx.times(fut.expiry, fut.label)
    carry = ctx.rate(fut.currency) - ctx.market.dividend(fut.underlying)
    return s0 * np.exp(carry * t0), s * np.exp(carry * ts), t0, ts


_One = tuple[float, FloatArray]  # one instrument: base value, scenario values (S,)


def _each(pricer: Callable[[Any, _Context], _One]
          ) -> Callable[[Sequence[Instrument], _Context], _Priced]:
    """Lift a one-instrument pricer to a batch of instruments of one kind."""

    def batch(insts: Sequence[Instrument], ctx: _Context) -> _Priced:
        v0 = np.empty(len(insts))
        vs = np.empty((len(insts), ctx.scenarios.size))
        for k, inst in enumerate(insts):
            v0[k], vs[k] = pricer(inst, ctx)
        return v0, vs

    return batch


def _future(inst: Future, ctx: _Context) -> _One:
    f0, fs, _, _ = _forward(ctx, inst)
    if inst.settlement is Settlement.INVERSE:
        # coin-margined: P&L in coin face·(1/F0 - 1/F1), worth face·(F1/F0 - 1) in USD
        return inst.multiplier, inst.multiplier * fs / f0
    return inst.multiplier * f0, inst.multiplier * fs


def _perpetual(inst: Perpetual, ctx: _Context) -> _One:
    s0, s = ctx.spot(inst.underlying)
    funding = ctx.market.funding.get(inst.underlying, 0.0) * ctx.horizon
    if inst.settlement is Settlement.INVERSE:
        return inst.multiplier, inst.multiplier * (s / s0 - funding)
    return inst.multiplier * s0, inst.multiplier * (s - s0 * funding)


def _option_model(
    *, american: BoolArray, spot: FloatArray, strike: FloatArray, time: FloatArray,
    rate: FloatArray, carry: FloatArray, is_call: BoolArray,
) -> Callable[[FloatArray], FloatArray]:
    """Price function of volatility for a batch of options (broadcast shapes)."""

    def price(vol: FloatArray) -> FloatArray:
        euro = gbsm(spot=spot, strike=strike, time=time, rate=rate, carry=carry, vol=vol,
                    is_call=is_call)
        if not np.any(american):
            return np.asarray(euro)
        amer = american_gbsm(spot=spot, strike=strike, time=time, rate=rate,
                                   carry=carry, vol=vol, is_call=is_call)
        out: FloatArray = np.where(american, amer, euro)
        return out

    return price


def _options(
    insts: Sequence[Instrument], ctx: _Context, marks: FloatArray
) -> _Priced:
    n, S = len(insts), ctx.scenarios.size
    s0 = np.empty(n)
    ss = np.empty((n, S))
    t0 = np.empty(n)
    ts = np.empty(n)
    r = np.empty(n)
    b = np.empty(n)
    vol = np.empty(n)
    vs = np.empty((n, S))
    strike = np.empty(n)
    mult = np.empty(n)
    call = np.empty(n, dtype=bool)
    american = np.empty(n, dtype=bool)
    for k, inst in enumerate(insts):
        if isinstance(inst, FutureOption):
            f0, fs, _, _ = _forward(ctx, inst.future)
            s0[k], ss[k] = f0, fs
            r[k], b[k] = ctx.rate(inst.currency), 0.0
            underlying = inst.future.underlying
        else:
            assert isinstance(inst, Option)
            s0[k], ss[k] = ctx.spot(inst.underlying)
            r[k] = ctx.rate(inst.currency)
            b[k] = r[k] - ctx.market.dividend(inst.underlying)
            underlying = inst.underlying
        t0[k], ts[k] = ctx.times(inst.expiry, inst.label)
        strike[k], mult[k], call[k] = inst.strike, inst.multiplier, inst.is_call
        american[k] = inst.style is Style.AMERICAN
        forward = s0[k] * np.exp(b[k] * t0[k])
        vol[k] = ctx.market.vol_surface(underlying).vol(
            time=np.asarray(max(t0[k], 1e-6)), log_moneyness=np.log(strike[k] / forward)
        ).item()
    marked = np.isfinite(marks)
    if marked.any():
        idx = np.flatnonzero(marked)
        model = _option_model(american=american[idx], spot=s0[idx], strike=strike[idx],
                              time=t0[idx], rate=r[idx], carry=b[idx], is_call=call[idx])
        vol[idx] = implied_vol(model, target=marks[idx],
                               labels=[insts[int(i)].label for i in idx])
    base_model = _option_model(american=american, spot=s0, strike=strike, time=t0, rate=r,
                               carry=b, is_call=call)
    v0 = np.where(marked, marks, base_model(vol))
    for k, inst in enumerate(insts):
        underlying = inst.underlying_symbol
        vs[k] = _vol_shocked(ctx, underlying, vol[k:k + 1])[0]
    col = (slice(None), None)
    scen_model = _option_model(american=american[col], spot=ss, strike=strike[col],
                               time=ts[col], rate=r[col], carry=b[col], is_call=call[col])
    return mult * v0, mult[col] * scen_model(vs)


def _discount(ctx: _Context, curve: str, times: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return discount factors at ``times``: base (n,) and shocked (n_scen, n)."""
    tenors, z0, zs = ctx.zero_curve(curve)
    return (discount_factors(tenors=tenors, zero_rates=z0, times=times),
            discount_factors(tenors=tenors, zero_rates=zs, times=times))


def _bond_values(
    ctx: _Context, curve: str, times: FloatArray, amounts: FloatArray
) -> tuple[float, FloatArray]:
    """Return the present value of ``amounts`` at ``times`` (years), base and shocked."""
    d0, ds = _discount(ctx, curve, times)
    return float(np.sum(amounts * d0)), np.asarray(np.sum(amounts[None, :] * ds, axis=-1))


def _cash_flows(coupon: float, maturity: float, frequency: int
                ) -> tuple[FloatArray, FloatArray]:
    """Return remaining payment times (years) and amounts per unit face of a bullet bond."""
    if maturity <= 0:
        return np.empty(0), np.empty(0)
    times, amounts = bond_cash_flows(coupon=coupon, maturity=maturity, frequency=frequency)
    keep = amounts > 0
    return np.asarray(times[keep], dtype=np.float64), np.asarray(amounts[keep], np.float64)


def _bond(inst: Bond, ctx: _Context) -> _One:
    maturity = year_fraction(ctx.market.as_of, inst.maturity)
    if maturity <= 0:
        raise InputError(f"{inst.label} matured before the valuation date",
                         field="maturity", value=inst.maturity.isoformat())
    times, amounts = _cash_flows(inst.coupon, maturity, inst.frequency)
    base = _bond_values(ctx, inst.curve, times, amounts)[0]
    # after the horizon: the remaining flows, plus the coupons received meanwhile
    later, later_amounts = _cash_flows(inst.coupon, maturity - ctx.horizon, inst.frequency)
    received = amounts.sum() - later_amounts.sum()
    return base, _bond_values(ctx, inst.curve, later, later_amounts)[1] + received


def _treasury_future(inst: TreasuryFuture, ctx: _Context) -> _One:
    t_exp, _ = ctx.times(inst.expiry, inst.label)
    times, amounts = _cash_flows(inst.notional_coupon, inst.deliverable_years, 2)
    pv0, pvs = _bond_values(ctx, inst.underlying, times + t_exp, amounts)
    d0, ds = _discount(ctx, inst.underlying, np.array([t_exp]))
    # forward price in points per 100 face of the notional bond at delivery
    scale = inst.multiplier * 100.0
    return scale * pv0 / float(d0[0]), scale * pvs / ds[:, 0]


def _rate_future(inst: RateFuture, ctx: _Context) -> _One:
    t1, _ = ctx.times(inst.expiry, inst.label)
    d0, ds = _discount(ctx, inst.underlying, np.array([max(t1, 1e-6), t1 + inst.tenor_years]))
    # simple forward rate over [t1, t2]; price = 100 - 100 f (points)
    f0 = (float(d0[0]) / float(d0[1]) - 1.0) / inst.tenor_years
    fs = (ds[:, 0] / ds[:, 1] - 1.0) / inst.tenor_years
    return inst.multiplier * (100.0 - 100.0 * f0), inst.multiplier * (100.0 - 100.0 * fs)


def _scale_to_mark(v0: FloatArray, vs: FloatArray, marks: FloatArray, unit: FloatArray
                   ) -> _Priced:
    """Rescale linear instruments so that the base value equals the mark."""
    marked = np.isfinite(marks)
    if not marked.any():
        return v0, vs
    target = np.where(marked, marks * unit, v0)
    ratio = np.where(marked, target / v0, 1.0)
    return target, vs * ratio[:, None]


def revalue(
    instruments: Sequence[Instrument],
    *,
    market: MarketSnapshot,
    scenarios: ScenarioSet,
    currency: str,
    marks: FloatArray | None = None,
) -> Revaluation:
    r"""Price every instrument at the base market and under every scenario.

    Parameters
    ----------
    instruments : sequence of Instrument, shape (n,)
    market : MarketSnapshot
    scenarios : ScenarioSet
    currency : str
        Reporting currency of the result.
    marks : FloatArray, shape (n,), optional
        Price per unit from the portfolio file (NaN where absent). A marked option is
        revalued at the implied volatility that reproduces its mark; a marked linear
        instrument is rescaled so that its base value equals the mark.

    Returns
    -------
    Revaluation

    Raises
    ------
    MissingDataError
        A price, volatility, rate or curve needed by a held instrument is absent.

    Notes
    -----
    P&L per unit in the reporting currency is
    :math:`V_s X_s - V_0 X_0`, with :math:`V` the instrument's value in its own currency
    and :math:`X` units of reporting currency per unit of that currency.
    Options: generalised Black-Scholes-Merton (cost of carry :math:`b = r - q`; :math:`b=0`
    for options on futures, i.e. Black-76), American exercise by the larger of the
    Bjerksund-Stensland (1993) and (2002) approximations (both are lower bounds).
    Futures: :math:`F = S e^{(r - q) T}`; inverse contracts pay
    :math:`\text{face}\,(1/F_0 - 1/F_1)` coins, worth :math:`\text{face}(F_1/F_0 - 1)`.
    Bonds: full price off the zero curve bootstrapped from the par curve.

    References
    ----------
    .. [1] Black, F. (1976), "The pricing of commodity contracts", J. Financial Economics.
    .. [2] Bjerksund, P. and Stensland, G. (2002), "Closed form valuation of American
       options", NHH discussion paper.
    .. [3] Hull, J. C., Options, Futures and Other Derivatives, ch. 5 (cost of carry).
    """
    n = len(instruments)
    marks = np.full(n, np.nan) if marks is None else np.asarray(marks, dtype=np.float64)
    ctx = _Context(market=market, scenarios=scenarios, currency=currency)
    v0 = np.empty(n)
    vs = np.empty((n, scenarios.size))
    groups: dict[str, list[int]] = {}
    for i, inst in enumerate(instruments):
        groups.setdefault(_model_of(inst), []).append(i)
    for model, rows in groups.items():
        idx = np.asarray(rows)
        insts = [instruments[i] for i in rows]
        if model == "option":
            base, scen = _options(insts, ctx, marks[idx])
        else:
            base, scen = _PRICERS[model](insts, ctx)
            unit = np.array([getattr(i, "multiplier", 1.0) for i in insts])
            # An inverse contract's value is its face whatever its price: a mark (USD per
            # coin) moves nothing, as its P&L is face x relative move of the price.
            inverse = np.array([getattr(i, "settlement", None) is Settlement.INVERSE
                                for i in insts], dtype=bool)
            base, scen = _scale_to_mark(base, scen, np.where(inverse, np.nan, marks[idx]),
                                        unit)
        fx = [ctx.fx(inst.currency) for inst in insts]
        v0[idx] = base * np.array([x[0] for x in fx])
        vs[idx] = scen * np.stack([x[1] for x in fx])
    pnl = np.ascontiguousarray(vs - v0[:, None])
    if not np.all(np.isfinite(pnl)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(pnl), axis=1))[0])
        raise InputError("revaluation produced a non-finite value",
                         field="instrument", value=instruments[bad].label)
    return Revaluation(currency=currency, base_value=v0, pnl=pnl)


def _model_of(inst: Instrument) -> str:
    if isinstance(inst, TreasuryFuture):
        return "treasury_future"
    if isinstance(inst, RateFuture):
        return "rate_future"
    if isinstance(inst, Future):
        return "future"
    if isinstance(inst, Option | FutureOption):
        return "option"
    if isinstance(inst, Perpetual):
        return "perpetual"
    if isinstance(inst, Bond):
        return "bond"
    if isinstance(inst, Equity | CryptoSpot):
        return "linear"
    raise InputError("no pricing model for this instrument type", field="type",
                     value=type(inst).__name__)


_PRICERS: dict[str, Callable[[Sequence[Instrument], _Context], _Priced]] = {
    "linear": _each(_linear),
    "future": _each(_future),
    "perpetual": _each(_perpetual),
    "bond": _each(_bond),
    "treasury_future": _each(_treasury_future),
    "rate_future": _each(_rate_future),
}
