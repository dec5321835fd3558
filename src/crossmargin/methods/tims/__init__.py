"""FINRA Rule 4210(g) / OCC TIMS portfolio margin: class groups, product groups, offsets."""

from crossmargin.methods.tims.method import TheoreticalIntermarketMargin

__all__ = ["TheoreticalIntermarketMargin"]
