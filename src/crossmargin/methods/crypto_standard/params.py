"""The per-underlying rates of crypto standard margin, read strictly from a parameter file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_number

__all__ = ["FuturesRates", "OptionRates", "exact_keys", "number_fields", "per_underlying"]

T = TypeVar("T")


def _path(field: str, name: str) -> str:
    return f"{field}.{name}" if field else name


def exact_keys(raw: object, *, field: str, names: tuple[str, ...]) -> dict[str, object]:
    """Return the entries ``names`` of the mapping ``raw``, which must hold exactly them.

    Raises
    ------
    InputError
        ``raw`` is not a mapping, lacks a name or has an unknown one; the error names
        ``field.<name>`` (``field`` empty for the top of ``parameters``).
    """
    if not isinstance(raw, Mapping):
        raise InputError(f"must be a mapping of {', '.join(names)}", field=field or None)
    unknown = sorted(set(map(str, raw)) - set(names))
    if unknown:
        raise InputError("unknown parameter", field=_path(field, unknown[0]))
    missing = [n for n in names if n not in raw]
    if missing:
        raise InputError("is required", field=_path(field, missing[0]))
    return {n: raw[n] for n in names}


def number_fields(raw: object, *, field: str, names: tuple[str, ...]) -> dict[str, float]:
    """Return exactly the non-negative numbers ``names`` of the mapping ``raw``.

    Raises
    ------
    InputError
        As `exact_keys`, or when a value is not a non-negative finite number.
    """
    return {n: parse_number(v, field=_path(field, n), positive=True)
            for n, v in exact_keys(raw, field=field, names=names).items()}


def per_underlying(raw: object, *, field: str,
                   build: Callable[[object, str], T]) -> dict[str, T]:
    """Return ``{underlying: build(entry, field.underlying)}`` for a mapping of entries."""
    if not isinstance(raw, Mapping) or not raw:
        raise InputError("must be a non-empty mapping by underlying", field=field)
    return {str(k): build(v, f"{field}.{k}") for k, v in raw.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class FuturesRates:
    """Size-scaled margin rates of the futures and perpetuals on one coin.

    Attributes
    ----------
    initial, maintenance : float
        Rates of an infinitesimal position (0.02 and 0.01 for 2% and 1%).
    increase : float
        Rate added per coin of position size, for both (0.00005 for 0.005% per BTC).
    """

    initial: float
    maintenance: float
    increase: float

    @classmethod
    def parse(cls, raw: object, field: str) -> FuturesRates:
        """Read ``{initial, maintenance, increase}``; initial must not be below maintenance."""
        v = number_fields(raw, field=field, names=("initial", "maintenance", "increase"))
        if v["initial"] < v["maintenance"]:
            raise InputError("initial rate below maintenance rate", field=f"{field}.initial",
                             value=v["initial"])
        return cls(**v)


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionRates:
    """The three numbers of the short-option formula on one coin.

    Attributes
    ----------
    initial_rate : float
        :math:`a`, the initial rate before the out-of-the-money credit (0.15).
    initial_floor : float
        :math:`b`, the least initial rate (0.10).
    maintenance_rate : float
        :math:`c`, the maintenance rate (0.075).
    """

    initial_rate: float
    initial_floor: float
    maintenance_rate: float

    @classmethod
    def parse(cls, raw: object, field: str) -> OptionRates:
        """Read the rates; requires ``initial_rate >= initial_floor >= maintenance_rate``.

        The ordering keeps every short option's initial margin at or above its
        maintenance margin.
        """
        v = number_fields(raw, field=field,
                          names=("initial_rate", "initial_floor", "maintenance_rate"))
        if not v["initial_rate"] >= v["initial_floor"] >= v["maintenance_rate"]:
            raise InputError("needs initial_rate >= initial_floor >= maintenance_rate",
                             field=field, value=v)
        return cls(**v)
