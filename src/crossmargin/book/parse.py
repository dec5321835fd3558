"""Turn one record of a portfolio file into an instrument, strictly.

Every field is checked: unknown names, malformed dates, NaN or non-positive strikes and
unknown instrument types raise :class:`~crossmargin.core.errors.InputError` naming the
field path and the value; nothing is guessed silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from crossmargin.book.instruments import (
    BOND_FREQUENCIES,
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
from crossmargin.core.values import check_fields, parse_date, parse_number

E = TypeVar("E")

__all__ = ["MAX_YEARS", "POSITION_FIELDS", "is_null", "parse_instrument"]

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

#: Longest rate tenor and deliverable bond (years): the Treasury curve ends at 30 years,
#: so 50 leaves room for a long bond while keeping pricing finite and small.
MAX_YEARS = 50.0


def _where(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _text(record: Mapping[str, Any], name: str, path: str, default: str | None = None) -> str:
    value = record.get(name, default)
    if is_null(value):
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
         *, high: float = math.inf) -> float:
    """Return a positive term, at most ``high``."""
    value = record.get(name, default)
    if value is None:
        raise InputError("is required", field=_where(path, name))
    number = parse_number(value, field=_where(path, name), positive=True, allow_zero=False)
    if number > high:
        raise InputError(f"must be at most {high:g}", field=_where(path, name), value=value)
    return number


def is_null(value: object) -> bool:
    """Return whether ``value`` is a null (``None``) or a float NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _checked(record: Mapping[Any, Any], path: str) -> str:
    """Return the record's instrument type once its fields and their values are allowed.

    A term given as null or NaN is an error (a term left out takes its default).
    """
    kind = record.get("type")
    if not isinstance(kind, str) or kind.strip().lower() not in _FIELDS:
        raise InputError(
            f"unknown instrument type (known: {', '.join(sorted(_FIELDS))})",
            field=_where(path, "type"),
            value=kind,
            has_value=True,
        )
    kind = kind.strip().lower()
    check_fields(record, _FIELDS[kind] | _COMMON | POSITION_FIELDS, path, f"field for a {kind}")
    for name, value in record.items():
        if name not in POSITION_FIELDS and is_null(value):
            raise InputError("must not be null or NaN (leave it out to take its default)",
                             field=_where(path, name), value=value, has_value=True)
    return kind


def parse_instrument(record: Mapping[str, Any], *, path: str = "") -> Instrument:
    """Build the instrument a position record describes.

    Parameters
    ----------
    record : mapping
        The record's fields (``type`` plus the terms of that type; the position fields
        ``quantity``, ``mark``, ``account`` are ignored here). A term left out takes its
        default; a term given as null or NaN is an error (a columnar reader leaves its
        empty cells out).
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
        Unknown type or field, missing, null or malformed term, a term out of its range
        (``tenor_years`` and ``deliverable_years`` at most :data:`MAX_YEARS`, a bond's
        ``frequency`` 1, 2, 4 or 12), inverse or linear settlement or a quote currency
        other than USD, a stablecoin or a coin on a contract whose underlying is not a coin.
    """
    kind = _checked(record, path)
    return _BUILDERS[kind](record, path, refdata())


def _currency(rec: Mapping[str, Any], path: str, default: str = "USD") -> str:
    return _text(rec, "currency", path, default).upper()


def _quote(rec: Mapping[str, Any], path: str, ref: Any, underlying: str, default: str,
           *, crypto: bool) -> str:
    """Return the currency a contract is quoted in: its ``quote`` (or ``currency``).

    A contract on a coin is quoted in USD, a stablecoin or another coin; the market
    values any other code as a price, not a currency.
    """
    name = "quote" if "quote" in rec else "currency"
    code = _text(rec, name, path, default).upper()
    if name == "quote" and "currency" in rec and _currency(rec, path) != code:
        raise InputError(f"conflicts with quote {code}", field=_where(path, "currency"),
                         value=rec["currency"])
    if crypto and (code == underlying or code not in {"USD"} | ref.stablecoins | ref.coins):
        raise InputError(f"a contract on {underlying} is quoted in USD, a stablecoin or "
                         "another coin", field=_where(path, name), value=rec.get(name, code))
    return code


def _settlement(rec: Mapping[str, Any], path: str, default: Settlement, *, crypto: bool,
                coin_only: Collection[Settlement]) -> Settlement:
    """Return the settlement; those in ``coin_only`` need a crypto underlying."""
    settlement = _choice(Settlement, rec, "settlement", path, default)
    if settlement in coin_only and not crypto:
        raise InputError(f"{settlement.value} settlement is for crypto underlyings only",
                         field=_where(path, "settlement"), value=rec.get("settlement"))
    return settlement


def _equity(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    symbol = _text(rec, "symbol", path)
    pclass = _choice(ProductClass, rec, "product_class", path, ref.product_class_of(symbol))
    return Equity(symbol=symbol, product_class=pclass, currency=_currency(rec, path))


def _spot(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    asset = _text(rec, "asset", path, rec.get("symbol")).upper()
    return CryptoSpot(asset=asset, currency=_quote(rec, path, ref, asset, "USD", crypto=True))


def _future(rec: Mapping[str, Any], path: str, ref: Any) -> Future:
    underlying = _text(rec, "underlying", path)
    known = ref.asset_class_of(underlying)
    aclass = _choice(AssetClass, rec, "asset_class", path, known)
    crypto = aclass is AssetClass.CRYPTO
    if crypto != (known is AssetClass.CRYPTO) and ref.knows(underlying):
        # the class may name a symbol the reference data lacks, not recast a known one
        kind = "a coin" if known is AssetClass.CRYPTO else "no coin"
        raise InputError(f"{underlying} is {kind} (its class is {known.value})",
                         field=_where(path, "asset_class"), value=rec.get("asset_class"))
    return Future(
        symbol=_text(rec, "symbol", path),
        underlying=underlying,
        expiry=parse_date(rec.get("expiry"), field=_where(path, "expiry")),
        multiplier=_num(rec, "multiplier", path, 1.0),
        settlement=_settlement(rec, path, Settlement.CASH, crypto=crypto,
                               coin_only={Settlement.INVERSE}),
        asset_class=aclass,
        currency=_quote(rec, path, ref, underlying, "USD", crypto=crypto),
    )


def _treasury_future(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    return TreasuryFuture(
        symbol=_text(rec, "symbol", path),
        underlying=_text(rec, "underlying", path, "UST"),
        expiry=parse_date(rec.get("expiry"), field=_where(path, "expiry")),
        multiplier=_num(rec, "multiplier", path, 1000.0),
        notional_coupon=_num(rec, "notional_coupon", path, 0.06),
        deliverable_years=_num(rec, "deliverable_years", path, 7.0, high=MAX_YEARS),
        currency=_currency(rec, path),
    )


def _rate_future(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    return RateFuture(
        symbol=_text(rec, "symbol", path),
        underlying=_text(rec, "underlying", path, "UST"),
        expiry=parse_date(rec.get("expiry"), field=_where(path, "expiry")),
        multiplier=_num(rec, "multiplier", path, 2500.0),
        tenor_years=_num(rec, "tenor_years", path, 0.25, high=MAX_YEARS),
        currency=_currency(rec, path),
    )


def _perpetual(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    settlement = _choice(Settlement, rec, "settlement", path, Settlement.LINEAR)
    underlying = _text(rec, "underlying", path).upper()
    default = "USDT" if settlement is Settlement.LINEAR else "USD"
    return Perpetual(
        underlying=underlying,
        settlement=settlement,
        multiplier=_num(rec, "multiplier", path, 1.0),
        currency=_quote(rec, path, ref, underlying, default, crypto=True),
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
    settlement = _settlement(rec, path, default_settle, crypto=crypto,
                             coin_only={Settlement.INVERSE, Settlement.LINEAR})
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
        currency=_quote(rec, path, ref, underlying, quote, crypto=crypto),
    )


def _missing(path: str, name: str) -> Any:
    raise InputError("is required", field=_where(path, name))


def _future_option(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    future_rec = rec.get("future")
    if isinstance(future_rec, Mapping):
        where = _where(path, "future")
        nested = {"type": "future", **future_rec}
        if _checked(nested, where) != "future":
            raise InputError("must be a future", field=_where(where, "type"),
                             value=nested["type"])
        future = _future(nested, where, ref)
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
        currency=_quote(rec, path, ref, future.underlying, "USD",
                        crypto=future.asset_class is AssetClass.CRYPTO),
    )


def _bond(rec: Mapping[str, Any], path: str, ref: Any) -> Instrument:
    coupon = parse_number(rec.get("coupon"), field=_where(path, "coupon"), positive=True)
    frequency = _num(rec, "frequency", path, 2.0)
    if frequency not in BOND_FREQUENCIES:
        raise InputError(f"must be one of {', '.join(map(str, BOND_FREQUENCIES))} (payments a "
                         "year)", field=_where(path, "frequency"), value=rec.get("frequency"))
    return Bond(
        symbol=_text(rec, "symbol", path),
        coupon=coupon,
        maturity=parse_date(rec.get("maturity"), field=_where(path, "maturity")),
        curve=_text(rec, "curve", path, "UST"),
        frequency=int(frequency),
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
