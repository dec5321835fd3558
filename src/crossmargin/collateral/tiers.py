"""Size-tiered collateral ratios, applied marginally per value bracket as the venues do."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray
from crossmargin.core.values import parse_number

__all__ = ["CollateralTiers", "tiered_value"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CollateralTiers:
    r"""Collateral ratios by value bracket; a flat haircut is one open-ended bracket.

    Parameters
    ----------
    bounds : FloatArray, shape (n,)
        Upper bound of each bracket in the schedule's currency, increasing; the last is
        ``inf``.
    ratios : FloatArray, shape (n,)
        Fraction of the value inside each bracket that counts, in [0, 1], not increasing
        with size (so the recognised value is concave in the balance).

    Notes
    -----
    With :math:`b_0 = 0` and a positive market value :math:`x`, the recognised value is

    .. math:: V(x) = \sum_k r_k \, \min\big(\max(x - b_{k-1}, 0),\ b_k - b_{k-1}\big).

    Binance: 6,000 BTC at 20,000 USDT are worth 120,000,000; with 100% to 100,000,000 and
    97.5% to 120,000,000, :math:`V = 100{,}000{,}000 + 20{,}000{,}000 \times 0.975 =
    119{,}500{,}000`.

    References
    ----------
    .. [1] Binance, "Binance Cross Margin Collateral Haircuts" (support FAQ), Example 1.
    .. [2] OKX, discount rate tiers of the multi-currency and portfolio margin modes.
    """

    bounds: FloatArray
    ratios: FloatArray

    def __post_init__(self) -> None:
        b = np.asarray(self.bounds, dtype=np.float64)
        r = np.asarray(self.ratios, dtype=np.float64)
        if b.ndim != 1 or b.shape != r.shape or b.size == 0:
            raise InputError("needs one ratio per bracket", field="tiers")
        if not math.isinf(b[-1]) or np.any(~np.isfinite(b[:-1])) or np.any(np.diff(b) <= 0) \
                or b[0] <= 0:
            raise InputError("bracket bounds must be positive and increasing, the last open",
                             field="tiers", value=b.tolist())
        if np.any((r < 0) | (r > 1)) or np.any(np.diff(r) > 0):
            raise InputError("ratios must lie in [0, 1] and not increase with size",
                             field="tiers", value=r.tolist())
        b.setflags(write=False)
        r.setflags(write=False)
        object.__setattr__(self, "bounds", b)
        object.__setattr__(self, "ratios", r)

    @classmethod
    def flat(cls, *, haircut: float) -> CollateralTiers:
        """Return one bracket counting ``1 - haircut`` of any value."""
        return cls(bounds=np.array([np.inf]), ratios=np.array([1.0 - haircut]))

    @classmethod
    def parse(cls, raw: object, *, field: str) -> CollateralTiers:
        """Read ``{haircut: h}`` or ``{tiers: [{up_to, ratio}, ...]}`` (last ``up_to`` null).

        Raises
        ------
        InputError
            Naming the field of a malformed entry.
        """
        if not isinstance(raw, Mapping) or len(raw) != 1 or not {"haircut", "tiers"} & set(raw):
            raise InputError("must be {haircut: h} or {tiers: [...]}", field=field, value=raw)
        if "haircut" in raw:
            h = parse_number(raw["haircut"], field=f"{field}.haircut", positive=True)
            if h > 1:
                raise InputError("a haircut is at most 1", field=f"{field}.haircut", value=h)
            return cls.flat(haircut=h)
        rows = raw["tiers"]
        if not isinstance(rows, Sequence) or isinstance(rows, str) or not rows:
            raise InputError("must be a non-empty list", field=f"{field}.tiers", value=rows)
        bounds, ratios = [], []
        for k, row in enumerate(rows):
            where = f"{field}.tiers[{k}]"
            if not isinstance(row, Mapping) or set(row) != {"up_to", "ratio"}:
                raise InputError("must be {up_to, ratio}", field=where, value=row)
            last = k == len(rows) - 1
            if (row["up_to"] is None) != last:
                raise InputError("only the last bracket is open (up_to: null)",
                                 field=f"{where}.up_to", value=row["up_to"], has_value=True)
            bounds.append(np.inf if last else parse_number(row["up_to"],
                                                           field=f"{where}.up_to"))
            ratios.append(parse_number(row["ratio"], field=f"{where}.ratio"))
        try:
            return cls(bounds=np.asarray(bounds), ratios=np.asarray(ratios))
        except InputError as err:
            raise InputError(err.reason, field=f"{field}.tiers", value=err.value) from None


def tiered_value(*, value: FloatArray, bounds: FloatArray, ratios: FloatArray,
                 add_on: FloatArray) -> FloatArray:
    r"""Return the recognised value of many positive balances, each with its brackets.

    Parameters
    ----------
    value : FloatArray, shape (n,)
        Market values, non-negative, in the reporting currency.
    bounds : FloatArray, shape (n, T)
        Each balance's bracket bounds in the reporting currency, padded with ``inf``.
    ratios : FloatArray, shape (n, T)
        Each balance's ratios, padded with anything (padded brackets are empty).
    add_on : FloatArray, shape (n,)
        Haircut added to every bracket (currency mismatch, wrong-way risk).

    Returns
    -------
    FloatArray, shape (n,)

    Notes
    -----
    :math:`V = \sum_k \max(r_k - a, 0)\,\max(\min(x, b_k) - b_{k-1}, 0)`: add-ons are
    additive haircuts (BCBS-IOSCO Appendix B), floored so that no bracket counts below 0.
    """
    lower = np.concatenate([np.zeros((bounds.shape[0], 1)), bounds[:, :-1]], axis=1)
    width = np.maximum(np.minimum(value[:, None], bounds) - lower, 0.0)
    rate = np.maximum(ratios - add_on[:, None], 0.0)
    out: FloatArray = np.sum(width * rate, axis=1)
    return out
