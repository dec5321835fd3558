from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crossmargin.book.instruments import (
    Bond,
    CryptoSpot,
    Equity,
    Future,
    FutureOption,
    Option,
    Perpetual,
    ProductClass,
    Right,
    Settlement,
    Style,
    TreasuryFuture,
)
from crossmargin.book.io import load_portfolio
from crossmargin.core.errors import InputError

EXAMPLE = Path(__file__).parents[2] / "examples" / "portfolio.yaml"


def test_issue_example_loads_in_documented_shape() -> None:
    book = load_portfolio(EXAMPLE)
    assert book.as_of == date(2018, 6, 29)
    assert book.currency == "USD"
    assert book.account_ids == ("ACME-1",)
    kinds = [type(i) for i in book.instruments]
    assert kinds == [Equity, Future, Option, Perpetual, Future, Option, Bond]
    spy, _es, put, perp, btc_fut, btc_call, bond = book.instruments
    assert isinstance(spy, Equity) and spy.product_class is ProductClass.BROAD_BASED_HIGH_CAP
    assert isinstance(put, Option) and put.style is Style.AMERICAN and put.right is Right.PUT
    assert isinstance(perp, Perpetual) and perp.currency == "USDT"
    assert isinstance(btc_call, Option) and btc_call.settlement is Settlement.INVERSE
    assert btc_fut.asset_class.value == "crypto"
    assert isinstance(bond, Bond) and bond.coupon == pytest.approx(0.02875)
    np.testing.assert_array_equal(book.pos_quantity, [1000, -2, 10, -2.5, 1, -5, 1_000_000])
    assert book.marks[2] == pytest.approx(2.15)
    assert np.isnan(book.marks[0])
    assert [c.asset for c in book.collateral[0]] == ["USD", "BTC"]


def test_instruments_are_deduplicated_across_accounts(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "as_of: 2018-06-29\naccounts:\n"
        "  - id: A\n    positions:\n"
        "      - {type: equity, symbol: AAPL, quantity: 10}\n"
        "  - id: B\n    positions:\n"
        "      - {type: equity, symbol: AAPL, quantity: -5}\n"
        "      - {type: spot, asset: BTC, quantity: 1}\n"
    )
    book = load_portfolio(path)
    assert len(book.instruments) == 2
    assert isinstance(book.instruments[1], CryptoSpot)
    np.testing.assert_array_equal(book.account_offsets, [0, 1, 3])
    np.testing.assert_array_equal(book.pos_instrument, [0, 0, 1])


def test_columnar_csv_matches_nested(tmp_path: Path) -> None:
    rows = pd.DataFrame(
        {
            "account": ["B", "A", "B", "A"],
            "type": ["equity", "future", "option", "equity"],
            "symbol": ["AAPL", "ESU8", None, "AAPL"],
            "underlying": [None, "SPX", "SPX", None],
            "expiry": [None, "2018-09-21", "2018-09-21", None],
            "multiplier": [None, 50, 100, None],
            "right": [None, None, "put", None],
            "strike": [None, None, 2600, None],
            "quantity": [5, -1, 2, 7],
        }
    )
    path = tmp_path / "book.csv"
    rows.to_csv(path, index=False)
    (tmp_path / "book.collateral.csv").write_text("account,asset,amount\nA,USD,1000\n")
    book = load_portfolio(path, as_of=date(2018, 6, 29))
    assert book.account_ids == ("B", "A")
    assert len(book.instruments) == 3
    np.testing.assert_array_equal(book.account_offsets, [0, 2, 4])
    np.testing.assert_array_equal(book.pos_quantity, [5, 2, -1, 7])
    assert book.collateral[1][0].amount == 1000
    assert isinstance(book.instruments[1], Future)
    parquet = tmp_path / "book.parquet"
    rows.to_parquet(parquet)
    again = load_portfolio(parquet, as_of=date(2018, 6, 29))
    assert again.instruments == book.instruments


def test_future_option_and_treasury_future(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "accounts:\n  - id: A\n    positions:\n"
        "      - {type: future_option, underlying: SPX, future_expiry: 2018-09-21,"
        " future_multiplier: 50, right: call, strike: 2800, expiry: 2018-09-21, quantity: 1}\n"
        "      - {type: treasury_future, symbol: ZNU8, expiry: 2018-09-19, quantity: -3}\n"
    )
    book = load_portfolio(path)
    fop, zn = book.instruments
    assert isinstance(fop, FutureOption) and fop.future.multiplier == 50
    assert fop.asset_class.value == "equity-index"
    assert isinstance(zn, TreasuryFuture) and zn.multiplier == 1000
    assert book.as_of is None


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("{type: swaption, quantity: 1}", "positions[0].type='swaption': unknown instrument"),
        ("{type: equity, symbol: AAPL, quantity: .nan}",
         "positions[0].quantity=nan: must be a finite number"),
        ("{type: option, underlying: SPY, right: put, strike: -5, expiry: 2018-09-21,"
         " quantity: 1}", "positions[0].strike=-5: must be positive"),
        ("{type: option, underlying: SPY, right: put, strike: 250, expiry: 2018-13-01,"
         " quantity: 1}", "positions[0].expiry='2018-13-01': not a date"),
        ("{type: equity, symbol: AAPL, quantity: 1, strik: 3}",
         "positions[0].strik=3: unknown field for a equity"),
        ("{type: equity, symbol: AAPL, quantity: 1, mark: -2}",
         "positions[0].mark=-2: must not be negative"),
        ("{type: option, underlying: SPY, strike: 250, expiry: 2018-09-21, quantity: 1}",
         "positions[0].right: is required"),
    ],
)
def test_bad_input_names_file_field_and_value(tmp_path: Path, snippet: str,
                                              expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"accounts:\n  - id: A\n    positions:\n      - {snippet}\n")
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_bad_csv_row_is_named(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text("account,type,symbol,quantity\nA,equity,AAPL,1\nA,equity,MSFT,abc\n")
    with pytest.raises(InputError, match=r"book.csv: row 3.quantity='abc'"):
        load_portfolio(path)


def test_conflicting_marks_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "accounts:\n  - id: A\n    positions:\n"
        "      - {type: equity, symbol: AAPL, quantity: 1, mark: 10}\n"
        "      - {type: equity, symbol: AAPL, quantity: 1, mark: 11}\n"
    )
    with pytest.raises(InputError, match="conflicts with mark"):
        load_portfolio(path)


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown portfolio format"):
        load_portfolio(tmp_path / "x.txt")
    with pytest.raises(InputError, match="file not found"):
        load_portfolio(tmp_path / "x.yaml")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("latin1.yaml", "accounts:\n  - {id: Soci\xe9t\xe9}\n".encode("latin-1"),
     "not UTF-8 text: byte 0xe9 at offset 23"),
    ("deep.yaml", b"accounts: " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    ("deep.json", b'{"accounts": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
     "nested too deeply"),
])
def test_unreadable_text_is_one_line(tmp_path: Path, name: str, content: bytes,
                                     message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=None) as err:
        load_portfolio(path)
    assert str(err.value).startswith(str(path)) and message in str(err.value), str(err.value)


def test_duplicate_account_ids(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("accounts:\n  - {id: A}\n  - {id: A}\n")
    with pytest.raises(InputError, match="duplicate account id"):
        load_portfolio(path)


def test_clearing_members_nested_and_columnar(tmp_path: Path) -> None:
    """Accounts name their clearing member (Cover-1 / Cover-2); without one an account
    stands alone; one account in two members is refused."""
    path = tmp_path / "members.yaml"
    path.write_text("accounts:\n"
                    "  - {id: A, member: CM1, positions: [{type: equity, symbol: SPY, "
                    "quantity: 1}]}\n"
                    "  - {id: B, positions: [{type: equity, symbol: SPY, quantity: 2}]}\n")
    book = load_portfolio(path)
    assert book.members == ("CM1", "B") and book.account(0).member == "CM1"
    assert book.select_positions(book.pos_account == 0).members == book.members
    csv = tmp_path / "book.csv"
    csv.write_text("account,member,type,symbol,quantity\nA,CM1,equity,SPY,1\n"
                   "A,CM1,equity,AAPL,2\nB,CM2,equity,SPY,3\n")
    assert load_portfolio(csv).members == ("CM1", "CM2")
    csv.write_text("account,member,type,symbol,quantity\nA,CM1,equity,SPY,1\n"
                   "A,CM2,equity,AAPL,2\n")
    with pytest.raises(InputError, match="one clearing member"):
        load_portfolio(csv)


def test_sidecar_collateral_of_an_unknown_account_names_its_row(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text("account,type,symbol,quantity\nA,equity,AAPL,5\nB,equity,AAPL,-2\n")
    (tmp_path / "book.collateral.csv").write_text(
        "account,asset,amount\nB,USD,10\nA,BTC,1.5\nZ,USD,3\n")
    with pytest.raises(InputError, match=r"book.collateral.csv: row 4.account='Z': account "
                                         r"has no positions"):
        load_portfolio(path, as_of=date(2018, 6, 29))
    (tmp_path / "book.collateral.csv").write_text(
        "account,asset,amount\nB,USD,10\nA,BTC,1.5\nB,ETH,2\n")
    book = load_portfolio(path, as_of=date(2018, 6, 29))
    assert [(c.asset, c.amount) for c in book.collateral[0]] == [("BTC", 1.5)]
    assert [(c.asset, c.amount) for c in book.collateral[1]] == [("USD", 10.0), ("ETH", 2.0)]
