"""Currencies and money amounts; requirements round up, never down."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from crossmargin.core.errors import InputError

__all__ = ["Money", "check_currency", "round_up"]

_CCY = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")


def check_currency(code: object, *, field: str = "currency", source: str | None = None) -> str:
    """Return ``code`` as a validated currency or asset code (``USD``, ``BTC``, ``USDT``).

    Raises
    ------
    InputError
        When the code is not 2 to 10 upper-case letters or digits starting with a letter.
    """
    if not isinstance(code, str) or not _CCY.match(code):
        raise InputError(
            "not a currency code (2-10 upper-case letters/digits)",
            source=source,
            field=field,
            value=code,
        )
    return code


def round_up(amount: float, *, decimals: int = 2) -> float:
    """Round a requirement up (towards +infinity) to ``decimals`` places.

    Notes
    -----
    Margin requirements round conservatively: ``ceil(x * 10**d - eps) / 10**d``, where a
    relative tolerance of 1e-12 keeps an amount that is already on the grid unchanged.
    """
    if not math.isfinite(amount):
        raise InputError("amount is not finite", field="amount", value=amount)
    scale = 10.0**decimals
    scaled = amount * scale
    return math.ceil(scaled - abs(scaled) * 1e-12) / scale


@dataclass(frozen=True, slots=True, kw_only=True)
class Money:
    """An amount that always carries its currency.

    Adding or comparing two amounts in different currencies raises: conversion is
    always explicit, through an FX rate from the market snapshot.
    """

    amount: float
    currency: str

    def __post_init__(self) -> None:
        check_currency(self.currency)
        if not math.isfinite(self.amount):
            raise InputError("amount is not finite", field="amount", value=self.amount)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InputError(
                f"cannot mix {self.currency} and {other.currency} without an FX rate",
                field="currency",
                value=other.currency,
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def converted(self, *, rate: float, currency: str) -> Money:
        """Return the amount in ``currency`` at ``rate`` units of it per unit of ours."""
        return Money(amount=self.amount * rate, currency=currency)

    def rounded_up(self, *, decimals: int = 2) -> Money:
        """Return the amount rounded up (conservatively) to ``decimals`` places."""
        return Money(amount=round_up(self.amount, decimals=decimals), currency=self.currency)
