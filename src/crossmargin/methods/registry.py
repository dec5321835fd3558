"""The methods the engine knows, by name."""

from __future__ import annotations

from collections.abc import Callable

from crossmargin.core.errors import InputError
from crossmargin.methods.base import MarginMethod
from crossmargin.methods.grid.method import ScenarioGrid

__all__ = ["METHODS", "get_method"]

#: Method name -> factory building it from its latest bundled parameter set.
METHODS: dict[str, Callable[[], MarginMethod]] = {
    "grid": lambda: ScenarioGrid.from_params(),
}


def get_method(name: str) -> MarginMethod:
    """Return method ``name`` with its latest bundled parameters."""
    try:
        factory = METHODS[name]
    except KeyError:
        raise InputError(f"unknown method (known: {', '.join(sorted(METHODS))})",
                         field="method", value=name) from None
    return factory()
