"""JSON documents written fast at any size, one list item per line.

``json.dumps(doc, indent=2)`` runs the pure-Python encoder (the C encoder serves only
compact output), which for a million-account document takes minutes. A document here is
written with its top-level keys one per line and each item of a top-level list (an
account, a scenario) on a line of its own, every piece through the C encoder: as easy
to read and to ``grep``, and as fast as compact JSON. A top-level value may also be an
iterator, written as a list item by item, so a document need never be held whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any

__all__ = ["dumps_document", "iter_document"]


def iter_document(doc: Mapping[str, Any]) -> Iterator[str]:
    """Yield ``doc`` as JSON text in pieces, one list item per line, ending in a newline.

    Parameters
    ----------
    doc : mapping
        A JSON-ready document (str keys; values that :func:`json.dumps` accepts, or
        iterators of such values, written as lists).

    Yields
    ------
    str
        Pieces whose concatenation :func:`json.loads` reads back to ``doc`` (with each
        iterator as the list of its items).
    """
    yield "{"
    for k, (key, value) in enumerate(doc.items()):
        name = json.dumps(str(key))
        yield f"{',' if k else ''}\n  {name}: "
        items = iter(value) if isinstance(value, list | Iterator) else None
        first = next(items, _END) if items is not None else _END
        if first is _END:
            yield "[]" if items is not None else json.dumps(value)
            continue
        yield "["
        for j, item in enumerate(chain([first], items or ())):
            yield f"{',' if j else ''}\n    {json.dumps(item)}"
        yield "\n  ]"
    yield "\n}\n" if doc else "}\n"


def dumps_document(doc: Mapping[str, Any]) -> str:
    """Return ``doc`` as JSON text ending in a newline, one list item per line.

    See :func:`iter_document`.
    """
    return "".join(iter_document(doc))


_END = object()
