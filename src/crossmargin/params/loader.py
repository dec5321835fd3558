"""Versioned parameter files: every methodology's numbers live in data, with a source.

A parameter file is YAML::

    id: grid                 # the methodology it parametrises
    version: "2026.11-1"
    effective: 2026-11-23
    source: "...the document, section and date the numbers come from..."
    parameters: {...}        # the methodology's keyword arguments

Files live in ``params/data/<id>/<version>.yaml``; a user may pass any file by path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Any

from crossmargin.core.errors import InputError
from crossmargin.core.values import parse_date
from crossmargin.core.yamlio import read_yaml

__all__ = ["ParamSet", "available_versions", "load_params"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ParamSet:
    """One version of a methodology's parameters, with where the numbers come from."""

    id: str
    version: str
    effective: date
    source: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    path: str = ""

    def info(self) -> dict[str, str]:
        """Return ``{"id", "version", "source"}`` for results and JSON output."""
        return {"id": self.id, "version": self.version, "source": self.source}


def _directory(method: str) -> Path:
    return Path(str(files("crossmargin.params") / "data" / method))


def available_versions(method: str) -> list[str]:
    """Return the bundled versions of ``method``'s parameters, oldest first."""
    folder = _directory(method)
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_params(method: str, *, version: str | None = None, path: str | Path | None = None
                ) -> ParamSet:
    """Load a parameter set: a bundled version (latest by default) or a file by path.

    Raises
    ------
    InputError
        Unknown method or version, or a file missing ``id``, ``version``, ``effective``,
        ``source`` or ``parameters``, or written for another method.
    """
    if path is None:
        versions = available_versions(method)
        if not versions:
            raise InputError("no parameter files for this method", field="method",
                             value=method)
        chosen = version or versions[-1]
        if chosen not in versions:
            raise InputError(f"unknown version (bundled: {', '.join(versions)})",
                             field="version", value=chosen)
        path = _directory(method) / f"{chosen}.yaml"
    path = Path(path)
    source = str(path)
    raw = read_yaml(path, what="parameter file")
    if not isinstance(raw, Mapping):
        raise InputError("a parameter file is a mapping", source=source)
    for key in ("id", "version", "effective", "source", "parameters"):
        if key not in raw:
            raise InputError("is required", source=source, field=key)
    if raw["id"] != method:
        raise InputError(f"is a parameter file for another method, not {method}",
                         source=source, field="id", value=raw["id"])
    if not isinstance(raw["parameters"], Mapping):
        raise InputError("must be a mapping", source=source, field="parameters")
    return ParamSet(
        id=str(raw["id"]),
        version=str(raw["version"]),
        effective=parse_date(raw["effective"], field="effective"),
        source=" ".join(str(raw["source"]).split()),
        parameters=MappingProxyType(dict(raw["parameters"])),
        path=source,
    )
