r"""Write a :class:`RiskParameters` model as a SPAN 4 XML file, streaming.

The layout is the one the reader accepts and exchanges publish: ``spanFile`` >
``pointInTime`` > ``clearingOrg`` with the rate definitions, scan points, combined
commodity definitions, inter-commodity spreads and one ``exchange`` per exchange code
holding the product portfolios. Numbers are written in their shortest exact form, so a
file read back gives the same model, value for value.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from crossmargin.methods.span.model import (
    CALL,
    FUTURE,
    OPEN_PERIOD,
    OPTION,
    CombinedCommodity,
    Portfolio,
    Rate,
    RiskParameters,
    ScanPoints,
    Spread,
    Tier,
)

__all__ = ["FILE_FORMAT", "write_risk_parameters"]

#: ``fileFormat`` written.
FILE_FORMAT = "4.00"
_TAGS = {FUTURE: "fut", OPTION: "opt"}


def _num(value: float | np.floating[Any]) -> str:
    as_float = float(value)
    return str(int(as_float)) if as_float.is_integer() and abs(as_float) < 1e15 else \
        repr(as_float)


def _el(tag: str, value: object) -> str:
    text = _num(value) if isinstance(value, float | np.floating) else str(value)
    return f"<{tag}>{escape(text)}</{tag}>"


def _period(value: int) -> str:
    return "00000000" if value == OPEN_PERIOD else str(int(value))


def _rates(rates: tuple[Rate, ...]) -> str:
    return "".join(f"<rate>{_el('r', r)}{_el('val', float(v))}</rate>" for r, v in rates)


def _tiers(tag: str, tiers: tuple[Tier, ...]) -> str:
    if not tiers:
        return ""
    body = "".join(
        "<tier>" + _el("tn", t.number)
        + ("" if t.start == OPEN_PERIOD else _el("sPe", _period(t.start)))
        + ("" if t.end == OPEN_PERIOD else _el("ePe", _period(t.end)))
        + _rates(t.rates) + "</tier>" for t in tiers)
    return f"<{tag}>{body}</{tag}>"


def _spread(spread: Spread) -> str:
    legs = sorted(spread.legs, key=lambda leg: leg.period is not None)
    body = "".join(
        ("<tLeg>" if leg.period is None else "<pLeg>") + _el("cc", leg.cc)
        + (_el("tn", leg.tier) if leg.period is None else _el("pe", _period(leg.period)))
        + _el("rs", "A" if leg.side > 0 else "B") + _el("i", float(leg.ratio))
        + ("</tLeg>" if leg.period is None else "</pLeg>") for leg in legs)
    method = _el("chargeMeth", spread.charge_method) if spread.charge_method else ""
    return (f"<dSpread>{_el('spread', spread.priority)}{method}{_rates(spread.rates)}"
            f"{body}</dSpread>")


def _cc_def(cc: CombinedCommodity) -> str:
    links = "".join(
        f"<pfLink>{_el('exch', link.exchange)}{_el('pfId', link.pf_id)}"
        f"{_el('pfCode', link.code)}{_el('pfType', link.type.value)}</pfLink>"
        for link in cc.links)
    spots = "".join(
        f"<spotRate>{_el('r', s.rate_id)}{_el('pe', _period(s.period))}"
        f"{_el('sprd', float(s.spread))}{_el('outr', float(s.outright))}</spotRate>"
        for s in cc.spot_rates)
    return (f"<ccDef>{_el('cc', cc.code)}{_el('name', cc.name)}"
            f"{_el('currency', cc.currency)}{_el('wfprMeth', cc.wfpr_method)}{links}"
            f"{_tiers('intraTiers', cc.intra_tiers)}{_tiers('interTiers', cc.inter_tiers)}"
            f"{_tiers('somTiers', cc.som_tiers)}{spots}"
            + "".join(_spread(s) for s in cc.intra_spreads) + "</ccDef>\n")


def _fraction(value: float) -> tuple[int, int] | None:
    frac = Fraction(value).limit_denominator(12)
    return (frac.numerator, frac.denominator) \
        if 1.0 * frac.numerator / frac.denominator == value else None


def _scan_def(tag: str, value: float) -> str:
    frac = _fraction(value)
    num, den = (frac[0], frac[1]) if frac else (float(value), 1)
    return (f"<{tag}>{_el('mult', 1)}{_el('numerator', num)}"
            f"{_el('denominator', den)}</{tag}>")


def _point_def(points: ScanPoints) -> str:
    body = "".join(
        f"<scanPointDef>{_el('point', s + 1)}"
        f"{_scan_def('priceScanDef', float(points.price[s]))}"
        f"{_scan_def('volScanDef', float(points.vol[s]))}"
        f"{_el('weight', float(points.weight[s]))}"
        f"{_el('pairedPoint', int(points.paired[s]) + 1)}</scanPointDef>"
        for s in range(points.price.size))
    return f"<pointDef>{_el('r', 1)}{body}</pointDef>\n"


def _array(arrays: np.ndarray, delta: float, rate: int) -> str:
    values = "".join(f"<a>{_num(a)}</a>" for a in arrays.tolist())
    return f"<ra>{_el('r', rate)}{values}{_el('d', delta)}</ra>"


def _scan_rate(price_scan: float, vol_scan: float, rate: int) -> str:
    if np.isnan(price_scan) and np.isnan(vol_scan):
        return ""
    return ("<scanRate>" + _el("r", rate)
            + ("" if np.isnan(price_scan) else _el("priceScan", float(price_scan)))
            + ("" if np.isnan(vol_scan) else _el("volScan", float(vol_scan)))
            + "</scanRate>")


def _portfolio(model: RiskParameters, pf: Portfolio, rows: np.ndarray, rate: int
               ) -> Iterator[str]:
    c = model.contracts
    yield (f"<{pf.type.element}>{_el('pfId', pf.pf_id)}{_el('pfCode', pf.code)}"
           f"{_el('name', pf.name)}{_el('currency', pf.currency)}{_el('cvf', float(pf.cvf))}"
           + (_el("valueMeth", pf.value_method) if pf.value_method else "") + "\n")
    series: tuple[object, ...] | None = None
    for i in rows.tolist():
        common = (_el("cId", int(c.cid[i])) + ("" if np.isnan(c.price[i])
                                               else _el("p", float(c.price[i]))))
        tail = (_el("d", float(c.delta[i])) + _el("cvf", float(c.cvf[i]))
                + _el("sc", float(c.scaling[i])))
        if c.kind[i] != OPTION:
            yield (f"<{_TAGS.get(int(c.kind[i]), 'phy')}>{common}"
                   f"{_el('pe', _period(int(c.period[i])))}{tail}"
                   f"{_scan_rate(float(c.price_scan[i]), float(c.vol_scan[i]), rate)}"
                   f"{_array(c.arrays[i], float(c.delta[i]), rate)}"
                   f"</{_TAGS.get(int(c.kind[i]), 'phy')}>\n")
            continue
        key = (int(c.period[i]), int(c.und_pf[i]), int(c.und_cid[i]),
               float(c.price_scan[i]), float(c.vol_scan[i]))
        if key != series:
            if series is not None:
                yield "</series>\n"
            und = (f"<undC>{_el('pfId', key[1])}{_el('cId', key[2])}</undC>"
                   if key[1] >= 0 else "")
            yield (f"<series>{_el('pe', _period(key[0]))}{und}"
                   f"{_scan_rate(key[3], key[4], rate)}\n")
            series = key
        yield (f"<opt>{common}{_el('o', 'C' if c.right[i] == CALL else 'P')}"
               f"{_el('k', float(c.strike[i]))}{tail}"
               f"{_array(c.arrays[i], float(c.delta[i]), rate)}</opt>\n")
    if series is not None:
        yield "</series>\n"
    yield f"</{pf.type.element}>\n"


def _document(model: RiskParameters) -> Iterator[str]:
    rate = model.maintenance_rate()
    yield '<?xml version="1.0" encoding="UTF-8"?>\n<spanFile>'
    yield f"{_el('fileFormat', FILE_FORMAT)}\n<pointInTime>"
    if model.business_date is not None:
        yield _el("date", model.business_date.strftime("%Y%m%d"))
    yield f"{_el('isSetl', 1)}\n<clearingOrg>{_el('ec', model.clearing_org)}\n"
    for d in model.rate_definitions:
        yield (f"<pbRateDef>{_el('r', d.rate_id)}{_el('isCust', int(d.customer))}"
               f"{_el('acctType', d.account_type)}{_el('isM', int(d.maintenance))}"
               f"{_el('pbc', d.classification)}</pbRateDef>\n")
    for conv in model.conversions:
        yield (f"<curConv>{_el('fromCur', conv.source)}{_el('toCur', conv.target)}"
               f"{_el('factor', float(conv.factor))}</curConv>\n")
    if model.scan_points is not None:
        yield _point_def(model.scan_points)
    for cc in model.combined:
        yield _cc_def(cc)
    if model.inter_spreads:
        yield "<interSpreads>" + "".join(_spread(s) for s in model.inter_spreads) + \
            "</interSpreads>\n"
    order = np.argsort(model.contracts.portfolio, kind="stable")
    bounds = np.searchsorted(model.contracts.portfolio[order],
                             np.arange(len(model.portfolios) + 1))
    exchange: str | None = None
    for k, pf in enumerate(model.portfolios):
        if pf.exchange != exchange:
            if exchange is not None:
                yield "</exchange>\n"
            yield f"<exchange>{_el('exch', pf.exchange)}\n"
            exchange = pf.exchange
        yield from _portfolio(model, pf, order[bounds[k]:bounds[k + 1]], rate)
    if exchange is not None:
        yield "</exchange>\n"
    yield "</clearingOrg>\n</pointInTime>\n</spanFile>\n"


def write_risk_parameters(model: RiskParameters, path: str | Path) -> Path:
    """Write ``model`` to ``path`` as SPAN 4 XML (through a temporary file and a rename).

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for chunk in _document(model):
                handle.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
