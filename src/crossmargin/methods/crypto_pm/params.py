"""The per-underlying numbers of crypto portfolio margin, read strictly from a parameter file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_number

__all__ = ["UnderlyingParams", "parse_underlyings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class UnderlyingParams:
    """The scenario and contingency parameters of one underlying coin.

    Attributes
    ----------
    price_range : float
        Largest relative price move of the regular grid (0.16 for +/-16%).
    vol_range_up, vol_range_down : float
        Relative implied-volatility shocks of a 30-day option, up and down.
    short_term_vega_power, long_term_vega_power : float
        Powers of ``reference / DTE`` that scale the vol shocks up to and beyond the
        reference days.
    annualised_move_risk : float
        Annualised basis move behind the roll contingency.
    delta_contingency : float
        Fraction of a pool's net delta-one notional added as a contingency.
    option_contingency : float
        Fraction of the notional of each naked short option (per expiry and strike).
    """

    price_range: float
    vol_range_up: float
    vol_range_down: float
    short_term_vega_power: float
    long_term_vega_power: float
    annualised_move_risk: float
    delta_contingency: float
    option_contingency: float


_FIELDS = tuple(UnderlyingParams.__dataclass_fields__)


def _underlying(raw: object, field: str) -> UnderlyingParams:
    if not isinstance(raw, Mapping):
        raise InputError("must be a mapping of the underlying's parameters", field=field)
    unknown = sorted(set(map(str, raw)) - set(_FIELDS))
    if unknown:
        raise InputError("unknown parameter", field=f"{field}.{unknown[0]}",
                         value=raw[unknown[0]])
    values = {}
    for name in _FIELDS:
        if name not in raw:
            raise InputError("is required", field=f"{field}.{name}")
        values[name] = parse_number(raw[name], field=f"{field}.{name}", positive=True)
    params = UnderlyingParams(**values)
    if not 0 < params.price_range < 1:
        raise InputError("must be in (0, 1)", field=f"{field}.price_range",
                         value=params.price_range)
    return params


def parse_underlyings(raw: object) -> dict[str, UnderlyingParams]:
    """Return the ``underlyings`` table of a parameter file, validated.

    Raises
    ------
    InputError
        A missing, unknown, negative or non-numeric entry, named by its field path
        (``underlyings.BTC.price_range``); the caller locates it in the file.
    """
    if not isinstance(raw, Mapping) or not raw:
        raise InputError("must map each underlying to its parameters", field="underlyings")
    return {str(symbol): _underlying(table, f"underlyings.{symbol}")
            for symbol, table in raw.items()}
