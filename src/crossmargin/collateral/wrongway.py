"""Wrong-way risk: collateral whose value falls together with the exposure it secures.

BTC pledged against a long BTC perpetual or a short BTC put, a stock pledged against a
long position in the same stock or its calls, a Treasury note pledged against a long
Treasury future: when the market moves against the position, the collateral falls too.
The sign of the exposure's sensitivity to the collateral's own risk factor decides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossmargin.book.book import Book
from crossmargin.collateral.assets import AssetKind, CollateralAsset, Holdings
from crossmargin.collateral.schedule import WrongWayRule
from crossmargin.core.typing import BoolArray, FloatArray
from crossmargin.kernels import MaxLoss, reduce_segments
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet

__all__ = ["WrongWay", "wrong_way"]

#: An exposure loss below half a cent is rounding residue of offsetting positions.
MATERIAL = 0.005

#: Assets whose value moves with a market risk factor (cash and stablecoins do not).
_RISKY = frozenset({AssetKind.COIN, AssetKind.EQUITY, AssetKind.GOLD, AssetKind.BOND,
                    AssetKind.COMMODITY})


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class WrongWay:
    """Wrong-way flags of collateral holdings.

    Attributes
    ----------
    flag : BoolArray, shape (n_holdings,)
        True where the exposure loses when the holding loses value.
    exposure_loss : FloatArray, shape (n_holdings,)
        The account's exposure loss (reporting currency) under the bump that makes the
        holding lose value; 0 for holdings that are not checked (cash, stablecoins).
    scenario_names : tuple of str
        The bumps, two per risk factor (``"BTC -1%"``, ``"BTC +1%"``).
    """

    flag: BoolArray
    exposure_loss: FloatArray
    scenario_names: tuple[str, ...]


def _factor(asset: CollateralAsset) -> tuple[str, str] | None:
    """Return the asset's risk factor: ``("spot", symbol)`` or ``("curve", name)``."""
    if asset.kind not in _RISKY:
        return None
    if asset.instrument is not None:
        return "curve", asset.instrument.curve
    return "spot", asset.name


def _scenarios(factors: list[tuple[str, str]], rule: WrongWayRule) -> ScenarioSet:
    """Two scenarios per factor: column ``2f`` makes a long holding lose, ``2f+1`` gain."""
    n = 2 * len(factors)
    spot: dict[str, np.ndarray] = {}
    curve: dict[str, np.ndarray] = {}
    names: list[str] = []
    for f, (kind, name) in enumerate(factors):
        if kind == "curve":
            row = curve.setdefault(name, np.zeros(n))
            row[2 * f:2 * f + 2] = (rule.curve_bump, -rule.curve_bump)
            names += [f"{name} yields {rule.curve_bump * 1e4:+g} bp",
                      f"{name} yields {-rule.curve_bump * 1e4:+g} bp"]
            continue
        for symbol in (name, *rule.proxies.get(name, ())):
            spot.setdefault(symbol, np.zeros(n))[2 * f:2 * f + 2] = (-rule.spot_bump,
                                                                     rule.spot_bump)
        names += [f"{name} {-rule.spot_bump:+.0%}", f"{name} {rule.spot_bump:+.0%}"]
    return ScenarioSet(names=tuple(names), spot=spot, curve=curve, strict=False,
                       source="wrong-way bumps")


def wrong_way(*, holdings: Holdings, assets: tuple[CollateralAsset, ...], exposures: Book,
              market: MarketSnapshot, rule: WrongWayRule, currency: str) -> WrongWay:
    r"""Flag the holdings that lose value together with the exposure they secure.

    Parameters
    ----------
    holdings : Holdings
    assets : tuple of CollateralAsset, shape (n_assets,)
        The classified assets ``holdings.asset`` indexes.
    exposures : Book
        The positions the collateral secures (same accounts as the holdings).
    market : MarketSnapshot
    rule : WrongWayRule
    currency : str
        Reporting currency.

    Returns
    -------
    WrongWay

    Raises
    ------
    MissingDataError
        Market data missing for an exposure on a collateral asset's risk factor.

    Notes
    -----
    Each risk factor :math:`f` of a held asset (its price and its proxies' prices, or a
    bond's yield curve) gets two scenarios: :math:`f^-` (the price falls by the bump or
    the yields rise by it) and :math:`f^+`. Only instruments on those factors are
    revalued. With :math:`L_{a,s}` the loss of account :math:`a`'s exposure under
    :math:`s` (aggregated by the shared kernel), a holding of :math:`n` units is
    wrong-way when

    .. math:: L_{a, f^-} > \epsilon \text{ if } n > 0, \qquad
              L_{a, f^+} > \epsilon \text{ if } n < 0,

    i.e. when the exposure loses in the move that makes the collateral lose (a liability
    in the asset loses when the price rises); :math:`\epsilon` is half a cent.
    """
    n_hold = holdings.amount.size
    flag = np.zeros(n_hold, dtype=bool)
    exposure_loss = np.zeros(n_hold)
    factor_of = [_factor(a) for a in assets]
    factors = sorted({f for f in factor_of if f is not None})
    if not factors or exposures.n_positions == 0 or n_hold == 0:
        return WrongWay(flag=flag, exposure_loss=exposure_loss, scenario_names=())
    scenarios = _scenarios(factors, rule)
    moved = set(scenarios.spot) | set(scenarios.curve)
    rows = np.asarray([k for k, inst in enumerate(exposures.instruments)
                       if inst.underlying_symbol in moved], dtype=np.int64)
    pnl = np.zeros((len(exposures.instruments), scenarios.size))
    if rows.size:
        pnl[rows] = revalue([exposures.instruments[int(k)] for k in rows], market=market,
                            scenarios=scenarios, currency=currency,
                            marks=exposures.marks[rows]).pnl
    column = {f: 2 * k for k, f in enumerate(factors)}
    holding_factor = np.asarray([column.get(f, -1) if f else -1 for f in factor_of],
                                dtype=np.int64)[holdings.asset]
    scenario = np.where(holdings.amount > 0, holding_factor, holding_factor + 1)
    checked = (holding_factor >= 0) & (holdings.amount != 0)
    for s in np.unique(scenario[checked]):
        loss = reduce_segments(pnl=np.ascontiguousarray(pnl[:, [s]]),
                               seg_offsets=exposures.account_offsets,
                               pos_instrument=exposures.pos_instrument,
                               pos_quantity=exposures.pos_quantity,
                               reduction=MaxLoss()).value
        here = checked & (scenario == s)
        exposure_loss[here] = loss[holdings.account[here]]
    flag = checked & (exposure_loss > MATERIAL)
    return WrongWay(flag=flag, exposure_loss=exposure_loss, scenario_names=scenarios.names)
