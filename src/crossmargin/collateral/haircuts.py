"""Collateral value after eligibility, haircuts, tiers, add-ons and concentration limits.

:func:`value_collateral` values every account's balances in the reporting currency and
says, per holding, what counted and why: the market value, whether the asset is
eligible, the haircut applied (schedule, currency mismatch, wrong-way add-on), the value
above a concentration limit, the wrong-way flag, and the value that counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crossmargin.book.book import Book
from crossmargin.collateral.assets import CollateralAsset, Holdings, classify, holdings, unit_values
from crossmargin.collateral.concentration import concentration_excess
from crossmargin.collateral.schedule import AssetRule, HaircutSchedule
from crossmargin.collateral.tiers import tiered_value
from crossmargin.collateral.wrongway import wrong_way
from crossmargin.core.errors import InputError
from crossmargin.core.money import check_currency
from crossmargin.core.typing import BoolArray, FloatArray, IntArray
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import ceil_cents

__all__ = ["CollateralValuation", "value_collateral"]


def floor_cents(amounts: FloatArray) -> FloatArray:
    """Round collateral values down to the cent (the conservative side for collateral)."""
    out: FloatArray = -ceil_cents(-np.asarray(amounts, dtype=np.float64))
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CollateralValuation:
    """Every account's collateral: per holding and in total, in the reporting currency.

    Holdings are one per (account, asset), sorted by account: those of account ``a`` are
    ``offsets[a]:offsets[a + 1]``.

    Attributes
    ----------
    currency : str
        Reporting currency of every amount.
    exposure_currency : str
        Settlement currency of the exposure the collateral secures.
    params : mapping
        ``{"id", "version", "source"}`` of the schedule.
    account_ids : tuple of str, shape (n_accounts,)
    assets : tuple of CollateralAsset, shape (n_assets,)
    rules : tuple of AssetRule, shape (n_assets,)
        What the schedule says about each asset.
    offsets : IntArray, shape (n_accounts + 1,)
    account, asset : IntArray, shape (n_holdings,)
    amount : FloatArray, shape (n_holdings,)
        Net units held (negative: a liability).
    market_value : FloatArray, shape (n_holdings,)
    eligible : BoolArray, shape (n_holdings,)
    currency_mismatch : BoolArray, shape (n_holdings,)
        The asset's currency differs from ``exposure_currency``.
    wrong_way : BoolArray, shape (n_holdings,)
    exposure_loss : FloatArray, shape (n_holdings,)
        The exposure's loss under the bump that makes the holding lose (negative: gain).
    haircut : FloatArray, shape (n_holdings,)
        Effective haircut of a positive holding before concentration,
        ``1 - after_haircut / market_value`` (1 if ineligible; 0 for a liability).
    after_haircut : FloatArray, shape (n_holdings,)
    concentration_excess : FloatArray, shape (n_holdings,)
        Value after haircut above the asset's concentration limit.
    value : FloatArray, shape (n_holdings,)
        What counts: after haircut, less the excess times ``excess_haircut``.
    total_market_value : FloatArray, shape (n_accounts,)
    total_value : FloatArray, shape (n_accounts,)
        Sum of ``value``, rounded down to the cent.
    scenario_names : tuple of str
        The wrong-way bumps.
    """

    currency: str
    exposure_currency: str
    params: dict[str, str]
    account_ids: tuple[str, ...]
    assets: tuple[CollateralAsset, ...]
    rules: tuple[AssetRule, ...]
    offsets: IntArray
    account: IntArray
    asset: IntArray
    amount: FloatArray
    market_value: FloatArray
    eligible: BoolArray
    currency_mismatch: BoolArray
    wrong_way: BoolArray
    exposure_loss: FloatArray
    haircut: FloatArray
    after_haircut: FloatArray
    concentration_excess: FloatArray
    value: FloatArray
    total_market_value: FloatArray
    total_value: FloatArray
    scenario_names: tuple[str, ...] = ()

    def detail(self, account_row: int) -> dict[str, Any]:
        """Return account ``account_row``'s collateral as a JSON-ready mapping."""
        lo, hi = int(self.offsets[account_row]), int(self.offsets[account_row + 1])
        rows = []
        for h in range(lo, hi):
            asset = self.assets[int(self.asset[h])]
            rule = self.rules[int(self.asset[h])]
            liability = self.amount[h] < 0
            rows.append({
                "asset": asset.label,
                "kind": asset.kind.value,
                "category": rule.category,
                "amount": float(self.amount[h]),
                "market_value": round(float(self.market_value[h]), 2),
                "eligible": bool(self.eligible[h]),
                "reason": "a liability counts at its full value" if liability else rule.reason,
                "haircut": round(float(self.haircut[h]), 6),
                "currency_mismatch": bool(self.currency_mismatch[h]),
                "wrong_way": bool(self.wrong_way[h]),
                "exposure_loss": round(float(self.exposure_loss[h]), 2),
                "concentration_excess": round(float(self.concentration_excess[h]), 2),
                "value": round(float(self.value[h]), 2),
            })
        return {
            "account": self.account_ids[account_row],
            "currency": self.currency,
            "exposure_currency": self.exposure_currency,
            "schedule": dict(self.params),
            "market_value": round(float(self.total_market_value[account_row]), 2),
            "value": float(self.total_value[account_row]),
            "holdings": rows,
        }

    def to_frame(self) -> pd.DataFrame:
        """Return one row per holding."""
        return pd.DataFrame({
            "account": np.asarray(self.account_ids, dtype=object)[self.account],
            "asset": np.asarray([a.label for a in self.assets], dtype=object)[self.asset],
            "kind": np.asarray([a.kind.value for a in self.assets], dtype=object)[self.asset],
            "amount": self.amount,
            "market_value": self.market_value,
            "eligible": self.eligible,
            "haircut": self.haircut,
            "currency_mismatch": self.currency_mismatch,
            "wrong_way": self.wrong_way,
            "concentration_excess": self.concentration_excess,
            "value": self.value,
        })


def _padded(rules: tuple[AssetRule, ...]) -> tuple[FloatArray, FloatArray]:
    """Bracket bounds (padded with inf) and ratios (padded with 0), shape (n_assets, T)."""
    width = max((r.tiers.bounds.size for r in rules), default=1)
    bounds = np.full((len(rules), width), np.inf)
    ratios = np.zeros((len(rules), width))
    for k, r in enumerate(rules):
        bounds[k, :r.tiers.bounds.size] = r.tiers.bounds
        ratios[k, :r.tiers.ratios.size] = r.tiers.ratios
    return bounds, ratios


def _exposure_book(book: Book, exposures: Book | None) -> Book:
    if exposures is None:
        return book
    if exposures.account_ids != book.account_ids:
        raise InputError("the exposures must hold the same accounts, in the same order, as "
                         "the collateral book", source=exposures.source, field="account_ids")
    return exposures


def value_collateral(book: Book, market: MarketSnapshot, schedule: HaircutSchedule, *,
                     exposure_currency: str | None = None, exposures: Book | None = None
                     ) -> CollateralValuation:
    r"""Value every account's collateral after eligibility, haircuts and limits.

    Parameters
    ----------
    book : Book
        Accounts whose ``collateral`` balances are valued, in ``book.currency``.
    market : MarketSnapshot
        Prices, FX rates and curves on the valuation date.
    schedule : HaircutSchedule
        Eligibility, haircuts, tiers, limits and the wrong-way rule.
    exposure_currency : str, optional
        Settlement currency of the exposure the collateral secures (default: the book's
        reporting currency); an asset in another currency takes the schedule's
        currency-mismatch add-on.
    exposures : Book, optional
        The positions the collateral secures, for the wrong-way check (default: the
        book's own positions); it must hold the same accounts in the same order.

    Returns
    -------
    CollateralValuation

    Raises
    ------
    InputError
        An unknown asset (never valued at zero), a bond that has matured.
    MissingDataError
        A price, FX rate or curve needed to value a balance or an exposure.

    Notes
    -----
    Per holding of market value :math:`x`, with the asset's brackets
    :math:`(b_k, r_k)` (a flat haircut :math:`h` is :math:`r = 1 - h`), the add-on
    :math:`a = m\,\mathbb{1}[\text{currency} \ne \text{exposure currency}] +
    w\,\mathbb{1}[\text{wrong-way}]`:

    .. math::

        V^{h} = \begin{cases}
          \sum_k \max(r_k - a, 0)\,\max(\min(x, b_k) - b_{k-1}, 0) & x > 0,
             \text{ eligible} \\
          0 & x > 0, \text{ not eligible} \\
          x & x \le 0 \text{ (a liability counts in full)}
        \end{cases}

    then :math:`V = V^h - \eta E` with :math:`E` the excess over the concentration limit
    (:func:`~crossmargin.collateral.concentration.concentration_excess`) and :math:`\eta`
    the schedule's ``excess_haircut``. The account total :math:`\sum V` is rounded down
    to the cent. Balances are netted per (account, asset) first: brackets apply to the
    whole holding, as the venues apply them to an account's balance of the asset.

    References
    ----------
    .. [1] BCBS-IOSCO, "Margin requirements for non-centrally cleared derivatives",
       Appendix B: haircuts, and the additive 8% when the collateral's currency differs
       from the currency of the derivatives obligation.
    .. [2] Binance, "Binance Portfolio Margin Account Maintenance Margin Ratio
       Calculation": equity :math:`\sum \min(E P c, E P)` (haircuts on positive balances
       only).
    """
    currency = book.currency
    exp_ccy = check_currency(exposure_currency or currency, field="exposure_currency")
    held: Holdings = holdings(book)
    assets = tuple(classify(name, inst, market, field=f"collateral.{name}")
                   for name, inst in held.keys)
    rules = tuple(schedule.rule(a, as_of=market.as_of) for a in assets)
    market_value = held.amount * unit_values(held.keys, market, currency=currency)[held.asset]
    ww = wrong_way(holdings=held, assets=assets, exposures=_exposure_book(book, exposures),
                   market=market, rule=schedule.wrong_way, currency=currency)
    mismatch = np.asarray([a.currency != exp_ccy for a in assets], dtype=bool)[held.asset]
    eligible = np.asarray([r.eligible for r in rules], dtype=bool)[held.asset]
    add_on = schedule.currency_mismatch * mismatch + schedule.wrong_way.add_on * ww.flag
    scale = market.fx_rate(schedule.currency, to=currency) if held.keys else 1.0
    bounds, ratios = _padded(rules)
    positive = market_value > 0
    tiered = tiered_value(value=np.maximum(market_value, 0.0), bounds=bounds[held.asset] * scale,
                          ratios=ratios[held.asset], add_on=add_on)
    after = np.where(positive, np.where(eligible, tiered, 0.0), market_value)
    haircut = np.where(positive, 1.0 - after / np.where(positive, market_value, 1.0), 0.0)
    max_share = np.asarray([r.limit.max_share for r in rules])[held.asset]
    exempt = np.asarray([r.limit.exempt_below for r in rules])[held.asset] * scale
    excess = concentration_excess(value=after, account=held.account, n_accounts=book.n_accounts,
                                  max_share=max_share, exempt_below=exempt)
    value = after - schedule.excess_haircut * excess
    total_mv = np.bincount(held.account, weights=market_value, minlength=book.n_accounts)
    total = np.bincount(held.account, weights=value, minlength=book.n_accounts)
    return CollateralValuation(
        currency=currency, exposure_currency=exp_ccy, params=schedule.params.info(),
        account_ids=book.account_ids, assets=assets, rules=rules, offsets=held.offsets,
        account=held.account, asset=held.asset, amount=held.amount, market_value=market_value,
        eligible=eligible, currency_mismatch=mismatch, wrong_way=ww.flag,
        exposure_loss=ww.exposure_loss, haircut=haircut, after_haircut=after,
        concentration_excess=excess, value=value,
        total_market_value=total_mv.astype(np.float64),
        total_value=floor_cents(total.astype(np.float64)),
        scenario_names=ww.scenario_names,
    )
