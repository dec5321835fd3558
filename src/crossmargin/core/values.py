"""Strict parsing of numbers and dates from files: name the field, never guess."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from crossmargin.core.errors import InputError

__all__ = ["check_fields", "parse_date", "parse_number"]


def parse_number(
    value: object, *, field: str, positive: bool = False, allow_zero: bool = True
) -> float:
    """Return ``value`` as a finite float, or raise naming ``field``.

    Parameters
    ----------
    value : object
        A number or a numeric string.
    field : str
        Field path used in the error.
    positive : bool
        Require ``value > 0`` (or ``>= 0`` when ``allow_zero``).
    allow_zero : bool
        With ``positive``, whether zero is accepted.
    """
    if isinstance(value, bool) or value is None:
        raise InputError("must be a number", field=field, value=value, has_value=True)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError("must be a number", field=field, value=value) from None
    except OverflowError:  # an integer beyond float's range
        raise InputError("must be a finite number", field=field, value=value) from None
    if not math.isfinite(number):
        raise InputError("must be a finite number", field=field, value=value)
    if positive and (number < 0 or (number == 0 and not allow_zero)):
        raise InputError(
            "must be positive" if not allow_zero else "must not be negative",
            field=field,
            value=value,
        )
    return number


def check_fields(record: Mapping[Any, Any], allowed: Collection[str], path: str,
                 what: str) -> None:
    """Raise naming the first field of ``record`` (in text order) not in ``allowed``.

    Parameters
    ----------
    record : Mapping
        The fields read (keys of any type).
    allowed : Collection of str
        The fields the record may have.
    path : str
        Field path of the record, prefixed to the field's name (``""`` for the top).
    what : str
        What a field is, for the message (``"market section"``).

    Raises
    ------
    InputError
        ``unknown <what>``, naming the field and its value.
    """
    unknown = set(record) - set(allowed)
    if unknown:
        name = min(unknown, key=str)
        raise InputError(f"unknown {what}", field=f"{path}.{name}" if path else str(name),
                         value=record[name])


#: The one date form a text may take: ISO 8601 calendar date with hyphens. Python's
#: ``date.fromisoformat`` also reads ``20180629``, week dates and ordinal dates, which a
#: portfolio or market file could carry by mistake.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(value: object, *, field: str) -> date:
    """Return ``value`` (a date or an ISO ``YYYY-MM-DD`` string) as a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError("not a date (YYYY-MM-DD)", field=field, value=value, has_value=True)
