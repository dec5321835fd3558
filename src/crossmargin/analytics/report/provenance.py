"""Where every number of the report comes from: parameter sets and market data.

The report lists each parameter set its computations used (id, version, effective date
and the document its numbers cite) and the bundled market series with their source
package, licence and coverage, so a reader can trace any figure back to its inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from crossmargin.market.history import series_info
from crossmargin.params.loader import ParamSet, load_params

__all__ = ["Provenance", "arrangement_parameter_ids", "provenance"]

#: Columns of the series table, in the order the page shows them.
SERIES_COLUMNS = ("kind", "unit", "first_date", "last_date", "derived", "source_package",
                  "licence")
#: Where the bundled history documents its sources and checks (inside the package).
HISTORY_PROVENANCE = "crossmargin/market/data/PROVENANCE.md"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Provenance:
    """The parameter sets and data behind a report.

    Attributes
    ----------
    params : DataFrame
        Indexed by parameter-set id: ``version``, ``effective``, ``source``.
    series : DataFrame
        Indexed by series id: the columns of ``SERIES_COLUMNS``.
    notes : tuple of str
        Caveats the computations returned (stale data, proxies, assumptions), once each.
    """

    params: pd.DataFrame
    series: pd.DataFrame
    notes: tuple[str, ...]

    @property
    def param_sets(self) -> int:
        """Number of parameter sets listed."""
        return len(self.params)


def _names(value: Any) -> list[str]:
    """Return the names in a parameter value: a name, a list or a mapping's values."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [str(v) for v in value.values()]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


def arrangement_parameter_ids(params: ParamSet) -> list[str]:
    """Return the ids of the parameter sets the arrangements use (theirs first).

    Reads the silos' methods, routes and haircut schedules, the pool's schedules, the
    unified model and the conservative rule's models from the arrangements' file.
    """
    p = params.parameters
    ids = [params.id]
    for spec in dict(p.get("silos", {})).values():
        spec = dict(spec)
        ids += [*_names(spec.get("method")), *_names(spec.get("routes", {})),
                *_names(spec.get("schedule"))]
    pool = dict(p.get("pool", {}))
    ids += [*_names(pool.get("schedules", {})), *_names(pool.get("default_schedule"))]
    ids += _names(dict(p.get("unified", {})).get("method"))
    ids += _names(dict(p.get("conservative", {})).get("models", []))
    return list(dict.fromkeys(ids))


def provenance(*, param_ids: Iterable[str], notes: Iterable[str]) -> Provenance:
    """Return the provenance of a report.

    Each parameter set's latest bundled version (the version the methods load by
    default), the bundled series, and the notes sorted and once each.
    """
    sets = [load_params(i) for i in dict.fromkeys(param_ids)]
    params = pd.DataFrame(
        {"version": [s.version for s in sets],
         "effective": [s.effective.isoformat() for s in sets],
         "source": [s.source for s in sets]},
        index=pd.Index([s.id for s in sets], name="id"))
    series = series_info().loc[:, list(SERIES_COLUMNS)]
    for col in ("first_date", "last_date"):
        series[col] = series[col].dt.strftime("%Y-%m-%d")
    return Provenance(params=params, series=series, notes=tuple(sorted(set(notes))))
