"""Strict parsing of numbers and dates from files (``crossmargin.core.values``)."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_date, parse_number
from crossmargin.pricing import black_scholes


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10**300, 10**300))
def test_finite_numbers_and_their_text_parse(value: float) -> None:
    assert parse_number(value, field="x") == float(value)
    assert parse_number(repr(value), field="x") == float(value)


@pytest.mark.parametrize("value", [
    None, True, False, "", " ", "abc", "5\u00b2", [], {}, "nan", float("nan"), "inf",
    float("-inf"), "1e400", 10**400, -(10**400),
])
def test_bad_numbers_name_the_field(value: object) -> None:
    with pytest.raises(InputError, match=r"^positions\[3\]\.quantity") as err:
        parse_number(value, field="positions[3].quantity")
    assert "\n" not in str(err.value)
    assert "must be" in str(err.value)


def test_sign_checks() -> None:
    assert parse_number("0", field="x", positive=True) == 0.0
    with pytest.raises(InputError, match="must not be negative"):
        parse_number(-1, field="x", positive=True)
    with pytest.raises(InputError, match="must be positive"):
        parse_number(0, field="x", positive=True, allow_zero=False)


def test_dates() -> None:
    assert parse_date("2018-06-29", field="as_of") == date(2018, 6, 29)
    assert parse_date(" 2018-06-29 ", field="as_of") == date(2018, 6, 29)
    assert parse_date(datetime(2018, 6, 29, 16, 30), field="as_of") == date(2018, 6, 29)
    # the compact, week and ordinal forms Python's fromisoformat also reads are refused
    for bad in ("2018-02-30", "29/06/2018", "", None, 20180629, "2018-06-29T25:00",
                "20180629", "2018-W26-5", "2018-180", "2018-06-29T00:00", "２０１８-06-29"):
        with pytest.raises(InputError, match=r"^as_of.*not a date \(YYYY-MM-DD\)"):
            parse_date(bad, field="as_of")


def test_pricing_inputs_beyond_float_range_are_input_errors() -> None:
    with pytest.raises(InputError, match="spot"):
        black_scholes(spot=10**400, strike=100.0, time=1.0, rate=0.0, dividend=0.0,
                      vol=0.2, is_call=True)
    assert math.isfinite(float(black_scholes(spot=100.0, strike=100.0, time=1.0, rate=0.0,
                                             dividend=0.0, vol=0.2, is_call=True)))
