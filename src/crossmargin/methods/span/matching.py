"""Find the contract of a risk-parameter file that a booked instrument is.

A future matches a ``fut`` of a futures portfolio whose ``pfCode`` is the future's
``underlying`` and whose period ``pe`` (``YYYYMM`` or ``YYYYMMDD``) holds its expiry (a
Treasury or short-rate future alike: its ``underlying`` is the curve, e.g. ``UST``); an
option on a future matches an ``opt`` of an options-on-futures portfolio (an option on a
physical, of an options-on-physicals portfolio) by the same rule plus right and strike.
The contract value factor must equal the instrument's multiplier: the risk arrays are per
contract, so a different contract size would scale every charge wrongly.
"""

from __future__ import annotations

import numpy as np

from crossmargin.book.instruments import Future, FutureOption, Instrument, Option
from crossmargin.core.errors import InputError
from crossmargin.methods.span.model import (
    CALL,
    FUTURE,
    OPTION,
    PUT,
    PortfolioType,
    RiskParameters,
    period_bounds,
    period_of,
)

__all__ = ["ContractIndex"]

#: Relative tolerance of strike and contract size comparisons.
REL = 1e-9


class ContractIndex:
    """Contracts of a risk-parameter file by product code, for matching instruments."""

    def __init__(self, params: RiskParameters) -> None:
        c = params.contracts
        self._params = params
        self._lo, self._hi = period_bounds(c.period)
        types = np.asarray([pf.type.value for pf in params.portfolios], dtype=object)
        self._type = types[c.portfolio] if len(c) else np.empty(0, dtype=object)
        order = np.argsort(c.portfolio, kind="stable")
        bounds = np.searchsorted(c.portfolio[order], np.arange(len(params.portfolios) + 1))
        rows: dict[str, list[np.ndarray]] = {}
        for k, pf in enumerate(params.portfolios):
            rows.setdefault(pf.code, []).append(order[bounds[k]:bounds[k + 1]])
        self._rows = {code: np.concatenate(parts) for code, parts in rows.items()}
        self._option_codes = {pf.code for pf in params.portfolios
                              if pf.type in (PortfolioType.OOF, PortfolioType.OOP)}

    def covers(self, inst: Instrument) -> bool:
        """Return whether SPAN margins ``inst`` with this file.

        Futures and options on futures always (a missing contract is then an error);
        options on physicals when the file has an options portfolio for their
        underlying; nothing else (equities, spot, perpetuals, bonds).
        """
        if isinstance(inst, Future | FutureOption):
            return True
        return isinstance(inst, Option) and inst.underlying in self._option_codes

    def find(self, inst: Instrument) -> int:
        """Return the contract row of ``inst``.

        Raises
        ------
        InputError
            No product, no contract for the expiry (or right and strike), a contract
            value factor other than the multiplier, or two contracts that both match.
        """
        source = self._params.source
        code = inst.underlying_symbol
        rows = self._rows.get(code)
        if rows is None:
            raise InputError(f"no product {code} (pfCode) in the risk-parameter file",
                             source=source, field="instrument", value=inst.label)
        c = self._params.contracts
        if isinstance(inst, Future):
            kind, types, expiry, size = FUTURE, ("FUT",), inst.expiry, inst.multiplier
            right, strike = 0, float("nan")
        elif isinstance(inst, FutureOption | Option):
            kind, expiry, size = OPTION, inst.expiry, inst.multiplier
            types = ("OOF",) if isinstance(inst, FutureOption) else ("OOP",)
            right, strike = (CALL if inst.is_call else PUT), inst.strike
        else:
            raise InputError("SPAN margins futures and options only", source=source,
                             field="instrument", value=inst.label)
        day = period_of(expiry)
        mask = ((c.kind[rows] == kind) & np.isin(self._type[rows], types)
                & (self._lo[rows] <= day) & (day <= self._hi[rows]))
        if kind == OPTION:
            mask &= (c.right[rows] == right) & np.isclose(c.strike[rows], strike, rtol=REL,
                                                           atol=0.0)
        found = rows[mask]
        if found.size == 0:
            raise InputError(f"no contract of product {code} for this expiry"
                             f"{' and strike' if kind == OPTION else ''} "
                             f"({expiry.isoformat()})", source=source, field="instrument",
                             value=inst.label)
        same = found[np.isclose(c.cvf[found], size, rtol=REL, atol=0.0)]
        if same.size == 0:
            raise InputError(f"contract value factor {c.cvf[found[0]]:g} differs from the "
                             f"multiplier {size:g}", source=source, field="instrument",
                             value=inst.label)
        if same.size > 1:
            same = same[c.period[same] == day] if (c.period[same] == day).any() else same
        if same.size > 1:
            raise InputError(f"{same.size} contracts of product {code} match", source=source,
                             field="instrument", value=inst.label)
        return int(same[0])
