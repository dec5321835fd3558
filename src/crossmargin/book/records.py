"""Write an instrument as the record a portfolio file gives: the inverse of ``parse``.

Every term is written explicitly (no default is left to the reader), and a record is
accepted only if :func:`~crossmargin.book.parse.parse_instrument` reads it back into an
equal instrument: a file never says something other than the book it was written from.
"""

from __future__ import annotations

from typing import Any

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
    TreasuryFuture,
)
from crossmargin.book.parse import parse_instrument
from crossmargin.core.errors import InputError

__all__ = ["instrument_record"]


def _terms(inst: Instrument) -> dict[str, Any]:
    if isinstance(inst, Equity):
        return {"type": "equity", "symbol": inst.symbol,
                "product_class": inst.product_class.value}
    if isinstance(inst, CryptoSpot):
        return {"type": "spot", "asset": inst.asset}
    if isinstance(inst, TreasuryFuture):
        return {"type": "treasury_future", "symbol": inst.symbol,
                "underlying": inst.underlying, "expiry": inst.expiry.isoformat(),
                "multiplier": inst.multiplier, "notional_coupon": inst.notional_coupon,
                "deliverable_years": inst.deliverable_years}
    if isinstance(inst, RateFuture):
        return {"type": "rate_future", "symbol": inst.symbol, "underlying": inst.underlying,
                "expiry": inst.expiry.isoformat(), "multiplier": inst.multiplier,
                "tenor_years": inst.tenor_years}
    if isinstance(inst, Future):
        return {"type": "future", "symbol": inst.symbol, "underlying": inst.underlying,
                "expiry": inst.expiry.isoformat(), "multiplier": inst.multiplier,
                "settlement": inst.settlement.value, "asset_class": inst.asset_class.value}
    if isinstance(inst, Perpetual):
        return {"type": "perpetual", "underlying": inst.underlying,
                "settlement": inst.settlement.value, "multiplier": inst.multiplier}
    if isinstance(inst, Option):
        return {"type": "option", "underlying": inst.underlying, "right": inst.right.value,
                "strike": inst.strike, "expiry": inst.expiry.isoformat(),
                "multiplier": inst.multiplier, "style": inst.style.value,
                "settlement": inst.settlement.value}
    if isinstance(inst, FutureOption):
        return {"type": "future_option", "underlying": inst.future.underlying,
                "future": inst.future.symbol, "future_expiry": inst.future.expiry.isoformat(),
                "future_multiplier": inst.future.multiplier, "right": inst.right.value,
                "strike": inst.strike, "expiry": inst.expiry.isoformat(),
                "multiplier": inst.multiplier, "style": inst.style.value}
    if isinstance(inst, Bond):
        return {"type": "bond", "symbol": inst.symbol, "coupon": inst.coupon,
                "maturity": inst.maturity.isoformat(), "curve": inst.curve,
                "frequency": inst.frequency}
    raise InputError("cannot be written to a portfolio file", field="type",
                     value=type(inst).__name__)


def instrument_record(instrument: Instrument) -> dict[str, Any]:
    """Return the columnar record (``type`` and terms) that reads back as ``instrument``.

    Raises
    ------
    InputError
        An instrument whose terms a portfolio record cannot express (an option on a
        future with non-default future terms, an asset class other than the reference
        data's), named by its label.
    """
    record = {**_terms(instrument), "currency": instrument.currency}
    if parse_instrument(record) != instrument:
        raise InputError("has terms a portfolio record cannot express", field="instrument",
                         value=instrument.label)
    return record
