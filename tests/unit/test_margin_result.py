from datetime import date

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.core.money import round_up
from crossmargin.results.margin import MarginResult, SegmentCharges, output_amounts

_money = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)


@given(st.lists(_money, max_size=30))
def test_output_amounts_round_as_the_scalar_rule(values: list[float]) -> None:
    expected = [round_up(v) if v >= 0 else -round_up(-v) for v in values]
    assert output_amounts(np.asarray(values, dtype=np.float64)).tolist() == expected


def _result(describe_calls: list[tuple[str, int]]) -> MarginResult:
    def describe(group: str, scenario: int) -> str:
        describe_calls.append((group, scenario))
        return f"{group} #{scenario}"

    segments = SegmentCharges(account=np.array([2, 0, 2, 1, 0]), group=np.array([0, 1, 1, 0, 0]),
                              group_names=("SPX", "BTC"),
                              charge=np.array([5.001, 7.0, 9.0, 1.0, 3.0]),
                              loss=np.array([5.001, 7.0, 9.0, 1.0, 3.0]),
                              scenario=np.array([4, 2, 2, 4, 1]))
    return MarginResult(method="grid", currency="USD", as_of=date(2018, 6, 29),
                        params={"id": "grid", "version": "x", "source": "test"},
                        input_hash="h", account_ids=("A", "B", "C"),
                        initial_margin=np.array([10.0, 1.0, 14.001]),
                        maintenance_margin=np.array([8.0, 1.0, 11.0]),
                        components={"scan": np.array([10.0, 1.0, 14.001])},
                        segments=segments, describe=describe)


def test_accounts_json_groups_drivers_and_describes_each_scenario_once() -> None:
    calls: list[tuple[str, int]] = []
    rows = _result(calls).accounts_json()
    assert [r["driver"] for r in rows] == [
        {"group": "BTC", "scenario": "BTC #2", "loss": 7.0},
        {"group": "SPX", "scenario": "SPX #4", "loss": 1.0},
        {"group": "BTC", "scenario": "BTC #2", "loss": 9.0}]
    assert rows[2]["components"] == {"scan": 14.01, "groups": {"SPX": 5.01, "BTC": 9.0}}
    assert rows[2]["initial_margin"] == 14.01
    assert sorted(calls) == [("BTC", 2), ("SPX", 4)]


def test_one_account_alone_matches_the_batch() -> None:
    calls: list[tuple[str, int]] = []
    result = _result(calls)
    assert [result.account_json(a) for a in (2, 0, 1)] == [
        result.accounts_json()[a] for a in (2, 0, 1)]
    assert result.driver_json(1) == {"group": "SPX", "scenario": "SPX #4", "loss": 1.0}
