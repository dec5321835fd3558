"""The strategy pairing: integer program against brute force, greedy, dedup and chunks."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pytest

from crossmargin.book.book import Account, Book, Position
from crossmargin.book.instruments import Equity, Option, Right
from crossmargin.core.typing import FloatArray, IntArray
from crossmargin.market.snapshot import MarketSnapshot
from crossmargin.methods.strategy import pairing
from crossmargin.methods.strategy.holdings import Holdings, net_holdings
from crossmargin.methods.strategy.method import StrategyBased
from crossmargin.methods.strategy.pairing import pair_strategies
from crossmargin.methods.strategy.rules import unit_requirements
from crossmargin.methods.strategy.strategies import (
    STRATEGIES,
    Candidates,
    candidate_strategies,
    capacity,
)
from crossmargin.methods.strategy.terms import InstrumentTerms, instrument_terms
from tests.conftest import AS_OF, make_market

METHOD = StrategyBased.from_params()
MARKET = make_market()
EXPIRY = date(2018, 9, 21)
AAPL = Equity(symbol="AAPL")
OPTIONS = [Option(underlying="AAPL", right=r, strike=k, expiry=EXPIRY)
           for r in (Right.CALL, Right.PUT) for k in (175.0, 180.0, 185.0, 190.0, 195.0)]


@dataclass
class Problem:
    holdings: Holdings
    candidates: Candidates
    alone: FloatArray  # initial requirement of one unit of each holding held alone
    terms: InstrumentTerms


def _book(*accounts: list[tuple[Equity | Option, float]]) -> Book:
    return Book.from_accounts(
        [Account(id=f"A{k}", positions=tuple(Position(instrument=i, quantity=q) for i, q in a))
         for k, a in enumerate(accounts)], as_of=AS_OF, currency="USD")


def _problem(book: Book, market: MarketSnapshot = MARKET) -> Problem:
    terms = instrument_terms(book=book, market=market, rule=METHOD.options, source="test")
    unit = unit_requirements(
        is_stock=terms.is_stock, is_call=terms.is_call, value=terms.value, spot=terms.spot,
        strike=terms.strike, multiplier=terms.multiplier, pct=terms.pct,
        marginable=terms.marginable, stock=METHOD.stock, option=METHOD.options)
    holdings = net_holdings(book, terms.underlying)
    inst = holdings.instrument
    alone = np.where(holdings.quantity > 0, unit.long_initial[inst], unit.short_initial[inst])
    return Problem(holdings=holdings, alone=alone, terms=terms, candidates=candidate_strategies(
        holdings=holdings, terms=terms, unit=unit, stock=METHOD.stock, option=METHOD.options))


def _pair(p: Problem) -> FloatArray:
    h = p.holdings
    return pair_strategies(candidates=p.candidates, saving=p.candidates.saving_initial,
                           capacity=capacity(h.quantity),
                           holding_key=h.instrument * 2 + (h.quantity > 0),
                           segment_offsets=h.segment_offsets)


def _requirement(p: Problem, x: FloatArray) -> float:
    """Total initial requirement of the pairing ``x`` (units left over held alone)."""
    c = p.candidates
    used = np.zeros(p.holdings.size)
    leg_cand = np.repeat(np.arange(c.size), np.diff(c.leg_offsets))
    np.add.at(used, c.leg_holding, np.abs(c.leg_units) * x[leg_cand])
    left = np.abs(p.holdings.quantity) - used
    assert np.all(left >= -1e-9)
    return float(left @ p.alone + x @ c.initial)


def _greedy(p: Problem, order: tuple[str, ...]) -> FloatArray:
    """First come, first served: strategy types in ``order``, each candidate as many times
    as what is left allows."""
    c = p.candidates
    left = capacity(p.holdings.quantity)
    x = np.zeros(c.size)
    for name in order:
        for k in np.flatnonzero((c.strategy == STRATEGIES.index(name))
                                & (c.saving_initial > 0)):
            legs = slice(c.leg_offsets[k], c.leg_offsets[k + 1])
            units = np.abs(c.leg_units[legs])
            x[k] = np.floor(np.min(left[c.leg_holding[legs]] / units))
            left[c.leg_holding[legs]] -= x[k] * units
    return x


ISSUE_ORDER = ("covered_call", "protective_put", "collar", "vertical_spread",
               "calendar_spread", "straddle", "strangle", "butterfly", "iron_condor",
               "box_spread")


def test_greedy_pairing_costs_more_than_the_integer_program() -> None:
    """A long call butterfly (long 180, short 2 x 185, long 190). Pairing first come,
    first served in the issue's order of strategy types forms two vertical spreads, one
    of them a credit spread needing the 500 strike difference; the integer program forms
    the butterfly, which never loses at expiry."""
    book = _book([(OPTIONS[1], 1), (OPTIONS[2], -2), (OPTIONS[3], 1)])
    p = _problem(book)
    greedy = _requirement(p, _greedy(p, ISSUE_ORDER))
    best = _requirement(p, _pair(p))
    assert greedy == pytest.approx(best + 500.0)
    assert METHOD.compute(book, MARKET).initial_margin[0] == pytest.approx(best, abs=0.011)


def test_pairing_matches_brute_force() -> None:
    """On random small accounts, the integer program's requirement equals the least
    requirement over every whole-number pairing."""
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(40):
        picks = rng.choice(len(OPTIONS), size=rng.integers(2, 6), replace=False)
        legs: list[tuple[Equity | Option, float]] = [
            (OPTIONS[int(i)], float(rng.choice([-3, -2, -1, 1, 2, 3]))) for i in picks]
        if rng.random() < 0.5:
            legs.append((AAPL, float(rng.integers(1, 4) * 100)))
        p = _problem(_book(legs))
        c = p.candidates
        upper = pairing._upper_bounds(c, capacity(p.holdings.quantity))
        if c.size == 0 or np.prod(upper + 1) > 20_000:
            continue
        best = min(
            _requirement(p, np.asarray(x, dtype=float))
            for x in itertools.product(*(range(int(u) + 1) for u in upper))
            if _feasible(p, np.asarray(x, dtype=float)))
        assert _requirement(p, _pair(p)) == pytest.approx(best, rel=1e-12)
        checked += 1
    assert checked >= 20


def _feasible(p: Problem, x: FloatArray) -> bool:
    c = p.candidates
    leg_cand = np.repeat(np.arange(c.size), np.diff(c.leg_offsets))
    used = np.bincount(c.leg_holding, weights=np.abs(c.leg_units) * x[leg_cand],
                       minlength=p.holdings.size)
    return bool(np.all(used <= capacity(p.holdings.quantity) + 1e-9))


def test_branch_and_bound_agrees_with_highs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled search and HiGHS (every segment over the search's node budget) reach
    the same least requirement on many random accounts at once."""
    rng = np.random.default_rng(11)
    accounts = []
    for _ in range(300):
        picks = rng.choice(len(OPTIONS), size=rng.integers(2, 9), replace=False)
        legs: list[tuple[Equity | Option, float]] = [
            (OPTIONS[int(i)], float(rng.choice([-9, -4, -2, -1, 1, 2, 5, 8]))) for i in picks]
        if rng.random() < 0.4:
            legs.append((AAPL, float(rng.integers(1, 9) * 100)))
        accounts.append(legs)
    p = _problem(_book(*accounts))
    searched = _pair(p)
    monkeypatch.setattr(pairing, "NODE_BUDGET", 0)
    monkeypatch.setattr(pairing, "CHUNK", 50)
    solved = _pair(p)
    per_account = np.bincount(p.holdings.segment_account[p.candidates.segment],
                              weights=p.candidates.saving_initial * (searched - solved))
    assert np.abs(per_account).max() < 1e-6


def test_identical_accounts_share_one_solution_and_chunks_do_not_matter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts holding the same legs are solved once; splitting the program into many
    calls changes nothing; every account gets what it gets alone."""
    condor = [(OPTIONS[5], 2), (OPTIONS[6], -2), (OPTIONS[3], -1), (OPTIONS[4], 1)]
    fly = [(OPTIONS[0], 1), (OPTIONS[1], -2), (OPTIONS[2], 1), (OPTIONS[3], -1)]
    accounts = [condor, fly, condor, [(AAPL, 300), (OPTIONS[2], -2), (OPTIONS[8], 3)],
                fly, condor]
    together = _problem(_book(*accounts))
    x = _pair(together)
    monkeypatch.setattr(pairing, "NODE_BUDGET", 0)
    monkeypatch.setattr(pairing, "CHUNK", 1)
    assert _requirement(together, _pair(together)) == pytest.approx(
        _requirement(together, x))
    alone = [_requirement(_problem(_book(a)), _pair(_problem(_book(a)))) for a in accounts]
    result = METHOD.compute(_book(*accounts), MARKET)
    assert result.initial_margin == pytest.approx(np.ceil(np.asarray(alone) * 100) / 100,
                                                  abs=0.011)


def test_segments_outside_the_mask_form_nothing() -> None:
    p = _problem(_book([(OPTIONS[1], 1), (OPTIONS[2], -1)]))
    h = p.holdings
    x = pair_strategies(candidates=p.candidates, saving=p.candidates.saving_initial,
                        capacity=capacity(h.quantity), holding_key=h.instrument * 2,
                        segment_offsets=h.segment_offsets,
                        within=np.zeros(h.segment_account.size, dtype=bool))
    assert not x.any()


def test_integer_program_picks_the_protective_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short 100 AAPL at 185 with a long 190 call at 1.50 and a long 200 call at 0.40: two
    protective calls compete for the one lot of shares. Held alone the short stock
    maintains 185 + 30% = 240.50 a share; with the 190 call 185 + 10% x 190 + 5 = 209, with
    the 200 call 185 + 20 + 15 = 220. HiGHS (the search given no nodes) forms the first:
    18,500 + 2,400 + 150 + 40 = 21,090 against 24,240 with every leg alone."""
    calls = [Option(underlying="AAPL", right=Right.CALL, strike=k, expiry=EXPIRY)
             for k in (190.0, 200.0)]
    positions = (Position(instrument=AAPL, quantity=-100),
                 Position(instrument=calls[0], quantity=1, mark=1.50),
                 Position(instrument=calls[1], quantity=1, mark=0.40))

    def book_of(*held: Position) -> Book:
        return Book.from_accounts([Account(id="A", positions=held)], as_of=AS_OF,
                                  currency="USD")

    book = book_of(*positions)
    p = _problem(book)
    h, c = p.holdings, p.candidates
    sizes: list[int] = []
    original = pairing._solve

    def solve(variables: IntArray, **kwargs: Any) -> FloatArray:
        sizes.append(variables.size)
        return original(variables, **kwargs)

    monkeypatch.setattr(pairing, "NODE_BUDGET", 0)
    monkeypatch.setattr(pairing, "_solve", solve)
    x = pair_strategies(candidates=c, saving=c.saving_maintenance,
                        capacity=capacity(h.quantity),
                        holding_key=h.instrument * 2 + (h.quantity > 0),
                        segment_offsets=h.segment_offsets)
    assert sizes == [2]  # one program, the two protective calls
    (formed,) = np.flatnonzero(x)
    assert x[formed] == 1
    assert STRATEGIES[int(c.strategy[formed])] == "protective_call"
    legs = c.leg_holding[c.leg_offsets[formed]:c.leg_offsets[formed + 1]]
    assert [book.instruments[int(i)] for i in h.instrument[legs]] == [AAPL, calls[0]]
    assert METHOD.compute(book, MARKET).maintenance_margin[0] == pytest.approx(21_090.0)
    alone = sum(METHOD.compute(book_of(q), MARKET).maintenance_margin[0] for q in positions)
    assert alone == pytest.approx(24_240.0)


def test_fractional_relaxations_go_to_the_integer_program(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Segment 0 is an odd cycle: three candidates, each using one unit of two of three
    one-unit holdings, each saving 1. Its linear relaxation forms half an instance of
    each (1.5); the integer program one instance (1). Segment 1, two candidates sharing
    one holding, relaxes to a whole solution, taken as it is. So HiGHS runs the
    relaxation of both, then the integer program of segment 0 alone."""
    legs = [(0, 1), (1, 2), (0, 2), (3, 4), (3, 5)]
    n = len(legs)
    candidates = Candidates(
        strategy=np.zeros(n, dtype=np.int64), segment=np.array([0, 0, 0, 1, 1]),
        initial=np.ones(n), maintenance=np.ones(n),
        saving_initial=np.array([1.0, 1.0, 1.0, 2.0, 3.0]), saving_maintenance=np.ones(n),
        leg_offsets=np.arange(0, 2 * n + 1, 2), leg_holding=np.array(legs).ravel(),
        leg_units=np.ones(2 * n))
    calls: list[tuple[int, bool]] = []
    original = pairing._solve

    def solve(variables: IntArray, **kwargs: Any) -> FloatArray:
        calls.append((variables.size, kwargs.get("integral", True)))
        return original(variables, **kwargs)

    monkeypatch.setattr(pairing, "NODE_BUDGET", 0)
    monkeypatch.setattr(pairing, "_solve", solve)
    x = pair_strategies(candidates=candidates, saving=candidates.saving_initial,
                        capacity=np.ones(6), holding_key=np.arange(6),
                        segment_offsets=np.array([0, 3, 6]))
    assert calls == [(5, False), (3, True)]
    assert x[:3].sum() == 1 and set(x[:3]) == {0.0, 1.0}
    assert x[3:].tolist() == [0.0, 1.0]
