"""Requirements of positions held alone, per unit: Reg T, FINRA 4210 and Cboe rates.

Every requirement of the strategy method follows one convention, the one Reg T and the
Cboe rules state them in: the amount the account must hold *counting the proceeds of its
short sales*. A short sale of stock requires 150% of its market value, of which 100% is
the sale proceeds; an uncovered short option requires 100% of its current value plus a
margin. The equity the customer must put up is the requirement less the current value of
the short positions (the method reports that value as the ``short_proceeds`` component).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from crossmargin.core.errors import InputError
from crossmargin.core.typing import BoolArray, FloatArray
from crossmargin.core.values import parse_number

__all__ = ["OptionRule", "StockRule", "UnitRequirements", "naked_margin", "unit_requirements"]


def _rate(p: Mapping[str, Any], key: str, prefix: str) -> float:
    return parse_number(p.get(key), field=f"{prefix}.{key}", positive=True)


def _section(p: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    section = p.get(key)
    if not isinstance(section, Mapping):
        raise InputError("must be a mapping", field=key, value=section, has_value=True)
    return section


@dataclass(frozen=True, slots=True, kw_only=True)
class StockRule:
    r"""Reg T initial and FINRA Rule 4210(c) maintenance rates of stock and ETF positions.

    Parameters
    ----------
    initial_long : float
        Reg T initial requirement of a long position, as a fraction of its value (50%).
    initial_short : float
        Reg T requirement of a short sale, sale proceeds included (150%).
    maintenance_long : float
        FINRA 4210(c)(1): 25% of the market value of a long position.
    maintenance_short : float
        FINRA 4210(c)(3): fraction of a short's market value over its current value (30%).
    maintenance_short_per_share : float
        FINRA 4210(c)(3): minimum per share of a short at or above ``low_price`` ($5.00).
    low_price : float
        Price per share below which the low-price short rule applies ($5.00).
    maintenance_short_low : float
        FINRA 4210(c)(2): fraction of a low-priced short's market value (100%).
    maintenance_short_low_per_share : float
        FINRA 4210(c)(2): minimum per share of a low-priced short ($2.50).

    Notes
    -----
    Per share of value :math:`S` (the short's current value :math:`S` included):

    .. math::
        IM_{long} = i_L S, \quad MM_{long} = m_L S, \quad IM_{short} = i_S S, \quad
        MM_{short} = S + \begin{cases} \max(m_S S, d_S) & S \ge S_{low} \\
        \max(m_{SL} S, d_{SL}) & S < S_{low} \end{cases}

    References
    ----------
    .. [1] Regulation T, 12 CFR 220.12(a) and (c) (supplement: margin requirements).
    .. [2] FINRA Rule 4210(c), maintenance margin.
    """

    initial_long: float
    initial_short: float
    maintenance_long: float
    maintenance_short: float
    maintenance_short_per_share: float
    low_price: float
    maintenance_short_low: float
    maintenance_short_low_per_share: float

    def __post_init__(self) -> None:
        if self.initial_short < 1:
            raise InputError("a short sale's requirement includes its 100% proceeds",
                             field="stock.initial_short", value=self.initial_short)

    @classmethod
    def from_mapping(cls, p: Mapping[str, Any]) -> StockRule:
        """Read the rates from the ``stock`` section of a parameter set."""
        s = _section(p, "stock")
        return cls(**{name: _rate(s, name, "stock") for name in cls.__dataclass_fields__})

    def requirements(self, value: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray,
                                                       FloatArray]:
        """Return (long IM, long MM, short IM, short MM) per share of value ``value``."""
        low = value < self.low_price
        short_mm = value + np.where(
            low,
            np.maximum(self.maintenance_short_low * value, self.maintenance_short_low_per_share),
            np.maximum(self.maintenance_short * value, self.maintenance_short_per_share))
        return (self.initial_long * value, self.maintenance_long * value,
                self.initial_short * value, short_mm)


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionRule:
    r"""Cboe Rule 10.3 and FINRA 4210(f)(2) rates of listed equity and index options.

    Parameters
    ----------
    underlying_pct : mapping of str to float
        Percentage of the underlying value an uncovered short option adds to its value, by
        the underlying's product class (20% for equities and narrow-based indexes, 15% for
        broad-based indexes).
    minimum_pct : float
        Floor of that margin: 10% of the underlying value (calls) or of the exercise
        price (puts).
    marginable_months : int
        A long option with more than this many months to expiry may be bought on margin.
    marginable_requirement : float
        Requirement of such a long option, as a fraction of its value (75%).
    protective_strike_pct : float
        Maintenance of stock hedged by a long put (alone or in a collar): this fraction of
        the put's exercise price plus the put's out-of-the-money amount, when lower than the
        stock's own maintenance requirement (10%).
    protective_call_strike_pct : float
        Maintenance of short stock hedged by a long call (alone or in a reversal): this
        fraction of the call's exercise price plus the call's out-of-the-money amount, when
        lower than the short stock's own maintenance requirement beyond its proceeds (10%).

    Notes
    -----
    Uncovered short option on an underlying of value :math:`S` per share, exercise price
    :math:`K`, multiplier :math:`m`, current value :math:`v` per contract:

    .. math:: R = v + m \max(p S - \mathrm{OTM}, f B), \qquad
              \mathrm{OTM} = \max(K - S, 0) \text{ (call)}, \max(S - K, 0) \text{ (put)},

    with :math:`p` from ``underlying_pct``, :math:`f` = ``minimum_pct`` and :math:`B = S`
    for calls, :math:`K` for puts. Long options: :math:`R = v`, or :math:`0.75 v` with
    more than nine months to expiry. Initial and maintenance requirements are equal.

    References
    ----------
    .. [1] Cboe, "Strategy-based Margin" (overview of Cboe Rule 10.3), uncovered writers
       and long puts or calls.
    .. [2] FINRA Rule 4210(f)(2)(C)-(E), listed options.
    .. [3] FINRA Rule 4210(f)(2), components held with options (long put with long stock,
       long call with short stock); Cboe Margin Manual (April 2000), "Long Put and Long
       Underlying" and "Long Call and Short Underlying".
    """

    underlying_pct: Mapping[str, float]
    minimum_pct: float
    marginable_months: int
    marginable_requirement: float
    protective_strike_pct: float
    protective_call_strike_pct: float

    @classmethod
    def from_mapping(cls, p: Mapping[str, Any]) -> OptionRule:
        """Read the rates from the ``options`` section of a parameter set."""
        o = _section(p, "options")
        pct = o.get("underlying_pct")
        if not isinstance(pct, Mapping) or not pct:
            raise InputError("must map product classes to rates",
                             field="options.underlying_pct", value=pct, has_value=True)
        months = _rate(o, "marginable_months", "options")
        if months != int(months):
            raise InputError("must be a whole number of months",
                             field="options.marginable_months", value=months)
        return cls(
            underlying_pct={str(k): parse_number(v, field=f"options.underlying_pct.{k}",
                                                 positive=True) for k, v in pct.items()},
            minimum_pct=_rate(o, "minimum_pct", "options"),
            marginable_months=int(months),
            marginable_requirement=_rate(o, "marginable_requirement", "options"),
            protective_strike_pct=_rate(o, "protective_strike_pct", "options"),
            protective_call_strike_pct=_rate(o, "protective_call_strike_pct", "options"),
        )


def naked_margin(*, is_call: BoolArray, spot: FloatArray, strike: FloatArray,
                 multiplier: FloatArray, pct: FloatArray, minimum_pct: float) -> FloatArray:
    r"""Return the margin an uncovered short option adds to its value, per contract.

    Notes
    -----
    :math:`m \max(p S - \mathrm{OTM}, f B)` (see :class:`OptionRule`).
    """
    otm = np.where(is_call, np.maximum(strike - spot, 0.0), np.maximum(spot - strike, 0.0))
    floor = minimum_pct * np.where(is_call, spot, strike)
    out: FloatArray = multiplier * np.maximum(pct * spot - otm, floor)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class UnitRequirements:
    """Requirements of one unit (a share or a contract) held alone, long or short.

    Attributes
    ----------
    long_initial, long_maintenance, short_initial, short_maintenance : FloatArray
        Shape (n_instruments,), in the reporting currency, short proceeds included.
    naked : FloatArray, shape (n_instruments,)
        The margin an uncovered short option adds to its value (zero for stock).
    """

    long_initial: FloatArray
    long_maintenance: FloatArray
    short_initial: FloatArray
    short_maintenance: FloatArray
    naked: FloatArray


def unit_requirements(*, is_stock: BoolArray, is_call: BoolArray, value: FloatArray,
                      spot: FloatArray, strike: FloatArray, multiplier: FloatArray,
                      pct: FloatArray, marginable: BoolArray, stock: StockRule,
                      option: OptionRule) -> UnitRequirements:
    """Return the requirements of each instrument held alone (arrays of one shape).

    ``value`` is the value of one unit (a share, or a contract: premium x multiplier);
    ``spot`` and ``strike`` are per share of the underlying. An initial requirement is
    never below the maintenance requirement of the same position (a low-priced short
    sale needs more to maintain than Reg T's 150%), so it is floored there.
    """
    s_long_im, s_long_mm, s_short_im, s_short_mm = stock.requirements(value)
    naked = np.where(is_stock, 0.0, naked_margin(
        is_call=is_call, spot=spot, strike=np.where(is_stock, 0.0, strike),
        multiplier=multiplier, pct=pct, minimum_pct=option.minimum_pct))
    long_option = value * np.where(marginable, option.marginable_requirement, 1.0)
    short_option = value + naked
    long_mm = np.where(is_stock, s_long_mm, long_option)
    short_mm = np.where(is_stock, s_short_mm, short_option)
    return UnitRequirements(
        long_initial=np.maximum(np.where(is_stock, s_long_im, long_option), long_mm),
        long_maintenance=long_mm,
        short_initial=np.maximum(np.where(is_stock, s_short_im, short_option), short_mm),
        short_maintenance=short_mm,
        naked=naked,
    )
