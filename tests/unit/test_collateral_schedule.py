"""Collateral schedules: loading, look-ups and malformed parameter files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.book.instruments import Bond
from crossmargin.collateral.assets import AssetKind, CollateralAsset
from crossmargin.collateral.schedule import IssuerKind, load_schedule
from crossmargin.collateral.tiers import CollateralTiers
from crossmargin.core.errors import InputError
from tests.conftest import AS_OF

BASEL = load_schedule("collateral-basel")
CRYPTO = load_schedule("collateral-crypto")


def _asset(name: str, kind: AssetKind, currency: str = "USD") -> CollateralAsset:
    return CollateralAsset(name=name, kind=kind, currency=currency)


def _bond(years: float) -> CollateralAsset:
    maturity = date.fromordinal(AS_OF.toordinal() + round(years * 365))
    bond = Bond(symbol="T", coupon=0.02, maturity=maturity)
    return CollateralAsset(name="T", kind=AssetKind.BOND, currency="USD", instrument=bond)


def test_bundled_schedules_load_with_their_provenance() -> None:
    assert BASEL.name == "collateral-basel 2026.11-1"
    assert CRYPTO.params.info()["id"] == "collateral-crypto"
    assert "Appendix B" in BASEL.params.source
    assert BASEL.currency == CRYPTO.currency == "USD"


@pytest.mark.parametrize(("years", "haircut", "span"), [
    (0.5, 0.005, "0-1y"), (1.0, 0.005, "0-1y"), (1.01, 0.02, "1-5y"), (5.0, 0.02, "1-5y"),
    (5.01, 0.04, "over 5y"), (29.0, 0.04, "over 5y"),
])
def test_treasury_haircut_by_residual_maturity(years: float, haircut: float, span: str
                                               ) -> None:
    rule = BASEL.rule(_bond(years), as_of=AS_OF)
    assert rule.eligible
    assert rule.tiers.ratios[0] == pytest.approx(1.0 - haircut, abs=1e-15)
    assert rule.category == f"sovereign AAA-AA, {span}"


def test_bond_of_unknown_issuer_is_ineligible_and_matured_bond_raises() -> None:
    bund = Bond(symbol="DBR", coupon=0.01, maturity=date(2028, 8, 15), curve="BUND",
                currency="EUR")
    rule = BASEL.rule(CollateralAsset(name="DBR", kind=AssetKind.BOND, currency="EUR",
                                      instrument=bund), as_of=AS_OF)
    assert not rule.eligible and "issuer BUND" in rule.reason
    with pytest.raises(InputError, match="matured"):
        BASEL.rule(_bond(-0.1), as_of=AS_OF)


def test_equity_rows_main_index_by_member_list_or_fund_class() -> None:
    main = BASEL.rule(_asset("AAPL", AssetKind.EQUITY), as_of=AS_OF)
    fund = BASEL.rule(_asset("SPY", AssetKind.EQUITY), as_of=AS_OF)
    other = BASEL.rule(_asset("IWM", AssetKind.EQUITY), as_of=AS_OF)
    assert main.category == fund.category == "main-index equity"
    assert main.tiers.ratios[0] == pytest.approx(0.85)
    assert other.category == "other listed equity"
    assert other.tiers.ratios[0] == pytest.approx(0.75)


def test_eligibility_differs_between_schedules() -> None:
    btc = _asset("BTC", AssetKind.COIN, "BTC")
    basel, crypto = BASEL.rule(btc, as_of=AS_OF), CRYPTO.rule(btc, as_of=AS_OF)
    assert not basel.eligible
    assert basel.reason == "coin BTC is not eligible under collateral-basel 2026.11-1"
    assert crypto.eligible and crypto.tiers.bounds.size == 6
    aapl = CRYPTO.rule(_asset("AAPL", AssetKind.EQUITY), as_of=AS_OF)
    assert not aapl.eligible and aapl.tiers.ratios[0] == 0.0
    wti = BASEL.rule(_asset("WTI", AssetKind.COMMODITY), as_of=AS_OF)
    assert not wti.eligible and "commodity WTI" in wti.reason


def test_unlisted_coin_takes_the_default_rate() -> None:
    rule = CRYPTO.rule(_asset("LTC", AssetKind.COIN, "LTC"), as_of=AS_OF)
    assert rule.category == "unlisted coin"
    assert rule.tiers.ratios[0] == pytest.approx(0.1)


def test_concentration_limit_by_asset_then_class() -> None:
    assert BASEL.rule(_asset("AAPL", AssetKind.EQUITY), as_of=AS_OF).limit.max_share == 0.25
    assert BASEL.rule(_asset("USD", AssetKind.CASH), as_of=AS_OF).limit.max_share == 1.0
    steth = CRYPTO.rule(_asset("STETH", AssetKind.COIN, "STETH"), as_of=AS_OF)
    assert steth.limit.max_share == 0.5 and steth.limit.exempt_below == 1_000_000
    assert BASEL.rule(_bond(3), as_of=AS_OF).limit.max_share == 1.0


def test_debt_table_holds_every_issuer_kind() -> None:
    assert BASEL.debt is not None
    assert set(BASEL.debt.haircuts) == {
        (IssuerKind.SOVEREIGN, "AAA-AA"), (IssuerKind.SOVEREIGN, "A-BBB"),
        (IssuerKind.SOVEREIGN, "BB"), (IssuerKind.OTHER, "AAA-AA"), (IssuerKind.OTHER, "A-BBB")}


def _write(tmp_path: Path, parameters: str) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text("id: collateral-basel\nversion: x\neffective: 2026-01-01\nsource: test\n"
                    f"parameters:\n{parameters}")
    return path


@pytest.mark.parametrize(("parameters", "field"), [
    ("  currency: usd\n  currency_mismatch: 0.08\n", "parameters.currency"),
    ("  currency: USD\n  currency_mismatch: 1.5\n", "parameters.currency_mismatch"),
    ("  currency: USD\n  currency_mismatch: 0\n  coins:\n    BTC:\n      tiers:\n"
     "        - {up_to: 10, ratio: 0.5}\n        - {up_to: null, ratio: 0.9}\n",
     "parameters.coins.BTC.tiers"),
    ("  currency: USD\n  currency_mismatch: 0\n  coins:\n    BTC:\n      tiers:\n"
     "        - {up_to: null, ratio: 0.5}\n        - {up_to: 10, ratio: 0.4}\n",
     "parameters.coins.BTC.tiers[0].up_to"),
    ("  currency: USD\n  currency_mismatch: 0\n  coins: {BTC: {haircut: 1.2}}\n",
     "parameters.coins.BTC.haircut"),
    ("  currency: USD\n  currency_mismatch: 0\n  debt:\n    maturity_years: [1, 5]\n"
     "    haircuts: {sovereign: {AAA-AA: [0.005, 0.02]}}\n",
     "parameters.debt.haircuts.sovereign.AAA-AA"),
    ("  currency: USD\n  currency_mismatch: 0\n  concentration:\n    limits:\n"
     "      equity: {max_share: 0}\n", "parameters.concentration.limits.equity.max_share"),
    ("  currency: USD\n  currency_mismatch: 0\n  wrong_way: {spot_bump: 0, curve_bump: 1e-4,"
     " add_on: 0}\n", "parameters.wrong_way.spot_bump"),
])
def test_malformed_schedule_names_file_and_field(tmp_path: Path, parameters: str, field: str
                                                 ) -> None:
    path = _write(tmp_path, parameters)
    with pytest.raises(InputError) as err:
        load_schedule("collateral-basel", path=path)
    assert err.value.source == str(path)
    assert err.value.field == field


def test_flat_tiers_are_one_open_bracket() -> None:
    tiers = CollateralTiers.flat(haircut=0.15)
    assert np.isinf(tiers.bounds[0]) and tiers.ratios[0] == pytest.approx(0.85)
    with pytest.raises(InputError, match="must be"):
        CollateralTiers.parse({"haircut": 0.1, "tiers": []}, field="coins.X")
