"""Collateral valued in the reporting currency, after eligibility and haircuts.

Haircut schedules and size tiers, the currency-mismatch add-on, concentration limits and
wrong-way risk.
"""

from crossmargin.collateral.assets import AssetKind, CollateralAsset, classify
from crossmargin.collateral.haircuts import CollateralValuation, value_collateral
from crossmargin.collateral.schedule import HaircutSchedule, load_schedule
from crossmargin.collateral.valuation import collateral_market_value

__all__ = [
    "AssetKind",
    "CollateralAsset",
    "CollateralValuation",
    "HaircutSchedule",
    "classify",
    "collateral_market_value",
    "load_schedule",
    "value_collateral",
]
