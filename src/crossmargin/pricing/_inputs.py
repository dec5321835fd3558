"""Input coercion and checks shared by the pricing formulas (package-private)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from crossmargin.core.errors import InputError
from crossmargin.core.typing import BoolArray, FloatArray

__all__ = ["as_bool", "as_float", "check_nonnegative", "check_positive"]


def as_float(value: npt.ArrayLike, *, field: str) -> FloatArray:
    """Return ``value`` as a float64 array, or raise `InputError` naming ``field``."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError("not a number or an array of numbers", field=field, value=value) from exc


def as_bool(value: npt.ArrayLike, *, field: str) -> BoolArray:
    """Return ``value`` as a bool array, or raise `InputError` naming ``field``."""
    try:
        return np.asarray(value, dtype=np.bool_)
    except (TypeError, ValueError) as exc:
        raise InputError("not a bool or an array of bools", field=field, value=value) from exc


def _first(values: FloatArray, bad: BoolArray) -> float:
    return float(np.asarray(values)[bad].flat[0])


def check_nonnegative(values: FloatArray, *, field: str) -> None:
    """Raise `InputError` when any element of ``values`` is negative (NaN passes)."""
    bad = values < 0.0
    if np.any(bad):
        raise InputError("must be non-negative", field=field, value=_first(values, bad))


def check_positive(values: FloatArray, *, field: str) -> None:
    """Raise `InputError` when any element of ``values`` is zero or negative (NaN passes)."""
    bad = values <= 0.0
    if np.any(bad):
        raise InputError("must be positive", field=field, value=_first(values, bad))
