"""A checked view of a parameter file's nested mapping: typed values or a located error.

Every accessor names the dotted field path it reads, so a wrong value in a parameter
file is reported as ``file: field=value: reason`` once the caller locates it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_date, parse_number

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Typed read access to a (sub-)mapping of a parameter file.

    Attributes
    ----------
    data : mapping
        The mapping read.
    path : str
        Its dotted path in the file (empty at the top level).
    """

    data: Mapping[str, Any]
    path: str = ""

    def field(self, key: str) -> str:
        """Return the dotted path of ``key``."""
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str) -> Any:
        """Return the value of ``key``; raise when it is absent."""
        if key not in self.data:
            raise InputError("is required", field=self.field(key))
        return self.data[key]

    def sub(self, key: str) -> Settings:
        """Return the mapping under ``key``."""
        value = self.raw(key)
        if not isinstance(value, Mapping):
            raise InputError("must be a mapping", field=self.field(key), value=value)
        return Settings(data=value, path=self.field(key))

    def items(self, key: str) -> list[Settings]:
        """Return the list of mappings under ``key``."""
        value = self.raw(key)
        if not isinstance(value, list) or not value or not all(
                isinstance(v, Mapping) for v in value):
            raise InputError("must be a non-empty list of mappings", field=self.field(key),
                             value=value)
        return [Settings(data=v, path=f"{self.field(key)}[{i}]") for i, v in enumerate(value)]

    def number(self, key: str, *, low: float = -math.inf, high: float = math.inf) -> float:
        """Return the finite number under ``key``, within ``[low, high]``."""
        value = parse_number(self.raw(key), field=self.field(key))
        if not low <= value <= high:
            raise InputError(f"must be in [{low:g}, {high:g}]", field=self.field(key),
                             value=value)
        return value

    def count(self, key: str) -> int:
        """Return the positive whole number under ``key``."""
        value = self.number(key, low=1)
        if value != int(value):
            raise InputError("must be a whole number", field=self.field(key), value=value)
        return int(value)

    def numbers(self, key: str) -> tuple[float, ...]:
        """Return the non-empty, strictly increasing list of numbers under ``key``."""
        value = self.raw(key)
        if not isinstance(value, list) or not value:
            raise InputError("must be a non-empty list of numbers", field=self.field(key),
                             value=value)
        out = tuple(parse_number(v, field=f"{self.field(key)}[{i}]")
                    for i, v in enumerate(value))
        if any(b <= a for a, b in itertools.pairwise(out)):
            raise InputError("must be strictly increasing", field=self.field(key), value=value)
        return out

    def _two(self, key: str, what: str) -> tuple[float, float]:
        value = self.raw(key)
        if not isinstance(value, list) or len(value) != 2:
            raise InputError(f"must be a pair {what}", field=self.field(key), value=value)
        a, b = (parse_number(v, field=f"{self.field(key)}[{i}]") for i, v in enumerate(value))
        return a, b

    def pair(self, key: str, *, low: float = -math.inf) -> tuple[float, float]:
        """Return ``[a, b]`` under ``key`` with ``low <= a <= b``."""
        a, b = self._two(key, "[low, high]")
        if not low <= a <= b:
            raise InputError(f"must satisfy {low:g} <= low <= high", field=self.field(key),
                             value=[a, b])
        return a, b

    def lognormal(self, key: str) -> tuple[float, float]:
        """Return ``[median, sigma]`` under ``key``: a positive median, a non-negative sigma."""
        median, sigma = self._two(key, "[median, sigma]")
        if median <= 0 or sigma < 0:
            raise InputError("must be [median > 0, sigma >= 0]", field=self.field(key),
                             value=[median, sigma])
        return median, sigma

    def texts(self, key: str) -> tuple[str, ...]:
        """Return the non-empty list of distinct names under ``key``."""
        value = self.raw(key)
        if (not isinstance(value, list) or not value
                or not all(isinstance(v, str) and v.strip() for v in value)
                or len(set(value)) != len(value)):
            raise InputError("must be a non-empty list of distinct names",
                             field=self.field(key), value=value)
        return tuple(v.strip() for v in value)

    def text(self, key: str) -> str:
        """Return the non-empty text under ``key``."""
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            raise InputError("must be a non-empty text", field=self.field(key), value=value)
        return value.strip()

    def day(self, key: str) -> date:
        """Return the date under ``key``."""
        return parse_date(self.raw(key), field=self.field(key))

    def shares(self, key: str) -> dict[str, float]:
        """Return ``{name: weight}`` under ``key``: weights >= 0 with a positive sum."""
        table = self.sub(key)
        out = {str(k): table.number(str(k), low=0.0) for k in table.data}
        if not out or sum(out.values()) <= 0:
            raise InputError("must give at least one positive weight", field=self.field(key),
                             value=dict(table.data))
        return out
