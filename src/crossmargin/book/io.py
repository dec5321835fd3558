"""Read portfolio files: nested YAML/JSON for a few accounts, CSV/Parquet for many.

Nested files (``as_of``, ``currency``, ``accounts: [{id, positions, collateral, orders}]``)
are documented in ``docs/formats.md``. Columnar files hold one position per row:
``account,type,<instrument fields>,quantity[,mark]``; collateral for a columnar book is
read from a sidecar ``<name>.collateral.csv`` (or ``.parquet``) with
``account,asset,amount``. An empty cell of a columnar file is a term left out; any text
in it (``NA``, ``NaN``, ``null``) is read as that text, never as a missing value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crossmargin.book.book import Account, Book, Collateral, Order, Position
from crossmargin.book.instruments import FutureOption, Instrument, Option
from crossmargin.book.parse import POSITION_FIELDS, is_null, parse_instrument
from crossmargin.core.errors import InputError
from crossmargin.core.money import check_currency
from crossmargin.core.values import check_fields, parse_date, parse_number
from crossmargin.core.yamlio import read_yaml

__all__ = ["book_metadata", "load_portfolio", "read_nested"]

#: Parquet key-value metadata a positions file may carry: the book's date and reporting
#: currency (written by ``crossmargin population``); an explicit ``--as-of`` or
#: ``currency`` overrides them.
_BOOK_METADATA = {"as_of": b"crossmargin.as_of", "currency": b"crossmargin.currency"}


def book_metadata(book: Book) -> dict[bytes, bytes]:
    """Return the Parquet metadata that records ``book``'s date and currency."""
    out = {_BOOK_METADATA["currency"]: book.currency.encode()}
    if book.as_of is not None:
        out[_BOOK_METADATA["as_of"]] = book.as_of.isoformat().encode()
    return out

_NESTED = {".yaml", ".yml", ".json"}
_COLUMNAR = {".csv", ".parquet", ".pq"}


def load_portfolio(
    path: str | Path, *, as_of: date | None = None, currency: str | None = None
) -> Book:
    """Load a portfolio file into a :class:`~crossmargin.book.book.Book`.

    Parameters
    ----------
    path : str or Path
        ``.yaml``/``.yml``/``.json`` (nested) or ``.csv``/``.parquet`` (one row per position).
    as_of : date, optional
        Valuation date; overrides the file's ``as_of``.
    currency : str, optional
        Reporting currency; overrides the file's ``currency`` (default ``USD``).

    Raises
    ------
    InputError
        One line naming the file, the field and the value that is wrong.
    """
    path = Path(path)
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in _NESTED | _COLUMNAR:
        raise InputError(
            "unknown portfolio format (use .yaml, .yml, .json, .csv or .parquet)",
            source=source,
        )
    if not path.is_file():
        raise InputError("file not found", source=source)
    try:
        if suffix in _NESTED:
            return read_nested(_read_mapping(path), source=source, as_of=as_of,
                               currency=currency)
        return _read_columnar(path, as_of=as_of, currency=currency)
    except InputError as err:
        # an error in a sidecar file already names that file
        raise (err if err.source else err.located(source)) from None


def _read_mapping(path: Path) -> Mapping[str, Any]:
    data = read_yaml(path, what="portfolio file")
    if not isinstance(data, Mapping):
        raise InputError("the top level must be a mapping with 'accounts'")
    return data


def _header(data: Mapping[str, Any], as_of: date | None, currency: str | None
            ) -> tuple[date | None, str]:
    if as_of is None and "as_of" in data:
        as_of = parse_date(data["as_of"], field="as_of")
    ccy = currency or data.get("currency", "USD")
    return as_of, check_currency(ccy, field="currency")


def read_nested(
    data: Mapping[str, Any],
    *,
    source: str = "<memory>",
    as_of: date | None = None,
    currency: str | None = None,
) -> Book:
    """Build a book from an already-parsed nested mapping (see :func:`load_portfolio`)."""
    check_fields(data, {"as_of", "currency", "accounts", "description"}, "",
                 "top-level field")
    as_of, ccy = _header(data, as_of, currency)
    raw_accounts = data.get("accounts")
    if not isinstance(raw_accounts, list) or not raw_accounts:
        raise InputError("must be a non-empty list", field="accounts", value=raw_accounts,
                         has_value=True)
    accounts = [_account(raw, f"accounts[{a}]") for a, raw in enumerate(raw_accounts)]
    return Book.from_accounts(accounts, as_of=as_of, currency=ccy, source=source)


def _id(value: object, field: str, *, integers: bool = True) -> str:
    """Return an id (or an asset name): a non-empty text, or an integer if ``integers``.

    Raises
    ------
    InputError
        A missing or blank value ("is required"), a boolean or any other type.
    """
    if is_null(value) or (isinstance(value, str) and not value.strip()):
        raise InputError("is required", field=field)
    kinds = (str, int) if integers else (str,)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise InputError("must be a text" + (" or an integer" if integers else ""),
                         field=field, value=value)
    return str(value)


def _account(raw: object, path: str) -> Account:
    if not isinstance(raw, Mapping):
        raise InputError("must be a mapping", field=path, value=raw)
    check_fields(raw, {"id", "positions", "collateral", "orders", "member", "name"}, path,
                 "account field")
    acct_id = _id(raw.get("id"), f"{path}.id")
    positions = tuple(
        _position(p, f"{path}.positions[{i}]") for i, p in enumerate(_list(raw, "positions", path))
    )
    collateral = tuple(
        _collateral(c, f"{path}.collateral[{i}]")
        for i, c in enumerate(_list(raw, "collateral", path))
    )
    orders = tuple(
        _order(o, f"{path}.orders[{i}]") for i, o in enumerate(_list(raw, "orders", path))
    )
    member = None if "member" not in raw else _id(raw["member"], f"{path}.member")
    return Account(id=acct_id, positions=positions, collateral=collateral, orders=orders,
                   member=member)


def _list(raw: Mapping[str, Any], name: str, path: str) -> list[Any]:
    """Return the list ``raw[name]``: empty when the key is left out, else it must be one."""
    value = raw.get(name, [])
    if not isinstance(value, list):
        raise InputError("must be a list", field=f"{path}.{name}", value=value,
                         has_value=True)
    return value


def _record(raw: object, path: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise InputError("must be a mapping", field=path, value=raw)
    return raw


def _mark(value: object, instrument: Instrument, field: str) -> float:
    """Return a position's mark: positive, or zero for a worthless option.

    Raises
    ------
    InputError
        A mark that is not a finite number, is negative, or is zero on an instrument
        other than an option (a zero price would value a short at nothing).
    """
    mark = parse_number(value, field=field, positive=True)
    if mark == 0 and not isinstance(instrument, Option | FutureOption):
        raise InputError("must be positive (only an option may be marked at 0)",
                         field=field, value=value)
    return mark


def _position(raw: object, path: str) -> Position:
    rec = _record(raw, path)
    instrument = parse_instrument(rec, path=path)
    quantity = parse_number(rec.get("quantity"), field=f"{path}.quantity")
    return Position(
        instrument=instrument,
        quantity=quantity,
        mark=_mark(rec["mark"], instrument, f"{path}.mark") if "mark" in rec else None,
    )


def _order(raw: object, path: str) -> Order:
    rec = _record(raw, path)
    return Order(
        instrument=parse_instrument(rec, path=path),
        quantity=parse_number(rec.get("quantity"), field=f"{path}.quantity"),
        limit_price=parse_number(rec["limit_price"], field=f"{path}.limit_price",
                                 positive=True) if "limit_price" in rec else None,
    )


#: Terms a collateral record may give for a pledged bond (``type: bond``).
_COLLATERAL_BOND = frozenset({"type", "coupon", "maturity", "curve", "frequency", "currency"})


def _collateral(raw: object, path: str) -> Collateral:
    rec = _record(raw, path)
    check_fields(rec, {"asset", "amount"} | (_COLLATERAL_BOND if "type" in rec else set()),
                 path, "collateral field")
    asset = _id(rec.get("asset"), f"{path}.asset", integers=False).strip()
    return Collateral(
        asset=asset, amount=parse_number(rec.get("amount"), field=f"{path}.amount"),
        instrument=_pledged_bond(rec, asset, path) if "type" in rec else None,
    )


def _pledged_bond(rec: Mapping[str, Any], asset: str, path: str) -> Instrument:
    """Return the bond whose terms a collateral record gives (``type: bond``)."""
    if str(rec["type"]).strip().lower() != "bond":
        raise InputError("collateral terms are given for bonds only (type: bond)",
                         field=f"{path}.type", value=rec["type"])
    terms = {k: v for k, v in rec.items() if k not in ("asset", "amount")}
    return parse_instrument({**terms, "symbol": asset}, path=path)


def _read_table(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read a CSV (empty cells missing, any text kept as text) or Parquet table.

    Returns
    -------
    tuple
        The table, and the book metadata a Parquet file carries (``as_of``,
        ``currency``; none for CSV).

    Raises
    ------
    InputError
        An unreadable file, or a Parquet column of lists or mappings (named).
    """
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, dtype={"account": str, "asset": str, "member": str},
                               keep_default_na=False, na_values=[""]), {}
        schema = pq.read_schema(path)
        table = pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read table: {first}") from None
    nested = [f for f in schema if pa.types.is_nested(f.type)]
    if nested:
        raise InputError("column holds lists or mappings, not one value per cell",
                         field=nested[0].name, value=str(nested[0].type))
    meta = schema.metadata or {}
    return table, {name: meta[key].decode("utf-8", "replace")
                   for name, key in _BOOK_METADATA.items() if key in meta}


def _row_label(path: Path, row: int) -> str:
    return f"row {row + 2}" if path.suffix.lower() == ".csv" else f"row {row}"


def _plain(value: object) -> object:
    """Return a numpy scalar as the Python value it holds (for records and messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _is_empty(value: object) -> bool:
    """Return whether a (scalar) cell is empty: missing, NaN or the empty text."""
    return value == "" if isinstance(value, str) else is_null(value)


def _numeric_column(df: pd.DataFrame, name: str, path: Path, *, required: bool) -> np.ndarray:
    """Return a column as floats, NaN where a cell is empty (an error if ``required``)."""
    if name not in df.columns:
        if required:
            raise InputError("column is required", field=name)
        return np.full(len(df), np.nan)
    column = df[name]
    empty = column.isna().to_numpy()
    if required and empty.any():
        raise InputError("is required",
                         field=f"{_row_label(path, int(np.argmax(empty)))}.{name}")
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    if pd.api.types.is_bool_dtype(column):
        booleans = np.ones(len(df), dtype=bool)
    elif column.dtype == object:
        booleans = column.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
    else:
        booleans = np.zeros(len(df), dtype=bool)
    bad = ~empty & (~np.isfinite(values) | booleans)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError("must be a finite number", field=f"{_row_label(path, row)}.{name}",
                         value=_plain(column.iloc[row]), has_value=True)
    return values


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """Return the first row of each code 0, 1, ... of a factorized column."""
    return pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()


def _text_column(df: pd.DataFrame, name: str, path: Path, *, integers: bool = False
                 ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Return each row's code and the distinct values of a required id column, as texts.

    Values are in the order of their first row; ``integers`` also accepts integer ids.

    Raises
    ------
    InputError
        An empty cell ("is required") or a value other than a text (or an integer),
        naming the row.
    """
    codes, uniques = pd.factorize(df[name].astype(object))
    if (codes < 0).any():
        raise InputError("is required",
                         field=f"{_row_label(path, int(np.argmax(codes < 0)))}.{name}")
    first_row = _first_rows(codes)
    texts = [_id(_plain(value), f"{_row_label(path, int(first_row[k]))}.{name}",
                 integers=integers) for k, value in enumerate(uniques)]
    # an integer and its text (1 and "1") name one id
    merged, names = pd.factorize(np.asarray(texts, dtype=object))
    return merged[codes], tuple(str(n) for n in names)


def _distinct(df: pd.DataFrame, cols: list[str], path: Path
              ) -> tuple[np.ndarray, list[tuple[str, dict[str, Any]]]]:
    """Return each row's code and each distinct row of ``cols`` as a record.

    A record is ``(label of its first row, {column: value})``, empty cells left out, so
    that each distinct instrument is parsed once.
    """
    keys = pd.MultiIndex.from_frame(df[cols].astype(object).where(df[cols].notna()))
    codes, uniques = pd.factorize(keys)
    first_row = _first_rows(codes)
    records = [
        (_row_label(path, int(first_row[u])),
         {k: _plain(v) for k, v in zip(cols, values, strict=True) if not _is_empty(v)})
        for u, values in enumerate(uniques)
    ]
    return codes, records


def _read_columnar(path: Path, *, as_of: date | None, currency: str | None) -> Book:
    df, meta = _read_table(path)
    if "account" not in df.columns or "type" not in df.columns:
        raise InputError("columns 'account' and 'type' are required", field="header")
    if df.empty:
        raise InputError("has no positions", field="rows")
    quantity = _numeric_column(df, "quantity", path, required=True)
    mark = _numeric_column(df, "mark", path, required=False)
    codes, records = _distinct(df, [c for c in df.columns if c not in POSITION_FIELDS], path)
    index: dict[Instrument, int] = {}
    remap = np.empty(len(records), dtype=np.int64)
    for u, (where, record) in enumerate(records):
        remap[u] = index.setdefault(parse_instrument(record, path=where), len(index))
    pos_inst = remap[codes]
    acct_codes, ids = _text_column(df, "account", path, integers=True)
    order = np.argsort(acct_codes, kind="stable")
    counts = np.bincount(acct_codes, minlength=len(ids))
    marks = _columnar_marks(mark, pos_inst, tuple(index), path)
    members = _members(df, acct_codes, path)
    collateral = _sidecar_collateral(path, ids)
    if as_of is None and "as_of" in meta:
        as_of = parse_date(meta["as_of"], field="metadata.crossmargin.as_of")
    ccy = check_currency(currency or meta.get("currency", "USD"),
                         field="currency" if currency else "metadata.crossmargin.currency")
    return Book(
        as_of=as_of,
        currency=ccy,
        account_ids=ids,
        instruments=tuple(index),
        account_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        pos_instrument=pos_inst[order],
        pos_quantity=quantity[order],
        marks=marks,
        collateral=collateral,
        orders=tuple(() for _ in ids),
        source=str(path),
        members=members,
    )


def _columnar_marks(mark: np.ndarray, pos_inst: np.ndarray,
                    instruments: tuple[Instrument, ...], path: Path) -> np.ndarray:
    """Return each instrument's mark (NaN where no row marks it), checked as :func:`_mark`."""
    marks = np.full(len(instruments), np.nan)
    rows = np.flatnonzero(np.isfinite(mark))
    if not rows.size:
        return marks
    by_inst = pd.Series(mark[rows]).groupby(pos_inst[rows])
    if (by_inst.nunique() > 1).any():
        inst_row = int(np.asarray(by_inst.nunique().idxmax()))
        raise InputError("conflicting marks for one instrument", field="mark",
                         value=instruments[inst_row].label)
    first = pd.Series(rows).groupby(pos_inst[rows]).first()
    for k, row in zip(first.index.tolist(), first.tolist(), strict=True):
        marks[k] = _mark(float(mark[row]), instruments[k], f"{_row_label(path, row)}.mark")
    return marks


def _members(df: pd.DataFrame, acct_codes: np.ndarray, path: Path) -> tuple[str, ...]:
    """Return each account's clearing member from an optional ``member`` column."""
    if "member" not in df.columns:
        return ()
    codes, names = _text_column(df, "member", path, integers=True)
    by_account = pd.Series(codes).groupby(acct_codes)
    if (by_account.nunique() > 1).any():
        bad = int(np.asarray(by_account.nunique().idxmax()))
        raise InputError("one account belongs to one clearing member", field="member",
                         value=sorted({names[c] for c in codes[acct_codes == bad].tolist()}))
    # indexed by account code, 0 to n_accounts - 1 in order
    return tuple(names[c] for c in by_account.first().tolist())


def _sidecar_collateral(path: Path, ids: tuple[str, ...]) -> tuple[tuple[Collateral, ...], ...]:
    empty: list[list[Collateral]] = [[] for _ in ids]
    for suffix in (".csv", ".parquet"):
        side = path.with_name(f"{path.stem}.collateral{suffix}")
        if not side.is_file():
            continue
        try:
            df, _ = _read_table(side)
            if not {"account", "asset", "amount"} <= set(df.columns):
                raise InputError("columns 'account', 'asset', 'amount' are required",
                                 field="header")
            amount = _numeric_column(df, "amount", side, required=True)
            acct_codes, accounts = _text_column(df, "account", side, integers=True)
            owner = pd.Index(ids).get_indexer(pd.Index(accounts))
            if (owner < 0).any():
                k = int(np.argmax(owner < 0))
                raise InputError("account has no positions in the portfolio",
                                 field=f"{_row_label(side, int(np.argmax(acct_codes == k)))}"
                                       ".account", value=accounts[k])
            asset_codes, assets = _text_column(df, "asset", side)
            bonds = _sidecar_bonds(df, side)
            for k, a, value, bond in zip(owner[acct_codes].tolist(), asset_codes.tolist(),
                                         amount.tolist(), bonds, strict=True):
                empty[k].append(Collateral(asset=assets[a].strip(), amount=value,
                                           instrument=bond))
        except InputError as err:
            raise err.located(str(side)) from None
    return tuple(tuple(c) for c in empty)


def _sidecar_bonds(df: pd.DataFrame, path: Path) -> list[Instrument | None]:
    """Return the pledged bond of each sidecar row (``None`` where no ``type`` is given).

    A sidecar may give a bond's terms in the columns a nested collateral record uses
    (``type`` = ``bond``, ``coupon``, ``maturity``, ``curve``, ``frequency``,
    ``currency``); each distinct bond is parsed once. The ``asset`` column is checked.
    """
    if "type" not in df.columns:
        return [None] * len(df)
    unknown = sorted(set(df.columns) - {"account", "asset", "amount"} - _COLLATERAL_BOND)
    if unknown:
        raise InputError("unknown collateral column", field=unknown[0])
    codes, records = _distinct(
        df, ["asset", *[c for c in df.columns if c in _COLLATERAL_BOND]], path)
    parsed = [_pledged_bond(rec, str(rec["asset"]).strip(), where) if "type" in rec else None
              for where, rec in records]
    return [parsed[c] for c in codes]
