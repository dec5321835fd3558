"""Bundled example books (the demo's multi-asset portfolio)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["demo_portfolio_path"]


def demo_portfolio_path() -> Path:
    """Return the path of the bundled demo portfolio (``demo.yaml``)."""
    return Path(str(files("crossmargin.examples") / "demo.yaml"))
