"""YAML loading that leaves dates as text, so the engine validates them itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from crossmargin.core.errors import InputError

__all__ = ["load_yaml", "read_yaml"]


class _TextDateLoader(yaml.SafeLoader):
    """A safe loader without the implicit timestamp type (dates stay strings)."""


_TextDateLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Parse YAML safely; ``2018-13-01`` stays the text ``"2018-13-01"``.

    Raises
    ------
    yaml.YAMLError
        On malformed YAML.
    """
    return yaml.load(text, Loader=_TextDateLoader)


def read_yaml(path: Path, *, what: str) -> Any:
    """Read and parse the YAML file ``path`` (dates stay text).

    Parameters
    ----------
    path : Path
    what : str
        What the file is, for the message (``"scenario file"``).

    Raises
    ------
    InputError
        The file cannot be read or is not valid YAML; one line naming the file.
    """
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except OSError:
        raise InputError(f"cannot read {what}", source=str(path)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {str(exc).splitlines()[0]}",
                         source=str(path)) from None
