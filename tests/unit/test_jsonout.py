import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.core.errors import InputError
from crossmargin.core.jsonout import dumps_document, iter_document
from crossmargin.interfaces.cli.errors import write_atomically

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
                     st.floats(allow_nan=False, allow_infinity=False))
_values = st.recursive(_scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=4), kids, max_size=3)),
    max_leaves=12)


@given(st.dictionaries(st.text(max_size=6), _values, max_size=5))
def test_reads_back_to_the_document(doc: dict[str, object]) -> None:
    text = dumps_document(doc)
    assert text.endswith("\n")
    assert json.loads(text) == doc


def test_one_list_item_per_line() -> None:
    doc = {"as_of": "2018-06-29", "accounts": [{"account": "A", "m": [1, 2]},
                                               {"account": "B", "m": []}], "notes": []}
    lines = dumps_document(doc).splitlines()
    assert lines == ['{', '  "as_of": "2018-06-29",', '  "accounts": [',
                     '    {"account": "A", "m": [1, 2]},', '    {"account": "B", "m": []}',
                     '  ],', '  "notes": []', '}']


def test_iterators_are_written_as_lists_item_by_item() -> None:
    produced: list[int] = []

    def accounts():  # type: ignore[no-untyped-def]
        for k in range(3):
            produced.append(k)
            yield {"account": k}

    pieces = iter_document({"as_of": "2018-06-29", "accounts": accounts(),
                            "empty": iter(())})
    assert produced == []  # nothing is built before it is written
    text = "".join(pieces)
    assert json.loads(text) == {"as_of": "2018-06-29", "empty": [],
                                "accounts": [{"account": 0}, {"account": 1}, {"account": 2}]}
    assert text == dumps_document({"as_of": "2018-06-29", "accounts": [
        {"account": 0}, {"account": 1}, {"account": 2}], "empty": []})


def test_an_error_while_streaming_leaves_no_file(tmp_path: Path) -> None:
    def pieces():  # type: ignore[no-untyped-def]
        yield "{\n"
        raise ValueError("non-finite amount in a margin result")

    out = tmp_path / "margin.json"
    with pytest.raises(ValueError):
        write_atomically(out, pieces())
    assert list(tmp_path.iterdir()) == []


def test_output_paths_that_cannot_be_written_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    for out in (tmp_path, tmp_path / "file" / "margin.json", Path("")):
        with pytest.raises(InputError, match=r"^--out="):
            write_atomically(out, "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomically(tmp_path / "margin.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "margin.json").stat().st_mode & 0o777 == 0o640
