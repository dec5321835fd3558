"""Published backtesting figures: Kupiec's non-rejection regions, the Basel traffic light."""

from __future__ import annotations

import numpy as np
import pytest

from crossmargin.analytics.backtest import BacktestParameters
from crossmargin.analytics.statistics import ZONES, TrafficLight, kupiec_pof

#: The 5% critical value of chi-square with one degree of freedom.
CRITICAL = 3.841

#: Non-rejection regions of the proportion-of-failures test at the 5% level:
#: (p, T) -> (lowest, highest) number of failures N not rejected; None: no lower bound.
KUPIEC_REGIONS = {
    (0.01, 255): (None, 6), (0.01, 510): (2, 10), (0.01, 1000): (5, 16),
    (0.025, 255): (3, 11), (0.025, 510): (7, 20), (0.025, 1000): (16, 35),
    (0.05, 255): (7, 20), (0.05, 510): (17, 35), (0.05, 1000): (38, 64),
    (0.075, 255): (12, 27), (0.075, 510): (28, 50), (0.075, 1000): (60, 91),
    (0.10, 255): (17, 35), (0.10, 510): (39, 64), (0.10, 1000): (82, 119),
}


@pytest.mark.parametrize(("key", "region"), list(KUPIEC_REGIONS.items()))
def test_kupiec_non_rejection_regions(key: tuple[float, int],
                                      region: tuple[int | None, int]) -> None:
    """Kupiec (1995), "Techniques for verifying the accuracy of risk measurement models",
    Journal of Derivatives 3(2), table of non-rejection regions for the number of failures
    N at the 5% level (reproduced in P. Jorion, *Value at Risk*, 3rd ed., 2007, ch. 6):
    p = 0.01: T = 255: N < 7; T = 510: 1 < N < 11; T = 1000: 4 < N < 17;
    p = 0.025: 2 < N < 12, 6 < N < 21, 15 < N < 36; p = 0.05: 6 < N < 21, 16 < N < 36,
    37 < N < 65; p = 0.075: 11 < N < 28, 27 < N < 51, 59 < N < 92; p = 0.10: 16 < N < 36,
    38 < N < 65, 81 < N < 120.

    The table gives no lower bound at T = 255, p = 0.01, where the likelihood ratio of
    N = 0 is -2 x 255 ln 0.99 = 5.125 > 3.841: the statistic itself rejects a model without
    failures there, so only the upper bound is compared.
    """
    p, t = key
    low, high = region
    n = np.arange(t + 1)
    lr = kupiec_pof(exceptions=n, observations=np.full(n.shape, t), confidence=1.0 - p)
    kept = n[lr.statistic <= CRITICAL]
    assert int(kept.max()) == high
    assert int(kept.min()) == (1 if low is None else low)
    assert np.all(np.diff(kept) == 1)  # one interval
    if low is None:
        assert float(lr.statistic[0]) == pytest.approx(5.125, abs=1e-3)


def test_hull_exercise_1000_days_15_exceptions() -> None:
    """J. Hull, *Risk Management and Financial Institutions*, problem 9.14: 1,000 days at
    99%, 15 exceptions; Kupiec's test at the 5% level.

    ln L0 = 985 ln 0.99 + 15 ln 0.01 = -9.899581 - 69.077553 = -78.977134
    ln L1 = 985 ln 0.985 + 15 ln 0.015 = -14.886933 - 62.995576 = -77.882509
    LR = -2 (ln L0 - ln L1) = 2.189248 < 3.841: the model is not rejected.
    """
    lr = kupiec_pof(exceptions=15, observations=1000, confidence=0.99)
    assert float(lr.statistic) == pytest.approx(2.189248, abs=1e-6)
    assert float(lr.statistic) < CRITICAL and float(lr.p_value) > 0.05


def test_basel_traffic_light_table() -> None:
    """BCBS (January 1996), "Supervisory framework for the use of 'backtesting' in
    conjunction with the internal models approach to market risk capital requirements",
    table 2: 250 observations at 99% coverage, cumulative probability of at most x
    exceptions 8.11%, 28.58%, 54.32%, 75.81%, 89.22% (green, x = 0-4), 95.88%, 98.63%,
    99.60%, 99.89%, 99.97% (yellow, 5-9), 99.99% (red, 10 or more).
    """
    settings = BacktestParameters.from_params()
    light = settings.traffic_light(settings.confidence)
    assert isinstance(light, TrafficLight) and settings.window == 250
    x = np.arange(11)
    cumulative = light.cumulative(exceptions=x, observations=np.full(x.shape, 250))
    table = [8.11, 28.58, 54.32, 75.81, 89.22, 95.88, 98.63, 99.60, 99.89, 99.97, 99.99]
    assert np.round(100 * cumulative, 2).tolist() == table
    zones = light.zones(exceptions=x, observations=np.full(x.shape, 250))
    assert [ZONES[int(z)].value for z in zones] == \
        ["green"] * 5 + ["yellow"] * 5 + ["red"]
