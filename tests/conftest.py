"""Shared fixtures: a small in-memory market and books, seeded hypothesis profile."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pytest
import typer
from hypothesis import HealthCheck, settings

from crossmargin.market.snapshot import Curve, MarketSnapshot, VolSurface

settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci")

AS_OF = date(2018, 6, 29)


def command_app(name: str, command: Callable[..., None]) -> typer.Typer:
    """Return an app holding ``command`` as ``name`` and a second command.

    With two commands, ``name`` is a subcommand, invoked as in the application.
    """
    app = typer.Typer()
    app.command(name=name)(command)

    @app.command()
    def version() -> None:
        """The second command."""

    return app


def make_market(**overrides: object) -> MarketSnapshot:
    """A hand-written market on 2018-06-29 (round numbers, not history)."""
    fields: dict[str, object] = {
        "as_of": AS_OF,
        "prices": {"SPX": 2700.0, "SPY": 270.0, "AAPL": 185.0, "BTC": 6400.0, "ETH": 450.0,
                   "WTI": 74.0},
        "vols": {k: VolSurface.flat(v) for k, v in
                 {"SPX": 0.16, "SPY": 0.16, "AAPL": 0.25, "BTC": 0.70, "ETH": 0.85,
                  "WTI": 0.30}.items()},
        "rates": {"USD": 0.02},
        "curves": {"UST": Curve(tenors=np.array([0.25, 1, 2, 5, 10, 30.0]),
                                yields=np.array([0.019, 0.023, 0.025, 0.027, 0.0285, 0.03]))},
        "fx": {"USDT": 1.0, "USDC": 1.0, "EUR": 1.17},
        "source": "test market",
    }
    fields.update(overrides)
    return MarketSnapshot(**fields)  # type: ignore[arg-type]


@pytest.fixture
def market() -> MarketSnapshot:
    return make_market()
