r"""Stream a SPAN 4 XML risk-parameter file into a :class:`RiskParameters` model.

The reader feeds the file, 16 KiB at a time, to :class:`xml.etree.ElementTree.XMLParser`
with the C tree builder, whose elements grow under a ``document`` element the reader
opened itself. After each piece it walks the open path (the last child of each
container): every earlier child is complete, so it is handled (a contract ``fut``,
``opt``, ``phy``, a ``series``, a portfolio, a ``ccDef``, ...) and dropped, children
before parents, in document order. The tree never holds more than the open path, one
piece of the file and the small fields its open containers still need. Python code runs
only for the elements a handler reads; an event per element
(:func:`~xml.etree.ElementTree.iterparse`) would run it for every one, each risk array
value included. A contract's risk array is converted as the contract is read, into one
buffer that becomes the model's array without a copy; its other fields are converted a
batch of :data:`_BATCH` contracts at a time (small enough to stay in cache), by Arrow's
string cast where the texts allow. Memory follows the size of the model, not of the
file. Definitions repeat their parts (tiers, legs, rates): each distinct one is built
once and shared.

The file may also come zip-archived (one member, as CME publishes ``.spn.zip`` files) or
gzip-compressed: the reader streams the decompressed bytes, told apart by their leading
magic bytes, not by the name; ``sha256`` is the digest of the XML itself, so an archive
and its content give the same model.

The root may be ``spanFile`` (as CME and NSE publish), ``spn``, ``pointInTime`` or a bare
``clearingOrg``. Every malformed value raises :class:`InputError` naming the file, the
element path (``futPf[pfCode=ES]/fut[3]/ra/a[5]``) and the value.

Notes
-----
Handled elements: ``pointInTime/date``, ``clearingOrg/ec``, ``pbRateDef``, ``curConv``,
``pointDef/scanPointDef``, ``futPf``/``oofPf``/``oopPf``/``phyPf`` with ``fut``,
``series``/``opt`` and ``phy`` contracts (``cId``, ``pe``, ``o``, ``k``, ``p``, ``d``,
``cvf``, ``sc``, ``undC``, ``scanRate``, ``ra``), ``ccDef`` (``pfLink``, ``intraTiers``,
``interTiers``, ``somTiers``, ``spotRate``, ``dSpread`` with ``tLeg`` or ``pLeg``) and
``interSpreads/dSpread``, found under the containers ``spanFile``, ``spn``,
``pointInTime``, ``clearingOrg``, ``exchange``, the portfolios and ``series``. Other
elements are skipped. Where a contract has several ``scanRate`` or ``ra`` elements, the
one of the maintenance rate (``r``) is kept.

References
----------
.. [1] CME Group, "SPAN risk parameter file layouts", XML format (element names).
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import lzma
import math
import sys
import xml.etree.ElementTree as ET
import zipfile
import zlib
from array import array
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import date
from operator import attrgetter
from pathlib import Path
from typing import Protocol, cast

import numpy as np
import pyarrow as pa

from crossmargin.core.errors import InputError
from crossmargin.methods.span.model import (
    CALL,
    FUTURE,
    NO_RIGHT,
    OPEN_PERIOD,
    OPTION,
    PHYSICAL,
    PUT,
    SCENARIOS,
    CombinedCommodity,
    Contracts,
    CurrencyConversion,
    Portfolio,
    PortfolioLink,
    PortfolioType,
    Rate,
    RateDefinition,
    RiskParameters,
    ScanPoints,
    SpotRate,
    Spread,
    SpreadLeg,
    Tier,
    maintenance_rate,
)

__all__ = ["FEED_BYTES", "ROOTS", "read_risk_parameters"]

#: Container elements a file must have (its root, or within it).
ROOTS = frozenset({"spanFile", "spn", "pointInTime", "clearingOrg"})
_PORTFOLIOS = {t.element: t for t in PortfolioType}
_PF_TYPES = {t.value: t for t in PortfolioType}
_KINDS = {"fut": FUTURE, "opt": OPTION, "phy": PHYSICAL}
_RIGHTS = {"C": CALL, "P": PUT}
#: Bytes fed to the parser at once: small enough for the new elements to stay in cache
#: until they are handled.
FEED_BYTES = 1 << 14
#: Elements walked into: they hold the handled elements.
_CONTAINERS = frozenset({*ROOTS, "exchange", "futPf", "oofPf", "oopPf", "phyPf", "series"})
#: The element the reader opens around the file's root.
_DOCUMENT = "document"


#: The range of the integer fields (held as int64).
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _where(path: str, name: str) -> str:
    return f"{path}/{name}" if path and name else path or name


class _Values:
    """Strict conversion of element texts, with the element path in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, reason: str, where: str, value: object = None, name: str = ""
             ) -> InputError:
        return InputError(reason, source=self.source, field=_where(where, name), value=value,
                          has_value=value is not None)

    def given(self, text: str | None, where: str, name: str, required: bool) -> str | None:
        """Return ``text``, or ``None`` when it is empty and not ``required``."""
        if text is None or not text.strip():
            if required:
                raise self.fail("is required", where, name=name)
            return None
        return text

    def number(self, text: str | None, where: str, name: str = "",
               default: float | None = None) -> float:
        try:
            value = float(text or "")
        except (TypeError, ValueError):
            found = self.given(text, where, name, default is None)
            if found is None:
                assert default is not None
                return default
            raise self.fail("not a number", where, text, name) from None
        if not math.isfinite(value):
            raise self.fail("must be a finite number", where, text, name)
        return value

    def integer(self, text: str | None, where: str, name: str = "",
                default: int | None = None) -> int:
        try:
            value = int(text or "")
        except (TypeError, ValueError):
            found = self.given(text, where, name, default is None)
            if found is None:
                assert default is not None
                return default
            raise self.fail("not an integer", where, text, name) from None
        if not _INT_MIN <= value <= _INT_MAX:
            raise self.fail("out of the 64-bit integer range", where, text, name)
        return value

    def rate(self, text: str | None, where: str, name: str = "",
             default: float | None = None) -> float:
        """Return a charge rate or amount: a finite number, never negative."""
        value = self.number(text, where, name, default)
        if value < 0:
            raise self.fail("must not be negative", where, text, name)
        return value

    def period(self, text: str | None, where: str, name: str = "",
               default: int | None = None) -> int:
        raw = text.strip() if text else ""
        if not raw:
            self.given(raw, where, name, default is None)
            assert default is not None
            return default
        size = len(raw)
        if raw.isascii() and raw.isdigit() and (size == 8 or size == 6):
            value = int(raw)
            if value == 0:
                return OPEN_PERIOD
            month = value // 100 % 100 if size == 8 else value % 100
            day = value % 100 if size == 8 else 1
            if 1 <= month <= 12 and 1 <= day <= 31:
                return value
        raise self.fail("not a period (YYYYMM or YYYYMMDD)", where, text, name)

    def text(self, elem: ET.Element, name: str, where: str, default: str | None = None
             ) -> str:
        value = elem.findtext(name)
        if value is None or not value.strip():
            if default is None:
                raise self.fail("is required", _where(where, name))
            return default
        return value.strip()


#: Contract fields read as text, then converted a batch at a time (a row's order).
_FIELDS = ("cId", "pe", "o", "k", "p", "d", "ra/d", "cvf", "sc", "priceScan", "volScan",
           "undPf", "undCId")
#: Fields an option takes from its ``series`` when it does not give them itself.
_SERIES = {name: _FIELDS.index(name)
           for name in ("pe", "cvf", "priceScan", "volScan", "undPf", "undCId")}
#: Contracts converted at once: their texts (about 1 KiB each) stay in a 1 MiB cache.
_BATCH = 1024
_TAG = {FUTURE: "fut", OPTION: "opt", PHYSICAL: "phy"}
#: The legs of a spread: a tier's (by ``tn``) and a period's (by ``pe``).
_LEGS = (("tLeg", "tn"), ("pLeg", "pe"))
_TEXT = attrgetter("text")


class _Batch:
    """Texts of contracts not yet converted, one list per field (at most ``_BATCH``)."""

    def __init__(self) -> None:
        self.kind: list[int] = []
        self.ordinal: list[int] = []
        self.portfolio: list[int] = []
        #: The first bad risk array: reason, row, field and text.
        self.fault: tuple[str, int, str, str | None] | None = None
        self.rows: list[list[str | None]] = []  # a contract's texts, as in _FIELDS

    def __len__(self) -> int:
        return len(self.kind)


class _Reader:
    """The state of one pass over a file."""

    def __init__(self, source: str) -> None:
        self.values = _Values(source)
        self.source = source
        self.batch = _Batch()
        self.chunks: dict[str, list[np.ndarray]] = {name: [] for name in Contracts.COLUMNS
                                                    if name != "arrays"}
        self.arrays = array("d")  # the risk arrays, row after row, growing in place
        self.counts = [0, 0, 0]
        self.open_rows = 0  # contracts read since the last portfolio closed
        self.open_options = 0  # options read since the last series closed
        self.open_cvf: list[tuple[np.ndarray, np.ndarray]] = []
        self.series_start = 0
        self.portfolios: list[Portfolio] = []
        self.pf_exchange_start = 0
        self.combined: list[CombinedCommodity] = []
        self.inter: list[Spread] = []
        # parts of definitions, keyed by their texts (see "definitions" below)
        self.shared_rates: dict[tuple[tuple[str | None, str | None], ...],
                                tuple[Rate, ...]] = {}
        self.shared_tiers: dict[tuple[object, ...], tuple[Tier, ...]] = {}
        self.shared_legs: dict[tuple[str | None, ...], SpreadLeg] = {}
        self.rates: list[RateDefinition] = []
        self.conversions: list[CurrencyConversion] = []
        self.points: ScanPoints | None = None
        self.business_date: date | None = None
        self.clearing_org = ""
        self.container: str | None = None  # the last SPAN container element closed

    # -- the walk ------------------------------------------------------------------------
    def done(self, elem: ET.Element) -> None:
        """Handle a complete element: a container's children first, in document order."""
        if elem.tag in _CONTAINERS:
            for child in elem:
                if child.tag in _CONTAINERS:
                    self.done(child)
                elif (handler := _HANDLERS.get(child.tag)) is not None:
                    handler(self, child)
        handler = _HANDLERS.get(elem.tag)
        if handler is not None:
            handler(self, elem)

    def drain(self, elem: ET.Element) -> None:
        """Handle the complete children of the open element ``elem``, down its open path.

        ``elem`` is the reader's own ``document`` element or an open container. Every
        child but the last is complete (a later sibling has started): each is handled,
        then dropped unless no handler took it (a container's own fields, read when it
        completes). The last child may still be open; the walk goes on into it if it is
        a container.
        """
        while (n := len(elem)) > 0:
            if n > 1:
                complete = elem[:n - 1]
                for child in complete:
                    self.done(child)
                elem[:n - 1] = [c for c in complete if c.tag not in _HANDLERS]
            elem = elem[-1]
            if elem.tag not in _CONTAINERS:
                return

    # -- rate ids -----------------------------------------------------------------------
    def choose(self, elem: ET.Element, child: str) -> ET.Element | None:
        """Pick the ``child`` (``scanRate`` or ``ra``) of the maintenance rate."""
        elems = elem.findall(child)
        if len(elems) <= 1:
            return elems[0] if elems else None
        rate = str(maintenance_rate(self.rates))
        for found in elems:
            if (found.findtext("r") or "").strip() == rate:
                return found
        raise self.values.fail(f"{len(elems)} elements and none for rate r={rate}",
                               elem.tag, name=child)

    # -- contracts ----------------------------------------------------------------------
    def contract(self, elem: ET.Element) -> None:
        kind = _KINDS[elem.tag]
        self.counts[kind] += 1
        b = self.batch
        b.kind.append(kind)
        b.ordinal.append(self.counts[kind])
        b.portfolio.append(len(self.portfolios))
        self.open_rows += 1
        self.open_options += kind == OPTION
        ra = self.choose(elem, "ra")
        a = [] if ra is None else list(map(_TEXT, ra.findall("a")))
        try:  # converted here, while the texts are in cache
            values = list(map(float, a))  # a None (an empty element) raises TypeError
            total = sum(values)
            # every value is finite (a sum of finite values may overflow)
            finite = total - total == 0 or all(map(math.isfinite, values))
        except (TypeError, ValueError):
            finite = False
        if len(a) != SCENARIOS or not finite:
            b.fault = b.fault or _ra_fault(a, len(b) - 1)  # raised by flush, named then
            values = [math.nan] * SCENARIOS
        self.arrays.extend(values)
        scan = self.choose(elem, "scanRate")
        und = elem.find("undC")
        text = elem.findtext
        b.rows.append([text("cId"), text("pe"), text("o"), text("k"), text("p"), text("d"),
                       None if ra is None else ra.findtext("d"), text("cvf"), text("sc"),
                       None if scan is None else scan.findtext("priceScan"),
                       None if scan is None else scan.findtext("volScan"),
                       None if und is None else und.findtext("pfId"),
                       None if und is None else und.findtext("cId")])
        elem.clear()
        if len(b) >= _BATCH and not self.open_options:
            self.flush()

    def series(self, elem: ET.Element) -> None:
        b = self.batch
        scan = self.choose(elem, "scanRate")
        und = elem.find("undC")
        own = {"pe": elem.findtext("pe"), "cvf": elem.findtext("cvf"),
               "priceScan": None if scan is None else scan.findtext("priceScan"),
               "volScan": None if scan is None else scan.findtext("volScan"),
               "undPf": None if und is None else und.findtext("pfId"),
               "undCId": None if und is None else und.findtext("cId")}
        for name, text in own.items():  # the series' options read since the last one
            if text is not None:
                field = _SERIES[name]
                for row in b.rows[self.series_start:]:
                    if row[field] is None:
                        row[field] = text
        self.series_start = len(b)
        self.open_options = 0
        elem.clear()
        if len(b) >= _BATCH:
            self.flush()

    def portfolio(self, elem: ET.Element) -> None:
        kind = _PORTFOLIOS[elem.tag]
        where = f"{elem.tag}[{len(self.portfolios) + 1}]"
        code = self.values.text(elem, "pfCode", where)
        where = f"{elem.tag}[pfCode={code}]"
        self.portfolios.append(Portfolio(
            pf_id=self.values.integer(elem.findtext("pfId"), where, "pfId",
                                      default=len(self.portfolios) + 1),
            code=code, type=kind, name=(elem.findtext("name") or "").strip(),
            currency=self.values.text(elem, "currency", where, default="USD"),
            cvf=self.values.number(elem.findtext("cvf"), where, "cvf", default=1.0),
            value_method=(elem.findtext("valueMeth") or "").strip(),
        ))
        for values, rows in self.open_cvf:  # contracts converted before the portfolio closed
            values[rows] = self.portfolios[-1].cvf
        self.open_cvf = []
        self.counts = [0, 0, 0]
        self.open_rows = self.open_options = 0
        self.series_start = len(self.batch)
        elem.clear()
        if len(self.batch) >= _BATCH:
            self.flush()

    def where(self, row: int, name: str) -> str:
        """Element path of field ``name`` of batch row ``row``."""
        b = self.batch
        k = b.portfolio[row]
        pf = (f"{self.portfolios[k].type.element}[pfCode={self.portfolios[k].code}]"
              if k < len(self.portfolios) else f"portfolio[{k + 1}]")
        return f"{pf}/{_TAG[b.kind[row]]}[{b.ordinal[row]}]/{name}"

    def column(self, texts: Sequence[str | None], name: str, *, default: str | None = None,
               integer: bool = False, finite: np.ndarray | None = None,
               check: Callable[[str | None, str], object] | None = None) -> np.ndarray:
        """Convert one text column strictly.

        ``None`` texts take ``default`` (an error when there is none); the rows of
        ``finite`` (a mask, all rows by default) must hold finite numbers; ``check``
        validates one text where the column does not convert (it raises the error).
        """
        filled = [default if x is None else x for x in texts] if default is not None \
            else texts
        try:
            if None in filled:
                raise TypeError
            values = (np.asarray(filled, dtype=np.int64) if integer
                      else _floats(cast("list[str]", filled)))
        except (TypeError, ValueError, OverflowError):
            check = check or (self.values.integer if integer else self.values.number)
            for row, text in enumerate(filled):
                if finite is None or finite[row] or _float(text) is None:
                    check(text, self.where(row, name))
            raise AssertionError("a text failed to convert but passed alone") from None
        if not integer:
            bad = ~np.isfinite(values) & (True if finite is None else finite)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise self.values.fail("must be a finite number", self.where(row, name),
                                       filled[row])
        return values

    def flush(self) -> None:
        """Convert the batch's texts into contract columns."""
        b, v = self.batch, self.values
        n = len(b)
        if n == 0:
            return
        if b.fault is not None:
            reason, row, name, text = b.fault
            raise v.fail(reason, self.where(row, name), text)
        t = dict(zip(_FIELDS, zip(*b.rows, strict=True), strict=True))
        kind = np.asarray(b.kind, dtype=np.int64)
        option = kind == OPTION
        opt, phy = option.tolist(), (kind == PHYSICAL).tolist()
        periods = [x if x is not None or not p else "0" for x, p in zip(t["pe"], phy,
                                                                         strict=True)]
        period = self.column(periods, "pe", integer=True, check=v.period)
        month = np.where(period < 1_000_000, period % 100, period // 100 % 100)
        day = np.where(period < 1_000_000, 1, period % 100)
        valid = (period == OPEN_PERIOD) | ((period >= 100_001) & (month >= 1) & (month <= 12)
                                           & (day >= 1) & (day <= 31))
        if not valid.all():
            row = int(np.flatnonzero(~valid)[0])
            v.period(periods[row], self.where(row, "pe"))
        right = np.asarray([_RIGHTS.get((o or "").strip().upper(), NO_RIGHT) if q else NO_RIGHT
                            for o, q in zip(t["o"], opt, strict=True)], dtype=np.int64)
        if np.any(option & (right == NO_RIGHT)):
            row = int(np.flatnonzero(option & (right == NO_RIGHT))[0])
            raise v.fail("must be C or P", self.where(row, "o"), t["o"][row])
        deltas = [rd if rd is not None else d if d is not None else None if q else "1"
                  for rd, d, q in zip(t["ra/d"], t["d"], opt, strict=True)]
        price = self.column(t["p"], "p", default="nan", finite=_given(t["p"]))
        price_scan = self.column(t["priceScan"], "scanRate/priceScan", default="nan",
                                 finite=_given(t["priceScan"]))
        vol_scan = self.column(t["volScan"], "scanRate/volScan", default="nan",
                               finite=_given(t["volScan"]))
        # an option's premium and the scan ranges are never negative (a future's price
        # may be)
        for values, rows, key, name in ((price, option, "p", "p"),
                                        (price_scan, None, "priceScan", "scanRate/priceScan"),
                                        (vol_scan, None, "volScan", "scanRate/volScan")):
            bad = values < 0 if rows is None else rows & (values < 0)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise v.fail("must not be negative", self.where(row, name), t[key][row])
        self.add(
            portfolio=np.asarray(b.portfolio, dtype=np.int64),
            cid=self.column([x if x is not None else str(o)
                             for x, o in zip(t["cId"], b.ordinal, strict=True)], "cId",
                            integer=True),
            kind=kind, period=period, right=right,
            strike=self.column([x if q else "nan" for x, q in zip(t["k"], opt, strict=True)],
                               "k", finite=option),
            price=price,
            delta=self.column(deltas, "ra/d"),
            cvf=self.cvf(t["cvf"]),
            scaling=self.column(t["sc"], "sc", default="1"),
            price_scan=price_scan, vol_scan=vol_scan,
            und_pf=self.column(t["undPf"], "undC/pfId", default="-1", integer=True),
            und_cid=self.column(t["undCId"], "undC/cId", default="-1", integer=True))
        self.batch = _Batch()
        self.series_start = 0

    def cvf(self, texts: Sequence[str | None]) -> np.ndarray:
        """Return the contract value factors of the batch.

        A contract without one takes its portfolio's, filled in when the portfolio closes
        if it is still open.
        """
        b, n = self.batch, len(self.portfolios)
        open_default = np.asarray([x is None and k >= n for x, k in zip(texts, b.portfolio,
                                                                       strict=True)])
        values = self.column([x if x is not None else repr(self.portfolios[k].cvf)
                              if k < n else "nan" for x, k in zip(texts, b.portfolio,
                                                                  strict=True)],
                             "cvf", finite=~open_default)
        if open_default.any():
            self.open_cvf.append((values, np.flatnonzero(open_default)))
        return values

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self.chunks[name].append(values)

    def contracts(self) -> Contracts:
        """Return every contract read (after the last flush)."""
        chunks, self.chunks = self.chunks, {}
        cols: dict[str, np.ndarray] = {}
        for name in list(chunks):  # one column's chunks at a time: a flat peak
            parts = chunks.pop(name)
            cols[name] = np.concatenate(parts) if parts else np.empty(0)
            del parts
        # the risk arrays stay where they grew (a view of the buffer, not a copy)
        cols["arrays"] = np.frombuffer(self.arrays, dtype=np.float64).reshape(-1, SCENARIOS)
        for name in ("portfolio", "cid", "kind", "period", "right", "und_pf", "und_cid"):
            cols[name] = np.asarray(cols[name], dtype=np.int64)
        return Contracts(**cols)

    def exchange(self, elem: ET.Element) -> None:
        exch = (elem.findtext("exch") or "").strip()
        for k in range(self.pf_exchange_start, len(self.portfolios)):
            p = self.portfolios[k]
            self.portfolios[k] = Portfolio(pf_id=p.pf_id, code=p.code, type=p.type,
                                           name=p.name, currency=p.currency, cvf=p.cvf,
                                           value_method=p.value_method, exchange=exch)
        self.pf_exchange_start = len(self.portfolios)
        elem.clear()

    # -- definitions ----------------------------------------------------------------------
    # A file repeats the parts of its definitions (the same tiers in many commodities, the
    # same legs and rates in a commodity's spreads): each distinct part is converted once,
    # when first met and checked, and shared after (``shared_*``, keyed by its texts), as
    # the model's objects are immutable. A leg's element path is composed only where the
    # leg is new.
    def forget(self) -> None:
        """Drop the legs and rates met so far.

        A definition's legs and rates repeat within it; tiers, repeated across
        commodities, are kept.
        """
        self.shared_legs.clear()
        self.shared_rates.clear()

    def rates_of(self, elem: ET.Element, where: str) -> tuple[Rate, ...]:
        texts = tuple([(r.findtext("r"), r.findtext("val")) for r in elem.findall("rate")])
        found = self.shared_rates.get(texts)
        if found is None:
            v = self.values
            found = self.shared_rates[texts] = tuple([
                (v.integer(r, where, f"rate[{k}]/r", default=1),
                 v.rate(val, where, f"rate[{k}]/val"))
                for k, (r, val) in enumerate(texts, start=1)])
        return found

    def tiers(self, elem: ET.Element | None, where: str) -> tuple[Tier, ...]:
        if elem is None:
            return ()
        tiers = elem.findall("tier")
        key = tuple([(t.findtext("tn"), t.findtext("sPe"), t.findtext("ePe"),
                      *[(r.findtext("r"), r.findtext("val")) for r in t.findall("rate")])
                     for t in tiers])
        found = self.shared_tiers.get(key)
        if found is None:
            v = self.values
            out = []
            for k, t in enumerate(tiers, start=1):
                at = _where(where, f"tier[{k}]")
                out.append(Tier(number=v.integer(t.findtext("tn"), at, "tn", default=k),
                                start=v.period(t.findtext("sPe"), at, "sPe",
                                               default=OPEN_PERIOD),
                                end=v.period(t.findtext("ePe"), at, "ePe",
                                             default=OPEN_PERIOD),
                                rates=self.rates_of(t, at)))
            found = self.shared_tiers[key] = tuple(out)
        return found

    def spread(self, elem: ET.Element, parent: str, k: int, cc: str | None) -> Spread:
        """Convert the ``k``-th ``dSpread`` of ``parent`` (a ``ccDef`` or ``interSpreads``).

        ``cc`` is the commodity of an intra-commodity spread, the default of its legs.
        """
        where = f"{parent}/dSpread[{k}]"
        shared = self.shared_legs
        legs = []
        for tag, number in _LEGS:
            for j, leg in enumerate(elem.findall(tag), start=1):
                text = leg.findtext
                key = (tag, cc, text("cc"), text("rs"), text("i"), text(number))
                found = shared.get(key)
                if found is None:
                    found = shared[key] = self.leg(key, f"{where}/{tag}[{j}]")
                legs.append(found)
        v = self.values
        if len(legs) < 2:
            raise v.fail("a spread needs at least two legs", where)
        if len({(leg.cc, leg.tier, leg.period) for leg in legs}) < len(legs):
            raise v.fail("two legs name the same commodity and tier (or period)", where)
        return Spread(priority=v.integer(elem.findtext("spread"), where, "spread"),
                      charge_method=sys.intern((elem.findtext("chargeMeth") or "").strip()
                                               .upper()),
                      rates=self.rates_of(elem, where), legs=tuple(legs))

    def leg(self, key: tuple[str | None, ...], where: str) -> SpreadLeg:
        """Convert a leg from its ``key``: tag, spread commodity and the leg's texts.

        The texts are ``cc``, ``rs``, ``i`` and the ``tn`` of a ``tLeg`` or the ``pe``
        of a ``pLeg``.
        """
        tag, cc, leg_cc, rs, i, number = key
        v = self.values
        side = (rs or "").strip().upper()
        if side not in ("A", "B"):
            raise v.fail("must be A or B", _where(where, "rs"), rs)
        ratio = v.number(i, where, "i", default=1.0)
        if ratio <= 0:
            raise v.fail("must be positive", _where(where, "i"), i)
        text = (leg_cc or "").strip()
        leg_cc = cc if text == cc or not text else sys.intern(text)
        if not leg_cc:
            raise v.fail("is required", _where(where, "cc"))
        tier = tag == "tLeg"
        return SpreadLeg(cc=leg_cc, side=1 if side == "A" else -1, ratio=ratio,
                         tier=v.integer(number, where, "tn", default=0) if tier else None,
                         period=None if tier else v.period(number, where, "pe"))

    def cc_def(self, elem: ET.Element) -> None:
        v = self.values
        code = v.text(elem, "cc", f"ccDef[{len(self.combined) + 1}]")
        where = f"ccDef[cc={code}]"
        links = []
        for k, link in enumerate(elem.findall("pfLink"), start=1):
            kind = (link.findtext("pfType") or "").strip().upper()
            code_text = (link.findtext("pfCode") or "").strip()
            if kind not in _PF_TYPES or not code_text:
                at = _where(where, f"pfLink[{k}]")
                v.text(link, "pfType", at)
                if kind not in _PF_TYPES:
                    raise v.fail("unknown portfolio type", _where(at, "pfType"), kind)
                v.text(link, "pfCode", at)
            links.append(PortfolioLink(
                code=code_text, type=_PF_TYPES[kind],
                pf_id=v.integer(link.findtext("pfId"), where, f"pfLink[{k}]/pfId",
                                default=-1),
                exchange=(link.findtext("exch") or "").strip()))
        spots = tuple(
            SpotRate(rate_id=v.integer(s.findtext("r"), at, "r", default=1),
                     period=v.period(s.findtext("pe"), at, "pe"),
                     spread=v.rate(s.findtext("sprd"), at, "sprd", default=0.0),
                     outright=v.rate(s.findtext("outr"), at, "outr", default=0.0))
            for k, s in enumerate(elem.findall("spotRate"), start=1)
            for at in (_where(where, f"spotRate[{k}]"),))
        self.combined.append(CombinedCommodity(
            code=code, name=(elem.findtext("name") or "").strip(),
            currency=v.text(elem, "currency", where, default="USD"),
            wfpr_method=(elem.findtext("wfprMeth") or "NORMAL").strip().upper(),
            links=tuple(links),
            intra_tiers=self.tiers(elem.find("intraTiers"), _where(where, "intraTiers")),
            inter_tiers=self.tiers(elem.find("interTiers"), _where(where, "interTiers")),
            som_tiers=self.tiers(elem.find("somTiers"), _where(where, "somTiers")),
            spot_rates=spots,
            intra_spreads=tuple([self.spread(s, where, k, code)
                                 for k, s in enumerate(elem.findall("dSpread"), start=1)]),
        ))
        self.forget()
        elem.clear()

    def inter_spreads(self, elem: ET.Element) -> None:
        start = len(self.inter)
        self.inter.extend(
            self.spread(s, "interSpreads", start + k, None)
            for k, s in enumerate(elem.findall("dSpread"), start=1))
        self.forget()
        elem.clear()

    def point_def(self, elem: ET.Element) -> None:
        v = self.values
        if self.points is not None:
            return
        defs = elem.findall("scanPointDef")
        price: list[float] = []
        vol: list[float] = []
        weight: list[float] = []
        paired: list[int] = []
        for k, d in enumerate(defs, start=1):
            at = f"pointDef/scanPointDef[{k}]"
            point = v.integer(d.findtext("point"), at, "point", default=k)
            if point != k:
                raise v.fail("scan points must be numbered 1, 2, ... in order",
                             _where(at, "point"), point)
            for out, name in ((price, "priceScanDef"), (vol, "volScanDef")):
                sub = d.find(name)
                if sub is None:
                    out.append(0.0)
                    continue
                den = v.number(sub.findtext("denominator"), at, f"{name}/denominator",
                               default=1.0)
                if den == 0:
                    raise v.fail("must not be zero", _where(at, f"{name}/denominator"), "0")
                out.append(v.number(sub.findtext("mult"), at, f"{name}/mult",
                                    default=1.0)
                           * v.number(sub.findtext("numerator"),
                                      _where(at, f"{name}/numerator"), default=0.0) / den)
            weight.append(v.number(d.findtext("weight"), at, "weight", default=1.0))
            paired.append(v.integer(d.findtext("pairedPoint"), at, "pairedPoint",
                                    default=0) - 1)
        try:
            self.points = ScanPoints(price=np.asarray(price, dtype=np.float64),
                                     vol=np.asarray(vol, dtype=np.float64),
                                     weight=np.asarray(weight, dtype=np.float64),
                                     paired=np.asarray(paired, dtype=np.int64))
        except InputError as err:
            raise err.located(self.source) from None
        elem.clear()

    def rate_def(self, elem: ET.Element) -> None:
        v = self.values
        at = f"pbRateDef[{len(self.rates) + 1}]"
        self.rates.append(RateDefinition(
            rate_id=v.integer(elem.findtext("r"), at, "r"),
            maintenance=v.integer(elem.findtext("isM"), at, "isM", default=0) == 1,
            customer=v.integer(elem.findtext("isCust"), at, "isCust", default=1) == 1,
            account_type=(elem.findtext("acctType") or "").strip(),
            classification=(elem.findtext("pbc") or "").strip()))

    def cur_conv(self, elem: ET.Element) -> None:
        v = self.values
        at = f"curConv[{len(self.conversions) + 1}]"
        factor = v.number(elem.findtext("factor"), at, "factor")
        if factor <= 0:
            raise v.fail("must be positive", _where(at, "factor"), elem.findtext("factor"))
        self.conversions.append(CurrencyConversion(
            source=v.text(elem, "fromCur", at), target=v.text(elem, "toCur", at),
            factor=factor))

    def clearing(self, elem: ET.Element) -> None:
        self.clearing_org = self.clearing_org or (elem.findtext("ec") or "").strip()
        self.close(elem)

    def close(self, elem: ET.Element) -> None:
        self.container = elem.tag
        elem.clear()

    def point_date(self, elem: ET.Element) -> None:
        if self.business_date is not None:
            return
        text = (elem.text or "").strip()
        try:
            self.business_date = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            raise self.values.fail("not a date (YYYYMMDD)", "pointInTime/date", text) from None
        if len(text) != 8:
            raise self.values.fail("not a date (YYYYMMDD)", "pointInTime/date", text)


#: The handler of each element (the reader's methods, not bound: the reader holds no
#: reference to itself, so it is freed as soon as the read ends).
_HANDLERS: dict[str, Callable[[_Reader, ET.Element], None]] = {
    "fut": _Reader.contract, "opt": _Reader.contract, "phy": _Reader.contract,
    "series": _Reader.series, "futPf": _Reader.portfolio, "oofPf": _Reader.portfolio,
    "oopPf": _Reader.portfolio, "phyPf": _Reader.portfolio, "exchange": _Reader.exchange,
    "ccDef": _Reader.cc_def, "interSpreads": _Reader.inter_spreads,
    "pointDef": _Reader.point_def, "pbRateDef": _Reader.rate_def,
    "curConv": _Reader.cur_conv, "clearingOrg": _Reader.clearing,
    "date": _Reader.point_date, "spanFile": _Reader.close, "spn": _Reader.close,
    "pointInTime": _Reader.close,
}


def _given(texts: Sequence[str | None]) -> np.ndarray:
    """Return the mask of the texts the file gives (not ``None``)."""
    return np.asarray([x is not None for x in texts], dtype=bool)


def _floats(texts: list[str]) -> np.ndarray:
    """Convert number texts to a writable float64 array.

    Arrow's cast (a correctly rounded C parser, several times faster than a Python
    ``float`` per text) converts the common case; it accepts only texts that Python's
    ``float`` accepts too, save ``nan(...)`` (NaN either way, refused where a number is
    required). Texts it refuses (a space, an underscore, other digits) go through numpy,
    which converts as ``float`` does and raises ``ValueError`` where ``float`` would.
    """
    try:
        values: np.ndarray = pa.array(texts, type=pa.string()).cast(pa.float64()).to_numpy(
            zero_copy_only=False, writable=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        values = np.asarray(texts, dtype=np.float64)
    return values


def _float(text: str | None) -> float | None:
    """Return the number a text holds (NaN and infinities included), else ``None``."""
    try:
        return float(text or "")
    except ValueError:
        return None


def _finite(text: str | None) -> bool:
    value = _float(text)
    return value is not None and math.isfinite(value)


def _ra_fault(texts: list[str | None], row: int) -> tuple[str, int, str, str | None]:
    """Return what is wrong with the ``a`` texts of the risk array of batch row ``row``."""
    if len(texts) != SCENARIOS:
        return f"needs {SCENARIOS} values, got {len(texts)}", row, "ra", None
    k = next(k for k, text in enumerate(texts) if not _finite(text))
    return ("is required" if texts[k] is None else "must be a finite number", row,
            f"ra/a[{k + 1}]", texts[k])


#: Zip compression methods the standard library reads.
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


class _Bytes(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _open_xml(path: Path, stack: ExitStack) -> _Bytes:
    """Open the XML bytes of ``path``: its one zip member, its gzip content, or itself."""
    handle = stack.enter_context(path.open("rb"))
    magic = handle.read(4)
    handle.seek(0)
    if magic in (b"PK\x03\x04", b"PK\x05\x06"):  # a zip archive, or an empty one
        archive = stack.enter_context(zipfile.ZipFile(handle))
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) != 1:
            raise InputError(f"a zip archive must hold exactly one SPAN file, this one holds "
                             f"{len(members)}", source=str(path))
        member = members[0]
        if member.flag_bits & 0x1:
            raise InputError("the zip member is encrypted", source=str(path),
                             field=member.filename)
        if member.compress_type not in _ZIP_METHODS:
            raise InputError("unsupported zip compression method", source=str(path),
                             field=member.filename, value=member.compress_type)
        return stack.enter_context(archive.open(member))
    if magic[:2] == b"\x1f\x8b":
        content: _Bytes = stack.enter_context(gzip.GzipFile(fileobj=handle))
        return content
    return handle


def read_risk_parameters(path: str | Path) -> RiskParameters:
    """Read a SPAN 4 XML risk-parameter file, streaming.

    Parameters
    ----------
    path : str or Path
        The ``.spn``/``.xml`` file, or a zip archive of it (one member) or its gzip.

    Returns
    -------
    RiskParameters

    Raises
    ------
    InputError
        A missing or malformed file (a corrupt archive included), or a value that is not
        what its element requires; the message names the file, the element path and the
        value.
    """
    path = Path(path)
    source = str(path)
    reader = _Reader(source)
    digest = hashlib.sha256()
    was_enabled = gc.isenabled()
    gc.disable()  # the parse allocates millions of short-lived elements, no cycles
    try:
        builder = ET.TreeBuilder()
        document = builder.start(_DOCUMENT, {})  # the file's root grows under it
        parser = ET.XMLParser(target=builder)
        with ExitStack() as stack:
            handle = _open_xml(path, stack)
            while data := handle.read(FEED_BYTES):
                digest.update(data)
                try:
                    parser.feed(data)
                except LookupError as exc:  # the XML declaration names no known encoding
                    raise InputError(f"{exc} (XML declaration)", source=source) from None
                reader.drain(document)
            parser.close()
        for root in document:  # complete now
            reader.done(root)
    except FileNotFoundError:
        raise InputError("file not found", source=source) from None
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError,
            gzip.BadGzipFile) as exc:
        raise InputError(f"corrupt archive: {exc}", source=source) from None
    except RecursionError:
        raise InputError("elements nested too deeply for a SPAN file", source=source) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", source=source) from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise InputError(f"not well-formed XML at line {line}, column {column}",
                         source=source) from None
    finally:
        if was_enabled:
            gc.enable()
    if reader.container is None:
        raise InputError(f"not a SPAN risk-parameter file (no {', '.join(sorted(ROOTS))} "
                         f"element)", source=source, field="root")
    if reader.open_rows:
        raise InputError(f"{reader.open_rows} contract(s) outside a product portfolio",
                         source=source, field="fut/opt/phy")
    reader.flush()
    return RiskParameters(
        source=source, sha256=digest.hexdigest(),
        business_date=reader.business_date, clearing_org=reader.clearing_org,
        rate_definitions=tuple(reader.rates), conversions=tuple(reader.conversions),
        scan_points=reader.points, portfolios=tuple(reader.portfolios),
        contracts=reader.contracts(), combined=tuple(reader.combined),
        inter_spreads=tuple(reader.inter))
