"""Bad portfolio input found by fuzzing: each raises one InputError naming file, field
and value, never a silent default, a zero margin or an internal error."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from crossmargin.book.io import load_portfolio
from crossmargin.core.errors import InputError

AS_OF = date(2018, 6, 29)
EQUITY = "{type: equity, symbol: SPY"
FUTURE = "{type: future, symbol: ESU8, underlying: SPX, expiry: 2018-09-21"
OPTION = "{type: option, underlying: SPY, right: put, strike: 260, expiry: 2018-09-21"
BTC_OPTION = "{type: option, underlying: BTC, right: call, strike: 7000, expiry: 2018-09-28"
BOND = "{type: bond, symbol: T-2.875-2028, coupon: 0.02875, maturity: 2028-05-15"
RATE_FUTURE = "{type: rate_future, symbol: SR3U8, expiry: 2018-09-19"
TSY_FUTURE = "{type: treasury_future, symbol: ZNU8, expiry: 2018-09-19"


def _yaml(tmp_path: Path, account: str) -> Path:
    path = tmp_path / "book.yaml"
    path.write_text(f"accounts:\n  - {account}\n")
    return path


def _position(tmp_path: Path, position: str) -> Path:
    return _yaml(tmp_path, f"{{id: A, positions: [{position}]}}")


def _fails(path: Path, expected: str) -> None:
    with pytest.raises(InputError) as info:
        load_portfolio(path, as_of=AS_OF)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert expected in message, message
    assert "\n" not in message and "np." not in message, message


def _csv(tmp_path: Path, text: str, name: str = "book.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("position", [
    f"{EQUITY}, quantity: -1000, mark: 0}}",
    "{type: etf, symbol: QQQ, quantity: -10, mark: 0}",
    f"{BOND}, quantity: -1000000, mark: 0}}",
    f"{FUTURE}, multiplier: 50, quantity: -1, mark: 0}}",
    "{type: spot, asset: BTC, quantity: -1, mark: 0}",
    "{type: perpetual, underlying: BTC, quantity: -1, mark: 0}",
])
def test_zero_mark_is_refused_except_on_an_option(tmp_path: Path, position: str) -> None:
    _fails(_position(tmp_path, position),
           "positions[0].mark=0: must be positive (only an option may be marked at 0)")


@pytest.mark.parametrize("position", [
    f"{OPTION}, quantity: -1, mark: 0}}",
    "{type: future_option, underlying: SPX, future_expiry: 2018-09-21, future_multiplier: 50,"
    " right: call, strike: 3500, expiry: 2018-09-21, quantity: 1, mark: 0}",
])
def test_a_worthless_option_may_be_marked_at_zero(tmp_path: Path, position: str) -> None:
    assert load_portfolio(_position(tmp_path, position), as_of=AS_OF).marks[0] == 0


def test_zero_mark_in_a_csv_cell(tmp_path: Path) -> None:
    _fails(_csv(tmp_path, "account,type,symbol,quantity,mark\nA,equity,SPY,-1000,0\n"),
           "row 2.mark=0.0: must be positive")
    ok = _csv(tmp_path, "account,type,underlying,right,strike,expiry,quantity,mark\n"
                        "A,option,SPY,put,260,2018-09-21,-1,0\n", "ok.csv")
    assert load_portfolio(ok, as_of=AS_OF).marks[0] == 0


@pytest.mark.parametrize(("position", "expected"), [
    (f"{FUTURE}, multiplier: 50, settlement: inverse, quantity: -10}}",
     "settlement='inverse': inverse settlement is for crypto underlyings only"),
    (f"{OPTION}, settlement: inverse, quantity: 1}}",
     "settlement='inverse': inverse settlement is for crypto underlyings only"),
    (f"{OPTION}, settlement: linear, quantity: 1}}",
     "settlement='linear': linear settlement is for crypto underlyings only"),
    (f"{BTC_OPTION}, settlement: cash, quantity: 1}}",
     "settlement='cash': a crypto option settles inverse or linear"),
    (f"{FUTURE}, multiplier: 50, asset_class: crypto, settlement: inverse, quantity: -10}}",
     "asset_class='crypto': SPX is no coin (its class is equity-index)"),
    ("{type: future, symbol: BTCU8, underlying: BTC, expiry: 2018-09-28, multiplier: 5,"
     " asset_class: equity, quantity: 1}", "asset_class='equity': BTC is a coin"),
])
def test_coin_settlement_needs_a_coin_underlying(tmp_path: Path, position: str,
                                                 expected: str) -> None:
    _fails(_position(tmp_path, position), expected)


def test_inverse_settlement_on_a_coin_is_accepted(tmp_path: Path) -> None:
    path = _position(tmp_path, "{type: future, symbol: XBTU8, underlying: BTC, expiry: "
                               "2018-09-28, settlement: inverse, multiplier: 100, quantity: 1}")
    assert load_portfolio(path).instruments[0].settlement.value == "inverse"


@pytest.mark.parametrize(("position", "field"), [
    ("{type: perpetual, underlying: BTC, quote: SPY, quantity: -2.5}", "quote='SPY'"),
    ("{type: perpetual, underlying: BTC, quote: BTC, quantity: -2.5}", "quote='BTC'"),
    ("{type: perpetual, underlying: BTC, currency: AAPL, quantity: 1}", "currency='AAPL'"),
    ("{type: spot, asset: ETH, quote: SPX, quantity: 1}", "quote='SPX'"),
    (f"{BTC_OPTION}, quote: GOLD, quantity: 1}}", "quote='GOLD'"),
    ("{type: future, symbol: XBTU8, underlying: BTC, expiry: 2018-09-28, currency: SPY,"
     " quantity: 1}", "currency='SPY'"),
])
def test_crypto_quote_must_be_a_currency(tmp_path: Path, position: str, field: str) -> None:
    _fails(_position(tmp_path, position),
           f"positions[0].{field}: a contract on")


@pytest.mark.parametrize(("quote", "settlement"), [
    ("USDT", "linear"), ("USDC", "linear"), ("USD", "inverse"), ("ETH", "linear"),
])
def test_crypto_quotes_the_engine_values(tmp_path: Path, quote: str, settlement: str) -> None:
    path = _position(tmp_path, f"{{type: perpetual, underlying: BTC, quote: {quote}, "
                               f"settlement: {settlement}, quantity: 1}}")
    assert load_portfolio(path).instruments[0].currency == quote


def test_quote_and_currency_must_agree(tmp_path: Path) -> None:
    _fails(_position(tmp_path, "{type: spot, asset: BTC, quote: USDT, currency: USD, "
                               "quantity: 1}"), "currency='USD': conflicts with quote USDT")


@pytest.mark.parametrize(("term", "shown"), [
    ("multiplier: .nan", "multiplier=nan"), ("multiplier: null", "multiplier=None"),
    ("settlement: null", "settlement=None"), ("asset_class: .nan", "asset_class=nan"),
])
def test_null_or_nan_term_is_not_its_default(tmp_path: Path, term: str, shown: str) -> None:
    _fails(_position(tmp_path, f"{FUTURE}, {term}, quantity: -10}}"),
           f"positions[0].{shown}: must not be null or NaN")


@pytest.mark.parametrize(("field", "shown"), [
    ("mark: null", "mark=None: must be a number"), ("mark: .nan", "mark=nan: must be a finite"),
    ("limit_price: null", "limit_price=None: must be a number"),
])
def test_null_mark_or_limit_is_not_absent(tmp_path: Path, field: str, shown: str) -> None:
    key = "orders" if "limit" in field else "positions"
    _fails(_yaml(tmp_path, f"{{id: A, {key}: [{EQUITY}, quantity: 1, {field}}}]}}"),
           f"{key}[0].{shown}")


@pytest.mark.parametrize("cell", ["NaN", "N/A", "NA", "null", "nan"])
def test_na_token_in_a_csv_term_is_not_its_default(tmp_path: Path, cell: str) -> None:
    path = _csv(tmp_path, "account,type,symbol,underlying,expiry,multiplier,quantity\n"
                          f"A,future,ESU8,SPX,2018-09-21,{cell},-10\n")
    _fails(path, f"row 2.multiplier={cell!r}: must be a")


def test_empty_csv_cells_take_the_defaults(tmp_path: Path) -> None:
    path = _csv(tmp_path, "account,type,symbol,underlying,expiry,multiplier,quantity\n"
                          "A,future,ESU8,SPX,2018-09-21,,-10\nB,equity,NA,,,,5\n")
    book = load_portfolio(path, as_of=AS_OF)
    future, equity = book.instruments
    assert future.multiplier == 1.0 and equity.label == "NA"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("rows", "expected"), [
    (",equity,SPY,-100\n", "row 2.account: is required"),
    ("A,equity,SPY,1\n ,equity,SPY,-100\n", "row 3.account: is required"),
    ("A,equity,SPY,\n", "row 2.quantity: is required"),
    ("A,equity,SPY,NaN\n", "row 2.quantity='NaN': must be a finite number"),
    ("A,equity,SPY,True\n", "row 2.quantity=True: must be a finite number"),
    ("A,equity,SPY,1\nA,equity,AAPL,False\n", "row 3.quantity='False': must be a finite"),
    ("A,equity,SPY,inf\n", "row 2.quantity=inf: must be a finite number"),
])
def test_bad_csv_account_or_quantity_names_its_row(tmp_path: Path, rows: str,
                                                   expected: str) -> None:
    _fails(_csv(tmp_path, "account,type,symbol,quantity\n" + rows), expected)


def test_na_account_id_is_text(tmp_path: Path) -> None:
    path = _csv(tmp_path, "account,type,symbol,quantity\nNA,equity,SPY,-100\n"
                          "null,equity,SPY,1\n")
    assert load_portfolio(path, as_of=AS_OF).account_ids == ("NA", "null")


def test_csv_term_values_are_plain_in_messages(tmp_path: Path) -> None:
    path = _csv(tmp_path, "account,type,symbol,underlying,expiry,multiplier,quantity\n"
                          "A,future,ESU8,SPX,2018-09-21,-5,-10\n")
    _fails(path, "row 2.multiplier=-5: must be positive")


@pytest.mark.parametrize(("column", "expected"), [
    ({"account": ["A", None]}, "row 1.account: is required"),
    ({"account": ["A", ""]}, "row 1.account: is required"),
    ({"account": [True, False]}, "row 0.account=True: must be a text or an integer"),
    ({"quantity": [True, False]}, "row 0.quantity=True: must be a finite number"),
    ({"quantity": [1.0, None]}, "row 1.quantity: is required"),
    ({"symbol": [["SPY"], ["QQQ"]]}, "symbol='list<element: string>': column holds lists"),
    ({"symbol": [{"a": 1}, {"a": 2}]}, "symbol='struct<a: int64>': column holds lists"),
])
def test_bad_parquet_cells_name_the_column(tmp_path: Path, column: dict[str, list[object]],
                                           expected: str) -> None:
    frame = {"account": ["A", "B"], "type": ["equity"] * 2, "symbol": ["SPY", "QQQ"],
             "quantity": [1.0, -1.0], **column}
    path = tmp_path / "book.parquet"
    pd.DataFrame(frame).to_parquet(path)
    _fails(path, expected)


def test_parquet_integer_account_ids_are_text(tmp_path: Path) -> None:
    path = tmp_path / "book.parquet"
    pd.DataFrame({"account": [7, 8], "type": ["equity"] * 2, "symbol": ["SPY"] * 2,
                  "quantity": [1.0, 2.0]}).to_parquet(path)
    assert load_portfolio(path, as_of=AS_OF).account_ids == ("7", "8")


@pytest.mark.parametrize("value", ["{}", '""', "0", "false", "null", "{type: equity}"])
@pytest.mark.parametrize("section", ["positions", "collateral", "orders"])
def test_a_section_that_is_not_a_list(tmp_path: Path, section: str, value: str) -> None:
    _fails(_yaml(tmp_path, f"{{id: A, {section}: {value}}}"),
           f"accounts[0].{section}=")


def test_absent_sections_are_empty(tmp_path: Path) -> None:
    book = load_portfolio(_yaml(tmp_path, "{id: A}"))
    assert book.account_ids == ("A",) and book.collateral == ((),)


@pytest.mark.parametrize(("text", "expected"), [
    (f"accounts:\n  - {{id: A, positions: [{EQUITY}, quantity: 100, 5: x, foo: y}}]}}\n",
     "accounts[0].positions[0].5='x': unknown field for a equity"),
    ("accounts:\n  - {id: A, 7: x, zz: y}\n", "accounts[0].7='x': unknown account field"),
    ("accounts:\n  - {id: A, collateral: [{asset: USD, amount: 1, 2: x, b: y}]}\n",
     "collateral[0].2='x': unknown collateral field"),
    ("3: x\nfoo: y\naccounts:\n  - {id: A}\n", "3='x': unknown top-level field"),
    ("accounts:\n  - {id: A, positions: [{type: future_option, future: {symbol: ESU8, "
     "underlying: SPX, expiry: 2018-09-21, 1: x, bogus: 1}, right: call, strike: 2700, "
     "expiry: 2018-09-21, quantity: -1}]}\n",
     "positions[0].future.1='x': unknown field for a future"),
])
def test_unknown_keys_of_mixed_types(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "book.yaml"
    path.write_text(text)
    _fails(path, expected)


@pytest.mark.parametrize(("asset", "expected"), [
    ("", "row 2.asset: is required"), (" ", "row 2.asset: is required"),
])
def test_sidecar_asset_is_required(tmp_path: Path, asset: str, expected: str) -> None:
    path = _csv(tmp_path, "account,type,symbol,quantity\nA,equity,SPY,-100\n")
    side = _csv(tmp_path, f"account,asset,amount\nA,USD,1\nA,{asset},1000000\n",
                "book.collateral.csv")
    with pytest.raises(InputError) as info:
        load_portfolio(path, as_of=AS_OF)
    assert str(info.value).startswith(str(side))
    assert expected.replace("row 2", "row 3") in str(info.value)


@pytest.mark.parametrize(("rows", "expected"), [
    ("A,USD,\n", "row 2.amount: is required"),
    (",USD,1\n", "row 2.account: is required"),
    ("A,USD,NaN\n", "row 2.amount='NaN': must be a finite number"),
])
def test_sidecar_cells_name_their_row(tmp_path: Path, rows: str, expected: str) -> None:
    path = _csv(tmp_path, "account,type,symbol,quantity\nA,equity,SPY,-100\n")
    side = _csv(tmp_path, "account,asset,amount\n" + rows, "book.collateral.csv")
    with pytest.raises(InputError) as info:
        load_portfolio(path, as_of=AS_OF)
    assert str(info.value).startswith(f"{side}: {expected}"), str(info.value)


def test_parquet_sidecar_asset_none(tmp_path: Path) -> None:
    path = _csv(tmp_path, "account,type,symbol,quantity\nA,equity,SPY,-100\n")
    side = tmp_path / "book.collateral.parquet"
    pd.DataFrame({"account": ["A", "A"], "asset": ["USD", None],
                  "amount": [1.0, 2.0]}).to_parquet(side)
    with pytest.raises(InputError, match=r"book.collateral.parquet: row 1.asset: is required"):
        load_portfolio(path, as_of=AS_OF)


@pytest.mark.parametrize(("position", "expected"), [
    (f"{RATE_FUTURE}, tenor_years: 1.0e+10, quantity: -10}}",
     "tenor_years=10000000000.0: must be at most 50"),
    (f"{TSY_FUTURE}, deliverable_years: 1.0e+10, quantity: -10}}",
     "deliverable_years=10000000000.0: must be at most 50"),
    (f"{TSY_FUTURE}, deliverable_years: 50.5, quantity: -10}}",
     "deliverable_years=50.5: must be at most 50"),
])
def test_terms_have_upper_bounds(tmp_path: Path, position: str, expected: str) -> None:
    _fails(_position(tmp_path, position), f"positions[0].{expected}")


def test_terms_at_their_bounds_load(tmp_path: Path) -> None:
    path = _position(tmp_path, f"{TSY_FUTURE}, deliverable_years: 50, quantity: 1}}, "
                               f"{RATE_FUTURE}, tenor_years: 50, quantity: 1}}")
    assert len(load_portfolio(path).instruments) == 2


@pytest.mark.parametrize("frequency", ["2.7", "3", "0.5", "true"])
def test_bond_frequency_is_a_supported_integer(tmp_path: Path, frequency: str) -> None:
    _fails(_position(tmp_path, f"{BOND}, frequency: {frequency}, quantity: 1}}"),
           "positions[0].frequency=")


@pytest.mark.parametrize("frequency", [1, 2, 4, 12])
def test_bond_frequencies_that_price(tmp_path: Path, frequency: int) -> None:
    path = _position(tmp_path, f"{BOND}, frequency: {frequency}, quantity: 1}}")
    assert load_portfolio(path).instruments[0].frequency == frequency  # type: ignore[attr-defined]


@pytest.mark.parametrize(("account", "expected"), [
    ("{id: true}", "accounts[0].id=True: must be a text or an integer"),
    ("{id: [A]}", "accounts[0].id=['A']: must be a text or an integer"),
    ("{id: null}", "accounts[0].id: is required"),
    ("{id: ' '}", "accounts[0].id: is required"),
    ("{id: A, member: false}", "accounts[0].member=False: must be a text or an integer"),
    ("{id: A, collateral: [{asset: true, amount: 1}]}",
     "accounts[0].collateral[0].asset=True: must be a text"),
])
def test_ids_are_text_not_booleans(tmp_path: Path, account: str, expected: str) -> None:
    _fails(_yaml(tmp_path, account), expected)


def test_integer_account_id_is_text(tmp_path: Path) -> None:
    assert load_portfolio(_yaml(tmp_path, "{id: 42, member: 7}")).account_ids == ("42",)


def test_asset_class_may_name_a_symbol_the_reference_data_lacks(tmp_path: Path) -> None:
    """A coin the reference data does not list may be declared crypto (then settle inverse)."""
    path = _position(tmp_path, "{type: future, symbol: SOLU8, underlying: SOL, "
                               "expiry: 2018-09-28, asset_class: crypto, settlement: inverse, "
                               "quantity: 1}")
    (future,) = load_portfolio(path, as_of=AS_OF).instruments
    assert future.asset_class.value == "crypto" and future.settlement.value == "inverse"
