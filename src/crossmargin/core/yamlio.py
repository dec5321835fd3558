"""YAML (and JSON) loading that leaves dates as text, so the engine validates them itself."""

from __future__ import annotations

import json
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
    """Read and parse a YAML file, or a JSON file by its ``.json`` suffix (dates stay text).

    Parameters
    ----------
    path : Path
    what : str
        What the file is, for the message (``"scenario file"``).

    Raises
    ------
    InputError
        The file cannot be read or does not parse; one line naming the file.
    """
    is_json = path.suffix.lower() == ".json"
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if is_json else load_yaml(text)
    except OSError:
        raise InputError(f"cannot read {what}", source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at offset "
                         f"{exc.start}", source=str(path)) from None
    except RecursionError:
        raise InputError(f"not a {what}: nested too deeply", source=str(path)) from None
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"not valid {'JSON' if is_json else 'YAML'}: {first}",
                         source=str(path)) from None
