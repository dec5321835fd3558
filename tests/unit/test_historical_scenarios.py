"""Historical MPOR moves on each factor's own calendar, and the scenario date axis."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from crossmargin.core.errors import InputError, MissingDataError
from crossmargin.scenarios.filtering import EWMAFilter
from crossmargin.scenarios.historical import (
    Change,
    FactorHistory,
    StressedWindow,
    lookback_dates,
    recent_dates,
)

LAM = EWMAFilter(lam=0.9)


def _series(values: dict[str, float], start: str = "2020-01-01", end: str = "2020-01-31"
            ) -> pd.Series:
    index = pd.date_range(start, end, freq="D")
    out = pd.Series(np.nan, index=index)
    for day, v in values.items():
        out[pd.Timestamp(day)] = v
    return out


def _days(*days: str) -> np.ndarray:
    return np.array(days, dtype="datetime64[D]")


# Mon 6 .. Fri 10 January, Mon 13, Tue 14 (no Wed 15: a holiday), Thu 16, Fri 17
TRADING = {"2020-01-06": 100.0, "2020-01-07": 101.0, "2020-01-08": 99.0, "2020-01-09": 102.0,
           "2020-01-10": 103.0, "2020-01-13": 104.0, "2020-01-14": 100.0, "2020-01-16": 98.0,
           "2020-01-17": 99.0}


def test_windows_count_the_factors_own_trading_days() -> None:
    h = FactorHistory.build("X", _series(TRADING), as_of=date(2020, 1, 31),
                            change=Change.LOG, stale_days=4, filter=LAM)
    moves = h.moves(_days("2020-01-13", "2020-01-16", "2020-01-08"), horizon=2)
    # Mon 13: Thu 9 -> Mon 13 (two trading days over the weekend)
    # Thu 16: Mon 13 -> Thu 16 (two trading days over the Wednesday holiday)
    expected = np.log([104.0 / 102.0, 98.0 / 104.0, 99.0 / 100.0])
    np.testing.assert_allclose(moves.move, expected)
    # each window is devolatilised by the volatility known when it opened
    np.testing.assert_allclose(moves.sigma[0], h.sigma[3])


def test_a_market_closed_on_a_scenario_date_contributes_its_latest_window() -> None:
    h = FactorHistory.build("X", _series(TRADING), as_of=date(2020, 1, 31),
                            change=Change.LOG, stale_days=4, filter=LAM)
    holiday = h.moves(_days("2020-01-15"), horizon=2)
    np.testing.assert_allclose(holiday.move, np.log([100.0 / 103.0]))
    # beyond the tolerance (data ends 17 January): no move, never a zero
    late = h.moves(_days("2020-01-24", "2020-01-06", "2020-01-07"), horizon=2)
    assert np.isnan(late.move).all()


def test_continuous_markets_need_every_calendar_day() -> None:
    daily = {f"2020-01-{d:02d}": 100.0 + d for d in range(1, 32) if d != 10}
    h = FactorHistory.build("C", _series(daily), as_of=date(2020, 1, 31),
                            change=Change.LOG, stale_days=0, filter=LAM)
    moves = h.moves(_days("2020-01-05", "2020-01-11", "2020-01-12", "2020-01-13"), horizon=2)
    np.testing.assert_allclose(moves.move[[0, 3]], np.log([105.0 / 103.0, 113.0 / 111.0]))
    # 11 and 12 January: a window over the missing 10th has no move
    assert np.isnan(moves.move[[1, 2]]).all()
    # the filter skips the steps across the gap: 31 days, one missing, two steps lost
    assert h.step.size == 30 - 2


def test_yields_move_by_difference_and_the_filter_is_causal() -> None:
    yields = {f"2020-01-{d:02d}": 0.02 + 0.001 * (d % 3) for d in range(6, 11)}
    h = FactorHistory.build("Y", _series(yields), as_of=date(2020, 1, 31),
                            change=Change.DIFFERENCE, stale_days=4, filter=LAM)
    np.testing.assert_allclose(h.step, [0.001, 0.001, -0.002, 0.001], atol=1e-15)
    v = LAM.variances(h.step, label="Y")
    np.testing.assert_allclose(h.sigma ** 2, v)
    # only data up to the as-of date is used
    early = FactorHistory.build("Y", _series(yields), as_of=date(2020, 1, 9),
                                change=Change.DIFFERENCE, stale_days=4, filter=LAM)
    assert early.last == date(2020, 1, 9) and early.step.size == 3


def test_too_short_or_non_positive_histories_raise() -> None:
    with pytest.raises(MissingDataError, match="X has 2 observation"):
        FactorHistory.build("X", _series({"2020-01-06": 1.0, "2020-01-07": 2.0}),
                            as_of=date(2020, 1, 31), change=Change.LOG, stale_days=4,
                            filter=LAM)
    with pytest.raises(InputError, match="positive"):
        FactorHistory.build("X", _series({"2020-01-06": 1.0, "2020-01-07": -2.0,
                                          "2020-01-08": 1.0}),
                            as_of=date(2020, 1, 31), change=Change.LOG, stale_days=4,
                            filter=LAM)


REFERENCE = pd.bdate_range("2019-01-01", "2020-12-31").to_numpy().astype("datetime64[D]")
CRASH = StressedWindow(name="crash", start=date(2019, 3, 4), end=date(2019, 3, 8))


def test_lookback_keeps_stressed_windows_outside_it() -> None:
    axis = lookback_dates(REFERENCE, as_of=date(2020, 6, 30), lookback=20,
                          windows=[CRASH, StressedWindow(name="later", start=date(2020, 7, 1),
                                                         end=date(2020, 8, 1))])
    assert axis.size == 25
    assert axis.names[:5] == ("2019-03-04", "2019-03-05", "2019-03-06", "2019-03-07",
                              "2019-03-08")
    assert axis.window[:5] == ("crash",) * 5 and set(axis.window[5:]) == {""}
    assert axis.names[-1] == "2020-06-30" and axis.start == date(2020, 6, 3)
    # a window inside the look-back is not counted twice
    inside = lookback_dates(REFERENCE, as_of=date(2019, 3, 29), lookback=20, windows=[CRASH])
    assert inside.size == 20 and inside.stressed.sum() == 5


def test_lookback_must_contain_a_stressed_period() -> None:
    with pytest.raises(InputError, match="stressed period"):
        lookback_dates(REFERENCE, as_of=date(2019, 2, 28), lookback=20, windows=[CRASH])
    with pytest.raises(InputError, match="lookback_days=9999"):
        lookback_dates(REFERENCE, as_of=date(2020, 6, 30), lookback=9999, windows=[CRASH])


def test_recent_dates_span_whole_years() -> None:
    axis = recent_dates(REFERENCE, as_of=date(2020, 12, 31), years=1)
    assert axis.names[0] == "2020-01-01" and axis.names[-1] == "2020-12-31"
    assert not axis.stressed.any()
    with pytest.raises(InputError, match="starts on 2019-01-01"):
        recent_dates(REFERENCE, as_of=date(2020, 12, 31), years=5)
