r"""Populations: seeded books of many accounts drawn from archetypes, in Parquet.

A population is a :class:`~crossmargin.book.book.Book` of ``n`` accounts on one date,
each drawn from an archetype of :mod:`crossmargin.analytics.archetypes` (market makers,
basis traders, covered-call and protective-put retail, equity hedge funds, Treasury
basis trades, crypto funds, directional books) in the shares of the parameter file's
``mix``, each belonging to one of ``M`` clearing members, each with collateral sized
against a rough requirement. Everything is drawn with numpy over accounts; the same
seed gives the same book and the same file bytes.

Files: ``FILE.parquet`` holds one row per position in the columnar portfolio format
(``account, member, type, <terms>, quantity``), ``FILE.collateral.parquet`` the
balances (``account, asset, amount`` and a pledged note's terms) and
``FILE.accounts.parquet`` each account's archetype, rough requirement and collateral
value; :func:`~crossmargin.book.io.load_portfolio` reads the first two back as the book.

Notes
-----
Account :math:`a` of archetype :math:`k` belongs to member :math:`m` with probability
:math:`m^{-s} / \sum_j j^{-s}` (Zipf, exponent ``member_concentration``). Its rough
requirement is :math:`R_a = \max(G_a, f \sum_p |q_p V_p|)`, the ``grid`` method's
initial margin on its positions, at least the share :math:`f` (``rough_floor``) of the
gross value of its positions (a hedge the grid nets to nothing still posts some); it
pledges :math:`X_a R_a` of collateral, :math:`X_a` lognormal with the archetype's
median and log-standard deviation, split over assets in the archetype's shares (a
share whose asset the date cannot value goes to cash), so that the accounts with
:math:`X_a < 1` are short of it.

References
----------
.. [1] G. K. Zipf, Human Behavior and the Principle of Least Effort, Addison-Wesley,
   1949 (rank-size distribution, used for the sizes of clearing members).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crossmargin.analytics.archetypes import ARCHETYPES, Draw, Universe, treasury_notes
from crossmargin.analytics.settings import Settings
from crossmargin.book.book import Book, Collateral
from crossmargin.book.instruments import Bond, Instrument
from crossmargin.book.io import book_metadata, load_portfolio
from crossmargin.book.records import instrument_record
from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.market.build import snapshot_from_history
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.registry import get_method
from crossmargin.params.loader import ParamSet, load_params

__all__ = [
    "Population",
    "generate_population",
    "load_population",
    "population",
    "sidecar",
    "write_population",
]

#: Seed streams: one per purpose, one per archetype (by its place in ``ARCHETYPES``), so
#: that an archetype's draws do not depend on which others are in the mix.
_LAYOUT, _MEMBERS, _COLLATERAL, _ARCHETYPE = 0, 1, 2, 10
#: The collateral asset that stands for a pledged Treasury note.
_NOTE = "UST"
_CASH_STEP, _COIN_STEP = 0.01, 1e-8
#: Decimals amounts are written with (a multiple of a step, not the float next to it).
_DECIMALS = 9

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Population:
    """A generated book and what each account was drawn as.

    Attributes
    ----------
    book : Book
        The accounts, their positions, collateral and clearing members.
    archetypes : tuple of str
        The archetypes drawn, in the order of ``ARCHETYPES``.
    archetype : IntArray, shape (n_accounts,)
        Index into ``archetypes`` of each account.
    rough_requirement : FloatArray, shape (n_accounts,)
        The ``grid`` initial margin collateral was sized against (reporting currency).
    collateral_value : FloatArray, shape (n_accounts,)
        Value of the collateral pledged, before haircuts (reporting currency).
    notes : tuple of str
        Archetypes or legs the date could not support and why, then the market's caveats.
    """

    book: Book
    archetypes: tuple[str, ...]
    archetype: IntArray
    rough_requirement: FloatArray
    collateral_value: FloatArray
    notes: tuple[str, ...] = ()

    def labels(self) -> tuple[str, ...]:
        """Return the archetype of each account by name."""
        names = np.asarray(self.archetypes, dtype=object)
        return tuple(names[self.archetype])


def generate_population(n_accounts: int, *, as_of: date, seed: int,
                        members: int | None = None, mix: Mapping[str, float] | None = None,
                        market: MarketSnapshot | None = None,
                        params: ParamSet | None = None) -> Book:
    """Return the book of :func:`population` (same arguments)."""
    return population(n_accounts, as_of=as_of, seed=seed, members=members, mix=mix,
                      market=market, params=params).book


def population(n_accounts: int, *, as_of: date, seed: int, members: int | None = None,
               mix: Mapping[str, float] | None = None, market: MarketSnapshot | None = None,
               params: ParamSet | None = None) -> Population:
    """Draw a population of ``n_accounts`` accounts on ``as_of``.

    Parameters
    ----------
    n_accounts : int
        Number of accounts (at least one).
    as_of : date
        Valuation date: every contract is listed and priced on it.
    seed : int
        Seed (non-negative); the same seed and inputs give the same population.
    members : int, optional
        Number of clearing members (default from the parameter file).
    mix : mapping of str to float, optional
        Weight of each archetype (default from the parameter file). An archetype named
        here that the date cannot support is an error; with the default mix it is left
        out, its share going to the others, and a note says why.
    market : MarketSnapshot, optional
        The market on ``as_of`` (default: the bundled history on that date).
    params : ParamSet, optional
        The population parameters (default: the latest bundled ``populations`` file).

    Raises
    ------
    InputError
        Bad arguments or parameters, or no archetype (or an archetype of ``mix``) that
        the date can support, naming the archetype and the missing data.
    """
    _check_count(n_accounts, "n_accounts")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError("must be a non-negative whole number", field="seed", value=seed)
    market = market or snapshot_from_history(as_of)
    if market.as_of != as_of:
        raise InputError(f"the market is for {market.as_of.isoformat()}", field="as_of",
                         value=as_of.isoformat())
    params = params or load_params("populations")
    source = params.path or params.id
    settings = Settings(data=params.parameters)
    n_members = _check_count(
        _located(source, lambda: settings.count("members")) if members is None else members,
        "members")
    concentration = _located(source, lambda: settings.number("member_concentration",
                                                             low=0.0))
    weights = _weights(_located(source, lambda: settings.shares("mix")), "mix") \
        if mix is None else _weights(dict(mix), "mix")
    universe = Universe(market=market, settings=settings)
    draws, gaps = _prepare(universe, weights, explicit=mix is not None, source=source)
    counts = _apportion(n_accounts, np.array([w for _, w in draws.values()]))
    names = tuple(n for n, c in zip(draws, counts, strict=True) if c > 0)
    codes = np.repeat(np.arange(len(names)), counts[counts > 0])
    archetype = np.random.default_rng([seed, _LAYOUT]).permutation(codes).astype(np.int64)
    book = _positions(universe, [draws[n][0] for n in names], names, archetype, seed,
                      members=_members(n_accounts, n_members, concentration, seed))
    floor = _located(source, lambda: settings.sub("collateral").number(
        "rough_floor", low=0.0, high=1.0))
    rough = _rough_requirement(universe, book, floor=floor)
    collateral, value, notes = _located(
        source, lambda: _collateral(universe, names, archetype, rough, seed))
    book = Book(as_of=as_of, currency=book.currency, account_ids=book.account_ids,
                instruments=book.instruments, account_offsets=book.account_offsets,
                pos_instrument=book.pos_instrument, pos_quantity=book.pos_quantity,
                marks=book.marks, collateral=collateral, orders=book.orders,
                source=book.source, members=book.members)
    return Population(book=book, archetypes=names, archetype=archetype,
                      rough_requirement=rough, collateral_value=value,
                      notes=(*gaps, *universe.notes, *notes, *market.notes.values()))


def _rough_requirement(universe: Universe, book: Book, *, floor: float) -> FloatArray:
    """Return each account's ``grid`` margin, at least ``floor`` of its gross value."""
    unit = universe.value(np.array([universe.row(i) for i in book.instruments]),
                          what="population")
    gross = np.bincount(book.pos_account, weights=np.abs(book.pos_quantity * unit[
        book.pos_instrument]), minlength=book.n_accounts)
    grid = get_method("grid").compute(book, universe.market).initial_margin
    out: FloatArray = np.maximum(grid, floor * gross)
    return out


def _check_count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError("must be a whole number of at least 1", field=field, value=value)
    return int(value)


def _located(source: str, call: Callable[[], T]) -> T:
    """Return ``call()``; a parameter error names the parameter file (data gaps do not)."""
    try:
        return call()
    except MissingDataError:
        raise
    except InputError as err:
        raise err.located(source) from None


def _weights(given: Mapping[str, Any], where: str) -> dict[str, float]:
    """Return the positive weight of each archetype, in the order of ``ARCHETYPES``."""
    for name, weight in given.items():
        if name not in ARCHETYPES:
            raise InputError(f"unknown archetype (known: {', '.join(ARCHETYPES)})",
                             field=f"{where}.{name}", value=weight)
        if isinstance(weight, bool) or not (isinstance(weight, int | float)
                                             and np.isfinite(weight) and weight >= 0):
            raise InputError("must be a non-negative number", field=f"{where}.{name}",
                             value=weight)
    if sum(given.values()) <= 0:
        raise InputError("must give at least one positive weight", field=where,
                         value=dict(given))
    return {name: float(given[name]) for name in ARCHETYPES if given.get(name, 0) > 0}


def _prepare(universe: Universe, weights: Mapping[str, float], *, explicit: bool,
             source: str) -> tuple[dict[str, tuple[Draw, float]], list[str]]:
    """Prepare each weighted archetype; leave out (or refuse) those the date cannot support."""
    draws: dict[str, tuple[Draw, float]] = {}
    gaps: list[str] = []
    day = universe.as_of.isoformat()
    for name, weight in weights.items():
        try:
            draws[name] = (_located(source, partial(ARCHETYPES[name], universe)), weight)
        except MissingDataError as err:
            if explicit:
                raise InputError(f"cannot be generated on {day}: {err.reason}",
                                 field=f"mix.{name}", value=weight) from None
            gaps.append(f"{name} left out on {day}: {err.reason}")
    if not draws:
        raise InputError(f"no archetype can be generated on this date ({gaps[0]})",
                         field="as_of", value=day)
    return draws, gaps


def _apportion(n: int, weights: FloatArray) -> IntArray:
    """Split ``n`` accounts in proportion to ``weights`` (largest remainders, in order)."""
    scaled = weights / weights.max()  # the sum of huge weights would overflow
    exact = n * scaled / scaled.sum()
    counts = np.floor(exact).astype(np.int64)
    extra = np.argsort(-(exact - counts), kind="stable")[: n - int(counts.sum())]
    counts[extra] += 1
    out: IntArray = counts
    return out


def _members(n: int, m: int, concentration: float, seed: int) -> tuple[str, ...]:
    """Return each account's clearing member, Zipf-distributed over ``m`` members."""
    names = np.asarray([f"CM{k + 1:0{len(str(m))}d}" for k in range(m)], dtype=object)
    weight = np.arange(1, m + 1, dtype=np.float64) ** -concentration
    pick = np.random.default_rng([seed, _MEMBERS]).choice(m, size=n, p=weight / weight.sum())
    return tuple(names[pick])


def _positions(universe: Universe, draws: list[Draw], names: tuple[str, ...],
               archetype: IntArray, seed: int, *, members: tuple[str, ...]) -> Book:
    """Draw every archetype's legs and lay them out as one book (no collateral yet)."""
    n = archetype.size
    acct, inst, qty = [], [], []
    for code, (name, draw) in enumerate(zip(names, draws, strict=True)):
        idx = np.flatnonzero(archetype == code)
        rng = np.random.default_rng([seed, _ARCHETYPE + list(ARCHETYPES).index(name)])
        legs = draw(idx.size, rng)
        acct.append(np.repeat(idx, legs.quantity.shape[1]))
        inst.append(legs.instrument.ravel())
        qty.append(legs.quantity.ravel())
    account, instrument, quantity = (np.concatenate(x) for x in (acct, inst, qty))
    keep = quantity != 0
    order = np.argsort(account[keep], kind="stable")
    account, instrument = account[keep][order], instrument[keep][order]
    used, first = np.unique(instrument, return_index=True)
    held = used[np.argsort(first)]  # instruments in the order positions first hold them
    row = np.empty(len(universe.instruments), dtype=np.int64)
    row[held] = np.arange(held.size)
    width = max(6, len(str(n - 1)))
    return Book(
        as_of=universe.as_of, currency=universe.currency,
        account_ids=tuple(f"A{a:0{width}d}" for a in range(n)),
        instruments=tuple(universe.instruments[int(i)] for i in held),
        account_offsets=np.r_[0, np.cumsum(np.bincount(account, minlength=n))].astype(np.int64),
        pos_instrument=row[instrument], pos_quantity=quantity[keep][order],
        marks=np.full(held.size, np.nan), collateral=((),) * n, orders=((),) * n,
        source="population", members=members)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Pledge:
    asset: str
    instrument: Instrument | None
    unit: float  # value of one unit in the reporting currency
    step: float


def _pledges(universe: Universe, assets: Mapping[str, float], where: str, notes: list[str],
             cache: dict[str, _Pledge | str]) -> list[tuple[_Pledge, float]]:
    """Resolve collateral asset names; a share the date cannot value goes to cash."""
    cash = universe.currency
    out: dict[str, tuple[_Pledge, float]] = {}
    for name, share in assets.items():
        if name not in cache:
            cache[name] = _pledge(universe, name, f"{where}.{name}")
            if isinstance(cache[name], str):
                notes.append(f"collateral: {name} pledged as {cash} cash instead ({cache[name]})")
        found = cache[name]
        pledge = found if isinstance(found, _Pledge) else _Pledge(
            asset=cash, instrument=None, unit=1.0, step=_CASH_STEP)
        prev = out.get(pledge.asset, (pledge, 0.0))[1]
        out[pledge.asset] = (pledge, prev + share)
    total = sum(s for _, s in out.values())
    return [(p, s / total) for p, s in out.values() if s > 0]


def _pledge(universe: Universe, name: str, field: str) -> _Pledge | str:
    """Return how ``name`` is pledged on the date, or why it cannot be."""
    ref, market = refdata(), universe.market
    try:
        if name == universe.currency:
            return _Pledge(asset=name, instrument=None, unit=1.0, step=_CASH_STEP)
        if name in ref.stablecoins:
            return _Pledge(asset=name, instrument=None,
                           unit=market.fx_rate(name, to=universe.currency), step=_CASH_STEP)
        if name in ref.coins:
            return _Pledge(asset=name, instrument=None, unit=market.price(name),
                           step=_COIN_STEP)
        if name == _NOTE:
            spec = universe.settings.sub("collateral")
            row = universe.add(treasury_notes(universe, [spec.number("note_years", low=0.5)]))
            note = universe.instruments[int(row[0])]
            assert isinstance(note, Bond)
            return _Pledge(asset=note.symbol, instrument=note,
                           unit=float(universe.value(row, what="Treasury note")[0]),
                           step=spec.number("face_step", low=1.0))
    except MissingDataError as err:
        return err.reason
    raise InputError(f"unknown collateral asset (use {universe.currency}, a stablecoin, a "
                     f"coin or {_NOTE})", field=field)


def _collateral(universe: Universe, names: tuple[str, ...], archetype: IntArray,
                rough: FloatArray, seed: int
                ) -> tuple[tuple[tuple[Collateral, ...], ...], FloatArray, list[str]]:
    """Pledge each account a lognormal multiple of its rough requirement."""
    n = archetype.size
    rng = np.random.default_rng([seed, _COLLATERAL])
    balances: list[tuple[Collateral, ...]] = [()] * n
    value = np.zeros(n)
    notes: list[str] = []
    cache: dict[str, _Pledge | str] = {}
    for code, name in enumerate(names):
        spec = universe.settings.sub("archetypes").sub(name).sub("collateral")
        pledges = _pledges(universe, spec.shares("assets"), spec.field("assets"), notes, cache)
        idx = np.flatnonzero(archetype == code)
        median, sigma = spec.lognormal("multiple")
        target = rough[idx] * median * np.exp(sigma * rng.standard_normal(idx.size))
        unit = np.array([p.unit for p, _ in pledges])
        step = np.array([p.step for p, _ in pledges])
        share = np.array([s for _, s in pledges])
        amount = np.round(np.round(target[:, None] * share / unit / step) * step, _DECIMALS)
        value[idx] = amount @ unit
        kinds = [(p.asset, p.instrument) for p, _ in pledges]
        for a, row in zip(idx.tolist(), amount.tolist(), strict=True):
            balances[a] = tuple(Collateral(asset=asset, amount=x, instrument=terms)
                                for (asset, terms), x in zip(kinds, row, strict=True) if x)
    return tuple(balances), value, notes


# -- files ---------------------------------------------------------------------------------


def sidecar(path: str | Path, kind: str) -> Path:
    """Return the sidecar ``<stem>.<kind>.parquet`` of a population file."""
    path = Path(path)
    return path.with_name(f"{path.stem}.{kind}.parquet")


def _categorical(codes: IntArray, categories: list[str] | tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(categories), dtype=object))


def _column(values: list[Any], rows: IntArray) -> Any:
    """One column of the instruments' terms, taken for ``rows``: numbers or categories."""
    present = [v for v in values if v is not None]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return np.array([np.nan if v is None else float(v) for v in values])[rows]
    categories = sorted({str(v) for v in present})
    index = {c: k for k, c in enumerate(categories)}
    codes = np.array([-1 if v is None else index[str(v)] for v in values], dtype=np.int64)
    return _categorical(codes[rows], categories)


def _member_column(book: Book, rows: IntArray) -> pd.Categorical:
    names, codes = np.unique(np.asarray(book.members, dtype=object), return_inverse=True)
    return _categorical(np.asarray(codes, dtype=np.int64)[rows], [str(m) for m in names])


def _positions_frame(book: Book) -> pd.DataFrame:
    records = [instrument_record(i) for i in book.instruments]
    keys = list(dict.fromkeys(k for r in records for k in r))
    account = book.pos_account
    columns: dict[str, Any] = {"account": _categorical(account, book.account_ids)}
    if book.members:
        columns["member"] = _member_column(book, account)
    for key in keys:
        columns[key] = _column([r.get(key) for r in records], book.pos_instrument)
    columns["quantity"] = book.pos_quantity
    if np.isfinite(book.marks).any():
        columns["mark"] = book.marks[book.pos_instrument]
    return pd.DataFrame(columns)


#: Terms of a pledged bond written in the collateral sidecar.
_BOND_TERMS = ("type", "coupon", "maturity", "curve", "frequency", "currency")


def _collateral_frame(book: Book) -> pd.DataFrame:
    account: list[int] = []
    lines: list[Collateral] = []
    for a, balances in enumerate(book.collateral):
        account.extend([a] * len(balances))
        lines.extend(balances)
    assets = sorted({c.asset for c in lines})
    index = {asset: k for k, asset in enumerate(assets)}
    columns: dict[str, Any] = {
        "account": _categorical(np.asarray(account, dtype=np.int64), book.account_ids),
        "asset": _categorical(np.array([index[c.asset] for c in lines], dtype=np.int64),
                              assets),
        "amount": np.array([c.amount for c in lines], dtype=np.float64),
    }
    bonds = {c.instrument: c.asset for c in lines if c.instrument is not None}
    if bonds:
        terms = {bond: _bond_terms(bond, asset) for bond, asset in bonds.items()}
        order = list(terms)
        row = {bond: k for k, bond in enumerate(order)}
        which = np.array([-1 if c.instrument is None else row[c.instrument] for c in lines],
                         dtype=np.int64)
        for key in _BOND_TERMS:
            values = [terms[b][key] for b in order] + [None]
            columns[key] = _column(values, np.where(which < 0, len(order), which))
    return pd.DataFrame(columns)


def _bond_terms(bond: Instrument, asset: str) -> dict[str, Any]:
    if not isinstance(bond, Bond) or bond.symbol != asset:
        raise InputError("a pledged security is written as a bond whose symbol is the "
                         "asset", field="collateral.asset", value=asset)
    return instrument_record(bond)


def _accounts_frame(pop: Population) -> pd.DataFrame:
    book = pop.book
    rows = np.arange(book.n_accounts, dtype=np.int64)
    columns: dict[str, Any] = {"account": _categorical(rows, book.account_ids)}
    if book.members:
        columns["member"] = _member_column(book, rows)
    columns["archetype"] = _categorical(pop.archetype, pop.archetypes)
    columns["rough_requirement"] = pop.rough_requirement
    columns["collateral_value"] = pop.collateral_value
    return pd.DataFrame(columns)


def write_population(population: Population | Book, path: str | Path) -> tuple[Path, ...]:
    """Write a population (or any book) as Parquet: positions and sidecars.

    Every file is written to a temporary name beside its target and renamed into place
    only once all are written, so an error leaves no file half-written.

    Parameters
    ----------
    population : Population or Book
        A population also writes ``<stem>.accounts.parquet`` (archetypes); a book removes
        a stale one.
    path : str or Path
        The ``.parquet`` file of positions; ``<stem>.collateral.parquet`` goes beside it.

    Returns
    -------
    tuple of Path
        The files written.

    Raises
    ------
    InputError
        Not a ``.parquet`` path, a CSV collateral sidecar beside it (it would be read
        with the new file), or an instrument or pledge a portfolio file cannot express.
    """
    path = Path(path)
    if path.suffix.lower() != ".parquet":
        raise InputError("a population is written as a .parquet file", field="path",
                         value=str(path))
    stale = path.with_name(f"{path.stem}.collateral.csv")
    if stale.exists():
        raise InputError("a CSV collateral sidecar is in the way (it would be read with the "
                         "new file)", source=str(stale))
    book = population.book if isinstance(population, Population) else population
    frames = {path: _positions_frame(book), sidecar(path, "collateral"): _collateral_frame(book)}
    if isinstance(population, Population):
        frames[sidecar(path, "accounts")] = _accounts_frame(population)
    path.parent.mkdir(parents=True, exist_ok=True)
    temps: dict[Path, str] = {}
    try:
        for target, frame in frames.items():
            fd, temps[target] = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                                 suffix=".tmp")
            os.close(fd)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if target == path:
                table = table.replace_schema_metadata(
                    {**(table.schema.metadata or {}), **book_metadata(book)})
            pq.write_table(table, temps[target])
        for target in frames:
            os.replace(temps.pop(target), target)
    finally:
        for tmp in temps.values():
            Path(tmp).unlink(missing_ok=True)
    if not isinstance(population, Population):
        sidecar(path, "accounts").unlink(missing_ok=True)
    return tuple(frames)


def load_population(path: str | Path, *, as_of: date | None = None) -> Population:
    """Read a population written by :func:`write_population`.

    Raises
    ------
    InputError
        The file or its accounts sidecar is missing or does not match the book.
    """
    book = load_portfolio(path, as_of=as_of)
    side = sidecar(path, "accounts")
    if not side.is_file():
        raise InputError("file not found (a population file has an accounts sidecar)",
                         source=str(side))
    frame = pd.read_parquet(side)
    try:
        frame = frame.set_index(frame["account"].astype(str)).reindex(list(book.account_ids))
        names = frame["archetype"].astype(object)
        unknown = sorted({str(a) for a in names.dropna()} - set(ARCHETYPES))
        if names.isna().any() or unknown:
            raise InputError("every account needs a known archetype", field="archetype",
                             value=unknown[0] if unknown else None)
        present = [a for a in ARCHETYPES if a in set(names)]
        code = {a: k for k, a in enumerate(present)}
        return Population(
            book=book, archetypes=tuple(present),
            archetype=np.array([code[a] for a in names], dtype=np.int64),
            rough_requirement=frame["rough_requirement"].to_numpy(dtype=np.float64),
            collateral_value=frame["collateral_value"].to_numpy(dtype=np.float64))
    except KeyError as err:
        raise InputError("column is required", source=str(side), field=str(err)) from None
    except InputError as err:
        raise err.located(str(side)) from None
