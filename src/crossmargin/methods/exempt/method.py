r"""Margin of US government obligations under FINRA Rule 4210(e)(2)(A).

Treasury notes and bonds held in a securities account are margined at a share of their
market value that grows with the time to maturity; the rule applies to net long and net
short positions alike, and a short position also holds its proceeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from crossmargin.book.book import Book
from crossmargin.book.instruments import Bond, Instrument
from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_number
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.base import ceil_cents, in_scope, method_result
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.pricing.revalue import revalue, year_fraction
from crossmargin.results.margin import MarginResult
from crossmargin.scenarios.base import ScenarioSet

__all__ = ["ExemptSecurities"]


def _covers(instrument: Instrument) -> bool:
    return isinstance(instrument, Bond) and instrument.curve == "UST"


def _buckets(raw: Any) -> tuple[tuple[float, float], ...]:
    if not isinstance(raw, Sequence) or not raw:
        raise InputError("must be a list of [years, share] pairs", field="maturity_buckets")
    out = []
    for k, pair in enumerate(raw):
        if not isinstance(pair, Sequence) or len(pair) != 2:
            raise InputError("must be a [years, share] pair", field=f"maturity_buckets[{k}]",
                             value=pair)
        out.append((parse_number(pair[0], field=f"maturity_buckets[{k}][0]"),
                    parse_number(pair[1], field=f"maturity_buckets[{k}][1]", positive=True)))
    years = [y for y, _ in out]
    if years[0] != 0 or years != sorted(set(years)):
        raise InputError("bucket bounds must start at 0 and increase",
                         field="maturity_buckets", value=years)
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ExemptSecurities:
    r"""FINRA 4210(e)(2)(A) margin of US Treasury notes and bonds.

    Parameters
    ----------
    params : ParamSet
    maturity_buckets : tuple of (float, float)
        Lower bound of each maturity bucket in years and its share of market value.
    initial_factor : float
        Initial margin as a multiple of the maintenance requirement.

    Notes
    -----
    For a holding of market value :math:`V` (full price times face) and years to
    maturity :math:`T` in the bucket of share :math:`p(T)`:

    .. math:: MM = p(T)\,|V| + \max(-V, 0), \qquad IM = f \cdot p(T)\,|V| + \max(-V, 0),

    the second term being the proceeds a short position holds.

    References
    ----------
    .. [1] FINRA Rule 4210(e)(2)(A), obligations of the United States.
    .. [2] Regulation T, 12 CFR 220.12(c): exempted securities, good faith margin.
    """

    name: ClassVar[str] = "exempt"
    params: ParamSet
    maturity_buckets: tuple[tuple[float, float], ...]
    initial_factor: float = 1.0

    @classmethod
    def from_params(cls, params: ParamSet | None = None) -> ExemptSecurities:
        """Build the method from a parameter set (the latest bundled one by default)."""
        params = params or load_params("exempt")
        p = params.parameters
        try:
            return cls(params=params, maturity_buckets=_buckets(p.get("maturity_buckets")),
                       initial_factor=parse_number(p.get("initial_factor", 1.0),
                                                   field="initial_factor", positive=True))
        except InputError as err:
            raise err.located(params.path or params.id) from None

    def share(self, years: np.ndarray) -> np.ndarray:
        """Return the share of market value for each time to maturity in years."""
        bounds = np.asarray([b for b, _ in self.maturity_buckets])
        shares = np.asarray([s for _, s in self.maturity_buckets])
        out: np.ndarray = shares[np.searchsorted(bounds, years, side="right") - 1]
        return out

    def compute(self, book: Book, market: MarketSnapshot) -> MarginResult:
        """Return every account's requirement on its Treasury notes and bonds."""
        scope = in_scope(book, _covers, method=self.name, what="US Treasury notes and bonds")
        held = scope.book
        n = book.n_accounts
        if held.n_positions == 0:
            zero = np.zeros(n)
            return method_result(self, book, market, initial_margin=zero,
                                 maintenance_margin=zero, notes=scope.notes)
        base = revalue(held.instruments, market=market,
                       scenarios=ScenarioSet(names=("today",), strict=False),
                       currency=book.currency, marks=held.marks).base_value
        years = np.asarray([year_fraction(market.as_of, i.maturity)  # type: ignore[attr-defined]
                            for i in held.instruments])
        value = base[held.pos_instrument] * held.pos_quantity
        margin = self.share(years)[held.pos_instrument] * np.abs(value)
        proceeds = np.maximum(-value, 0.0)
        account = held.pos_account

        def per_account(x: np.ndarray) -> np.ndarray:
            return np.bincount(account, weights=x, minlength=n).astype(np.float64)

        mm = per_account(margin + proceeds)
        im = per_account(self.initial_factor * margin + proceeds)
        return method_result(
            self, book, market, initial_margin=ceil_cents(np.maximum(im, mm)),
            maintenance_margin=ceil_cents(mm),
            components={"treasuries": per_account(margin),
                        "short_proceeds": per_account(proceeds)},
            notes=scope.notes)
