r"""Cover-1 and Cover-2: the stressed losses the largest defaulting members leave uncovered.

A clearing member's uncovered loss under a scenario is the sum of its accounts' uncovered
losses: one account's surplus collateral never covers another account's loss, as
customer collateral is segregated account by account. Cover-``n`` of a scenario is the
sum of the ``n`` largest member losses; the figure a clearing house must hold is the
largest Cover-``n`` over its scenarios.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from crossmargin.core.errors import InputError
from crossmargin.core.typing import FloatArray, IntArray

__all__ = ["CoverN", "cover_n", "member_index", "sum_rows"]


def member_index(members: Sequence[str], account_ids: Sequence[str]
                 ) -> tuple[tuple[str, ...], IntArray]:
    """Return the distinct clearing members (sorted) and each account's member row.

    Parameters
    ----------
    members : sequence of str, shape (n_accounts,) or ()
        Each account's clearing member; empty when the book names none, each account then
        being its own member.
    account_ids : sequence of str, shape (n_accounts,)
    """
    names = np.asarray(list(members) or list(account_ids), dtype=object)
    if names.size != len(account_ids):
        raise InputError("members must name one clearing member per account", field="member")
    unique, inverse = np.unique(names.astype(str), return_inverse=True)
    return tuple(str(m) for m in unique), inverse.astype(np.int64).ravel()


def sum_rows(values: FloatArray, *, into: IntArray, n_into: int) -> FloatArray:
    r"""Sum the rows of ``values`` into groups, column by column.

    Parameters
    ----------
    values : FloatArray, shape (n_rows, n_scenarios)
        E.g. each account's uncovered loss under each scenario.
    into : IntArray, shape (n_rows,)
        Group of each row (e.g. the account's clearing member).
    n_into : int
        Number of groups.

    Returns
    -------
    FloatArray, shape (n_into, n_scenarios)

    Notes
    -----
    :math:`U_{m,s} = \sum_{a : g(a) = m} U_{a,s}`: for members, no netting of one
    account's surplus against another's loss.
    """
    out = np.zeros((n_into, values.shape[1]))
    for s in range(values.shape[1]):
        out[:, s] = np.bincount(into, weights=values[:, s], minlength=n_into)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CoverN:
    r"""Cover-``n`` per scenario: the ``n`` members with the largest uncovered losses.

    Attributes
    ----------
    n : int
    amount : FloatArray, shape (n_scenarios,)
        Sum of the ``n`` largest member losses of each scenario.
    members : IntArray, shape (n_scenarios, n)
        Their member rows, largest first (ties: lower row first); -1 where fewer members.
    losses : FloatArray, shape (n_scenarios, n)
        Their uncovered losses (0 where ``members`` is -1).

    Notes
    -----
    With :math:`U_{(1),s} \ge U_{(2),s} \ge \dots` the member losses of scenario
    :math:`s`, :math:`\text{Cover-}n_s = \sum_{j \le n} U_{(j),s}` and the requirement is
    :math:`\max_s \text{Cover-}n_s`.

    References
    ----------
    .. [1] CPMI-IOSCO, Principles for financial market infrastructures (April 2012),
       principle 4, key consideration 4.
    """

    n: int
    amount: FloatArray
    members: IntArray
    losses: FloatArray

    @property
    def worst(self) -> int:
        """The scenario with the largest Cover-``n`` (the first one on ties)."""
        return int(np.argmax(self.amount))


def cover_n(member_uncovered: FloatArray, *, n: int) -> CoverN:
    """Return Cover-``n`` of every scenario.

    Parameters
    ----------
    member_uncovered : FloatArray, shape (n_members, n_scenarios)
        Uncovered loss of each member under each scenario (non-negative).
    n : int
        Number of defaulting members (1 or 2 in the PFMI).
    """
    if isinstance(n, bool) or n < 1:
        raise InputError("must be a positive integer", field="n", value=n)
    losses = np.asarray(member_uncovered, dtype=np.float64)
    n_scen = losses.shape[1]
    order = np.argsort(-losses, axis=0, kind="stable")[:n].T  # (n_scen, <= n)
    top = np.take_along_axis(losses.T, order, axis=1)
    members = np.full((n_scen, n), -1, dtype=np.int64)
    picked = np.zeros((n_scen, n))
    members[:, :order.shape[1]] = order
    picked[:, :order.shape[1]] = top
    return CoverN(n=n, amount=picked.sum(axis=1), members=members, losses=picked)
