r"""Stress testing: what a defaulter's margin and collateral leave uncovered.

Each scenario moves every risk factor a book depends on at once and revalues today's
positions in full (:func:`~crossmargin.pricing.revalue.revalue`):

* a *historical* scenario replays the actual moves of a named window of the bundled
  history: each price and implied-volatility factor moves by its relative change from
  its close on the window's first day to its close on the last (the last observation
  within ``stale_days`` of each), each Treasury tenor by its yield change; a factor the
  window does not move takes the move of the stand-in the parameter file names for it,
  and without one the window fails (or, for a window marked ``required: false``, is left
  out for that book with a note): never a zero move;
* a *hypothetical* scenario applies the shocks of a file: relative price moves, implied
  volatility multipliers, yield-curve shifts and FX moves by symbol, asset class or
  ``all``, and a futures basis shock; what a shock does not name stays unchanged.

Per account :math:`a` and scenario :math:`s`, with :math:`L_{a,s}` the stressed loss of
its positions, :math:`IM_a` the initial margin of the chosen method or arrangement on the
base date and :math:`C_a` its collateral counted after haircuts,

.. math::

    C_{a,s} &= C_a + w_a \sum_{h \in a} V_h \, (\rho_{h,s} - 1), \\
    R_{a,s} &= \max(IM_a, C_a) + (C_{a,s} - C_a), \\
    U_{a,s} &= \max(0, L_{a,s} - R_{a,s}),

where :math:`V_h` is holding :math:`h`'s value after haircut in the account's
collateral pool, :math:`\rho_{h,s}` its asset's value relative to today under the
scenario (a coin pledged falls with the coin: wrong-way risk shows) and
:math:`w_a = C_a / \sum_h V_h` the share of the pool the margin figure counts (1 but under
the silo arrangement, where the allocation may leave some collateral where it cannot
serve). The defaulter's resources :math:`R` are its margin requirement, assumed met (the
part its collateral does not cover called and paid in cash, which does not move), plus
any collateral beyond it; the collateral part moves with the scenario. Margin and
collateral are therefore never counted twice: collateral is what meets the margin.

A clearing member's uncovered loss is the sum of its accounts' (no netting across
segregated accounts), and Cover-1 / Cover-2 are the largest one and two members' losses
(:mod:`crossmargin.analytics.cover`).

References
----------
.. [1] CPMI-IOSCO, Principles for financial market infrastructures (April 2012),
   principle 4, key considerations 4 to 6; principle 14.
.. [2] CPMI-IOSCO, Resilience of central counterparties (CCPs): further guidance on the
   PFMI (July 2017), sections 3 and 4.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from crossmargin.analytics.cover import member_index, sum_rows
from crossmargin.analytics.stress_result import MarginHeld, StressResult, defaulter_resources
from crossmargin.analytics.stress_scenarios import (
    FILE_KEYS,
    HistoricalWindow,
    HypotheticalShock,
    ScenarioKind,
    ScenarioMoves,
    StressScenario,
    UncoveredWindowError,
    WindowReplay,
    check_keys,
    currency_moves,
    parse_names,
    parse_scenarios,
    parse_whole,
    read_scenarios,
    window_moves,
)
from crossmargin.arrangements.compare import compare
from crossmargin.arrangements.pool import value_pool
from crossmargin.arrangements.unified import PoolSpec, pool_spec
from crossmargin.book.book import Book
from crossmargin.book.instruments import Future, Instrument, Perpetual
from crossmargin.book.refdata import refdata
from crossmargin.collateral import AssetKind, CollateralAsset
from crossmargin.collateral.haircuts import floor_cents
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.core.typing import FloatArray
from crossmargin.core.values import parse_number
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import ceil_cents
from crossmargin.methods.fhs.factors import FactorNeeds
from crossmargin.methods.registry import method_for
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet, VolShift

__all__ = [
    "HistoricalWindow",
    "HypotheticalShock",
    "MarginHeld",
    "StressResult",
    "StressScenario",
    "StressTest",
    "margin_held",
]

_PRICED = frozenset({AssetKind.EQUITY, AssetKind.GOLD, AssetKind.COMMODITY})


@functools.cache
def _pool() -> PoolSpec:
    """Return how the unified arrangement values a collateral pool (bundled parameters)."""
    return pool_spec(load_params("arrangements"))


def margin_held(book: Book, market: MarketSnapshot, *, method: str | None = None,
                arrangement: str | None = None,
                method_options: Mapping[str, Mapping[str, Any]] | None = None
                ) -> MarginHeld:
    """Return the margin and collateral of a method or an arrangement (one of the two).

    A method's collateral is the account's pool valued as the unified arrangement values
    it (each asset kind under its schedule, arrangements parameter file).
    """
    if (method is None) == (arrangement is None):
        raise InputError("give a method or an arrangement (one of the two)", field="--method",
                         value=method)
    options = dict(method_options or {})
    if method is not None:
        result = method_for(method, book, market, **options.get(method, {})).compute(book,
                                                                                    market)
        spec = _pool()
        pool = value_pool(book, market, by_kind=spec.by_kind, default=spec.default)
        return MarginHeld(label=f"method {method}", initial_margin=result.initial_margin,
                          collateral_value=pool.total, params=result.params,
                          notes=result.notes)
    assert arrangement is not None
    cmp = compare(book, market, arrangements=(arrangement,), method_options=options)
    chosen = next(r for r in cmp.results if r.arrangement == arrangement)
    return MarginHeld(label=f"arrangement {arrangement}",
                      initial_margin=chosen.initial_margin,
                      collateral_value=chosen.collateral_value, params=cmp.params,
                      notes=chosen.notes)


# -- the stress test -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StressTest:
    r"""Historical and hypothetical stress scenarios applied to a book's margin and collateral.

    Parameters
    ----------
    params : ParamSet
        The stress parameter set (windows, default shocks, stand-ins).
    windows : tuple of HistoricalWindow
    shocks : tuple of HypotheticalShock
    stale_days : int
        Calendar days a window end point's observation may be older than the day.
    horizon_days : float
        Days that pass in every scenario (0: instantaneous shocks).
    worst_accounts : int
        Accounts listed per scenario.
    vol_factors : mapping of str to str
        Underlying -> its implied-volatility series (default ``IV_<underlying>``).
    stand_ins : mapping of str to str
        Series -> series whose move over a window stands in where it has none.
    source : str
        Where the scenarios were read from (for error messages).

    Notes
    -----
    See the module notes for :math:`C_{a,s}`, :math:`R_{a,s}` and :math:`U_{a,s}`. A
    futures basis shock :math:`b` sets a future's or perpetual's scenario value
    :math:`V_s` to :math:`V_s (1 + b)`.

    References
    ----------
    .. [1] CPMI-IOSCO, Principles for financial market infrastructures (April 2012),
       principle 4, key considerations 4 to 6.
    """

    params: ParamSet
    windows: tuple[HistoricalWindow, ...]
    shocks: tuple[HypotheticalShock, ...]
    stale_days: int = 4
    horizon_days: float = 0.0
    worst_accounts: int = 10
    vol_factors: Mapping[str, str] = field(default_factory=dict)
    stand_ins: Mapping[str, str] = field(default_factory=dict)
    source: str = "<memory>"

    @classmethod
    def from_params(cls, params: ParamSet | None = None, *,
                    scenarios: str | Path | None = None) -> StressTest:
        """Build the stress test from its parameter set (the latest bundled by default).

        Parameters
        ----------
        params : ParamSet, optional
        scenarios : path, optional
            A scenario file (``historical``: window names of the parameter set or
            ``{name, start, end}``; ``hypothetical``: shocks) replacing the defaults.
        """
        params = params or load_params("stress")
        p: Mapping[str, Any] = params.parameters
        where = params.path or params.id
        try:
            check_keys(p, ("stale_days", "horizon_days", "worst_accounts", "vol_factors",
                           "stand_ins", *FILE_KEYS), field="")
            stale = parse_whole(p.get("stale_days"), field="stale_days", minimum=0)
            worst = parse_whole(p.get("worst_accounts"), field="worst_accounts", minimum=1)
            windows, shocks = parse_scenarios(p, field="", known={})
            vol_factors = parse_names(p.get("vol_factors"), field="vol_factors")
            stand_ins = parse_names(p.get("stand_ins"), field="stand_ins")
            horizon = parse_number(p.get("horizon_days"), field="horizon_days", positive=True)
        except InputError as err:
            raise err.located(where) from None
        source = where
        if scenarios is not None:
            source = str(scenarios)
            windows, shocks = read_scenarios(Path(scenarios),
                                             known={w.name: w for w in windows})
        return cls(params=params, windows=windows, shocks=shocks, stale_days=stale,
                   horizon_days=horizon, worst_accounts=worst,
                   vol_factors=MappingProxyType(vol_factors),
                   stand_ins=MappingProxyType(stand_ins), source=source)

    # -- what moves ----------------------------------------------------------------------
    @staticmethod
    def needs(book: Book, assets: Sequence[CollateralAsset]) -> FactorNeeds:
        """Return every factor the book's positions and collateral depend on."""
        held = FactorNeeds.of(book.instruments)
        spots, curves = set(held.spots), set(held.curves)
        currencies = {*held.currencies, book.currency}
        for asset in assets:
            currencies.add(asset.currency)
            if asset.instrument is not None:
                curves.add(asset.instrument.curve)
            elif asset.kind in _PRICED:
                spots.add(asset.name)
        spots |= currencies & refdata().coins
        return FactorNeeds(spots=frozenset(spots), vols=held.vols, curves=frozenset(curves),
                           currencies=frozenset(currencies))

    def _historical(self, window: HistoricalWindow, needs: FactorNeeds,
                    tenors: Mapping[str, FloatArray], base: str
                    ) -> tuple[ScenarioMoves, WindowReplay]:
        replay = WindowReplay(window=window, moves=window_moves(window, self.stale_days),
                              stand_ins=self.stand_ins, source=self.source)
        spot = {s: replay.factor(s) for s in sorted(needs.spots)}
        vol = {u: replay.factor(self.vol_factors.get(u, f"IV_{u}")) for u in sorted(needs.vols)}
        curve = {c: replay.curve(c, tenors[c]) for c in sorted(needs.curves)}
        pegged = refdata().stablecoins

        def no_history(ccy: str) -> float:
            if ccy in pegged:
                return 0.0
            raise MissingDataError(f"no FX history for {ccy} (the bundled history is in "
                                   "USD; stablecoins at their peg)", source=self.source,
                                   field=f"historical.{window.name}")

        fx = currency_moves(needs.currencies, spot, base=base, other=no_history)
        scenario = StressScenario(name=window.name, kind=ScenarioKind.HISTORICAL,
                                  title=window.title, start=window.start, end=window.end)
        return ScenarioMoves(scenario=scenario, spot=spot, vol=vol, curve=curve, fx=fx), replay

    def _hypothetical(self, shock: HypotheticalShock, needs: FactorNeeds,
                      tenors: Mapping[str, FloatArray], base: str) -> ScenarioMoves:
        if base in shock.fx:
            raise InputError("the market's base currency cannot move against itself",
                             source=self.source, field=f"{shock.name}.fx.{base}")
        spot = {s: shock.lookup(shock.prices, s, default=0.0) for s in sorted(needs.spots)}
        vol = {u: shock.lookup(shock.vols, u, default=1.0) - 1.0 for u in sorted(needs.vols)}
        curve = {c: shock.curve_shift(c, tenors[c]) for c in sorted(needs.curves)}
        fx = currency_moves(needs.currencies, spot, base=base,
                            other=lambda c: shock.fx.get(c, 0.0))
        scenario = StressScenario(name=shock.name, kind=ScenarioKind.HYPOTHETICAL,
                                  title=shock.title)
        basis = (lambda u: shock.lookup(shock.basis, u, default=0.0)) if shock.basis else None
        return ScenarioMoves(scenario=scenario, spot=spot, vol=vol, curve=curve, fx=fx, basis=basis)

    def columns(self, needs: FactorNeeds, market: MarketSnapshot
                ) -> tuple[list[ScenarioMoves], list[str]]:
        """Return the moves of every scenario that applies to ``needs``, and notes."""
        tenors = {c: market.curve(c).tenors for c in needs.curves}
        base = market.base_currency
        out: list[ScenarioMoves] = []
        notes: list[str] = []
        stand_ins: dict[tuple[str, str], list[str]] = {}
        for window in self.windows:
            try:
                column, replay = self._historical(window, needs, tenors, base)
            except UncoveredWindowError as err:
                if window.required:
                    raise
                notes.append(f"left out: {err.what} (the window is not required)")
                continue
            out.append(column)
            notes.extend(replay.notes)
            for pair in sorted(replay.used):
                stand_ins.setdefault(pair, []).append(window.name)
        notes.extend(f"{name} moves as {proxy} (stand-in) in {', '.join(windows)}"
                     for (name, proxy), windows in stand_ins.items())
        out.extend(self._hypothetical(s, needs, tenors, base) for s in self.shocks)
        notes.extend(f"{s.name}: {', '.join(idle)} moves nothing this book holds"
                     for s in self.shocks if (idle := s.idle_keys(
                         spots=needs.spots, vols=needs.vols, currencies=needs.currencies)))
        if not out:
            raise InputError("no scenario can move this book", source=self.source,
                             field="historical")
        replayed = len(out) - len(self.shocks)
        if replayed and needs.vols:
            notes.append("historical windows move implied volatilities by the relative "
                         "move of each underlying's IV series, the whole surface")
        if replayed and needs.currencies & refdata().stablecoins:
            notes.append("historical windows keep stablecoins at their peg")
        if self.shocks:
            notes.append("hypothetical shocks leave unchanged what they do not name")
        return out, notes

    def scenario_set(self, columns: Sequence[ScenarioMoves], needs: FactorNeeds) -> ScenarioSet:
        """Stack the scenarios' moves into one scenario set (strict: nothing left out)."""
        def rows(get: Callable[[ScenarioMoves], Mapping[str, Any]], keys: frozenset[str]
                 ) -> dict[str, FloatArray]:
            return {k: np.array([get(c)[k] for c in columns]) for k in sorted(keys)}

        return ScenarioSet(
            names=tuple(c.scenario.name for c in columns),
            spot=rows(lambda c: c.spot, needs.spots), vol=rows(lambda c: c.vol, needs.vols),
            vol_shift=VolShift.RELATIVE, curve=rows(lambda c: c.curve, needs.curves),
            fx=rows(lambda c: c.fx, needs.currencies), horizon_days=self.horizon_days,
            strict=True, source=f"stress {self.params.version} ({self.source})")

    # -- the run -------------------------------------------------------------------------
    def run(self, book: Book, market: MarketSnapshot, *, margin: MarginHeld) -> StressResult:
        """Stress every account of ``book`` against the margin and collateral it holds.

        Raises
        ------
        MissingDataError
            A required window that cannot move a factor the book holds, a price the
            market lacks: never a zero move.
        """
        n = book.n_accounts
        for name in ("initial_margin", "collateral_value"):
            values = getattr(margin, name)
            if values.shape != (n,) or not np.all(np.isfinite(values)):
                raise InputError("must hold one finite value per account",
                                 field=f"margin.{name}")
        spec = _pool()
        pool = value_pool(book, market, by_kind=spec.by_kind, default=spec.default)
        assets = pool.reference.assets
        needs = self.needs(book, assets)
        columns, notes = self.columns(needs, market)
        scenarios = self.scenario_set(columns, needs)
        reval = revalue(book.instruments, market=market, scenarios=scenarios,
                        currency=book.currency, marks=book.marks)
        pnl = _with_basis(reval.pnl, reval.base_value, book.instruments, columns)
        ratio = _asset_ratios(assets, scenarios, market, book.currency)
        self._check_finite(pnl, [inst.label for inst in book.instruments], columns)
        self._check_finite(ratio, [a.name for a in assets], columns)
        loss = ceil_cents(_account_losses(book, pnl))
        ref = pool.reference
        change = sum_rows(pool.value[:, None] * (ratio[ref.asset] - 1.0), into=ref.account,
                          n_into=n)
        # w_a: the share of the pool the margin figure counts (1 unless an allocation
        # left some of it where it cannot serve)
        total = pool.total
        share = np.where(total > 0, np.clip(margin.collateral_value / np.where(
            total > 0, total, 1.0), 0.0, 1.0), 1.0)
        base = margin.collateral_value[:, None]
        collateral = floor_cents(base + share[:, None] * change)
        resources = defaulter_resources(initial_margin=margin.initial_margin,
                                        collateral_base=margin.collateral_value,
                                        collateral=collateral)
        uncovered = ceil_cents(np.maximum(loss - resources, 0.0))
        members, member_of = member_index(book.members, book.account_ids)
        return StressResult(
            as_of=market.as_of, currency=book.currency, account_ids=book.account_ids,
            members=members, member_of=member_of,
            scenarios=tuple(c.scenario for c in columns), loss=loss, margin=margin,
            collateral=collateral, uncovered=uncovered, params=self.params.info(),
            worst_accounts=self.worst_accounts,
            notes=tuple(dict.fromkeys([*notes, *margin.notes, *market.notes.values()])))

    def _check_finite(self, values: FloatArray, rows: Sequence[str],
                      columns: Sequence[ScenarioMoves]) -> None:
        """Refuse a scenario that revalues a row to a non-finite figure, naming both."""
        bad = np.argwhere(~np.isfinite(values))
        if bad.size:
            row, col = (int(x) for x in bad[0])
            raise InputError(f"revalues {rows[row]} to {values[row, col]!r}",
                             field=f"scenario {columns[col].scenario.name}",
                             source=self.source)


def _with_basis(pnl: FloatArray, base_value: FloatArray, instruments: Sequence[Instrument],
                columns: Sequence[ScenarioMoves]) -> FloatArray:
    """Apply each scenario's basis shock to the futures and perpetuals: ``V_s (1 + b)``."""
    rows = [i for i, inst in enumerate(instruments) if isinstance(inst, Future | Perpetual)]
    shocked = [(s, c.basis) for s, c in enumerate(columns) if c.basis is not None]
    if not rows or not shocked:
        return pnl
    out = pnl.copy()
    idx = np.asarray(rows)
    for s, basis in shocked:
        b = np.array([basis(instruments[i].underlying_symbol) for i in rows])
        out[idx, s] += (base_value[idx] + pnl[idx, s]) * b
    return out


def _account_losses(book: Book, pnl: FloatArray) -> FloatArray:
    r"""Loss of every account under every scenario, shape (n_accounts, n_scenarios).

    Notes
    -----
    :math:`L_{a,s} = -\sum_{p \in a} q_p\, \mathrm{pnl}_{i_p,s}`, one ``bincount`` over
    the positions per scenario (a handful of scenarios: the shared kernel's per-call
    set-up would cost more than the sums).
    """
    out = np.zeros((book.n_accounts, pnl.shape[1]))
    account = book.pos_account
    for s in range(pnl.shape[1]):
        out[:, s] = np.bincount(account, weights=-book.pos_quantity * pnl[book.pos_instrument, s],
                                minlength=book.n_accounts)
    return out


def _asset_ratios(assets: Sequence[CollateralAsset], scenarios: ScenarioSet,
                  market: MarketSnapshot, currency: str) -> FloatArray:
    r"""Value of one unit of each collateral asset under each scenario over today's.

    Returns
    -------
    FloatArray, shape (n_assets, n_scenarios)

    Notes
    -----
    :math:`\rho = (1 + r)\,(1 + x_c) / (1 + x_{rep})`: :math:`r` the price move of a
    security, gold or commodity (0 for cash and coins, which move through their FX),
    :math:`x_c` the move of the asset's currency, :math:`x_{rep}` that of the reporting
    currency; a bond is revalued in full.
    """
    out = np.ones((len(assets), scenarios.size))
    report = 1.0 + scenarios.fx_returns(currency)
    bonds = [k for k, a in enumerate(assets) if a.instrument is not None]
    for k, asset in enumerate(assets):
        if asset.instrument is not None:
            continue
        price = 1.0 + scenarios.spot_returns(asset.name) if asset.kind in _PRICED else 1.0
        out[k] = price * (1.0 + scenarios.fx_returns(asset.currency)) / report
    if bonds:
        reval = revalue([assets[k].instrument for k in bonds],  # type: ignore[misc]
                        market=market, scenarios=scenarios, currency=currency)
        out[bonds] = 1.0 + reval.pnl / reval.base_value[:, None]
    return out
