"""Read a market file (YAML or JSON) into a :class:`MarketSnapshot`.

Shape (every section optional but ``as_of`` and ``prices``)::

    as_of: 2018-06-29
    base_currency: USD
    prices: {SPX: 2718.37, BTC: 6385.0}
    vols:                        # flat, or a smile by expiry (years) and ln(K/F)
      SPX: 0.16
      BTC: {expiries: [0.1, 0.5], moneyness: [-0.2, 0, 0.2],
            vols: [[0.8, 0.7, 0.75], [0.78, 0.7, 0.72]]}
    rates: {USD: 0.0193}
    curves: {UST: {0.25: 0.0193, 2: 0.0252, 10: 0.0285}}   # tenor (years or 3M/2Y) -> yield
    fx: {USDT: 1.0, EUR: 1.168}  # value of one unit in base_currency
    dividends: {SPX: 0.018}
    funding: {BTC: 0.10}         # annualised
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from crossmargin.core.errors import InputError
from crossmargin.core.money import check_currency
from crossmargin.core.values import parse_date, parse_number
from crossmargin.core.yamlio import read_yaml
from crossmargin.market.snapshot import Curve, MarketSnapshot, VolSurface

__all__ = ["load_market", "parse_tenor", "read_market"]

_SECTIONS = {"as_of", "base_currency", "prices", "vols", "rates", "curves", "fx",
             "dividends", "funding", "description"}
_TENOR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([DWMY])\s*$", re.IGNORECASE)


def parse_tenor(value: object, *, field: str) -> float:
    """Return a tenor in years from ``0.25``, ``"3M"``, ``"10Y"``, ``"2W"`` or ``"30D"``."""
    if isinstance(value, str):
        match = _TENOR.match(value)
        if match:
            n, unit = float(match.group(1)), match.group(2).upper()
            return n * {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1.0}[unit]
    return parse_number(value, field=field, positive=True, allow_zero=False)


def _numbers(data: Mapping[str, Any], name: str, *, positive: bool) -> dict[str, float]:
    section = data.get(name) or {}
    if not isinstance(section, Mapping):
        raise InputError("must be a mapping", field=name, value=section)
    return {
        str(k): parse_number(v, field=f"{name}.{k}", positive=positive, allow_zero=not positive)
        for k, v in section.items()
    }


def _vol(value: object, field: str) -> VolSurface:
    if isinstance(value, Mapping):
        try:
            expiries = [parse_tenor(t, field=f"{field}.expiries") for t in value["expiries"]]
            moneyness = [parse_number(m, field=f"{field}.moneyness") for m in value["moneyness"]]
            grid = [[parse_number(v, field=f"{field}.vols", positive=True, allow_zero=False)
                     for v in row] for row in value["vols"]]
        except KeyError as exc:
            raise InputError("a smile needs expiries, moneyness and vols",
                             field=f"{field}.{exc.args[0]}") from None
        try:
            return VolSurface(expiries=np.asarray(expiries), moneyness=np.asarray(moneyness),
                              vols=np.asarray(grid, dtype=np.float64))
        except InputError as err:
            raise InputError(err.reason, field=field) from None
    return VolSurface.flat(parse_number(value, field=field, positive=True, allow_zero=False))


def _curve(value: object, field: str) -> Curve:
    if not isinstance(value, Mapping) or len(value) < 2:
        raise InputError("a curve maps at least two tenors to yields", field=field, value=value)
    points = sorted(
        (parse_tenor(t, field=f"{field}.{t}"), parse_number(y, field=f"{field}.{t}"))
        for t, y in value.items()
    )
    return Curve(tenors=np.array([p[0] for p in points]), yields=np.array([p[1] for p in points]))


def read_market(data: Mapping[str, Any], *, source: str = "<memory>") -> MarketSnapshot:
    """Build a snapshot from an already-parsed mapping (see the module docstring)."""
    try:
        unknown = set(data) - _SECTIONS
        if unknown:
            name = sorted(unknown)[0]
            raise InputError("unknown market section", field=name, value=data[name])
        if "as_of" not in data:
            raise InputError("is required", field="as_of")
        vols_raw = data.get("vols") or {}
        curves_raw = data.get("curves") or {}
        if not isinstance(vols_raw, Mapping) or not isinstance(curves_raw, Mapping):
            raise InputError("vols and curves must be mappings", field="vols")
        return MarketSnapshot(
            as_of=parse_date(data["as_of"], field="as_of"),
            base_currency=check_currency(data.get("base_currency", "USD"),
                                         field="base_currency"),
            prices=_numbers(data, "prices", positive=True),
            vols={str(k): _vol(v, f"vols.{k}") for k, v in vols_raw.items()},
            rates=_numbers(data, "rates", positive=False),
            curves={str(k): _curve(v, f"curves.{k}") for k, v in curves_raw.items()},
            fx=_numbers(data, "fx", positive=True),
            dividends=_numbers(data, "dividends", positive=False),
            funding=_numbers(data, "funding", positive=False),
            source=source,
        )
    except InputError as err:
        raise err.located(source) from None


def load_market(path: str | Path) -> MarketSnapshot:
    """Load a market file (``.yaml``, ``.yml`` or ``.json``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", source=str(path))
    data = read_yaml(path, what="market file")
    if not isinstance(data, Mapping):
        raise InputError("the top level must be a mapping", source=str(path))
    return read_market(data, source=str(path))
