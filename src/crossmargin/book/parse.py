"""Turn one record of a portfolio file into an instrument, strictly.

Every field is checked: unknown names, malformed dates, NaN or non-positive strikes and
unknown instrument types raise :class:`~crossmargin.core.errors.InputError` naming the
field path and the value; nothing is guessed silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from crossmargin.book.instruments import (
    AssetClass,
    Bond,
    CryptoSpot,
    Equity,
    Future,
    FutureOption,
    Instrument,
    Option,
    Perpetual,
    ProductClass,
    RateFuture,
    Right,
    Settlement,
    Style,
    TreasuryFuture,
)
from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_date, parse_number

E = TypeVar("E")

__all__ = ["POSITION_FIELDS", "parse_instrument"]

#: Fields of a position record that are not instrument terms.
POSITION_FIELDS = frozenset({"quantity", "mark", "account", "limit_price", "member"})

_COMMON = {"type", "currency"}
_FIELDS: dict[str, set[str]] = {
    "equity": {"symbol", "product_class"},
    "etf": {"symbol", "product_class"},
    "spot": {"asset", "symbol", "quote"},
    "future": {"symbol", "underlying", "expiry", "multiplier", "settlement", "asset_class"},
    "treasury_future": {
        "symbol", "underlying", "expiry", "multiplier", "notional_coupon", "deliverable_years",
    },
    "rate_future": {"symbol", "underlying", "expiry", "multiplier", "tenor_years"},
    "perpetual": {"symbol", "underlying", "quote", "settlement", "multiplier"},
    "option": {
        "underlying", "right", "strike", "expiry", "multiplier", "style", "settlement", "quote",
    },
    "future_option": {
        "future", "future_expiry", "underlying", "right", "strike", "expiry", "multiplier",
        "style", "future_multiplier",
    },
    "bond": {"symbol", "coupon", "maturity", "curve", "frequency"},
}


def _where(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _text(record: Mapping[str, Any], name: str, path: str, default: str | None = None) -> str:
    value = record.get(name, default)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise InputError("is required", field=_where(path, name))
    if not isinstance(value, str) or not value.strip():
        raise InputError("must be a non-empty text", field=_where(path, name), value=value)
    return value.strip()


def _choice(
    enum: Callable[[str], E], record: Mapping[str, Any], name: str, path: str, default: Any
) -> E:
    value = record.get(name)
    if value is None:
        chosen: E = default
        return chosen
    try:
        return enum(str(value).strip().lower())
    except ValueError:
        raise InputError("not an allowed value", field=_where(path, name), value=value) from None


def _num(record: Mapping[str, Any], name: str, path: str, default: float | None = None,
         *, positive: bool = True) -> float:
    value = record.get(name, default)
    if value is None:
        raise InputError("is required", field=_where(path, name))
    return parse_number(value, field=_where(path, name), positive=positive, allow_zero=False)


def _present(record: Mapping[str, Any]) -> dict[str, Any]:
    """Drop empty cells (None / NaN), as a columnar file leaves them."""
    return {
        k: v
        for k, v in record.items()
        if v is not None and not (isinstance(v, float) and math.isnan(v)) and v != ""
    }


def parse_instrument(record: Mapping[str, Any], *, path: str = "") -> Instrument:
    """Build the instrument a position record describes.

    Parameters
    ----------
    record : mapping
        The record's fields (``type`` plus the terms of that type; the position fields
        ``quantity``, ``mark``, ``account`` are ignored here).
    path : str
        Field path of the record in its file, for error messages
        (e.g. ``accounts[0].positions[3]``).

    Returns
    -------
    Instrument
        The immutable instrument.

    Raises
    ------
    InputError
        Unknown type or field, missing or malformed term.
    """
    rec = _present(record)
    kind = rec.get("type")
    if not isinstance(kind, str) or kind.strip().lower() not in _FIELDS:
        raise InputError(
            f"unknown instrument type (known: {', '.join(sorted(_FIELDS))})",
            field=_where(path, "type"),
            value=kind,
            has_value=True,
        )
    kind = kind.strip().lower()
    unknown = set(rec) - _FIELDS[kind] - _COMMON - POSITION_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise InputError(
            f"unknown field for a {kind}", field=_where(path, name), value=rec[name]
        )
    ref = refdata()
    builder = _BUILDERS[kind]
    return builder(rec, path, ref)


def _currency(rec: Mapping[str, Any], path: str, default: str = "USD") -> str:
    return _text(rec, "currency", path, default).upper()


def _equity(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    symbol = _text(rec, "symbol", path)
    pclass = _choice(ProductClass, rec, "product_class", path, ref.product_class_of(symbol))
    return Equity(symbol=symbol, product_class=pclass, currency=_currency(rec, path))


def _spot(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    asset = _text(rec, "asset", path, rec.get("symbol")).upper()
    quote = _text(rec, "quote", path, rec.get("currency", "USD")).upper()
    return CryptoSpot(asset=asset, currency=quote)


def _future(rec: Mapping[str, Any], path: str, ref: Any) -> Future:
    underlying = _text(rec, "underlying", path)
    aclass = _choice(AssetClass, rec, "asset_class", path, ref.asset_class_of(underlying))
    return Future(
        symbol=_text(rec, "symbol", path),
        underlying=underlying,
        expiry=parse_date(rec.get("expiry"), field=_where(path, "expiry")),
        multiplier=_num(rec, "multiplier", path, 1.0),
        settlement=_choice(Settlement, rec, "settlement", path, Settlement.CASH),
        asset_class=aclass,
        currency=_currency(rec, path),
    )


def _treasury_future(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    return TreasuryFuture(
        symbol=_text(rec, "symbol", path),
        underlying=_text(rec, "underlying", path, "UST"),
        expiry=parse_date(rec.get("expiry"), field=_where(path, "expiry")),
        multiplier=_num(rec, "multiplier", path, 1000.0),
        notional_coupon=_num(rec, "notional_coupon", path, 0.06),
        deliverable_years=_num(rec, "deliverable_years", path, 7.0),
        currency=_currency(rec, path),
    )


def _rate_future(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    return RateFuture(
        symbol=_text(rec, "symbol", path),
        underlying=_text(rec, "underlying", path, "UST"),
        expiry=parse_date(rec.get("expiry"), field=_where(path, "expiry")),
        multiplier=_num(rec, "multiplier", path, 2500.0),
        tenor_years=_num(rec, "tenor_years", path, 0.25),
        currency=_currency(rec, path),
    )


def _perpetual(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    settlement = _choice(Settlement, rec, "settlement", path, Settlement.LINEAR)
    quote = _text(rec, "quote", path, rec.get("currency", "USDT" if settlement is
                                                 Settlement.LINEAR else "USD")).upper()
    return Perpetual(
        underlying=_text(rec, "underlying", path).upper(),
        settlement=settlement,
        multiplier=_num(rec, "multiplier", path, 1.0),
        currency=quote,
    )


def _option(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    underlying = _text(rec, "underlying", path)
    aclass = ref.asset_class_of(underlying)
    crypto = aclass is AssetClass.CRYPTO
    if crypto:
        default_settle = Settlement.INVERSE
    elif underlying in ref.indexes:
        default_settle = Settlement.CASH
    else:
        default_settle = Settlement.PHYSICAL
    settlement = _choice(Settlement, rec, "settlement", path, default_settle)
    if crypto and settlement not in (Settlement.INVERSE, Settlement.LINEAR):
        raise InputError("a crypto option settles inverse or linear",
                         field=_where(path, "settlement"), value=rec.get("settlement"))
    quote = "USDC" if settlement is Settlement.LINEAR else "USD"
    return Option(
        underlying=underlying,
        right=_choice(Right, rec, "right", path, None) or _missing(path, "right"),
        strike=_num(rec, "strike", path),
        expiry=parse_date(rec.get("expiry"), field=_where(path, "expiry")),
        multiplier=_num(rec, "multiplier", path, 1.0 if crypto else 100.0),
        style=_choice(Style, rec, "style", path,
                      Style.EUROPEAN if crypto or settlement is Settlement.CASH
                      else Style.AMERICAN),
        settlement=settlement,
        asset_class=aclass,
        currency=_text(rec, "quote", path, rec.get("currency", quote)).upper(),
    )


def _missing(path: str, name: str) -> Any:
    raise InputError("is required", field=_where(path, name))


def _future_option(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    future_rec = rec.get("future")
    if isinstance(future_rec, Mapping):
        future = _future({"type": "future", **future_rec}, _where(path, "future"), ref)
    else:
        underlying = _text(rec, "underlying", path)
        future = _future(
            {
                "symbol": future_rec or f"{underlying}-{rec.get('future_expiry')}",
                "underlying": underlying,
                "expiry": rec.get("future_expiry"),
                "multiplier": rec.get("future_multiplier", rec.get("multiplier", 1.0)),
                "currency": rec.get("currency", "USD"),
            },
            path,
            ref,
        )
    return FutureOption(
        future=future,
        right=_choice(Right, rec, "right", path, None) or _missing(path, "right"),
        strike=_num(rec, "strike", path),
        expiry=parse_date(rec.get("expiry"), field=_where(path, "expiry")),
        multiplier=_num(rec, "multiplier", path, future.multiplier),
        style=_choice(Style, rec, "style", path, Style.AMERICAN),
        currency=_currency(rec, path),
    )


def _bond(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    coupon = parse_number(rec.get("coupon"), field=_where(path, "coupon"), positive=True)
    return Bond(
        symbol=_text(rec, "symbol", path),
        coupon=coupon,
        maturity=parse_date(rec.get("maturity"), field=_where(path, "maturity")),
        curve=_text(rec, "curve", path, "UST"),
        frequency=int(_num(rec, "frequency", path, 2.0)),
        currency=_currency(rec, path),
    )


_BUILDERS: dict[str, Callable[[Mapping[str, Any], str, Any], Instrument]] = {
    "equity": _equity,
    "etf": _equity,
    "spot": _spot,
    "future": _future,
    "treasury_future": _treasury_future,
    "rate_future": _rate_future,
    "perpetual": _perpetual,
    "option": _option,
    "future_option": _future_option,
    "bond": _bond,
}
