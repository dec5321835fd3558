import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
