"""Properties of the coverage statistics on random exception sequences (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import xlogy

from crossmargin.analytics.backtest import coverage_tests
from crossmargin.analytics.statistics import (
    TrafficLight,
    christoffersen_independence,
    kupiec_pof,
    transitions,
)

#: Likelihood sums computed by two routes agree to this (relative to their size).
REL = 1e-9

confidences = st.sampled_from([0.9, 0.95, 0.975, 0.99, 0.995])
sequences = st.lists(st.booleans(), min_size=0, max_size=60)


@st.composite
def hit_matrices(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """A few series of exceptions over a few days, with some days not observed."""
    n = draw(st.integers(1, 5))
    t = draw(st.integers(1, 40))
    flat = st.lists(st.booleans(), min_size=n * t, max_size=n * t)
    hits = np.asarray(draw(flat), dtype=bool).reshape(n, t)
    observed = np.asarray(draw(flat), dtype=bool).reshape(n, t) | draw(st.booleans())
    return hits, observed


@given(x=st.integers(0, 300), extra=st.integers(0, 300), confidence=confidences)
def test_kupiec_is_a_finite_non_negative_statistic(x: int, extra: int,
                                                   confidence: float) -> None:
    test = kupiec_pof(exceptions=x, observations=x + extra, confidence=confidence)
    assert np.isfinite(test.statistic) and float(test.statistic) >= 0.0
    assert 0.0 <= float(test.p_value) <= 1.0


@given(t=st.integers(1, 500), confidence=confidences)
def test_kupiec_grows_away_from_the_expected_count(t: int, confidence: float) -> None:
    """The statistic falls towards x = pT and rises beyond it (a convex likelihood)."""
    x = np.arange(t + 1)
    lr = kupiec_pof(exceptions=x, observations=np.full(x.shape, t),
                    confidence=confidence).statistic
    best = int(np.argmin(lr))
    assert abs(best - (1 - confidence) * t) <= 1.0
    assert np.all(np.diff(lr[:best + 1]) <= 1e-9) and np.all(np.diff(lr[best:]) >= -1e-9)


@given(seq=sequences)
def test_independence_equals_the_markov_likelihood_ratio(seq: list[bool]) -> None:
    """Two routes: the closed form from transition counts, and the log-likelihood of the
    sequence summed transition by transition under one and two exception rates."""
    hits = np.asarray(seq, dtype=bool)
    lr = float(christoffersen_independence(transitions(hits)).statistic)
    prev, cur = hits[:-1], hits[1:]
    pi = cur.mean() if cur.size else 0.0
    one = float(np.sum(xlogy(cur, pi) + xlogy(~cur, 1 - pi)))
    two = 0.0
    for state in (False, True):
        nxt = cur[prev == state]
        rate = nxt.mean() if nxt.size else 0.0
        two += float(np.sum(xlogy(nxt, rate) + xlogy(~nxt, 1 - rate)))
    assert np.isfinite(lr) and lr >= 0.0
    assert abs(lr - max(-2.0 * (one - two), 0.0)) <= REL * max(1.0, abs(one))


@given(case=hit_matrices())
def test_transitions_count_consecutive_observations(case: tuple[np.ndarray, np.ndarray]
                                                    ) -> None:
    hits, observed = case
    t = transitions(hits, observed=observed)
    total = t.n00 + t.n01 + t.n10 + t.n11
    assert total.tolist() == np.maximum(observed.sum(axis=1) - 1, 0).tolist()
    into = t.n01 + t.n11  # exceptions after the first observation of each series
    first = np.array([row[obs][0] if obs.any() else False
                      for row, obs in zip(hits, observed, strict=True)])
    assert (into + first).tolist() == (hits & observed).sum(axis=1).tolist()


@given(case=hit_matrices(), confidence=confidences, seed=st.integers(0, 2**16))
def test_pooled_statistics_do_not_depend_on_account_order(
        case: tuple[np.ndarray, np.ndarray], confidence: float, seed: int) -> None:
    hits, observed = case
    light = TrafficLight(confidence=confidence, yellow=0.95, red=0.9999)
    order = np.random.default_rng(seed).permutation(hits.shape[0])
    each, pooled = coverage_tests(hits=hits, observed=observed, light=light, window=10)
    each2, pooled2 = coverage_tests(hits=hits[order], observed=observed[order], light=light,
                                    window=10)
    assert pooled.row() == pooled2.row()
    assert each.kupiec.statistic[order].tolist() == each2.kupiec.statistic.tolist()
    for tests in (each, pooled):
        for lr in (tests.kupiec, tests.independence, tests.conditional):
            assert np.all(np.isfinite(lr.statistic)) and np.all(lr.statistic >= 0)
            assert np.all((lr.p_value >= 0) & (lr.p_value <= 1))
        assert np.all(tests.conditional.statistic == tests.kupiec.statistic
                      + tests.independence.statistic)
        assert np.all((tests.coverage >= 0) & (tests.coverage <= 1))


@given(t=st.integers(1, 1000), confidence=confidences)
def test_traffic_light_zones_follow_the_cumulative_binomial(t: int, confidence: float) -> None:
    """Zones never fall as exceptions rise, none is green; each boundary is the first
    count from 1 whose cumulative probability reaches the zone's level."""
    light = TrafficLight(confidence=confidence, yellow=0.95, red=0.9999)
    x = np.arange(t + 1)
    zones = light.zones(exceptions=x, observations=np.full(x.shape, t))
    assert np.all(np.diff(zones) >= 0) and zones[0] == 0
    cdf = light.cumulative(exceptions=x, observations=np.full(x.shape, t))
    yellow, red = (int(b) for b in light.bounds(t))
    assert cdf[yellow] >= 0.95 and (yellow == 1 or cdf[yellow - 1] < 0.95)
    assert cdf[red] >= 0.9999 and (red == 1 or cdf[red - 1] < 0.9999)
