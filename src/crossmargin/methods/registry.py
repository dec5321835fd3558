"""The methods the engine knows, by name.

Each entry names the class that implements the method, imported only when the method is
asked for, so that one method's heavy dependencies never load for another.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from crossmargin.core.errors import InputError
from crossmargin.methods.base import MarginMethod

__all__ = ["METHODS", "get_method"]

#: Method name -> ``module:Class``; the class builds itself with ``from_params(**options)``.
METHODS: dict[str, str] = {
    "grid": "crossmargin.methods.grid.method:ScenarioGrid",
    "exempt": "crossmargin.methods.exempt.method:ExemptSecurities",
    "strategy": "crossmargin.methods.strategy.method:StrategyBased",
    "fhs": "crossmargin.methods.fhs.method:FilteredHistoricalSimulation",
    "crypto-standard": "crossmargin.methods.crypto_standard.method:DeribitStandardMargin",
    "weights": "crossmargin.methods.weights.method:LinearWeightMargin",
    "tims": "crossmargin.methods.tims.method:TheoreticalIntermarketMargin",
    "crypto-pm": "crossmargin.methods.crypto_pm.method:CryptoPortfolioMargin",
}


def get_method(name: str, **options: Any) -> MarginMethod:
    """Return method ``name`` with its latest bundled parameters.

    Parameters
    ----------
    name : str
        A key of ``METHODS``.
    **options
        Method-specific inputs passed to the class's ``from_params`` (for example the
        SPAN risk-parameter file).
    """
    try:
        target = METHODS[name]
    except KeyError:
        raise InputError(f"unknown method (known: {', '.join(sorted(METHODS))})",
                         field="method", value=name) from None
    module, _, cls = target.partition(":")
    method: MarginMethod = getattr(import_module(module), cls).from_params(**options)
    return method
