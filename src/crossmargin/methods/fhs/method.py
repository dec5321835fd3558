r"""Unified filtered historical simulation (FHS) margin across all asset classes.

One portfolio per account: stocks, index and stock options, futures, Treasuries and
crypto derivatives are revalued together under the same historical dates, each asset
class over its own margin period of risk, and the account's requirement is the expected
shortfall (or value at risk) of its losses over those dates, plus the diversification
cap, the anti-procyclicality tools chosen and a liquidity add-on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crossmargin.book.book import Book
from crossmargin.book.instruments import AssetClass
from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.core.values import parse_date, parse_number
from crossmargin.kernels import (
    ExpectedShortfall,
    Reduction,
    ValueAtRisk,
    reduce_segments,
    tail_count,
)
from crossmargin.market.history import load_history
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import (
    Segments,
    ceil_cents,
    floor_residue,
    method_result,
    scenario_risk,
    segment_positions,
)
from crossmargin.methods.fhs.addons import AntiProcyclicality, DiversificationCap, LiquidityAddOn
from crossmargin.methods.fhs.factors import Block, FactorNeeds, JointHistory, Scaling
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.pricing.revalue import revalue
from crossmargin.results.margin import MarginResult, SegmentCharges
from crossmargin.scenarios.filtering import EWMAFilter, GARCHFilter, VolatilityFilter
from crossmargin.scenarios.historical import StressedWindow, lookback_dates, recent_dates

__all__ = ["FilteredHistoricalSimulation", "Measure"]

_CLASSES = tuple(AssetClass)


class Measure(StrEnum):
    """The risk measure over the scenario losses."""

    EXPECTED_SHORTFALL = "expected_shortfall"
    VALUE_AT_RISK = "value_at_risk"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Priced:
    pnl: FloatArray  # (n_instruments, n_scenarios)
    value: FloatArray  # (n_instruments,)
    notes: tuple[str, ...]


def _held(book: Book) -> tuple[Segments, IntArray]:
    """Accounts with positions as segments, and their rows among all accounts."""
    counts = np.diff(book.account_offsets)
    rows = np.flatnonzero(counts > 0).astype(np.int64)
    offsets = np.r_[0, np.cumsum(counts[rows])].astype(np.int64)
    return Segments(offsets=offsets, instrument=book.pos_instrument,
                    quantity=book.pos_quantity, account=rows,
                    group=np.zeros(rows.size, dtype=np.int64)), rows


def _of_held(per_account: IntArray, held: IntArray) -> IntArray:
    """Return the rows ``held`` of ``per_account`` (no copy when every account is held)."""
    if held.size == per_account.shape[0]:
        return per_account
    out: IntArray = per_account[held]
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FilteredHistoricalSimulation:
    r"""Unified FHS margin: expected shortfall of filtered historical MPOR scenarios.

    Parameters
    ----------
    params : ParamSet
        The parameter set the numbers came from.
    history : JointHistory
        The filtered risk-factor histories (bundled history by default).
    measure : Measure
        Expected shortfall or value at risk.
    confidence : float
        Confidence level, e.g. 0.99.
    lookback_days : int
        Reference business days in the look-back.
    mpor_days : mapping of str to int
        Margin period of risk by asset class, in the days of each factor's calendar
        (business days; calendar days for continuous markets).
    stressed_windows : tuple of StressedWindow
        Periods whose scenarios every look-back keeps.
    diversification : DiversificationCap
    procyclicality : AntiProcyclicality
    liquidity : LiquidityAddOn
    maintenance_factor : float
        Maintenance margin as a share of initial margin.

    Notes
    -----
    Scenario :math:`s` is a historical date :math:`d_s` (a window end); instrument
    :math:`i` of asset class :math:`k` is fully revalued with every factor moved by its
    filtered :math:`h_k`-day move ending on :math:`d_s`
    (:mod:`crossmargin.methods.fhs.factors`), and :math:`h_k` days passing. With
    :math:`L_{a,s}` the loss of account :math:`a` and :math:`n = \lceil (1-c) N \rceil`,

    .. math:: R_a = \max\Big(0, \frac1n \sum_{j=1}^{n} L_{a,(j)}\Big)

    (value at risk: :math:`L_{a,(n)}`). The requirement is
    :math:`R_a` + diversification cap + anti-procyclicality components + liquidity,
    rounded up to the cent; the dates :math:`d_{(1)}, \dots, d_{(n)}` drive it.
    The scenarios are the last ``lookback_days`` reference days up to the as-of date
    plus every reference day of each stressed window on or before it.

    References
    ----------
    .. [1] Commission Delegated Regulation (EU) No 153/2013, articles 24-26 and 28.
    .. [2] G. Barone-Adesi, K. Giannopoulos and L. Vosper (1999), "VaR without
       correlations for portfolios of derivative securities", Journal of Futures
       Markets 19(5), 583-602 (filtered historical simulation).
    .. [3] Eurex Clearing, "Eurex Clearing Prisma - Margining methodology" (filtered
       historical VaR with stressed periods and liquidity add-ons).
    """

    name: ClassVar[str] = "fhs"
    params: ParamSet
    history: JointHistory
    measure: Measure
    confidence: float
    lookback_days: int
    mpor_days: Mapping[str, int]
    stressed_windows: tuple[StressedWindow, ...]
    diversification: DiversificationCap
    procyclicality: AntiProcyclicality
    liquidity: LiquidityAddOn
    maintenance_factor: float

    def __post_init__(self) -> None:
        if not 0.0 < self.confidence < 1.0:
            raise InputError("must be strictly between 0 and 1", field="confidence",
                             value=self.confidence)
        if not 0.0 < self.maintenance_factor <= 1.0:
            raise InputError("must be in (0, 1]", field="maintenance_factor",
                             value=self.maintenance_factor)
        for key, days in self.mpor_days.items():
            if key not in {c.value for c in _CLASSES}:
                raise InputError("not an asset class", field=f"mpor_days.{key}")
            if days < 1:
                raise InputError("must be at least 1", field=f"mpor_days.{key}", value=days)

    @classmethod
    def from_params(cls, params: ParamSet | None = None, *,
                    history: pd.DataFrame | None = None) -> FilteredHistoricalSimulation:
        """Build the method from a parameter set (the latest bundled one by default).

        Parameters
        ----------
        params : ParamSet, optional
        history : pandas.DataFrame, optional
            A calendar-day history in the shape of
            :func:`crossmargin.market.history.load_history` (the bundled one by default).
        """
        params = params or load_params("fhs")
        try:
            return cls(params=params,
                       **_parse(params.parameters,
                                load_history() if history is None else history))
        except InputError as err:
            raise err.located(params.path or params.id) from None

    # -- scenarios -------------------------------------------------------------------
    def reduction(self, n_scenarios: int) -> Reduction:
        """Return the kernel reduction at this confidence over ``n_scenarios``."""
        k = tail_count(confidence=self.confidence, n_scenarios=n_scenarios)
        if self.measure is Measure.VALUE_AT_RISK:
            return ValueAtRisk(k=k)
        return ExpectedShortfall(k=k)

    def blocks(self, as_of: date) -> tuple[Block, Block | None]:
        """Return the look-back block and, with the long-run floor on, its block."""
        days = self.history.reference_days(as_of)
        main = Block(dates=lookback_dates(days, as_of=as_of, lookback=self.lookback_days,
                                          windows=self.stressed_windows),
                     scaling=Scaling.FILTERED)
        years = self.procyclicality.floor_years
        if years is None:
            return main, None
        return main, Block(dates=recent_dates(days, as_of=as_of, years=years),
                           scaling=Scaling.LONG_RUN)

    def _mpor(self, asset_class: AssetClass) -> int:
        if asset_class.value not in self.mpor_days:
            raise InputError("no margin period of risk for this asset class",
                             source=self.params.path or self.params.id,
                             field=f"mpor_days.{asset_class.value}")
        return self.mpor_days[asset_class.value]

    def price(self, book: Book, market: MarketSnapshot, block: Block) -> _Priced:
        """Revalue every instrument of ``book`` under ``block``, each class at its MPOR."""
        n = len(book.instruments)
        pnl = np.empty((n, block.dates.size))
        value = np.empty(n)
        notes: list[str] = []
        by_class: dict[AssetClass, list[int]] = {}
        for i, inst in enumerate(book.instruments):
            by_class.setdefault(inst.asset_class, []).append(i)
        for asset_class, rows in by_class.items():
            insts = [book.instruments[i] for i in rows]
            horizon = self._mpor(asset_class)
            scenarios, used = self.history.scenario_set(
                FactorNeeds.of(insts), horizon=horizon, block=block, market=market,
                currency=book.currency,
                label=f"fhs {self.params.version} {asset_class.value} {horizon}-day")
            reval = revalue(insts, market=market, scenarios=scenarios,
                            currency=book.currency, marks=book.marks[rows])
            pnl[rows], value[rows] = reval.pnl, reval.base_value
            notes.extend(u for u in used if u not in notes)
        return _Priced(pnl=pnl, value=value, notes=tuple(notes))

    # -- reductions ------------------------------------------------------------------
    def _risk(self, book: Book, pnl: FloatArray, *, keep_tail: bool = False
              ) -> tuple[FloatArray, IntArray, IntArray]:
        """Return each account's floored risk, driving scenario and tail scenarios."""
        reduction = self.reduction(pnl.shape[1])
        k = getattr(reduction, "k", 1)
        risk = np.zeros(book.n_accounts)
        driver = np.zeros(book.n_accounts, dtype=np.int64)
        tail = np.zeros((book.n_accounts, k if keep_tail else 0), dtype=np.int64)
        seg, rows = _held(book)
        if rows.size == 0:
            return risk, driver, tail
        reduced = reduce_segments(pnl=pnl, seg_offsets=seg.offsets,
                                  pos_instrument=seg.instrument, pos_quantity=seg.quantity,
                                  reduction=reduction, keep_tail=keep_tail)
        risk[rows] = floor_residue(reduced.value, seg, pnl)
        driver[rows] = reduced.driver
        if reduced.tail is not None:
            tail[rows] = reduced.tail
        return risk, driver, tail

    def _standalone(self, book: Book, pnl: FloatArray) -> FloatArray:
        """Sum over asset classes of each account's standalone (floored) risk."""
        if book.n_positions == 0:
            return np.zeros(book.n_accounts)
        group = np.asarray([_CLASSES.index(i.asset_class) for i in book.instruments],
                           dtype=np.int64)
        seg = segment_positions(book, group, len(_CLASSES))
        reduced = reduce_segments(pnl=pnl, seg_offsets=seg.offsets,
                                  pos_instrument=seg.instrument, pos_quantity=seg.quantity,
                                  reduction=self.reduction(pnl.shape[1]))
        charge = floor_residue(reduced.value, seg, pnl)
        out: FloatArray = np.bincount(seg.account, weights=charge,
                                      minlength=book.n_accounts).astype(np.float64)
        return out

    # -- margin ----------------------------------------------------------------------
    def compute(self, book: Book, market: MarketSnapshot) -> MarginResult:
        """Return every account's unified FHS margin.

        Raises
        ------
        MissingDataError
            A held instrument's factor has neither history over the scenario dates nor
            a proxy, or a price, volatility or curve is missing from the market.
        """
        main, long_run = self.blocks(market.as_of)
        priced = self.price(book, market, main)
        risk, driver, tail = self._risk(book, priced.pnl, keep_tail=True)
        diversification = self.diversification.component(
            unified=risk, gross=self._standalone(book, priced.pnl))
        components: dict[str, FloatArray] = {self.measure.value: risk,
                                             "diversification_cap": diversification}
        margin = risk + diversification
        stressed = None
        if self.procyclicality.stressed_weight is not None:
            cols = np.flatnonzero(main.dates.stressed)
            stressed = self._risk(book, np.ascontiguousarray(priced.pnl[:, cols]))[0]
        floor = None
        notes = list(priced.notes)
        if long_run is not None:
            floor_priced = self.price(book, market, long_run)
            floor = self._risk(book, floor_priced.pnl)[0]
            notes.extend(n for n in floor_priced.notes if n not in notes)
        components.update(self.procyclicality.components(margin=margin, stressed=stressed,
                                                         floor=floor))
        components["liquidity"] = self.liquidity.charge(book, value=priced.value)
        im = ceil_cents(np.sum(np.stack(list(components.values())), axis=0))
        mm = ceil_cents(im * self.maintenance_factor)
        seg, held = _held(book)
        explain = _Explanation(method=self, book=book, pnl=priced.pnl, tail=tail,
                               dates=main.dates.names, windows=main.dates.window)
        return method_result(
            self, book, market,
            initial_margin=im,
            maintenance_margin=mm,
            components=components,
            segments=SegmentCharges(account=held, group=np.zeros(held.size, dtype=np.int64),
                                    group_names=("portfolio",), charge=margin[held],
                                    loss=risk[held], scenario=driver[held]),
            scenario_names=main.dates.names,
            describe=explain.describe,
            notes=(*self._notes(main), *notes),
            detail=explain.detail,
            scenario_risk=scenario_risk(
                seg, pnl=priced.pnl, driver=_of_held(driver, held), charge=risk[held],
                tail=_of_held(tail, held) if self.measure is Measure.EXPECTED_SHORTFALL
                else None,
                adjustments={k: v for k, v in components.items()
                             if k not in (self.measure.value, "liquidity")},
                position_addons=lambda account: {"liquidity": self.liquidity.by_position(
                    book, value=priced.value, account=account)}),
        )

    def _notes(self, main: Block) -> tuple[str, ...]:
        windows = sorted({w for w in main.dates.window if w})
        added = main.dates.size - self.lookback_days
        days = ", ".join(f"{k} {v}" for k, v in sorted(self.mpor_days.items()))
        return (f"{main.dates.size} historical scenarios: {self.lookback_days} reference days "
                f"from {main.dates.start} to {main.dates.as_of} and {added} more days of the "
                f"stressed windows ({'; '.join(windows)}); MPOR days: {days}",)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Explanation:
    """Per-account explanation: the dates in the tail and what each cost."""

    method: FilteredHistoricalSimulation
    book: Book
    pnl: FloatArray
    tail: IntArray
    dates: tuple[str, ...]
    windows: tuple[str, ...]

    def describe(self, group: str, scenario: int) -> str:
        """Name the historical date of ``scenario``."""
        window = self.windows[scenario]
        return (f"{group}: MPOR window ending {self.dates[scenario]}"
                + (f" ({window})" if window else ""))

    def detail(self, account: int) -> Mapping[str, Any]:
        """Return the account's tail dates and their losses, worst first."""
        lo, hi = int(self.book.account_offsets[account]), int(
            self.book.account_offsets[account + 1])
        rows = self.tail[account] if hi > lo else self.tail[account, :0]
        held = self.pnl[np.ix_(self.book.pos_instrument[lo:hi], rows)]
        loss = -(self.book.pos_quantity[lo:hi] @ held)
        return {
            "measure": self.method.measure.value,
            "confidence": self.method.confidence,
            "scenarios": len(self.dates),
            "tail": [{"date": self.dates[int(s)], "loss": float(v),
                      **({"window": self.windows[int(s)]} if self.windows[int(s)] else {})}
                     for s, v in zip(rows, loss, strict=True)],
        }


# -- parameters ----------------------------------------------------------------------
def _table(p: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = p.get(key, {})
    if not isinstance(value, Mapping):
        raise InputError("must be a mapping", field=key, value=value)
    return value


def _int(value: object, field: str) -> int:
    number = parse_number(value, field=field, positive=True, allow_zero=False)
    if number != int(number):
        raise InputError("must be a whole number", field=field, value=value)
    return int(number)


def _option(p: Mapping[str, Any], name: str, key: str) -> Any:
    """Return the ``key`` of an ``{enabled, key}`` option, or None when disabled."""
    table = _table(_table(p, "anti_procyclicality"), name)
    if not table.get("enabled", False):
        return None
    return table.get(key)


def _filter(p: Mapping[str, Any]) -> VolatilityFilter:
    model = str(p.get("model"))
    if model == "ewma":
        return EWMAFilter(lam=parse_number(p.get("lambda"), field="filter.lambda"))
    if model == "garch":
        return GARCHFilter()
    raise InputError("must be ewma or garch", field="filter.model", value=model)


def _windows(raw: object) -> tuple[StressedWindow, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise InputError("must be a list of {name, start, end}", field="stressed_windows")
    return tuple(StressedWindow(name=str(w.get("name", "")),
                                start=parse_date(w.get("start"), field=f"stressed_windows[{k}]"
                                                 ".start"),
                                end=parse_date(w.get("end"), field=f"stressed_windows[{k}].end"))
                 for k, w in enumerate(raw))


def _names(table: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in table.items()}


def _numbers(table: Mapping[str, Any], field: str) -> dict[str, float]:
    return {str(k): parse_number(v, field=f"{field}.{k}", positive=True)
            for k, v in table.items()}


def _parse(p: Mapping[str, Any], frame: pd.DataFrame) -> dict[str, Any]:
    """Translate a parameter mapping into the method's keyword arguments."""
    calendar, filt, liquidity = _table(p, "calendar"), _table(p, "filter"), \
        _table(p, "liquidity")
    concentration = _table(liquidity, "concentration")
    try:
        continuous = frozenset(AssetClass(c) for c in calendar.get("continuous", []))
        measure = Measure(str(p.get("measure")))
    except ValueError as exc:
        raise InputError(str(exc), field="calendar.continuous / measure") from None
    floor_years = _option(p, "ten_year_floor", "years")
    buffer = _option(p, "buffer", "share")
    weight = _option(p, "stressed_weight", "weight")
    return {
        "history": JointHistory(
            frame=frame, filter=_filter(filt), reference=str(calendar.get("reference")),
            stale_days=int(parse_number(calendar.get("stale_days"), field="calendar.stale_days",
                                        positive=True)),
            continuous=continuous,
            vol_floor=parse_number(filt.get("vol_floor"), field="filter.vol_floor",
                                   positive=True),
            proxies=_names(_table(p, "proxies")), resample=_names(_table(p, "resample")),
            vol_factors=_names(_table(p, "vol_factors"))),
        "measure": measure,
        "confidence": parse_number(p.get("confidence"), field="confidence"),
        "lookback_days": _int(p.get("lookback_days"), "lookback_days"),
        "mpor_days": {str(k): _int(v, f"mpor_days.{k}")
                      for k, v in _table(p, "mpor_days").items()},
        "stressed_windows": _windows(p.get("stressed_windows", [])),
        "diversification": DiversificationCap(share=parse_number(
            p.get("diversification_cap"), field="diversification_cap")),
        "procyclicality": AntiProcyclicality(
            buffer=None if buffer is None else parse_number(
                buffer, field="anti_procyclicality.buffer.share"),
            stressed_weight=None if weight is None else parse_number(
                weight, field="anti_procyclicality.stressed_weight.weight"),
            floor_years=None if floor_years is None else _int(
                floor_years, "anti_procyclicality.ten_year_floor.years")),
        "liquidity": LiquidityAddOn(
            half_spread=_numbers(_table(liquidity, "half_spread"), "liquidity.half_spread"),
            adv=_numbers(_table(liquidity, "adv"), "liquidity.adv"),
            adv_by_symbol=_numbers(_table(liquidity, "adv_by_symbol"),
                                   "liquidity.adv_by_symbol"),
            adv_share=parse_number(concentration.get("adv_share"),
                                   field="liquidity.concentration.adv_share"),
            impact=parse_number(concentration.get("impact"),
                                field="liquidity.concentration.impact")),
        "maintenance_factor": parse_number(p.get("maintenance_factor"),
                                           field="maintenance_factor"),
    }
