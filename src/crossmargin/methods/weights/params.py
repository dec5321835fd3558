"""The weights of linear-weight cross margin by asset and market, read strictly.

Every weight is given at three thresholds, ``initial``, ``liquidation_end`` and
``maintenance``, and must be ordered so that initial health never exceeds
liquidation-end health, which never exceeds maintenance health.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crossmargin.core.errors import InputError
from crossmargin.methods.crypto_standard.params import exact_keys, number_fields

__all__ = ["THRESHOLDS", "AssetWeights", "ByThreshold", "PerpWeights", "SizeAdjustment"]

#: The three thresholds, from the most to the least demanding.
THRESHOLDS: tuple[str, str, str] = ("initial", "liquidation_end", "maintenance")


@dataclass(frozen=True, slots=True, kw_only=True)
class ByThreshold:
    """One number per threshold."""

    initial: float
    liquidation_end: float
    maintenance: float

    @classmethod
    def parse(cls, raw: object, field: str, *, order: Literal["rising", "falling"],
              low: float = 0.0, high: float = float("inf")) -> ByThreshold:
        """Read the three values, each in ``[low, high]``, ordered from initial on.

        ``rising`` (asset weights) requires initial <= liquidation_end <= maintenance;
        ``falling`` (liability weights, margin fractions) the reverse.
        """
        v = number_fields(raw, field=field, names=THRESHOLDS)
        for name, x in v.items():
            if not low <= x <= high:
                raise InputError(f"must lie in [{low:g}, {high:g}]", field=f"{field}.{name}",
                                 value=x)
        seq = [v[t] for t in THRESHOLDS]
        ok = seq == sorted(seq) if order == "rising" else seq == sorted(seq, reverse=True)
        if not ok:
            raise InputError(f"must be {order} from initial to maintenance", field=field,
                             value=v)
        return cls(**v)

    def at(self, threshold: str) -> float:
        """Return the value at ``threshold`` (a name of `THRESHOLDS`)."""
        value: float = getattr(self, threshold)
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetWeights:
    """Weights of one collateral asset (a coin, a stablecoin, cash).

    Attributes
    ----------
    asset_weight : ByThreshold
        Share of a positive balance's value that counts (at most 1).
    liability_weight : ByThreshold
        Multiple of a negative balance's value that counts against (at least 1).
    imf : float
        Initial margin factor of the size adjustment (balance in units of the asset).
    """

    asset_weight: ByThreshold
    liability_weight: ByThreshold
    imf: float

    @classmethod
    def parse(cls, raw: object, field: str) -> AssetWeights:
        """Read ``{asset_weight, liability_weight, imf}``."""
        e = exact_keys(raw, field=field, names=("asset_weight", "liability_weight", "imf"))
        return cls(
            asset_weight=ByThreshold.parse(e["asset_weight"], f"{field}.asset_weight",
                                           order="rising", high=1.0),
            liability_weight=ByThreshold.parse(e["liability_weight"],
                                               f"{field}.liability_weight", order="falling",
                                               low=1.0),
            imf=number_fields({"imf": e["imf"]}, field=field, names=("imf",))["imf"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PerpWeights:
    """Weights of one linear perpetual market.

    Attributes
    ----------
    margin_fraction : ByThreshold
        Share of the notional held against a position of either sign.
    imf : float
        Initial margin factor of the size premium (size in coins).
    pnl_weight : ByThreshold
        Share of unsettled profit that counts (at most 1); losses count in full.
    pnl_imf : float
        Initial margin factor of the profit's size discount (profit in the settlement
        currency).
    """

    margin_fraction: ByThreshold
    imf: float
    pnl_weight: ByThreshold
    pnl_imf: float

    @classmethod
    def parse(cls, raw: object, field: str) -> PerpWeights:
        """Read ``{margin_fraction, imf, pnl_weight, pnl_imf}``."""
        e = exact_keys(raw, field=field,
                       names=("margin_fraction", "imf", "pnl_weight", "pnl_imf"))
        factors = number_fields({"imf": e["imf"], "pnl_imf": e["pnl_imf"]}, field=field,
                                names=("imf", "pnl_imf"))
        return cls(
            margin_fraction=ByThreshold.parse(e["margin_fraction"], f"{field}.margin_fraction",
                                              order="falling"),
            imf=factors["imf"],
            pnl_weight=ByThreshold.parse(e["pnl_weight"], f"{field}.pnl_weight",
                                         order="rising", high=1.0),
            pnl_imf=factors["pnl_imf"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SizeAdjustment:
    """The constants of the size premium and discount.

    Attributes
    ----------
    liability_factor : float
        Share of a liability weight kept under the premium (0.8).
    asset_numerator : float
        Numerator of the asset-weight discount (1.1).
    """

    liability_factor: float
    asset_numerator: float

    @classmethod
    def parse(cls, raw: object, field: str) -> SizeAdjustment:
        """Read ``{liability_factor, asset_numerator}``."""
        return cls(**number_fields(raw, field=field,
                                   names=("liability_factor", "asset_numerator")))
