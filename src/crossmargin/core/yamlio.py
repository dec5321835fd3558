"""YAML (and JSON) loading that leaves dates as text, so the engine validates them itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from crossmargin.core.errors import InputError

__all__ = ["load_yaml", "read_yaml"]


class _TextDateLoader(yaml.SafeLoader):
    """A safe loader without the implicit timestamp type (dates stay strings).

    A mapping that gives a key twice is an error: YAML 1.2 requires keys to be unique,
    and taking the last one silently could flip a position's sign.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: reported by the base class
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found duplicate key {key!r}", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


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


class _DuplicateKeyError(ValueError):
    """A JSON object gives a key twice."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, refusing a key given twice."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(f"duplicate key {key!r}")
        out[key] = value
    return out


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
        return json.loads(text, object_pairs_hook=_unique_keys) if is_json else \
            load_yaml(text)
    except OSError:
        raise InputError(f"cannot read {what}", source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at offset "
                         f"{exc.start}", source=str(path)) from None
    except RecursionError:
        raise InputError(f"not a {what}: nested too deeply", source=str(path)) from None
    except (yaml.YAMLError, json.JSONDecodeError, _DuplicateKeyError) as exc:
        raise InputError(f"not valid {'JSON' if is_json else 'YAML'}: {_problem(exc)}",
                         source=str(path)) from None


def _problem(exc: Exception) -> str:
    """Return a parse error in one line: the problem and where it was found."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return f"{exc.problem}{where}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
