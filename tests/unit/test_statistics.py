"""Coverage statistics by hand: Kupiec, Christoffersen, the traffic light, pooling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crossmargin.analytics.backtest import coverage_tests
from crossmargin.analytics.statistics import (
    NO_ZONE,
    TrafficLight,
    christoffersen_conditional_coverage,
    christoffersen_independence,
    kupiec_pof,
    transitions,
)
from crossmargin.core.errors import InputError

#: Hand-worked figures are written to six decimals.
HAND = 1e-6
LIGHT = TrafficLight(confidence=0.99, yellow=0.95, red=0.9999)
CLUSTERED = [0, 0, 0, 0, 1, 1, 1, 0, 0, 0]
SCATTERED = [0, 0, 1, 1, 0, 0, 0, 1, 0, 0]


def test_kupiec_five_exceptions_in_250_days() -> None:
    """Kupiec (1995): T = 250, x = 5, p = 0.01.

    ln L0 = 245 ln 0.99 + 5 ln 0.01 = -2.462332 - 23.025851 = -25.488183
    ln L1 = 245 ln 0.98 + 5 ln 0.02 = -4.949663 - 19.560115 = -24.509778
    LR = -2 (ln L0 - ln L1) = 1.956810; p = P(chi2(1) > 1.956810) = 0.161855.
    """
    test = kupiec_pof(exceptions=5, observations=250, confidence=0.99)
    assert float(test.statistic) == pytest.approx(1.956810, abs=HAND)
    assert float(test.p_value) == pytest.approx(0.161855, abs=HAND)
    assert test.dof == 1 and test.statistic.shape == ()


def test_kupiec_limits_at_the_edges() -> None:
    """x = 0: LR = -2 T ln(1 - p) = -500 ln 0.99 = 5.025168; x = T: -2 T ln p =
    -500 ln 0.01 = 2302.585093; T = 0: nothing observed, LR = 0 and p = 1 (never NaN)."""
    test = kupiec_pof(exceptions=[0, 250, 0], observations=[250, 250, 0], confidence=0.99)
    assert test.statistic == pytest.approx([5.025168, 2302.585093, 0.0], abs=HAND)
    assert test.p_value[2] == 1.0 and np.all(np.isfinite(test.p_value))


def test_kupiec_is_zero_at_the_expected_rate() -> None:
    test = kupiec_pof(exceptions=[1, 10], observations=[100, 1000], confidence=0.99)
    assert test.statistic == pytest.approx([0.0, 0.0], abs=1e-12)
    assert test.p_value == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize(("exceptions", "observations", "confidence", "field"), [
    (3, 2, 0.99, "exceptions"), (-1, 10, 0.99, "exceptions"), (1.5, 10, 0.99, "exceptions"),
    (1, 10, 1.0, "confidence"), (1, 10, 0.0, "confidence"), (1, float("nan"), 0.99,
                                                               "observations")])
def test_kupiec_rejects_bad_counts(exceptions: float, observations: float, confidence: float,
                                   field: str) -> None:
    with pytest.raises(InputError) as err:
        kupiec_pof(exceptions=exceptions, observations=observations, confidence=confidence)
    assert err.value.field == field and "\n" not in str(err.value)


def test_transitions_of_a_clustered_sequence() -> None:
    """0 0 0 0 1 1 1 0 0 0: pairs 00 00 00 01 11 11 10 00 00 -> n00 5, n01 1, n10 1, n11 2."""
    t = transitions(CLUSTERED)
    assert (int(t.n00), int(t.n01), int(t.n10), int(t.n11)) == (5, 1, 1, 2)


def test_christoffersen_independence_of_clustered_exceptions() -> None:
    """Christoffersen (1998), section 3, on 0 0 0 0 1 1 1 0 0 0.

    pi0 = 1/6, pi1 = 2/3, pi = 3/9 = 1/3;
    ln L(pi) = (n00 + n10) ln(2/3) + (n01 + n11) ln(1/3) = 6 ln(2/3) + 3 ln(1/3) = -5.728628
    ln L(pi0, pi1) = 5 ln(5/6) + ln(1/6) + ln(1/3) + 2 ln(2/3) = -4.612910
    LR_ind = 2 x 1.115718 = 2.231436; p = P(chi2(1) > 2.231436) = 0.135228.
    """
    test = christoffersen_independence(transitions(CLUSTERED))
    assert float(test.statistic) == pytest.approx(2.231436, abs=HAND)
    assert float(test.p_value) == pytest.approx(0.135228, abs=HAND)


def test_christoffersen_independence_is_zero_when_exceptions_do_not_cluster() -> None:
    """0 0 1 1 0 0 0 1 0 0: n00 4, n01 2, n10 2, n11 1: pi0 = pi1 = pi = 1/3, LR_ind = 0."""
    t = transitions(SCATTERED)
    assert (int(t.n00), int(t.n01), int(t.n10), int(t.n11)) == (4, 2, 2, 1)
    test = christoffersen_independence(t)
    assert float(test.statistic) == pytest.approx(0.0, abs=1e-12)
    assert float(test.p_value) == pytest.approx(1.0)


@pytest.mark.parametrize("hits", [[0, 0, 0, 1], [0] * 20, [1], [], [1, 1, 1]])
def test_christoffersen_limits_without_transitions(hits: list[int]) -> None:
    """No transition out of an exception (0 0 0 1), no exception, one or no observation,
    nothing but exceptions: the missing state's terms vanish (0 ln 0 = 0), LR_ind = 0."""
    test = christoffersen_independence(transitions(np.asarray(hits, dtype=bool)))
    assert float(test.statistic) == pytest.approx(0.0, abs=1e-12)
    assert np.isfinite(test.p_value)


def test_conditional_coverage_adds_the_two_statistics() -> None:
    """Clustered sequence at p = 0.01: T = 10, x = 3.

    ln L0 = 7 ln 0.99 + 3 ln 0.01 = -13.885863; ln L1 = 7 ln 0.7 + 3 ln 0.3 = -6.108643;
    LR_pof = 15.554440; LR_cc = 15.554440 + 2.231436 = 17.785875;
    p = P(chi2(2) > 17.785875) = exp(-17.785875 / 2) = 0.000137356.
    """
    pof = kupiec_pof(exceptions=3, observations=10, confidence=0.99)
    ind = christoffersen_independence(transitions(CLUSTERED))
    cc = christoffersen_conditional_coverage(pof=pof, independence=ind)
    assert float(pof.statistic) == pytest.approx(15.554440, abs=HAND)
    assert float(cc.statistic) == pytest.approx(17.785875, abs=HAND)
    assert float(cc.p_value) == pytest.approx(math.exp(-17.785875 / 2), rel=1e-6)
    assert cc.dof == 2


def test_transitions_skip_days_not_observed() -> None:
    """1 0 [1] 1 with the third day not observed: the sequence is 1 0 1 -> n10 1, n01 1."""
    t = transitions([[1, 0, 1, 1]], observed=[[True, True, False, True]])
    assert (t.n00.tolist(), t.n01.tolist(), t.n10.tolist(), t.n11.tolist()) == \
        ([0], [1], [1], [0])
    with pytest.raises(InputError):
        transitions([[1, 0]], observed=[[True, True, True]])


def test_transitions_per_series_and_pooled() -> None:
    t = transitions([CLUSTERED, SCATTERED])
    assert t.n00.tolist() == [5, 4] and t.n11.tolist() == [2, 1]
    pooled = t.total()
    assert (int(pooled.n00), int(pooled.n01), int(pooled.n10), int(pooled.n11)) == \
        (9, 3, 3, 3)


def test_traffic_light_bounds_for_250_days_at_99() -> None:
    """BCBS (1996): 250 observations at 99%: green 0-4, yellow 5-9, red 10 or more."""
    yellow, red = LIGHT.bounds(250)
    assert (int(yellow), int(red)) == (5, 10)
    zones = LIGHT.zones(exceptions=np.arange(13), observations=250)
    assert zones.tolist() == [0] * 5 + [1] * 5 + [2] * 3


def test_traffic_light_other_windows_follow_the_binomial() -> None:
    """500 days at 99% (p = 0.01): P(X <= 8) = 0.9329 < 0.95 <= P(X <= 9) = 0.9689, so yellow
    from 9; P(X <= 14) = 0.99979 < 0.9999 <= P(X <= 15) = 0.99994, so red from 15."""
    yellow, red = LIGHT.bounds(500)
    assert (int(yellow), int(red)) == (9, 15)
    assert LIGHT.zones(exceptions=0, observations=0).item() == NO_ZONE
    with pytest.raises(InputError):
        TrafficLight(confidence=0.99, yellow=0.9999, red=0.95)


def test_coverage_tests_per_series_and_pooled() -> None:
    """Two accounts over ten days; the second observed on its last six days only."""
    hits = np.asarray([CLUSTERED, SCATTERED], dtype=bool)
    observed = np.ones_like(hits)
    observed[1, :4] = False
    each, pooled = coverage_tests(hits=hits, observed=observed, light=LIGHT, window=5)
    assert each.observations.tolist() == [10, 6] and each.exceptions.tolist() == [3, 1]
    assert each.coverage == pytest.approx([0.7, 5 / 6])
    assert each.window_observations.tolist() == [5, 5]
    assert each.window_exceptions.tolist() == [2, 1]  # days 6-10: 1 1 0 0 0 / 0 0 1 0 0
    assert int(pooled.observations) == 16 and int(pooled.exceptions) == 4
    # the second account's sequence 0 0 0 1 0 0: n00 4, n01 1, n10 1; pooled with 5 1 1 2
    ind = christoffersen_independence(transitions(hits, observed=observed).total())
    assert float(pooled.independence.statistic) == pytest.approx(float(ind.statistic))
    assert float(pooled.kupiec.statistic) == pytest.approx(
        float(kupiec_pof(exceptions=4, observations=16, confidence=0.99).statistic))
    row = pooled.row()
    assert row["traffic_light"] in ("green", "yellow", "red")
    assert each.row(0)["observations"] == 10
