"""What an arrangement produces for every account of a book."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossmargin.core.money import round_up
from crossmargin.core.typing import FloatArray

__all__ = ["ArrangementResult"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ArrangementResult:
    """The margin and collateral of every account under one arrangement.

    Attributes
    ----------
    arrangement : str
        ``silo``, ``conservative`` or ``unified``.
    currency : str
        Currency of every amount (the book's reporting currency).
    account_ids : tuple of str, shape (n_accounts,)
    initial_margin, maintenance_margin : FloatArray, shape (n_accounts,)
        Requirements, rounded up to the cent.
    collateral_value : FloatArray, shape (n_accounts,)
        Collateral that counts against the requirement, after haircuts (and, for silos,
        where the allocation could post it), rounded down to the cent.
    components : mapping of str to FloatArray, shape (n_accounts,)
        Named parts of the figure (per silo, per model, offsets, add-ons).
    detail : callable, optional
        ``detail(account_row)``: the arrangement's own explanation of one account.
    notes : tuple of str
        Caveats (stale data, positions a method left out).
    """

    arrangement: str
    currency: str
    account_ids: tuple[str, ...]
    initial_margin: FloatArray
    maintenance_margin: FloatArray
    collateral_value: FloatArray
    components: Mapping[str, FloatArray] = field(default_factory=dict)
    detail: Callable[[int], Mapping[str, Any]] | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.account_ids)
        for name in ("initial_margin", "maintenance_margin", "collateral_value"):
            values = getattr(self, name)
            if values.shape != (n,) or not np.all(np.isfinite(values)):
                raise ValueError(f"{name} must hold one finite value per account")
        if np.any(self.initial_margin < 0) or np.any(self.maintenance_margin < 0):
            raise ValueError("requirements must be non-negative")

    @property
    def excess(self) -> FloatArray:
        """Collateral value less initial margin (negative: a shortfall)."""
        out: FloatArray = self.collateral_value - self.initial_margin
        return out

    def account_json(self, index: int, *, silo_initial: float | None = None
                     ) -> dict[str, Any]:
        """Return one account's JSON object for ``crossmargin compare``."""
        im = float(self.initial_margin[index])
        out: dict[str, Any] = {
            "arrangement": self.arrangement,
            "initial_margin": round_up(im),
            "maintenance_margin": round_up(float(self.maintenance_margin[index])),
            "collateral_value": round(float(self.collateral_value[index]), 2),
            "excess": round(float(self.excess[index]), 2),
            "capital_freed_vs_silo": None if silo_initial is None
            else round(silo_initial - im, 2),
            "components": {k: round(float(v[index]), 2) for k, v in self.components.items()},
        }
        if self.detail is not None:
            out["detail"] = dict(self.detail(index))
        return out
