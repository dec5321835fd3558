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

A section that is absent or null is empty; one that is present must be a mapping. Values
must also be plausible, so that a unit slip or a typo fails here, naming the field, rather
than overflowing in pricing: rates, curve yields, dividend and funding yields within
[-10, 10] (1000 % a year), volatilities within (0, 10], prices and FX values within
[1e-12, 1e15]. Smile axes must be finite and strictly increasing, expiries positive, and
the grid must have one row per expiry and one vol per moneyness point. Only ``.yaml``,
``.yml`` and ``.json`` files are read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from crossmargin.core.errors import InputError
from crossmargin.core.money import check_currency
from crossmargin.core.values import check_fields, parse_date, parse_number
from crossmargin.core.yamlio import read_yaml
from crossmargin.market.snapshot import Curve, MarketSnapshot, VolSurface

__all__ = ["load_market", "parse_tenor", "read_market"]

_SECTIONS = {"as_of", "base_currency", "prices", "vols", "rates", "curves", "fx",
             "dividends", "funding", "description"}
_FORMATS = {".yaml", ".yml", ".json"}
_TENOR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([DWMY])\s*$", re.IGNORECASE)


def parse_tenor(value: object, *, field: str) -> float:
    """Return a tenor in years from ``0.25``, ``"3M"``, ``"10Y"``, ``"2W"`` or ``"30D"``."""
    if isinstance(value, str):
        match = _TENOR.match(value)
        if match:
            n, unit = float(match.group(1)), match.group(2).upper()
            return n * {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1.0}[unit]
    return parse_number(value, field=field, positive=True, allow_zero=False)


# Plausibility bands. A value outside is a unit slip (percent for decimal, cents for
# dollars) or a typo, never a market, and would overflow ``exp`` or lose all precision in
# pricing: reject it at load rather than let it become a NaN or a zero margin.
_RATE_BAND = (-10.0, 10.0)
"""Rates, curve yields, dividend and funding yields, as decimals: at most 1000 % a year."""
_VOL_BAND = (0.0, 10.0)
"""Implied volatilities, as decimals: above 0 and at most 1000 % annualised."""
_PRICE_BAND = (1e-12, 1e15)
"""Prices and FX values in the base currency: from a dust coin to a whole index's notional."""


def _number(value: object, field: str, band: tuple[float, float], *,
            positive: bool = False) -> float:
    """Return ``value`` as a finite float inside the closed ``band``, or raise naming ``field``.

    Parameters
    ----------
    value : object
        The number as read from the file.
    field : str
        Dotted field path, for the error.
    band : tuple of float
        Lowest and highest plausible value (see ``_RATE_BAND``, ``_VOL_BAND``,
        ``_PRICE_BAND``).
    positive : bool
        Whether zero and negative values are refused (as "must be positive").
    """
    number = parse_number(value, field=field, positive=positive, allow_zero=not positive)
    low, high = band
    if not low <= number <= high:
        raise InputError(f"outside the plausible range [{low:g}, {high:g}]", field=field,
                         value=value)
    return number


def _mapping(data: Mapping[str, Any], name: str) -> Mapping[Any, Any]:
    """Return section ``name``: empty when absent or null, else it must be a mapping."""
    section = data.get(name)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise InputError("must be a mapping", field=name, value=section, has_value=True)
    return section


def _numbers(data: Mapping[str, Any], name: str, band: tuple[float, float], *,
             positive: bool) -> dict[str, float]:
    return {str(k): _number(v, f"{name}.{k}", band, positive=positive)
            for k, v in _mapping(data, name).items()}


def _list(items: object, field: str) -> list[Any]:
    """Return ``items``, which must be a list (a smile axis or a row of its grid)."""
    if not isinstance(items, list):
        raise InputError("must be a list", field=field, value=items, has_value=True)
    return items


def _nested(err: InputError, field: str) -> InputError:
    """Return ``err`` with its field under ``field`` (``tenors`` to ``curves.UST.tenors``)."""
    return InputError(err.reason, field=f"{field}.{err.field}" if err.field else field,
                      value=err.value, has_value=err.has_value)


def _vol(value: object, field: str) -> VolSurface:
    if not isinstance(value, Mapping):
        return VolSurface.flat(_number(value, field, _VOL_BAND, positive=True))
    keys = ("expiries", "moneyness", "vols")
    odd = sorted(set(keys).symmetric_difference(value), key=str)
    if odd:
        raise InputError("a smile has exactly the keys expiries, moneyness and vols",
                         field=f"{field}.{odd[0]}")
    expiries = [parse_tenor(t, field=f"{field}.expiries[{i}]")
                for i, t in enumerate(_list(value["expiries"], f"{field}.expiries"))]
    moneyness = [parse_number(m, field=f"{field}.moneyness[{i}]")
                 for i, m in enumerate(_list(value["moneyness"], f"{field}.moneyness"))]
    grid = []
    for i, row in enumerate(_list(value["vols"], f"{field}.vols")):
        cells = _list(row, f"{field}.vols[{i}]")
        if len(cells) != len(moneyness):
            raise InputError(f"needs one vol per moneyness point ({len(moneyness)})",
                             field=f"{field}.vols[{i}]", value=cells)
        grid.append([_number(v, f"{field}.vols[{i}][{j}]", _VOL_BAND, positive=True)
                     for j, v in enumerate(cells)])
    try:
        return VolSurface(expiries=np.asarray(expiries), moneyness=np.asarray(moneyness),
                          vols=np.asarray(grid, dtype=np.float64))
    except InputError as err:
        raise _nested(err, field) from None


def _curve(value: object, field: str) -> Curve:
    if not isinstance(value, Mapping) or len(value) < 2:
        raise InputError("a curve maps at least two tenors to yields", field=field, value=value)
    points = sorted(
        (parse_tenor(t, field=f"{field}.{t}"), _number(y, f"{field}.{t}", _RATE_BAND))
        for t, y in value.items()
    )
    try:
        return Curve(tenors=np.array([p[0] for p in points]),
                     yields=np.array([p[1] for p in points]))
    except InputError as err:
        raise _nested(err, field) from None


def read_market(data: Mapping[str, Any], *, source: str = "<memory>") -> MarketSnapshot:
    """Build a snapshot from an already-parsed mapping (see the module docstring)."""
    try:
        check_fields(data, _SECTIONS, "", "market section")
        if "as_of" not in data:
            raise InputError("is required", field="as_of")
        return MarketSnapshot(
            as_of=parse_date(data["as_of"], field="as_of"),
            base_currency=check_currency(data.get("base_currency", "USD"),
                                         field="base_currency"),
            prices=_numbers(data, "prices", _PRICE_BAND, positive=True),
            vols={str(k): _vol(v, f"vols.{k}") for k, v in _mapping(data, "vols").items()},
            rates=_numbers(data, "rates", _RATE_BAND, positive=False),
            curves={str(k): _curve(v, f"curves.{k}")
                    for k, v in _mapping(data, "curves").items()},
            fx=_numbers(data, "fx", _PRICE_BAND, positive=True),
            dividends=_numbers(data, "dividends", _RATE_BAND, positive=False),
            funding=_numbers(data, "funding", _RATE_BAND, positive=False),
            source=source,
        )
    except InputError as err:
        raise err.located(source) from None


def load_market(path: str | Path) -> MarketSnapshot:
    """Load a market file (``.yaml``, ``.yml`` or ``.json``).

    Raises
    ------
    InputError
        When the file has another extension, is missing, or holds bad data; one line
        naming the file, the field and the value.
    """
    path = Path(path)
    if path.suffix.lower() not in _FORMATS:
        raise InputError("unknown market file format (use .yaml, .yml or .json)",
                         source=str(path))
    if not path.is_file():
        raise InputError("file not found", source=str(path))
    data = read_yaml(path, what="market file")
    if not isinstance(data, Mapping):
        raise InputError("the top level must be a mapping", source=str(path))
    return read_market(data, source=str(path))
