"""Requirements of positions held alone under the strategy method's rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.core.errors import InputError
from crossmargin.methods.strategy.method import StrategyBased
from crossmargin.methods.strategy.rules import naked_margin, unit_requirements
from crossmargin.methods.strategy.terms import add_months
from crossmargin.params.loader import load_params

METHOD = StrategyBased.from_params()


def test_stock_rates() -> None:
    """Reg T 50% / 150% initial; FINRA 4210(c) 25% long, short the greater of 30% and
    $5.00 a share (at $5.00 or more), of 100% and $2.50 a share below."""
    price = np.array([50.0, 10.0, 3.0, 1.0])
    long_im, long_mm, short_im, short_mm = METHOD.stock.requirements(price)
    assert long_im == pytest.approx(0.5 * price)
    assert long_mm == pytest.approx(0.25 * price)
    assert short_im == pytest.approx(1.5 * price)
    assert short_mm == pytest.approx([50 + 15, 10 + 5, 3 + 3, 1 + 2.5])


def test_initial_is_never_below_maintenance() -> None:
    """A short sale at $1.00 must maintain 1.00 + 2.50 = 3.50 a share, more than Reg T's
    150%: its initial requirement is floored there."""
    n = 2
    unit = unit_requirements(
        is_stock=np.array([True, True]), is_call=np.zeros(n, dtype=bool),
        value=np.array([1.0, 50.0]), spot=np.array([1.0, 50.0]), strike=np.zeros(n),
        multiplier=np.ones(n), pct=np.zeros(n), marginable=np.zeros(n, dtype=bool),
        stock=METHOD.stock, option=METHOD.options)
    assert unit.short_initial == pytest.approx([3.5, 75.0])
    assert np.all(unit.long_initial >= unit.long_maintenance)


def test_long_options_beyond_nine_months_need_75_percent() -> None:
    unit = unit_requirements(
        is_stock=np.array([False, False]), is_call=np.array([True, True]),
        value=np.array([500.0, 500.0]), spot=np.array([100.0, 100.0]),
        strike=np.array([100.0, 100.0]), multiplier=np.array([100.0, 100.0]),
        pct=np.array([0.2, 0.2]), marginable=np.array([False, True]),
        stock=METHOD.stock, option=METHOD.options)
    assert unit.long_initial == pytest.approx([500.0, 375.0])
    assert unit.long_maintenance == pytest.approx([500.0, 375.0])
    assert unit.short_initial == pytest.approx([500.0 + 2_000.0] * 2)


def test_naked_margin_floors() -> None:
    """Calls floor at 10% of the underlying, puts at 10% of the exercise price."""
    m = naked_margin(is_call=np.array([True, False, True, False]),
                     spot=np.array([40.0, 40.0, 40.0, 40.0]),
                     strike=np.array([50.0, 30.0, 30.0, 50.0]),
                     multiplier=np.full(4, 100.0), pct=np.full(4, 0.2), minimum_pct=0.1)
    assert m == pytest.approx([400.0, 300.0, 800.0, 800.0])


def test_nine_months_counts_calendar_months() -> None:
    assert add_months(date(2018, 6, 29), 9) == date(2019, 3, 29)
    assert add_months(date(2018, 5, 31), 9) == date(2019, 2, 28)
    assert add_months(date(2018, 12, 15), 1) == date(2019, 1, 15)


def test_parameter_errors_name_the_file(tmp_path: Path) -> None:
    text = Path(load_params("strategy").path).read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("minimum_pct: 0.10", "minimum_pct: -1"), encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.yaml: options\.minimum_pct=-1"):
        StrategyBased.from_params(load_params("strategy", path=bad))
    bad.write_text(text.replace("  stock:\n", "  shares:\n"), encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.yaml: stock.*must be a mapping"):
        StrategyBased.from_params(load_params("strategy", path=bad))
    bad.write_text(text.replace("initial_short: 1.50", "initial_short: 0.50"),
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.yaml: stock\.initial_short=0\.5: .*proceeds"):
        StrategyBased.from_params(load_params("strategy", path=bad))
    bad.write_text(text.replace("marginable_months: 9", "marginable_months: 9.5"),
                   encoding="utf-8")
    with pytest.raises(InputError, match="whole number of months"):
        StrategyBased.from_params(load_params("strategy", path=bad))
