"""Properties of the span method on random books over a published file (hypothesis)."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import (
    AssetClass,
    Future,
    FutureOption,
    Instrument,
    Option,
    Right,
    Settlement,
    Style,
    TreasuryFuture,
)
from crossmargin.methods.span.matching import ContractIndex
from crossmargin.methods.span.method import StandardPortfolioAnalysisOfRisk
from crossmargin.methods.span.publisher import (
    InterSpreadSpec,
    ProductScan,
    RiskParameterPublisher,
)
from tests.conftest import AS_OF, make_market

SEP, DEC = date(2018, 9, 21), date(2018, 12, 21)
ES = [Future(symbol=f"ES{k}", underlying="SPX", expiry=e, multiplier=50.0)
      for k, e in enumerate((SEP, DEC))]
BTC = [Future(symbol=f"BTC{k}", underlying="BTC", expiry=e, multiplier=5.0,
              asset_class=AssetClass.CRYPTO)
       for k, e in enumerate((date(2018, 9, 28), date(2018, 12, 28)))]
#: Treasury futures, priced off the curve (Treasury and short-rate futures publish alike).
TY = [TreasuryFuture(symbol=f"TY{k}", underlying="UST", expiry=e)
      for k, e in enumerate((SEP, date(2018, 12, 19)))]
UNIVERSE: list[Instrument] = [
    *ES, *BTC, *TY,
    FutureOption(future=ES[0], right=Right.CALL, strike=2750.0, expiry=SEP, multiplier=50.0,
                 style=Style.EUROPEAN),
    FutureOption(future=ES[0], right=Right.PUT, strike=2600.0, expiry=SEP, multiplier=50.0,
                 style=Style.EUROPEAN),
    Option(underlying="BTC", right=Right.CALL, strike=7000.0, expiry=date(2018, 9, 28),
           multiplier=1.0, settlement=Settlement.CASH, asset_class=AssetClass.CRYPTO),
    Option(underlying="BTC", right=Right.PUT, strike=6000.0, expiry=date(2018, 9, 28),
           multiplier=1.0, settlement=Settlement.CASH, asset_class=AssetClass.CRYPTO),
]
MARKET = make_market()
_PUBLISHER = RiskParameterPublisher.from_params()
SPAN = StandardPortfolioAnalysisOfRisk.from_params(risk_parameters=type(_PUBLISHER)(
    params=_PUBLISHER.params, scan_points=_PUBLISHER.scan_points,
    classes=_PUBLISHER.classes,
    inter_spreads=(InterSpreadSpec(legs=(("SPX", 1, 1.0), ("BTC", -1, 20.0)), rate=0.3),),
).publish(UNIVERSE, market=MARKET, scans={
    "SPX": ProductScan(price_scan=0.06, vol_scan=0.04, som_fraction=0.03),
    "BTC": ProductScan(price_scan=0.15, vol_scan=0.10, som_fraction=0.075),
    "UST_7Y": ProductScan(yield_scan=0.0015, vol_scan=0.0, som_fraction=0.0)}))

positions = st.lists(
    st.tuples(st.integers(0, len(UNIVERSE) - 1),
              st.floats(-50, 50, allow_nan=False).filter(lambda q: abs(q) > 1e-3)),
    min_size=1, max_size=8,
)


def _book(pos: list[tuple[int, float]]) -> Book:
    return Book.from_accounts(
        [Account(id="A", positions=tuple(Position(instrument=UNIVERSE[i], quantity=q)
                                         for i, q in pos))],
        as_of=AS_OF, currency="USD")


def _margin(pos: list[tuple[int, float]]) -> tuple[float, float]:
    result = SPAN.compute(_book(pos), MARKET)
    return float(result.initial_margin[0]), float(result.maintenance_margin[0])


@given(positions)
def test_margin_is_finite_and_non_negative(pos: list[tuple[int, float]]) -> None:
    result = SPAN.compute(_book(pos), MARKET)
    im, mm = result.initial_margin[0], result.maintenance_margin[0]
    assert np.isfinite(im) and np.isfinite(mm) and 0 <= mm <= im
    for values in result.components.values():
        assert np.all(np.isfinite(values))


@given(positions, st.randoms(use_true_random=False))
def test_invariant_to_position_order(pos: list[tuple[int, float]], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(pos)
    rnd.shuffle(shuffled)
    a, b = _margin(pos), _margin(shuffled)
    assert abs(a[0] - b[0]) <= 0.011 and abs(a[1] - b[1]) <= 0.011


@given(positions, st.floats(0.1, 10))
def test_homogeneous_of_degree_one(pos: list[tuple[int, float]], c: float) -> None:
    """Every SPAN charge is linear in quantity or a max/min of linear terms (spreads
    formed, short option counts, net option value): margin(c x book) = c x margin."""
    base = _margin(pos)
    scaled = _margin([(i, c * q) for i, q in pos])
    for b, s in zip(base, scaled, strict=True):
        assert abs(s - c * b) <= 0.011 * (1 + c) + 1e-9 * s


@given(st.integers(0, len(UNIVERSE) - 1), st.floats(0.5, 20))
def test_a_hedge_never_costs_more_than_the_worst_leg(i: int, q: float) -> None:
    """A position and its exact opposite cost nothing; a partial hedge costs no more than
    the larger of the two legs alone."""
    assert _margin([(i, q), (i, -q)]) == (0.0, 0.0)
    hedged = _margin([(i, q), (i, -0.5 * q)])[1]
    assert hedged <= max(_margin([(i, q)])[1], _margin([(i, -0.5 * q)])[1]) + 0.011


@given(st.lists(positions, min_size=1, max_size=6))
def test_accounts_are_margined_alone(books: list[list[tuple[int, float]]]) -> None:
    """A book of many accounts gives each account what it gives alone (the kernel and
    the vectorised charges never mix accounts)."""
    together = SPAN.compute(Book.from_accounts(
        [Account(id=f"A{k}", positions=tuple(Position(instrument=UNIVERSE[i], quantity=q)
                                              for i, q in pos))
         for k, pos in enumerate(books)], as_of=AS_OF, currency="USD"), MARKET)
    for k, pos in enumerate(books):
        assert together.maintenance_margin[k] == _margin(pos)[1]


@given(positions)
def test_scanning_risk_is_the_worst_array_sum(pos: list[tuple[int, float]]) -> None:
    """The kernel's scanning risk equals the dense sum of risk arrays per commodity."""
    result = SPAN.compute(_book(pos), MARKET)
    c = SPAN.risk_parameters.contracts
    index = ContractIndex(SPAN.risk_parameters)
    totals: dict[str, np.ndarray] = {}
    for i, q in pos:
        row = index.find(UNIVERSE[i])
        code = SPAN.risk_parameters.portfolios[int(c.portfolio[row])].code
        totals[code] = totals.get(code, np.zeros(16)) + q * c.arrays[row]
    expected = sum(max(0.0, float(t.max())) for t in totals.values())
    assert abs(result.components["scanning_risk"][0] - expected) <= 1e-6 * (1 + expected)
