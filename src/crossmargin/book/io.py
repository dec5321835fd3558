"""Read portfolio files: nested YAML/JSON for a few accounts, CSV/Parquet for many.

Nested files (``as_of``, ``currency``, ``accounts: [{id, positions, collateral, orders}]``)
are documented in ``docs/formats.md``. Columnar files hold one position per row:
``account,type,<instrument fields>,quantity[,mark]``; collateral for a columnar book is
read from a sidecar ``<name>.collateral.csv`` (or ``.parquet``) with
``account,asset,amount``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crossmargin.book.book import Account, Book, Collateral, Order, Position
from crossmargin.book.instruments import Instrument
from crossmargin.book.parse import POSITION_FIELDS, parse_instrument
from crossmargin.core.errors import InputError
from crossmargin.core.money import check_currency
from crossmargin.core.values import parse_date, parse_number
from crossmargin.core.yamlio import read_yaml

__all__ = ["load_portfolio", "read_nested"]

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
    if as_of is None and data.get("as_of") is not None:
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
    unknown = set(data) - {"as_of", "currency", "accounts", "description"}
    if unknown:
        name = sorted(unknown)[0]
        raise InputError("unknown top-level field", field=name, value=data[name])
    as_of, ccy = _header(data, as_of, currency)
    raw_accounts = data.get("accounts")
    if not isinstance(raw_accounts, list) or not raw_accounts:
        raise InputError("must be a non-empty list", field="accounts", value=raw_accounts,
                         has_value=True)
    accounts = [_account(raw, f"accounts[{a}]") for a, raw in enumerate(raw_accounts)]
    return Book.from_accounts(accounts, as_of=as_of, currency=ccy, source=source)


def _account(raw: object, path: str) -> Account:
    if not isinstance(raw, Mapping):
        raise InputError("must be a mapping", field=path, value=raw)
    unknown = set(raw) - {"id", "positions", "collateral", "orders", "member", "name"}
    if unknown:
        name = sorted(unknown)[0]
        raise InputError("unknown account field", field=f"{path}.{name}", value=raw[name])
    acct_id = raw.get("id")
    if not isinstance(acct_id, str | int) or str(acct_id).strip() == "":
        raise InputError("is required", field=f"{path}.id", value=acct_id, has_value=True)
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
    member = raw.get("member")
    if member is not None and (not isinstance(member, str | int) or str(member).strip() == ""):
        raise InputError("must be a clearing member id", field=f"{path}.member", value=member)
    return Account(id=str(acct_id), positions=positions, collateral=collateral, orders=orders,
                   member=None if member is None else str(member))


def _list(raw: Mapping[str, Any], name: str, path: str) -> list[Any]:
    value = raw.get(name) or []
    if not isinstance(value, list):
        raise InputError("must be a list", field=f"{path}.{name}", value=value)
    return value


def _record(raw: object, path: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise InputError("must be a mapping", field=path, value=raw)
    return raw


def _position(raw: object, path: str) -> Position:
    rec = _record(raw, path)
    instrument = parse_instrument(rec, path=path)
    quantity = parse_number(rec.get("quantity"), field=f"{path}.quantity")
    mark = rec.get("mark")
    return Position(
        instrument=instrument,
        quantity=quantity,
        mark=None if mark is None else parse_number(mark, field=f"{path}.mark", positive=True),
    )


def _order(raw: object, path: str) -> Order:
    rec = _record(raw, path)
    limit = rec.get("limit_price")
    return Order(
        instrument=parse_instrument(rec, path=path),
        quantity=parse_number(rec.get("quantity"), field=f"{path}.quantity"),
        limit_price=None if limit is None else parse_number(
            limit, field=f"{path}.limit_price", positive=True),
    )


#: Terms a collateral record may give for a pledged bond (``type: bond``).
_COLLATERAL_BOND = frozenset({"type", "coupon", "maturity", "curve", "frequency", "currency"})


def _collateral(raw: object, path: str) -> Collateral:
    rec = _record(raw, path)
    allowed = {"asset", "amount"} | (_COLLATERAL_BOND if "type" in rec else set())
    unknown = set(rec) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise InputError("unknown collateral field", field=f"{path}.{name}", value=rec[name])
    asset = rec.get("asset")
    if not isinstance(asset, str) or not asset.strip():
        raise InputError("is required", field=f"{path}.asset", value=asset, has_value=True)
    return Collateral(
        asset=asset.strip(), amount=parse_number(rec.get("amount"), field=f"{path}.amount"),
        instrument=_pledged_bond(rec, asset.strip(), path) if "type" in rec else None,
    )


def _pledged_bond(rec: Mapping[str, Any], asset: str, path: str) -> Instrument:
    """Return the bond whose terms a collateral record gives (``type: bond``)."""
    if str(rec["type"]).strip().lower() != "bond":
        raise InputError("collateral terms are given for bonds only (type: bond)",
                         field=f"{path}.type", value=rec["type"])
    terms = {k: v for k, v in rec.items() if k not in ("asset", "amount")}
    return parse_instrument({**terms, "symbol": asset}, path=path)


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, dtype={"account": str}, keep_default_na=True)
        return pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read table: {first}") from None


def _row_label(path: Path, row: int) -> str:
    return f"row {row + 2}" if path.suffix.lower() == ".csv" else f"row {row}"


def _numeric_column(df: pd.DataFrame, name: str, path: Path, *, required: bool) -> np.ndarray:
    if name not in df.columns:
        if required:
            raise InputError("column is required", field=name)
        return np.full(len(df), np.nan)
    values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) if required else (~np.isfinite(values) & df[name].notna().to_numpy())
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError("must be a finite number", field=f"{_row_label(path, row)}.{name}",
                         value=df[name].iloc[row], has_value=True)
    return values


def _read_columnar(path: Path, *, as_of: date | None, currency: str | None) -> Book:
    df = _read_table(path)
    if "account" not in df.columns or "type" not in df.columns:
        raise InputError("columns 'account' and 'type' are required", field="header")
    if df.empty:
        raise InputError("has no positions", field="rows")
    quantity = _numeric_column(df, "quantity", path, required=True)
    mark = _numeric_column(df, "mark", path, required=False)
    if (mark < 0).any():
        row = int(np.argmax(mark < 0))
        raise InputError("must not be negative", field=f"{_row_label(path, row)}.mark",
                         value=float(mark[row]))
    inst_cols = [c for c in df.columns if c not in POSITION_FIELDS]
    keys = pd.MultiIndex.from_frame(df[inst_cols].astype(object).where(df[inst_cols].notna()))
    codes, uniques = pd.factorize(keys)
    first_row = pd.Series(np.arange(len(df))).groupby(codes).first().to_numpy()
    index: dict[Instrument, int] = {}
    remap = np.empty(len(uniques), dtype=np.int64)
    for u, values in enumerate(uniques):
        record = dict(zip(inst_cols, values, strict=True))
        inst = parse_instrument(record, path=_row_label(path, int(first_row[u])))
        remap[u] = index.setdefault(inst, len(index))
    pos_inst = remap[codes]
    acct_codes, acct_ids = pd.factorize(df["account"].astype(str))
    order = np.argsort(acct_codes, kind="stable")
    counts = np.bincount(acct_codes, minlength=len(acct_ids))
    marks = np.full(len(index), np.nan)
    has_mark = np.isfinite(mark)
    if has_mark.any():
        by_inst = pd.Series(mark[has_mark]).groupby(pos_inst[has_mark])
        if (by_inst.nunique() > 1).any():
            inst_row = int(np.asarray(by_inst.nunique().idxmax()))
            raise InputError("conflicting marks for one instrument", field="mark",
                             value=list(index)[inst_row].label)
        first = by_inst.first()
        marks[first.index.to_numpy()] = first.to_numpy()
    ids = tuple(str(a) for a in acct_ids)
    members = _members(df, acct_codes, len(ids), path)
    collateral = _sidecar_collateral(path, ids)
    file_as_of = as_of
    ccy = check_currency(currency or "USD", field="currency")
    return Book(
        as_of=file_as_of,
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


def _members(df: pd.DataFrame, acct_codes: np.ndarray, n_accounts: int, path: Path
             ) -> tuple[str, ...]:
    """Return each account's clearing member from an optional ``member`` column."""
    if "member" not in df.columns:
        return ()
    member = df["member"].astype(object)
    if member.isna().any():
        row = int(np.argmax(member.isna().to_numpy()))
        raise InputError("is required on every row when the column is given",
                         field=f"{_row_label(path, row)}.member")
    by_account = pd.Series(member.astype(str).to_numpy()).groupby(acct_codes)
    if (by_account.nunique() > 1).any():
        bad = int(np.asarray(by_account.nunique().idxmax()))
        raise InputError("one account belongs to one clearing member", field="member",
                         value=sorted(set(member[acct_codes == bad].astype(str))))
    first = by_account.first()  # indexed by account code, 0 to n_accounts - 1 in order
    return tuple(str(m) for m in first.to_numpy().tolist())


def _sidecar_collateral(path: Path, ids: tuple[str, ...]) -> tuple[tuple[Collateral, ...], ...]:
    empty: list[list[Collateral]] = [[] for _ in ids]
    for suffix in (".csv", ".parquet"):
        side = path.with_name(f"{path.stem}.collateral{suffix}")
        if not side.is_file():
            continue
        try:
            df = _read_table(side)
            if not {"account", "asset", "amount"} <= set(df.columns):
                raise InputError("columns 'account', 'asset', 'amount' are required",
                                 field="header")
            amount = _numeric_column(df, "amount", side, required=True)
            bonds = _sidecar_bonds(df, side)
            accounts = df["account"].astype(str).to_numpy(dtype=object)
            owner = pd.Index(ids).get_indexer(pd.Index(accounts))
            if (owner < 0).any():
                row = int(np.argmax(owner < 0))
                raise InputError("account has no positions in the portfolio",
                                 field=f"{_row_label(side, row)}.account",
                                 value=accounts[row])
            for k, asset, value, bond in zip(owner.tolist(), df["asset"].astype(str).tolist(),
                                             amount.tolist(), bonds, strict=True):
                empty[k].append(Collateral(asset=asset, amount=value, instrument=bond))
        except InputError as err:
            raise err.located(str(side)) from None
    return tuple(tuple(c) for c in empty)


def _sidecar_bonds(df: pd.DataFrame, path: Path) -> list[Instrument | None]:
    """Return the pledged bond of each sidecar row (``None`` where no ``type`` is given).

    A sidecar may give a bond's terms in the columns a nested collateral record uses
    (``type`` = ``bond``, ``coupon``, ``maturity``, ``curve``, ``frequency``,
    ``currency``); each distinct bond is parsed once.
    """
    if "type" not in df.columns:
        return [None] * len(df)
    unknown = sorted(set(df.columns) - {"account", "asset", "amount"} - _COLLATERAL_BOND)
    if unknown:
        raise InputError("unknown collateral column", field=unknown[0])
    cols = ["asset", *[c for c in df.columns if c in _COLLATERAL_BOND]]
    keys = pd.MultiIndex.from_frame(df[cols].astype(object).where(df[cols].notna()))
    codes, uniques = pd.factorize(keys)
    first_row = pd.Series(np.arange(len(df))).groupby(codes).first().to_numpy()
    parsed: list[Instrument | None] = []
    for u, values in enumerate(uniques):
        rec = {k: v for k, v in zip(cols, values, strict=True)
               if v is not None and not (isinstance(v, float) and np.isnan(v))}
        parsed.append(_pledged_bond(rec, str(rec["asset"]).strip(),
                                    _row_label(path, int(first_row[u])))
                      if "type" in rec else None)
    return [parsed[c] for c in codes]
