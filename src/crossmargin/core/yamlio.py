"""YAML loading that leaves dates as text, so the engine validates them itself."""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["load_yaml"]


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
