import json

from hypothesis import given
from hypothesis import strategies as st

from crossmargin.core.jsonout import dumps_document

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
