r"""Publish SPAN risk parameters for our own instruments: calibration and risk arrays.

Exchanges publish SPAN files for the contracts they list; crypto venues do not. The
publisher does what a clearing house does each day, for any futures and options we hold:
it calibrates each underlying's scan ranges on the bundled history, revalues every
contract under the 16 SPAN scenarios (full revaluation through
:func:`crossmargin.pricing.revalue.revalue`), and builds the combined commodity
definitions (tiers by contract month, calendar spread charges, short option minimum).
:func:`~crossmargin.methods.span.writer.write_risk_parameters` then writes the model as a
SPAN 4 XML file that :func:`~crossmargin.methods.span.parser.read_risk_parameters` reads.

Notes
-----
Price scan range of underlying :math:`u` (relative to its price):

.. math:: R_u = \max\left(k_c \, \hat\sigma_u, \; f_c\right), \qquad
   \hat\sigma_u = \operatorname{sd}\left(\ln S_{t} - \ln S_{t-h}\right)

over the last ``lookback`` observations of the history up to the date, with the margin
period of risk :math:`h` in observations of the series (trading days for listed
products, calendar days for coins), :math:`k_c` and the floor :math:`f_c` by class.
Scenario :math:`s` moves the price by :math:`m_s R_u` and the volatility by
:math:`v_s V_c` (absolute), lets ``lookahead_days`` pass, and the risk array value is
:math:`a_s = -w_s \, \mathrm{pnl}_s` per contract, :math:`w_s` the covered fraction
(35% for the extreme moves). Option deltas are per reference contract of the underlying
(its first future, else one unit of the underlying times the option's multiplier), by a
central difference of ``delta_bump``.

Curve-driven futures (Treasury and short-rate futures, whose ``underlying`` names a yield
curve) are published in price terms like any future. Their scan range is measured on the
par yield :math:`y` of the curve's bundled tenor nearest the contract's own (the
deliverable years of a Treasury future, the rate's tenor of a short-rate future):

.. math:: Y_\tau = \max\left(k_r \, \operatorname{sd}(y_t - y_{t-h}), \; f_r\right),

and scenario :math:`s` shifts the whole curve in parallel by :math:`-m_s Y_\tau` (a price
rise is a yield fall). The file carries the futures price :math:`p = V_0 / m`, a delta
of 1 per contract (a future's value moves by its multiplier :math:`m` per point of its
own price, :math:`\partial V / \partial p = m`, as for every other future), the contract
value factor :math:`m` and, as ``priceScan``, the larger loss of one contract at the two
edges of the scan (yields up or down by :math:`Y_\tau`), in currency per contract like
the price scan range of every other future.

References
----------
.. [1] CME Group, "Components of SPAN" (risk arrays and scenarios).
.. [2] NSE Clearing, SPAN parameters (scan ranges as multiples of volatility with
   floors), as summarised in the project's methodology notes, section 3.
.. [3] CME Group, PC-SPAN report documentation, "Risk Arrays - Standard" (the price scan
   range equals the outright maintenance requirement of one contract).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from crossmargin.book.instruments import (
    AssetClass,
    Future,
    FutureOption,
    Instrument,
    Option,
    RateFuture,
    Settlement,
    TreasuryFuture,
)
from crossmargin.book.refdata import refdata
from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray
from crossmargin.core.values import parse_number
from crossmargin.market.history import CURVE_TENORS, load_history
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.span.model import (
    CALL,
    FUTURE,
    NO_RIGHT,
    OPTION,
    PUT,
    SCENARIOS,
    CombinedCommodity,
    Contracts,
    Portfolio,
    PortfolioLink,
    PortfolioType,
    RateDefinition,
    RiskParameters,
    ScanPoints,
    SpotRate,
    Spread,
    SpreadLeg,
    Tier,
    period_of,
)
from crossmargin.params.loader import ParamSet, load_params
from crossmargin.pricing.revalue import revalue
from crossmargin.scenarios.base import ScenarioSet, VolShift

__all__ = ["ClassCalibration", "InterSpreadSpec", "ProductScan", "RiskParameterPublisher",
           "curve_tenor"]

#: Observations a calibration needs at the least.
MIN_OBSERVATIONS = 30
#: Days an underlying's last observation may precede the publication date.
MAX_STALE_DAYS = 10
#: Decimals published: risk arrays and scan ranges in currency per contract (cents),
#: prices and deltas.
MONEY_DECIMALS, PRICE_DECIMALS, DELTA_DECIMALS = 2, 6, 6
#: The calibration class of yield curves and their tenors.
RATES = "rates"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassCalibration:
    """Calibration of one class of underlyings (index, stock, commodity, crypto, rates).

    Attributes
    ----------
    k : float
        Multiple of the volatility of returns (of yield changes for ``rates``) over the
        margin period of risk.
    floor : float
        Least price scan range, relative to the price; for ``rates``, least yield scan
        range in yield terms (0.0005 = 5 basis points).
    vol_scan : float
        Volatility scan range (absolute, e.g. 0.04 = 4 vol points).
    som_fraction : float
        Short option minimum per short option, as a share of the underlying notional.
    mpor_days : int
        Margin period of risk in observations of the series.
    """

    k: float
    floor: float
    vol_scan: float
    som_fraction: float
    mpor_days: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductScan:
    """Scan ranges of one underlying, or of one tenor of a yield curve.

    Attributes
    ----------
    price_scan : float
        Price scan range relative to the price (0.08 = 8%) of a price-driven underlying;
        NaN for a curve tenor.
    vol_scan : float
        Volatility scan range (absolute).
    som_fraction : float
        Short option minimum as a share of notional.
    sigma : float
        The measured volatility of returns (of yield changes for a curve tenor) over the
        margin period (NaN when given).
    yield_scan : float
        Yield scan range of a curve tenor (``UST_10Y``) in yield terms (0.0015 = 15 basis
        points); NaN for a price-driven underlying.
    """

    price_scan: float = float("nan")
    vol_scan: float
    som_fraction: float
    sigma: float = float("nan")
    yield_scan: float = float("nan")


@dataclass(frozen=True, slots=True, kw_only=True)
class InterSpreadSpec:
    """An inter-commodity spread to publish: legs ``(underlying, side, ratio)`` and rate.

    ``side`` is +1 (``A``) or -1 (``B``); ``rate`` is the credit as a fraction of each
    leg's weighted futures price risk.
    """

    legs: tuple[tuple[str, int, float], ...]
    rate: float


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError("must be a mapping", field=where, value=value)
    return value


def _number(p: Mapping[str, Any], name: str, where: str, *, positive: bool = True) -> float:
    return parse_number(p.get(name), field=f"{where}.{name}", positive=positive)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Contract:
    """One contract to publish: its representative instrument and where it goes.

    ``scan_key`` names its scan ranges: the underlying, or for a curve-driven future
    (``curve_driven``) the curve tenor it is calibrated on.
    """

    instrument: Instrument
    underlying: str
    scan_key: str
    type: PortfolioType
    expiry: date
    multiplier: float
    right: int
    strike: float
    future: Future | None = None
    curve_driven: bool = False


def curve_tenor(curve: str, years: float) -> str:
    """Return the bundled par-yield series of ``curve`` whose tenor is nearest ``years``.

    ``curve_tenor("UST", 7.0)`` is ``UST_7Y``; a curve without bundled tenors gives its
    own name (its scan ranges must then be given).
    """
    tenors = [(name, t) for name, t in CURVE_TENORS if name.startswith(f"{curve}_")]
    return min(tenors, key=lambda e: abs(e[1] - years))[0] if tenors else curve


def _contract(inst: Instrument) -> _Contract | None:
    if isinstance(inst, Future):
        key, curve = inst.underlying, isinstance(inst, TreasuryFuture | RateFuture)
        if isinstance(inst, TreasuryFuture):
            key = curve_tenor(inst.underlying, inst.deliverable_years)
        elif isinstance(inst, RateFuture):
            key = curve_tenor(inst.underlying, inst.tenor_years)
        return _Contract(instrument=inst, underlying=inst.underlying, scan_key=key,
                         curve_driven=curve, type=PortfolioType.FUT, expiry=inst.expiry,
                         multiplier=inst.multiplier, right=NO_RIGHT, strike=float("nan"))
    if isinstance(inst, FutureOption) and isinstance(inst.future, TreasuryFuture | RateFuture):
        raise InputError("options on curve-driven futures are not published (the "
                         "revaluation prices options on price-driven underlyings only)",
                         field="instrument", value=inst.label)
    if isinstance(inst, FutureOption | Option):
        return _Contract(instrument=inst, underlying=inst.underlying_symbol,
                         scan_key=inst.underlying_symbol,
                         type=PortfolioType.OOF if isinstance(inst, FutureOption)
                         else PortfolioType.OOP, expiry=inst.expiry,
                         multiplier=inst.multiplier, right=CALL if inst.is_call else PUT,
                         strike=inst.strike,
                         future=inst.future if isinstance(inst, FutureOption) else None)
    return None


def _key(c: _Contract) -> tuple[Any, ...]:
    fut = c.future.expiry if c.future is not None else c.expiry
    strike = None if c.right == NO_RIGHT else c.strike
    return (c.underlying, c.type.value, fut, c.expiry, c.right, strike, c.multiplier)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RiskParameterPublisher:
    r"""Publishes SPAN risk parameters for futures and options (see the module notes).

    Parameters
    ----------
    params : ParamSet
        The parameter set the calibration came from.
    scan_points : ScanPoints
        The 16 scenarios (price and volatility multiples, covered fractions, pairs).
    classes : mapping of str to ClassCalibration
        ``index``, ``stock``, ``commodity``, ``crypto`` and ``rates`` (yield curves).
    clearing_org : str
        ``ec`` (and exchange code) written in the file.
    currency : str
        Currency of every portfolio (risk arrays, prices, charges).
    lookahead_days : float
        Calendar days that pass in every scenario.
    lookback : int
        Observations of history the volatility is measured on.
    delta_bump : float
        Relative price bump of the central-difference delta.
    intra_spread_fraction : float
        Calendar spread charge as a fraction of the front month's price scan range.
    delivery_spread_fraction, delivery_outright_fraction : float
        Delivery month charges per spread and per outright delta, as fractions of the
        price scan range (written for physically settled futures in their last month).
    inter_spreads : tuple of InterSpreadSpec
        Inter-commodity spreads to publish where all legs are present.
    """

    params: ParamSet
    scan_points: ScanPoints
    classes: Mapping[str, ClassCalibration] = field(default_factory=dict)
    clearing_org: str = "XM"
    currency: str = "USD"
    lookahead_days: float = 1.0
    lookback: int = 250
    delta_bump: float = 0.01
    intra_spread_fraction: float = 0.1
    delivery_spread_fraction: float = 0.0
    delivery_outright_fraction: float = 0.0
    inter_spreads: tuple[InterSpreadSpec, ...] = ()

    @classmethod
    def from_params(cls, params: ParamSet | None = None) -> RiskParameterPublisher:
        """Build the publisher from the ``span`` parameter set's ``publisher`` section."""
        params = params or load_params("span")
        try:
            p = _mapping(params.parameters.get("publisher"), "publisher")
            classes = {
                str(name): ClassCalibration(
                    k=_number(c, "k", f"publisher.classes.{name}"),
                    floor=_number(c, "floor", f"publisher.classes.{name}"),
                    vol_scan=_number(c, "vol_scan", f"publisher.classes.{name}"),
                    som_fraction=_number(c, "som_fraction", f"publisher.classes.{name}"),
                    mpor_days=int(_number(c, "mpor_days", f"publisher.classes.{name}")))
                for name, raw in _mapping(p.get("classes"), "publisher.classes").items()
                for c in (_mapping(raw, f"publisher.classes.{name}"),)}
            specs = []
            for k, raw in enumerate(p.get("inter_spreads") or []):
                spec = _mapping(raw, f"publisher.inter_spreads[{k}]")
                legs = tuple(
                    (str(leg["underlying"]), 1 if str(leg.get("side", "A")) == "A" else -1,
                     _number(leg, "ratio", f"publisher.inter_spreads[{k}].legs[{j}]"))
                    for j, leg in enumerate(spec.get("legs") or []))
                specs.append(InterSpreadSpec(
                    legs=legs, rate=_number(spec, "rate", f"publisher.inter_spreads[{k}]")))
            return cls(
                params=params,
                scan_points=ScanPoints.from_parameters(params.parameters.get("scan_points"),
                                                       where="scan_points"),
                classes=classes, clearing_org=str(p.get("clearing_org", "XM")),
                currency=str(p.get("currency", "USD")),
                lookahead_days=_number(p, "lookahead_days", "publisher"),
                lookback=int(_number(p, "lookback", "publisher")),
                delta_bump=_number(p, "delta_bump", "publisher"),
                intra_spread_fraction=_number(p, "intra_spread_fraction", "publisher"),
                delivery_spread_fraction=_number(p, "delivery_spread_fraction", "publisher"),
                delivery_outright_fraction=_number(p, "delivery_outright_fraction",
                                                   "publisher"),
                inter_spreads=tuple(specs))
        except (InputError, KeyError) as err:
            if isinstance(err, KeyError):
                err = InputError("is required", field=f"publisher.inter_spreads.{err}")
            raise err.located(params.path or params.id) from None

    # -- calibration --------------------------------------------------------------------
    def class_of(self, symbol: str) -> str:
        """Return the calibration class of an underlying symbol or curve tenor."""
        ref = refdata()
        kind = ref.asset_class_of(symbol)
        if kind is AssetClass.TREASURY or symbol in _TENORS:
            return RATES
        if kind is AssetClass.CRYPTO:
            return "crypto"
        if kind is AssetClass.COMMODITY:
            return "commodity"
        if kind is AssetClass.EQUITY_INDEX or symbol in ref.index_classes:
            return "index"
        return "stock"

    def calibrate(self, symbols: Iterable[str], *, as_of: date,
                  history: pd.DataFrame | None = None) -> dict[str, ProductScan]:
        """Return the scan ranges of ``symbols`` measured on the history up to ``as_of``.

        A curve tenor (``UST_10Y``) gets a yield scan range measured on the changes of its
        par yield; any other symbol a price scan range measured on its log returns.

        Raises
        ------
        InputError
            A symbol without recent history (the message names it and its last date).
        """
        symbols = sorted(set(symbols))
        if not symbols:
            return {}
        frame = load_history() if history is None else history
        out: dict[str, ProductScan] = {}
        for symbol in symbols:
            name = self.class_of(symbol)
            if name not in self.classes:
                raise InputError(f"no calibration class {name} in the parameter set",
                                 source=self.params.path or self.params.id,
                                 field=f"publisher.classes.{name}")
            c = self.classes[name]
            if symbol not in frame.columns:
                raise InputError("no bundled history to calibrate on; give its scan ranges",
                                 field=f"scans.{symbol}")
            series = frame[symbol].loc[:pd.Timestamp(as_of)].dropna()
            last = series.index[-1].date() if len(series) else None
            if last is None or (as_of - last).days > MAX_STALE_DAYS:
                raise InputError(f"history ends {last}, too long before {as_of}",
                                 field=f"scans.{symbol}")
            levels = series.to_numpy(dtype=np.float64)[-(self.lookback + c.mpor_days):]
            returns = levels[c.mpor_days:] - levels[:-c.mpor_days] if name == RATES else \
                np.log(levels[c.mpor_days:] / levels[:-c.mpor_days])
            if returns.size < MIN_OBSERVATIONS:
                raise InputError(f"only {returns.size} returns of history (at least "
                                 f"{MIN_OBSERVATIONS})", field=f"scans.{symbol}")
            sigma = float(np.std(returns, ddof=1))
            scan = max(c.k * sigma, c.floor)
            out[symbol] = ProductScan(
                price_scan=float("nan") if name == RATES else scan,
                yield_scan=scan if name == RATES else float("nan"),
                vol_scan=c.vol_scan, som_fraction=c.som_fraction, sigma=sigma)
        return out

    # -- publication --------------------------------------------------------------------
    def _contracts(self, instruments: Iterable[Instrument]) -> list[_Contract]:
        found: dict[tuple[Any, ...], _Contract] = {}
        for inst in instruments:
            c = _contract(inst)
            if c is None:
                continue
            extra = [c] if c.future is None else [c, _contract(c.future)]
            for item in extra:
                assert item is not None
                prev = found.setdefault(_key(item), item)
                if _terms(prev.instrument) != _terms(item.instrument):
                    raise InputError("two different contracts share underlying, expiry, "
                                     "size and strike", field="instrument",
                                     value=f"{prev.instrument.label} / {item.instrument.label}")
        order = {t: k for k, t in enumerate(PortfolioType)}
        return sorted(found.values(), key=lambda c: (
            c.underlying, order[c.type],
            c.future.expiry if c.future is not None else c.expiry,
            c.expiry, c.right, c.strike, c.multiplier))

    def _labels(self, *extra: str) -> tuple[str, ...]:
        return (*(self.scan_points.label(s) for s in range(SCENARIOS)), *extra)

    def _price_scenarios(self, underlyings: Sequence[str], scans: Mapping[str, ProductScan]
                         ) -> ScenarioSet:
        """Return the 16 price and volatility moves of each underlying and delta bumps."""
        pts, h = self.scan_points, self.delta_bump
        spot, vol = {}, {}
        for u in underlyings:
            scan = _scan_range(scans, u, "price_scan")
            if np.max(np.abs(pts.price)) * scan >= 1.0:
                raise InputError("the extreme move would take the price to zero or below",
                                 field=f"scans.{u}.price_scan", value=scan)
            spot[u] = np.r_[pts.price * scan, h, -h]
            vol[u] = np.r_[pts.vol * scans[u].vol_scan, 0.0, 0.0]
        return ScenarioSet(names=self._labels("delta up", "delta down"), spot=spot, vol=vol,
                           vol_shift=VolShift.ABSOLUTE, horizon_days=self.lookahead_days,
                           source="span publisher")

    def _curve_scenarios(self, curve: str, key: str, scans: Mapping[str, ProductScan]
                         ) -> ScenarioSet:
        """Return the 16 moves as parallel yield shifts, then the two edges of the scan.

        A price rise is a yield fall; the edges shift yields down and up by the full range.
        """
        shift = _scan_range(scans, key, "yield_scan")
        return ScenarioSet(
            names=self._labels("yields down by the scan range", "yields up by the scan range"),
            curve={curve: -np.r_[self.scan_points.price, 1.0, -1.0] * shift},
            horizon_days=self.lookahead_days, source=f"span publisher ({key})")

    def _revalue(self, contracts: list[_Contract], scans: Mapping[str, ProductScan],
                 market: MarketSnapshot) -> tuple[FloatArray, FloatArray, FloatArray,
                                                  FloatArray]:
        """Revalue every contract under its scenarios.

        Returns base values (n,), scenario P&L (n, 16), the slope (value per unit move of
        the underlying's price; a curve-driven future's price is its own, so its slope is
        its multiplier) and the price scan range of one contract in currency (n,).
        Price-driven contracts share one scenario set; curve-driven futures get one set
        per curve tenor, since each tenor has its own yield scan range.
        """
        n = len(contracts)
        base, pnl = np.zeros(n), np.zeros((n, SCENARIOS))
        slope, scan = np.zeros(n), np.zeros(n)
        groups: dict[str | None, list[int]] = {}
        for i, c in enumerate(contracts):
            groups.setdefault(c.scan_key if c.curve_driven else None, []).append(i)
        for key, rows in groups.items():
            items = [contracts[i] for i in rows]
            mult = np.asarray([c.multiplier for c in items], dtype=np.float64)
            if key is None:
                scenarios = self._price_scenarios(sorted({c.underlying for c in items}), scans)
            else:
                scenarios = self._curve_scenarios(items[0].underlying, key, scans)
            reval = revalue([c.instrument for c in items], market=market,
                            scenarios=scenarios, currency=self.currency)
            base[rows], pnl[rows] = reval.base_value, reval.pnl[:, :SCENARIOS]
            tail = reval.pnl[:, SCENARIOS:]
            if key is None:
                spot = np.asarray([market.price(c.underlying) for c in items])
                rel = np.asarray([scans[c.underlying].price_scan for c in items])
                slope[rows] = (tail[:, 0] - tail[:, 1]) / (2 * self.delta_bump * spot)
                is_fut = np.asarray([c.type is PortfolioType.FUT for c in items])
                scan[rows] = np.where(is_fut, rel * np.abs(reval.base_value),
                                      rel * spot * mult)
            else:
                slope[rows] = mult
                scan[rows] = np.max(np.abs(tail), axis=1)
        return base, pnl, slope, scan

    def publish(self, instruments: Iterable[Instrument], *, market: MarketSnapshot,
                scans: Mapping[str, ProductScan] | None = None) -> RiskParameters:
        """Return the risk parameters of the futures and options among ``instruments``.

        Instruments SPAN does not cover (equities, spot, perpetuals, bonds) are skipped;
        the underlying future of every option on a future is published too.

        Parameters
        ----------
        instruments : iterable of Instrument
        market : MarketSnapshot
            Prices, volatilities, rates and curves on the publication date.
        scans : mapping of str to ProductScan, optional
            Scan ranges by underlying, and by curve tenor (:func:`curve_tenor`) for
            curve-driven futures; the others are calibrated on the bundled history.

        Raises
        ------
        InputError
            An option on a curve-driven future, an underlying or tenor without history
            or scan ranges, two different contracts on one key.
        MissingDataError
            A price, volatility, rate or curve the revaluation needs.
        """
        contracts = self._contracts(instruments)
        keys = sorted({c.scan_key for c in contracts})
        given = dict(scans or {})
        all_scans = {**self.calibrate([k for k in keys if k not in given],
                                      as_of=market.as_of), **given}
        base, pnl, slope, scan = self._revalue(contracts, all_scans, market)
        arrays = np.round(-pnl * self.scan_points.weight, MONEY_DECIMALS)
        return self._model(contracts, all_scans, market, base, slope, arrays + 0.0, scan)

    def _model(self, contracts: list[_Contract], scans: Mapping[str, ProductScan],
               market: MarketSnapshot, base: np.ndarray, slope: np.ndarray,
               arrays: np.ndarray, scan: np.ndarray) -> RiskParameters:
        n = len(contracts)
        cvf = np.asarray([c.multiplier for c in contracts], dtype=np.float64)
        is_fut = np.asarray([c.type is PortfolioType.FUT for c in contracts], dtype=bool)
        pf_keys: dict[tuple[str, PortfolioType], int] = {}
        for c in contracts:
            pf_keys.setdefault((c.underlying, c.type), len(pf_keys))
        portfolio = np.asarray([pf_keys[(c.underlying, c.type)] for c in contracts],
                               dtype=np.int64)
        # contracts come sorted by underlying and portfolio type: portfolios are runs
        first = np.searchsorted(portfolio, np.arange(len(pf_keys)))
        portfolios = tuple(
            Portfolio(pf_id=k + 1, code=u, type=t, name=u, currency=self.currency,
                      cvf=float(cvf[first[k]]),
                      value_method="FUT" if t is PortfolioType.FUT else "PREM",
                      exchange=self.clearing_org) for (u, t), k in pf_keys.items())
        cid = np.arange(n, dtype=np.int64) - first[portfolio] + 1
        # reference contract of each underlying: its first future, else the option itself
        ref_row = {c.underlying: i for i, c in reversed(list(enumerate(contracts)))
                   if c.type is PortfolioType.FUT}
        ref_mult = np.asarray([cvf[ref_row[c.underlying]] if c.underlying in ref_row
                               else c.multiplier for c in contracts])
        ref_slope = np.asarray([slope[ref_row[c.underlying]] if c.underlying in ref_row
                                else c.multiplier for c in contracts])
        delta = np.where(is_fut, 1.0, np.round(slope / ref_slope, DELTA_DECIMALS))
        scaling = np.where(is_fut, cvf / ref_mult, 1.0)
        fut_rows = {(c.underlying, c.expiry, c.multiplier): i for i, c in enumerate(contracts)
                    if c.type is PortfolioType.FUT}
        und_pf = np.full(n, -1, dtype=np.int64)
        und_cid = np.full(n, -1, dtype=np.int64)
        for i, c in enumerate(contracts):
            if c.future is not None:
                j = fut_rows[(c.underlying, c.future.expiry, c.future.multiplier)]
                und_pf[i], und_cid[i] = portfolios[portfolio[j]].pf_id, cid[j]
        columns = Contracts(
            portfolio=portfolio, cid=cid,
            kind=np.where(is_fut, FUTURE, OPTION).astype(np.int64),
            period=np.asarray([period_of(c.expiry) for c in contracts], dtype=np.int64),
            right=np.asarray([c.right for c in contracts], dtype=np.int64),
            strike=np.asarray([c.strike for c in contracts], dtype=np.float64),
            price=np.round(base / cvf, PRICE_DECIMALS), delta=delta, cvf=cvf, scaling=scaling,
            price_scan=np.round(scan, MONEY_DECIMALS),
            vol_scan=np.asarray([scans[c.scan_key].vol_scan for c in contracts]),
            und_pf=und_pf, und_cid=und_cid, arrays=np.ascontiguousarray(arrays))
        rows_of: dict[str, list[int]] = {}
        for i, c in enumerate(contracts):
            rows_of.setdefault(c.underlying, []).append(i)
        links_of: dict[str, list[PortfolioLink]] = {}
        for pf in portfolios:
            links_of.setdefault(pf.code, []).append(PortfolioLink(
                code=pf.code, type=pf.type, pf_id=pf.pf_id, exchange=pf.exchange))
        combined = tuple(self._cc_def(u, rows_of[u], contracts, columns, tuple(links_of[u]),
                                      scans, market) for u in sorted(rows_of))
        present = {cc.code for cc in combined}
        inter = tuple(
            Spread(priority=k, charge_method="WPR", rates=((1, spec.rate),),
                   legs=tuple(SpreadLeg(cc=u, side=side, ratio=ratio, tier=0)
                              for u, side, ratio in spec.legs))
            for k, spec in enumerate(self.inter_spreads, start=1)
            if all(u in present for u, _, _ in spec.legs))
        return RiskParameters(
            source="<memory>", sha256="", business_date=market.as_of,
            clearing_org=self.clearing_org,
            rate_definitions=(RateDefinition(rate_id=1, maintenance=True, customer=True,
                                             account_type="S", classification="CORE"),),
            conversions=(), scan_points=self.scan_points, portfolios=portfolios,
            contracts=columns, combined=combined, inter_spreads=inter)

    def _cc_def(self, u: str, rows: list[int], contracts: list[_Contract], columns: Contracts,
                links: tuple[PortfolioLink, ...], scans: Mapping[str, ProductScan],
                market: MarketSnapshot) -> CombinedCommodity:
        futs = [i for i in rows if contracts[i].type is PortfolioType.FUT]
        expiries = sorted({contracts[i].expiry for i in futs})
        # price scan range per reference contract, by contract month
        per_ref = {contracts[i].expiry: float(columns.price_scan[i] / columns.scaling[i])
                   for i in reversed(futs)}
        tiers = tuple(Tier(number=k, start=period_of(e), end=period_of(e))
                      for k, e in enumerate(expiries, start=1))
        pairs = sorted(((i, j) for i in range(len(expiries))
                        for j in range(i + 1, len(expiries))), key=lambda p: (p[1] - p[0], p))
        spreads = tuple(
            Spread(priority=k, charge_method="F",
                   rates=((1, self.intra_spread_fraction * per_ref[expiries[i]]),),
                   legs=(SpreadLeg(cc=u, side=1, ratio=1.0, tier=i + 1),
                         SpreadLeg(cc=u, side=-1, ratio=1.0, tier=j + 1)))
            for k, (i, j) in enumerate(pairs, start=1))
        month = market.as_of.year * 100 + market.as_of.month
        spots = tuple(
            SpotRate(rate_id=1, period=period_of(e),
                     spread=self.delivery_spread_fraction * per_ref[e],
                     outright=self.delivery_outright_fraction * per_ref[e])
            for e in expiries if period_of(e) // 100 == month and any(
                contracts[i].expiry == e and
                getattr(contracts[i].instrument, "settlement", None) is Settlement.PHYSICAL
                for i in futs))
        opts = [i for i in rows if contracts[i].type is not PortfolioType.FUT]
        som = () if not opts else (Tier(number=1, rates=((1, scans[u].som_fraction
                                                          * market.price(u)
                                                          * max(contracts[i].multiplier
                                                                for i in opts)),)),)
        return CombinedCommodity(code=u, name=u, currency=self.currency, links=links,
                                 intra_tiers=tiers, som_tiers=som, spot_rates=spots,
                                 intra_spreads=spreads)


def _terms(inst: Instrument) -> tuple[Any, ...]:
    """Return the terms that decide a contract's value (not its symbol)."""
    return tuple(getattr(inst, name, None) for name in
                 ("currency", "settlement", "style", "asset_class", "notional_coupon",
                  "deliverable_years", "tenor_years"))


def _scan_range(scans: Mapping[str, ProductScan], key: str, name: str) -> float:
    """Return scan range ``name`` of ``key``; it must be a non-negative number."""
    value = float(getattr(scans[key], name))
    if not (np.isfinite(value) and value >= 0.0):
        raise InputError("must be a non-negative number", field=f"scans.{key}.{name}",
                         value=value)
    return value


#: Tenors of the bundled curves, by series name.
_TENORS = dict(CURVE_TENORS)
