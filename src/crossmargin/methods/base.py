"""What every margin methodology shares: the protocol and the account-level roll-up."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

from crossmargin.book.book import Book
from crossmargin.book.instruments import Instrument
from crossmargin.core.typing import BoolArray, FloatArray, IntArray
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.params.loader import ParamSet
from crossmargin.results.hashing import input_hash
from crossmargin.results.margin import MarginResult
from crossmargin.results.risk import ScenarioRisk

__all__ = [
    "MarginMethod",
    "Scope",
    "Segments",
    "ceil_cents",
    "floor_residue",
    "in_scope",
    "method_result",
    "scenario_risk",
    "segment_positions",
]

#: Losses smaller than this fraction of a segment's gross scenario P&L are rounding
#: residue of offsetting positions (e.g. +q and -q of one instrument), not risk.
RESIDUE = 1e-10


class MarginMethod(Protocol):
    """A methodology: keyword-only parameters from a parameter file, one ``compute``."""

    name: ClassVar[str]

    @property
    def params(self) -> ParamSet:
        """The parameter set the method was built from."""
        ...

    def compute(self, book: Book, market: MarketSnapshot) -> MarginResult:
        """Return the requirements of every account of ``book`` on ``market``."""
        ...


def method_result(method: MarginMethod, book: Book, market: MarketSnapshot, *,
                  initial_margin: FloatArray, maintenance_margin: FloatArray,
                  notes: Iterable[str] = (), **fields: Any) -> MarginResult:
    """Return ``method``'s result on ``book``, stamped with what produced it.

    The result names the method and its parameter set, carries the hash of the book, the
    market and the parameters, and ends its notes with the market's own caveats.

    Parameters
    ----------
    method : MarginMethod
    book : Book
        The book as given (not a method's in-scope part): the hash covers all of it.
    market : MarketSnapshot
    initial_margin, maintenance_margin : FloatArray, shape (n_accounts,)
    notes : iterable of str
        The method's own caveats (positions out of scope, assumptions).
    **fields
        The other fields of :class:`~crossmargin.results.margin.MarginResult`.
    """
    return MarginResult(
        method=method.name, currency=book.currency, as_of=market.as_of,
        params=method.params.info(), input_hash=input_hash(book, market, [method.params]),
        account_ids=book.account_ids, initial_margin=initial_margin,
        maintenance_margin=maintenance_margin,
        notes=(*notes, *market.notes.values()), **fields)


def ceil_cents(amounts: FloatArray) -> FloatArray:
    r"""Round requirements up to the cent (conservative), leaving exact cents unchanged.

    Notes
    -----
    :math:`\lceil 100 x - 10^{-9} |100 x| \rceil / 100`.
    """
    scaled = np.asarray(amounts, dtype=np.float64) * 100.0
    out: FloatArray = np.ceil(scaled - 1e-9 * np.abs(scaled)) / 100.0
    return out


class Segments:
    """Positions regrouped into (account, group) segments in CSR order.

    Attributes
    ----------
    offsets : IntArray, shape (n_segments + 1,)
    instrument : IntArray, shape (n_positions,)
    quantity : FloatArray, shape (n_positions,)
    account : IntArray, shape (n_segments,)
    group : IntArray, shape (n_segments,)
    position : IntArray or None, shape (n_positions,)
        The book's position behind each entry (``None``: the book's positions in order).
    """

    __slots__ = ("account", "group", "instrument", "offsets", "position", "quantity")

    def __init__(self, *, offsets: IntArray, instrument: IntArray, quantity: FloatArray,
                 account: IntArray, group: IntArray, position: IntArray | None = None) -> None:
        self.offsets = offsets
        self.instrument = instrument
        self.quantity = quantity
        self.account = account
        self.group = group
        self.position = position


def segment_positions(book: Book, instrument_group: IntArray, n_groups: int) -> Segments:
    """Split each account's positions by the group of their instrument.

    Parameters
    ----------
    book : Book
    instrument_group : IntArray, shape (n_instruments,)
        Group index of each instrument of the book.
    n_groups : int
        Number of groups.
    """
    pos_account = book.pos_account
    key = pos_account * n_groups + instrument_group[book.pos_instrument]
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    starts = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]]) if key.size else \
        np.empty(0, dtype=np.int64)
    offsets = np.r_[starts, key_sorted.size].astype(np.int64)
    seg_key = key_sorted[starts]
    return Segments(
        offsets=offsets,
        instrument=np.ascontiguousarray(book.pos_instrument[order]),
        quantity=np.ascontiguousarray(book.pos_quantity[order]),
        account=(seg_key // n_groups).astype(np.int64),
        group=(seg_key % n_groups).astype(np.int64),
        position=order,
    )


def scenario_risk(segments: Segments, *, pnl: FloatArray, driver: IntArray,
                  charge: FloatArray, scope: Scope | None = None, **fields: Any
                  ) -> ScenarioRisk:
    """Return what a scenario method's reduction saw, for attribution.

    Parameters
    ----------
    segments : Segments
        The segments the kernel reduced.
    pnl : FloatArray, shape (n_instruments, n_scenarios)
        The P&L matrix as the kernel saw it.
    driver : IntArray, shape (n_segments,)
    charge : FloatArray, shape (n_segments,)
        Each segment's scenario charge after the floor.
    scope : Scope, optional
        The method's scope when it margins part of the book: entries then map back to
        positions of the book as given.
    **fields
        The other fields of :class:`~crossmargin.results.risk.ScenarioRisk` (``tail``,
        ``weights``, ``scale``, ``adjustments``, ``position_addons``).
    """
    position = segments.position if scope is None else scope.original(segments.position)
    return ScenarioRisk(pnl=pnl, offsets=segments.offsets, instrument=segments.instrument,
                        quantity=segments.quantity, position=position,
                        account=segments.account, group=segments.group, driver=driver,
                        charge=charge, **fields)


def floor_residue(loss: FloatArray, segments: Segments, pnl: FloatArray) -> FloatArray:
    r"""Return segment charges :math:`\max(L_g, 0)`, with rounding residue set to zero.

    Parameters
    ----------
    loss : FloatArray, shape (n_segments,)
        Each segment's reduced loss.
    segments : Segments
    pnl : FloatArray, shape (n_instruments, n_scenarios)

    Notes
    -----
    A charge is residue when :math:`L_g \le \epsilon \sum_{p \in g} |q_p|
    \max_s |\mathrm{pnl}_{i_p,s}|` with :math:`\epsilon` = ``RESIDUE``: exactly offsetting
    positions then cost zero rather than a rounded-up cent.
    """
    if loss.size == 0:
        return loss.copy()
    scale = np.abs(pnl).max(axis=1) if pnl.shape[1] else np.zeros(pnl.shape[0])
    seg_of_position = np.repeat(np.arange(loss.size), np.diff(segments.offsets))
    gross = np.bincount(seg_of_position,
                        weights=np.abs(segments.quantity) * scale[segments.instrument],
                        minlength=loss.size)
    out: FloatArray = np.where(loss > RESIDUE * gross, loss, 0.0)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Scope:
    """The part of a book a method margins, and what it leaves out.

    Attributes
    ----------
    book : Book
        The book restricted to the positions the method covers (every account kept).
    excluded : BoolArray, shape (n_positions,)
        Positions of the original book the method does not margin.
    notes : tuple of str
        A caveat naming what was left out (empty when nothing was), for the result.
    """

    book: Book
    excluded: BoolArray
    notes: tuple[str, ...]

    def original(self, position: IntArray | None) -> IntArray | None:
        """Map positions of the in-scope ``book`` to positions of the book as given.

        Parameters
        ----------
        position : IntArray or None, shape (n,)
            Positions of :attr:`book` (``None``: all of them, in order).
        """
        if not self.excluded.any():
            return position
        kept: IntArray = np.flatnonzero(~self.excluded)
        return kept if position is None else kept[position]


def in_scope(book: Book, covers: Callable[[Instrument], bool], *, method: str,
             what: str) -> Scope:
    """Split ``book`` into the positions ``method`` margins and the rest.

    A method never prices what it does not cover as zero silently: the result carries a
    note naming how many positions (and which instruments) it left to other methods.

    Parameters
    ----------
    book : Book
    covers : callable
        ``covers(instrument)`` is true for the instruments the method margins.
    method : str
        The method's name, for the note.
    what : str
        What the method covers, in words (``"equities and equity options"``).
    """
    covered = np.fromiter((covers(i) for i in book.instruments), dtype=bool,
                          count=len(book.instruments))
    keep = covered[book.pos_instrument] if book.n_positions else np.zeros(0, dtype=bool)
    excluded = ~keep
    if not excluded.any():
        return Scope(book=book, excluded=excluded, notes=())
    left = sorted({book.instruments[int(i)].label
                   for i in np.unique(book.pos_instrument[excluded])})
    shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
    note = (f"{method} margins {what}; {int(excluded.sum())} position(s) outside its scope "
            f"are not margined by it ({shown})")
    return Scope(book=book.select_positions(keep), excluded=excluded, notes=(note,))
