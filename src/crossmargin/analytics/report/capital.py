r"""Capital freed by cross-margining, account by account, and how it is distributed.

The SEC/CFTC question: how much capital does margining one portfolio free against
today's patchwork, for whom, and where does it come from? For every account of a
comparison this module records each arrangement's initial margin and the capital it
frees against the silos, labels the account by the asset classes it holds and by its
strategy, and splits the unified arrangement's saving into its two sources.

Notes
-----
With :math:`S_a` the silo (patchwork) initial margin of account :math:`a`, :math:`U_a`
the unified requirement and :math:`U^{s}_a` the unified model run on silo :math:`s`'s
positions of the account alone,

.. math:: F_a = S_a - U_a
              = \underbrace{\Big(S_a - \sum_s U^{s}_a\Big)}_{\text{change of model}}
              + \underbrace{\Big(\sum_s U^{s}_a - U_a\Big)}_{\text{cross-silo offset}},

so the two parts add up to the capital freed exactly. Per silo, the change of model is
the silo's own requirement less the unified model on the same positions,
:math:`S^{s}_a - U^{s}_a`; these sum to the account's change of model up to the cent
the silo total is rounded up by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from crossmargin.arrangements.compare import Comparison
from crossmargin.arrangements.result import ArrangementResult
from crossmargin.book.book import Book
from crossmargin.book.instruments import AssetClass
from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray

__all__ = [
    "DERIVED",
    "KINDS",
    "NO_POSITIONS",
    "OFFSET",
    "QUANTILES",
    "CapitalFreed",
    "asset_class_labels",
    "capital_freed",
    "holding_labels",
]

#: Label of an account that holds no positions (collateral only).
NO_POSITIONS = "no positions"
#: Instrument kinds in the order an account's holdings are named.
KINDS = ("equity", "option", "bond", "future", "treasury_future", "rate_future",
         "future_option", "spot", "perpetual")
#: Where the strategy labels come from when the population records none.
DERIVED = "not recorded in the population: each account is labelled by the kinds of " \
    "instrument it holds"
#: Component of the unified arrangement that holds the cross-silo offset.
OFFSET = "cross_silo_offset"
#: Suffix of the unified components that hold the unified model on one silo alone.
_ALONE = "_alone"
#: Suffix of the silo components that hold one silo's requirement.
_SILO_IM = ".initial_margin"
ObjectArray = npt.NDArray[np.object_]
#: Quantiles reported for each distribution.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _mix_labels(book: Book, code: IntArray, names: Sequence[str]) -> ObjectArray:
    """Return each account's mix of the categories its positions fall in.

    ``code[i]`` is the category (row of ``names``) of instrument ``i``; an account's
    label joins the names of its categories in the order of ``names`` with ``" + "``.
    """
    bit = np.left_shift(1, code).astype(np.int64) if code.size else np.zeros(1, np.int64)
    mask = np.zeros(book.n_accounts, dtype=np.int64)
    if book.n_positions:
        np.bitwise_or.at(mask, book.pos_account, bit[book.pos_instrument])
    codes, uniques = pd.factorize(mask)
    labels = [" + ".join(n for k, n in enumerate(names) if int(m) >> k & 1) or NO_POSITIONS
              for m in uniques]
    out: ObjectArray = np.asarray(labels, dtype=object)[codes]
    return out


def asset_class_labels(book: Book) -> ObjectArray:
    """Return each account's asset-class mix, e.g. ``"equity + crypto"``.

    The classes are named in the order of :class:`~crossmargin.book.instruments.AssetClass`;
    an account with no positions is ``"no positions"``.

    Returns
    -------
    ndarray of object, shape (n_accounts,)
    """
    classes = list(AssetClass)
    code = np.asarray([classes.index(i.asset_class) for i in book.instruments], dtype=np.int64)
    return _mix_labels(book, code, [c.value for c in classes])


def holding_labels(book: Book) -> ObjectArray:
    """Return each account's mix of instrument kinds, e.g. ``"equity + option"``.

    The label of a book whose strategies are not recorded: what each account holds,
    kinds in the order of ``KINDS`` (others after them, alphabetically).

    Returns
    -------
    ndarray of object, shape (n_accounts,)
    """
    kinds = [i.kind for i in book.instruments]
    names = [k for k in KINDS if k in kinds] + sorted(set(kinds) - set(KINDS))
    code = np.asarray([names.index(k) for k in kinds], dtype=np.int64)
    return _mix_labels(book, code, names)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CapitalFreed:
    """Every account's requirements under each arrangement and the capital freed.

    Attributes
    ----------
    currency : str
        Currency of every amount.
    arrangements : tuple of str
        The arrangements compared with the silos (``conservative``, ``unified``).
    accounts : DataFrame, shape (n_accounts, ...)
        Indexed by account: ``asset_classes`` and ``strategy`` labels, ``silo`` (the
        patchwork initial margin), one column per arrangement with its initial margin
        and ``freed_<arrangement>`` with the capital freed (negative: more margin);
        ``change_of_model`` and ``cross_silo_offset`` where the unified arrangement ran.
    silo_split : DataFrame
        Indexed by silo: ``silo`` (the silo method's total), ``unified`` (the unified
        model on that silo's positions alone) and ``change_of_model`` (their
        difference), totals over accounts; empty without the unified arrangement.
    strategy_source : str
        Where the strategy labels come from (the population file, or derived).
    """

    currency: str
    arrangements: tuple[str, ...]
    accounts: pd.DataFrame
    silo_split: pd.DataFrame
    strategy_source: str

    def freed(self, arrangement: str) -> FloatArray:
        """Return the capital each account's ``arrangement`` frees, shape (n_accounts,)."""
        out: FloatArray = self.accounts[f"freed_{arrangement}"].to_numpy(dtype=np.float64)
        return out

    def freed_share(self, arrangement: str) -> FloatArray:
        """Return the capital freed as a share of each account's silo requirement.

        Accounts with no silo requirement are left out, shape (n_accounts with one,).
        """
        silo = self.accounts["silo"].to_numpy(dtype=np.float64)
        has = silo > 0
        out: FloatArray = self.freed(arrangement)[has] / silo[has]
        return out

    def summary(self) -> pd.DataFrame:
        """Return one row per arrangement: totals, the distribution, who gains and loses.

        Columns: ``accounts``, ``silo_total``, ``margin_total``, ``freed_total``,
        ``freed_share`` (of the silo total), ``mean``, ``p5`` ... ``p95`` of the capital
        freed per account, ``better`` and ``worse`` (share of accounts with less and
        with more margin than under the silos).
        """
        silo_total = float(self.accounts["silo"].sum())
        rows = []
        for arr in self.arrangements:
            freed = self.freed(arr)
            q = np.quantile(freed, QUANTILES) if freed.size else np.full(len(QUANTILES),
                                                                         np.nan)
            rows.append({
                "arrangement": arr, "accounts": int(freed.size), "silo_total": silo_total,
                "margin_total": float(self.accounts[arr].sum()),
                "freed_total": float(freed.sum()),
                "freed_share": float(freed.sum()) / silo_total if silo_total else 0.0,
                "mean": float(freed.mean()) if freed.size else np.nan,
                **{f"p{round(100 * p)}": float(v) for p, v in zip(QUANTILES, q, strict=True)},
                "better": float(np.mean(freed > 0)) if freed.size else np.nan,
                "worse": float(np.mean(freed < 0)) if freed.size else np.nan,
            })
        return pd.DataFrame(rows).set_index("arrangement")

    def by_label(self, label: str, arrangement: str) -> pd.DataFrame:
        """Return one row per value of ``label`` (``asset_classes`` or ``strategy``).

        Columns: ``accounts``, ``silo_total``, ``freed_total``, ``freed_share`` and the
        median capital freed per account; sorted by capital freed, largest first.
        """
        frame = pd.DataFrame({"label": self.accounts[label].to_numpy(),
                              "silo": self.accounts["silo"].to_numpy(),
                              "freed": self.freed(arrangement)})
        grouped = frame.groupby("label", sort=False)
        out = pd.DataFrame({"accounts": grouped.size(),
                            "silo_total": grouped["silo"].sum(),
                            "freed_total": grouped["freed"].sum(),
                            "median": grouped["freed"].median()})
        out["freed_share"] = np.where(out["silo_total"] > 0,
                                      out["freed_total"] / out["silo_total"].where(
                                          out["silo_total"] > 0, 1.0), 0.0)
        return out.sort_values("freed_total", ascending=False)


def _by_name(cmp: Comparison, name: str) -> ArrangementResult | None:
    return next((r for r in cmp.results if r.arrangement == name), None)


def _silo_split(silo: ArrangementResult, unified: ArrangementResult) -> pd.DataFrame:
    """Totals per silo: the silo's method, the unified model alone, their difference."""
    rows = []
    for key, alone in unified.components.items():
        if not key.endswith(_ALONE):
            continue
        name = key.rsplit(".", 1)[-1].removesuffix(_ALONE)
        own = silo.components.get(f"{name}{_SILO_IM}")
        if own is None:
            continue
        rows.append({"silo_name": name, "silo": float(own.sum()), "unified": float(alone.sum()),
                     "change_of_model": float((own - alone).sum())})
    frame = pd.DataFrame(rows, columns=["silo_name", "silo", "unified", "change_of_model"])
    return frame.set_index("silo_name").rename_axis("silo")


def capital_freed(cmp: Comparison, book: Book, *, strategies: Sequence[str] | None = None,
                  strategy_source: str = "") -> CapitalFreed:
    """Return the capital freed of every account of ``cmp`` (computed on ``book``).

    Parameters
    ----------
    cmp : Comparison
        The arrangements on ``book``; the first is the silos.
    book : Book
        The book ``cmp`` was computed on (for the asset-class labels).
    strategies : sequence of str, optional, shape (n_accounts,)
        Each account's strategy label (its archetype in a generated population); when
        not given, what it holds (:func:`holding_labels`).
    strategy_source : str
        Where the given labels come from, for the report.

    Raises
    ------
    InputError
        When ``cmp`` was computed on another book, or the labels do not match it.
    """
    if cmp.account_ids != book.account_ids:
        raise InputError("the comparison was computed on another book", field="accounts",
                         value=book.source)
    labels = holding_labels(book) if strategies is None else np.asarray(strategies,
                                                                        dtype=object)
    if labels.shape != (book.n_accounts,):
        raise InputError("must give one strategy per account", field="strategy",
                         value=int(labels.size))
    silo = cmp.results[0]
    columns: dict[str, object] = {"asset_classes": asset_class_labels(book),
                                  "strategy": labels, "silo": silo.initial_margin}
    others = tuple(r.arrangement for r in cmp.results[1:])
    for r in cmp.results[1:]:
        columns[r.arrangement] = r.initial_margin
        columns[f"freed_{r.arrangement}"] = silo.initial_margin - r.initial_margin
    unified = _by_name(cmp, "unified")
    split = pd.DataFrame(columns=["silo", "unified", "change_of_model"]).rename_axis("silo")
    if unified is not None and OFFSET in unified.components:
        offset = unified.components[OFFSET]
        columns[OFFSET] = offset
        columns["change_of_model"] = silo.initial_margin - unified.initial_margin - offset
        split = _silo_split(silo, unified)
    accounts = pd.DataFrame(columns, index=pd.Index(book.account_ids, name="account"))
    source = DERIVED if strategies is None else strategy_source or "given"
    return CapitalFreed(currency=cmp.currency, arrangements=others, accounts=accounts,
                        silo_split=split, strategy_source=source)
