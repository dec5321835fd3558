r"""Margin attribution for scenario methods: which positions carry an account's requirement.

A scenario method charges each (account, group) segment its loss at a driving scenario
set :math:`T_g` (the worst scenario for maxima and value at risk, the ``k`` tail
scenarios for expected shortfall). That loss is a sum over the segment's positions, so
it splits exactly into component (Euler) contributions, one per position:

.. math:: c_p = x_g\, q_p \frac{1}{|T_g|} \sum_{s \in T_g} w_s\,(-\mathrm{pnl}_{i_p, s}),
          \qquad \sum_{p \in g} c_p = x_g\, \frac{1}{|T_g|} \sum_{s \in T_g} w_s L_{g,s},

with :math:`x_g` the value of the segment's currency in the reporting currency and
:math:`w_s` the reduction's scenario weights (1 unless it is a weighted maximum). For a
reduction homogeneous of degree one in the quantities, :math:`c_p = q_p \partial R /
\partial q_p` where the driving set is unique (Euler's theorem). What a method adds or
removes beyond the segments' scenario losses is reported as named lines of the account
(the floor at zero, product-group credits, contingencies, the diversification cap,
anti-procyclicality, rounding up to the cent), except what is per position by
construction (a per-contract minimum, a close-out cost), which the positions carry. The
positions and the lines add up to the initial margin exactly.

The incremental margin of a position is the account's requirement minus the requirement
of the same account without it; all the variants of one account are margined in one
computation as accounts of one book (accounts are margined independently).

References
----------
.. [1] D. Tasche (1999), "Risk contributions and performance measurement", Technische
   Universitaet Muenchen (Euler allocation of homogeneous risk measures).
.. [2] D. Tasche (2008), "Capital allocation to business units and sub-portfolios: the
   Euler principle", in *Pillar II in the New Basel Accord*, Risk Books (expected
   shortfall contributions as the tail mean of each position's loss).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from crossmargin.book.book import Book
from crossmargin.core.errors import InputError
from crossmargin.core.typing import BoolArray, FloatArray, IntArray
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import MarginMethod
from crossmargin.results.margin import MarginResult
from crossmargin.results.risk import ScenarioRisk

__all__ = [
    "FLOOR",
    "ROUNDING",
    "Attribution",
    "GroupAttribution",
    "PositionAttribution",
    "attribute",
    "explain",
    "incremental_margins",
]

#: Line of what flooring each segment's loss at zero added.
FLOOR = "floor_at_zero"
#: Line of what rounding the requirement up to the cent added.
ROUNDING = "rounding"
#: Positions margined per computation of the incremental margins (bounds the memory).
INCREMENTAL_BLOCK = 2**20


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PositionAttribution:
    """What one position of the account carries.

    Attributes
    ----------
    index : int
        The position's place in the account (book order).
    instrument : str
    quantity : float
    asset_class : str
    contribution : float
        Its component of the scenario losses at the driving scenario set.
    add_ons : mapping of str to float
        Its share of the add-ons that are per position by construction.
    margined : bool
        False when the method does not cover the instrument (contribution 0).
    incremental : float or None
        The account's margin minus its margin without this position (when computed).
    """

    index: int
    instrument: str
    quantity: float
    asset_class: str
    contribution: float
    add_ons: Mapping[str, float] = field(default_factory=dict)
    margined: bool = True
    incremental: float | None = None

    @property
    def total(self) -> float:
        """Contribution plus add-ons."""
        return self.contribution + sum(self.add_ons.values())


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class GroupAttribution:
    """One segment of the account: a group and the scenarios that set its loss.

    Attributes
    ----------
    group : str
    scenarios : tuple of str
        The driving scenario set, described (worst first).
    loss : float
        The segment's scenario loss: the sum of its positions' contributions.
    charge : float
        Its charge after the floor at zero.
    """

    group: str
    scenarios: tuple[str, ...]
    loss: float
    charge: float


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Attribution:
    """An account's initial margin split into positions and named lines.

    Attributes
    ----------
    account : str
    method : str
    currency : str
    initial_margin : float
    groups : tuple of GroupAttribution
    positions : tuple of PositionAttribution
        Every position of the account, in book order.
    adjustments : mapping of str to float
        Lines not attributable to single positions, ending with :data:`ROUNDING`.
    notes : tuple of str
    """

    account: str
    method: str
    currency: str
    initial_margin: float
    groups: tuple[GroupAttribution, ...]
    positions: tuple[PositionAttribution, ...]
    adjustments: Mapping[str, float]
    notes: tuple[str, ...] = ()

    @property
    def driver(self) -> GroupAttribution | None:
        """The group with the largest charge (``None`` without any)."""
        if not self.groups:
            return None
        return max(self.groups, key=lambda g: g.charge)

    def total(self) -> float:
        """Return the sum of the positions and the lines (the initial margin)."""
        return sum(p.total for p in self.positions) + sum(self.adjustments.values())

    def asset_classes(self) -> dict[str, float]:
        """Return the positions' totals summed by asset class."""
        out: dict[str, float] = {}
        for p in self.positions:
            out[p.asset_class] = out.get(p.asset_class, 0.0) + p.total
        return out

    def to_json(self) -> dict[str, Any]:
        """Return the attribution as JSON, amounts to the cent.

        Every amount is shown to the cent; the ``rounding`` line also takes up what
        showing each amount to the cent moved, so that the positions and the lines add
        up exactly to the initial margin shown (``check``).
        """
        positions, totals = [], []
        for p in self.positions:
            contribution = _cents(p.contribution)
            add_ons = {k: _cents(v) for k, v in p.add_ons.items()}
            totals.append((p.asset_class, contribution + sum(add_ons.values())))
            positions.append({
                "instrument": p.instrument,
                "quantity": p.quantity,
                "asset_class": p.asset_class,
                "margined": p.margined,
                "contribution": contribution / 100,
                "add_ons": {k: v / 100 for k, v in add_ons.items()},
                "total": totals[-1][1] / 100,
                "incremental": None if p.incremental is None else round(p.incremental, 2),
            })
        lines = {k: _cents(v) for k, v in self.adjustments.items() if k != ROUNDING}
        margin = _cents(self.initial_margin)
        lines[ROUNDING] = margin - sum(t for _, t in totals) - sum(lines.values())
        classes: dict[str, int] = {}
        for asset_class, total in totals:
            classes[asset_class] = classes.get(asset_class, 0) + total
        shown = sum(t for _, t in totals) + sum(lines.values())
        driver = self.driver
        return {
            "account": self.account,
            "method": self.method,
            "currency": self.currency,
            "initial_margin": margin / 100,
            "driver": {} if driver is None else {
                "group": driver.group,
                "scenario": driver.scenarios[0] if driver.scenarios else None,
                "scenarios": list(driver.scenarios),
                "loss": round(driver.loss, 2),
            },
            "groups": [{"group": g.group, "scenarios": list(g.scenarios),
                        "loss": round(g.loss, 2), "charge": round(g.charge, 2)}
                       for g in self.groups],
            "positions": positions,
            "asset_classes": {k: v / 100 for k, v in sorted(classes.items())},
            "adjustments": {k: v / 100 for k, v in lines.items()},
            "check": {"sum": shown / 100, "initial_margin": margin / 100,
                      "equal": shown == margin},
            "notes": list(self.notes),
        }


def _cents(amount: float) -> int:
    """Return ``amount`` in whole cents (nearest)."""
    return round(amount * 100)


def _row(book: Book, account: str | int) -> int:
    """Return the row of ``account`` (an id, or a row number) in ``book``."""
    if isinstance(account, str):
        try:
            return book.account_ids.index(account)
        except ValueError:
            raise InputError("no such account in the portfolio", source=book.source,
                             field="account", value=account) from None
    if not 0 <= account < book.n_accounts:
        raise InputError(f"must be a row below {book.n_accounts}", field="account",
                         value=account)
    return int(account)


def _sum_by(index: IntArray, amount: FloatArray, size: int) -> FloatArray:
    """Return ``amount`` summed by ``index`` into ``size`` slots."""
    out: FloatArray = np.bincount(index, weights=amount, minlength=size).astype(np.float64)
    return out


def _describe(result: MarginResult, group: str, scenario: int) -> str:
    if result.describe is not None:
        return result.describe(group, scenario)
    if result.scenario_names:
        return result.scenario_names[scenario]
    return f"scenario {scenario}"


def _contributions(risk: ScenarioRisk, first: int, stop: int) -> tuple[FloatArray, IntArray]:
    """Return each entry's component (reporting currency) and segment (from ``first``).

    The entries are those of segments ``first:stop``.
    """
    lo, hi = int(risk.offsets[first]), int(risk.offsets[stop])
    segment = np.repeat(np.arange(stop - first), np.diff(risk.offsets[first:stop + 1]))
    scenarios = risk.scenario_sets(first, stop)[segment]
    unit_loss = -risk.pnl[risk.instrument[lo:hi, None], scenarios]
    if risk.weights is not None:
        unit_loss = unit_loss * risk.weights[scenarios]
    out: FloatArray = risk.quantity[lo:hi] * unit_loss.mean(axis=1)
    if risk.scale is not None:
        out = out * risk.scale[first:stop][segment]
    return out, segment


def _groups(result: MarginResult, risk: ScenarioRisk, first: int, stop: int, *,
            loss: FloatArray, charge: FloatArray) -> tuple[GroupAttribution, ...]:
    """Describe segments ``first:stop``: group, driving scenarios, loss and charge."""
    names = result.segments.group_names if result.segments is not None else ()
    sets = risk.scenario_sets(first, stop)
    out = []
    for g in range(stop - first):
        k = int(risk.group[first + g])
        name = names[k] if names else str(k)
        out.append(GroupAttribution(
            group=name, scenarios=tuple(_describe(result, name, int(s)) for s in sets[g]),
            loss=float(loss[g]), charge=float(charge[g])))
    return tuple(out)


def _positions(book: Book, row: int, *, contribution: FloatArray,
               add_ons: Mapping[str, FloatArray], margined: BoolArray
               ) -> tuple[PositionAttribution, ...]:
    """Return the attribution of each position of account ``row``, in book order."""
    base = int(book.account_offsets[row])
    held = book.pos_instrument[base:int(book.account_offsets[row + 1])]
    return tuple(
        PositionAttribution(
            index=j, instrument=book.instruments[int(i)].label,
            quantity=float(book.pos_quantity[base + j]),
            asset_class=book.instruments[int(i)].asset_class.value,
            contribution=float(contribution[j]),
            add_ons={k: float(v[j]) for k, v in add_ons.items()},
            margined=bool(margined[j]))
        for j, i in enumerate(held))


def attribute(result: MarginResult, book: Book, account: str | int) -> Attribution:
    """Split one account's initial margin into its positions' contributions and lines.

    Nothing is computed again: the result carries what its reduction saw.

    Parameters
    ----------
    result : MarginResult
        A scenario method's result on ``book``.
    book : Book
        The book the result was computed on.
    account : str or int
        The account's id, or its row.

    Raises
    ------
    InputError
        The method hands over no scenario losses (not a scenario method), or the
        account is not in the book.
    """
    risk = result.scenario_risk
    if risk is None:
        raise InputError("hands over no scenario losses to attribute (attribution covers "
                         "scenario methods)", field="method", value=result.method)
    if book.account_ids != result.account_ids:
        raise InputError("is not the book the result was computed on", source=book.source,
                         field="accounts")
    row = _row(book, account)
    first, stop = risk.segment_range(row)
    lo, hi = int(risk.offsets[first]), int(risk.offsets[stop])
    base = int(book.account_offsets[row])
    n = int(book.account_offsets[row + 1]) - base
    position: IntArray = np.arange(lo, hi) if risk.position is None else risk.position[lo:hi]
    local = position - base
    if local.size and (local.min() < 0 or local.max() >= n):
        raise ValueError("scenario risk entries do not map to the account's positions")
    entry, segment = _contributions(risk, first, stop)
    contribution = _sum_by(local, entry, n)
    add_ons = {} if risk.position_addons is None else {
        name: _sum_by(local, amounts, n) for name, amounts in risk.position_addons(row).items()}
    loss = _sum_by(segment, entry, stop - first)
    charge = risk.charge[first:stop] * (1.0 if risk.scale is None else risk.scale[first:stop])
    lines = {FLOOR: float(charge.sum() - loss.sum()),
             **{k: float(v[row]) for k, v in risk.adjustments.items()}}
    margin = float(result.initial_margin[row])
    lines[ROUNDING] = margin - float(contribution.sum()) - sum(
        float(v.sum()) for v in add_ons.values()) - sum(lines.values())
    return Attribution(
        account=book.account_ids[row], method=result.method, currency=result.currency,
        initial_margin=margin, groups=_groups(result, risk, first, stop, loss=loss,
                                              charge=charge),
        positions=_positions(book, row, contribution=contribution, add_ons=add_ons,
                             margined=np.bincount(local, minlength=n) > 0),
        adjustments=lines, notes=result.notes)


def _sub_book(book: Book, *, ids: tuple[str, ...], take: IntArray, counts: IntArray,
              row: int) -> Book:
    """Return accounts ``ids`` holding positions ``take`` of ``book`` (``counts`` each).

    Collateral and orders of account ``row`` go with every new account.
    """
    used, inverse = np.unique(book.pos_instrument[take], return_inverse=True)
    return Book(as_of=book.as_of, currency=book.currency, account_ids=ids,
                instruments=tuple(book.instruments[int(i)] for i in used),
                account_offsets=np.r_[0, np.cumsum(counts)].astype(np.int64),
                pos_instrument=inverse.ravel().astype(np.int64),
                pos_quantity=book.pos_quantity[take].copy(), marks=book.marks[used].copy(),
                collateral=(book.collateral[row],) * len(ids),
                orders=(book.orders[row],) * len(ids), source=book.source)


def _account_book(book: Book, row: int) -> Book:
    """Return account ``row`` alone as a book."""
    lo, hi = int(book.account_offsets[row]), int(book.account_offsets[row + 1])
    return _sub_book(book, ids=(book.account_ids[row],), take=np.arange(lo, hi),
                     counts=np.array([hi - lo]), row=row)


def incremental_margins(method: MarginMethod, book: Book, market: MarketSnapshot
                        ) -> FloatArray:
    r"""Return the margin of a one-account ``book`` without each of its positions.

    The variants are margined as accounts of one book, in blocks of at most
    :data:`INCREMENTAL_BLOCK` positions (an account of :math:`n` positions has
    :math:`n (n - 1)` variant positions).

    Parameters
    ----------
    method : MarginMethod
    book : Book
        One account.
    market : MarketSnapshot

    Returns
    -------
    FloatArray, shape (n_positions,)
        Initial margin of the account without position ``j``.
    """
    n = book.n_positions
    out = np.empty(n)
    index = np.arange(n)
    per_block = max(1, INCREMENTAL_BLOCK // max(n - 1, 1))
    for start in range(0, n, per_block):
        drop = index[start:start + per_block]
        keep = index[None, :] != drop[:, None]
        variants = _sub_book(
            book, ids=tuple(f"{book.account_ids[0]} without position {j}" for j in drop),
            take=np.broadcast_to(index, keep.shape)[keep],
            counts=np.full(drop.size, n - 1), row=0)
        out[drop] = method.compute(variants, market).initial_margin
    return out


def explain(method: MarginMethod, book: Book, market: MarketSnapshot, account: str | int,
            *, incremental: bool = True) -> Attribution:
    """Attribute one account's margin under ``method``, with incremental margins.

    The account is margined alone (its requirement does not depend on other accounts).

    Parameters
    ----------
    method : MarginMethod
        A scenario method (``grid``, ``tims``, ``crypto-pm``, ``fhs``).
    book : Book
    market : MarketSnapshot
    account : str or int
        The account's id, or its row.
    incremental : bool, default True
        Also compute each position's incremental margin (one more computation on a
        book of the account's variants).

    Raises
    ------
    InputError
        Unknown account, or a method that hands over no scenario losses.
    MissingDataError
        From the method, when a held instrument cannot be priced.
    """
    one = _account_book(book, _row(book, account))
    result = method.compute(one, market)
    attribution = attribute(result, one, 0)
    if not incremental:
        return attribution
    without = incremental_margins(method, one, market)
    margin = float(result.initial_margin[0])
    return replace(attribution, positions=tuple(
        replace(p, incremental=margin - float(w))
        for p, w in zip(attribution.positions, without, strict=True)))
