"""Reading YAML and JSON files: dates stay text, duplicate keys and bad syntax are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossmargin.core.errors import InputError
from crossmargin.core.yamlio import load_yaml, read_yaml


def test_dates_stay_text() -> None:
    assert load_yaml("as_of: 2018-06-29\nbad: 2018-13-01\n") == {
        "as_of": "2018-06-29", "bad": "2018-13-01"}


@pytest.mark.parametrize(("name", "text", "message"), [
    ("dup.yaml", "positions:\n  - {symbol: SPY, quantity: 1000, quantity: -1000}\n",
     "not valid YAML: found duplicate key 'quantity' (line 2, column 35)"),
    ("dup.yaml", "as_of: 2018-06-29\nas_of: 2018-07-02\n",
     "not valid YAML: found duplicate key 'as_of' (line 2, column 1)"),
    ("dup.json", '{"as_of": "2018-06-29", "as_of": "2018-07-02"}',
     "not valid JSON: duplicate key 'as_of'"),
    ("open.yaml", "as_of: [\n", "not valid YAML: expected the node content, but found "
     "'<stream end>' (line 2, column 1)"),
    ("open.json", '{"as_of": ', "not valid JSON: Expecting value: line 1 column 11 (char 10)"),
])
def test_bad_files_are_named_in_one_line(tmp_path: Path, name: str, text: str,
                                         message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match=None) as err:
        read_yaml(path, what="portfolio file")
    assert str(err.value) == f"{path}: {message}"


def test_keys_that_differ_by_type_are_not_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text("1: a\n'1': b\n")
    assert read_yaml(path, what="file") == {1: "a", "1": "b"}
