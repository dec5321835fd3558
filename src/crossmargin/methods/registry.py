"""The methods the engine knows, by name.

Each entry names the class that implements the method, imported only when the method is
asked for, so that one method's heavy dependencies never load for another.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from crossmargin.book.book import Book
from crossmargin.core.errors import InputError
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import MarginMethod

__all__ = ["METHODS", "get_method", "method_for"]

#: Method name -> ``module:Class``; the class builds itself with ``from_params(**options)``.
METHODS: dict[str, str] = {
    "grid": "crossmargin.methods.grid.method:ScenarioGrid",
    "exempt": "crossmargin.methods.exempt.method:ExemptSecurities",
    "span": "crossmargin.methods.span.method:StandardPortfolioAnalysisOfRisk",
    "strategy": "crossmargin.methods.strategy.method:StrategyBased",
    "fhs": "crossmargin.methods.fhs.method:FilteredHistoricalSimulation",
    "tims": "crossmargin.methods.tims.method:TheoreticalIntermarketMargin",
    "crypto-pm": "crossmargin.methods.crypto_pm.method:CryptoPortfolioMargin",
    "crypto-standard": "crossmargin.methods.crypto_standard.method:DeribitStandardMargin",
    "weights": "crossmargin.methods.weights.method:LinearWeightMargin",
}


def _class(name: str) -> Any:
    try:
        target = METHODS[name]
    except KeyError:
        raise InputError(f"unknown method (known: {', '.join(sorted(METHODS))})",
                         field="method", value=name) from None
    module, _, cls = target.partition(":")
    return getattr(import_module(module), cls)


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
    method: MarginMethod = _class(name).from_params(**options)
    return method


def method_for(name: str, book: Book, market: MarketSnapshot, **options: Any
               ) -> MarginMethod:
    """Return method ``name`` ready for ``book`` on ``market``.

    A method whose inputs can be derived from the book and the market (SPAN publishes
    its risk parameters when no file is given) builds itself with ``for_book``; the
    others are :func:`get_method`.
    """
    cls = _class(name)
    if hasattr(cls, "for_book"):
        method: MarginMethod = cls.for_book(book, market, **options)
        return method
    return get_method(name, **options)
