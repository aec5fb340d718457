"""The fast indented JSON writer is `json.dumps(indent=2, ensure_ascii=False)`, byte for byte.

`dumps_indented` lays a document out as tokens for the C encoder: the document's own scalars
between layout tokens, with every string's JSON text kept in one table per document. The tests
aim at what that could get wrong: a string of the document that holds a layout token's
characters, a key of one type taken for an equal key of another (1, 1.0, True; a str subclass
that compares equal to other characters), subclasses, empty containers, floats and depth.
"""

from __future__ import annotations

import collections
import enum
import json
import math
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ic_audit.render.json_text import dumps_indented
from tests.conftest import DEMO, REAL_BANK


def _reference(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


class _Level(enum.IntEnum):
    high = 3


class _Name(str, enum.Enum):
    a = "a\u2028\ud800\x00"


class _Folded(str):
    """Equal to any text with the same letters in another case: a key that a cache keyed by
    text would take for another."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.casefold() == other.casefold()

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.casefold())


class _Ratio(float):
    def __repr__(self) -> str:
        return "not how json writes it"


class _Count(int):
    def __repr__(self) -> str:
        return "not how json writes it"


class _Items(list[Any]):
    pass


class _Map(dict[Any, Any]):
    pass


_Point = collections.namedtuple("_Point", "x y")

# The texts of the layout around the first few depths, and near misses: a string holding one of
# these must still be written as a string.
_LAYOUT_LIKE = [
    f"{lead}{pad}{tail}"
    for lead in (",\n", "{\n", "[\n", "\n")
    for pad in ("", "  ", "    ", "      ")
    for tail in ("", "}", "]", '"a": ', '"1": ', '"true": ')
]

_text = st.text(st.characters(exclude_categories=()), max_size=8) | st.sampled_from(_LAYOUT_LIKE)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([0, 1, -1, 2**70, -(2**64)])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0.0, -0.0, 1.0, 0.1, 1e16, 1e-7, math.inf, -math.inf, math.nan])
    | _text
    | st.sampled_from([_Level.high, _Name.a, _Folded("A"), _Ratio(0.5), _Count(7)])
    | st.sampled_from([{}, [], (), OrderedDict(), _Items(), _Map()])
)
_keys = (
    _text
    | st.sampled_from(["a", "A", "1", "true", "null", "NaN", _Folded("a"), _Name.a])
    | st.integers(-2, 2)
    | st.booleans()
    | st.none()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1.0, -0.0, 0.0, _Level.high, _Count(1), _Ratio(1.0)])
)
_documents = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(_keys, inner, max_size=5)
        | st.builds(OrderedDict, st.dictionaries(_keys, inner, max_size=3))
        | st.builds(_Items, st.lists(inner, max_size=3))
        | st.builds(_Map, st.dictionaries(_keys, inner, max_size=3))
        | st.builds(_Point, inner, inner)
    ),
    max_leaves=60,
)


@settings(max_examples=600, deadline=None)
@given(_documents)
def test_same_text_as_json_dumps(data: Any) -> None:
    assert dumps_indented(data) == _reference(data)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(_text, _scalars, max_size=4), min_size=1, max_size=4), _text)
def test_same_text_at_depth(rows: list[dict[str, Any]], name: str) -> None:
    # Deeply nested rows, the same key and the same strings at several depths.
    data: Any = rows
    for _ in range(7):
        data = {name: data, "rows": rows, "n": len(rows)}
    assert dumps_indented(data) == _reference(data)


@pytest.mark.parametrize(
    "data",
    [
        {},
        [],
        (),
        {"a": {}, "b": [], "c": [[]], "d": [{}], "e": ((),), "f": [[], {}, ()]},
        {"x": [1, 2.5, -0.0, 0.0, 1e-07, 1e16, 2**70, math.inf, -math.inf, math.nan]},
        {"text": 'é \u2028 \ud800 \x1f " \\ </script>', 1: 1, 2.5: 2, None: 4, -0.0: 5},
        {True: 3, False: [0.5], math.nan: 1, math.inf: 2, -math.inf: [3]},
        {"level": _Level.high, "name": _Name.a, "ordered": OrderedDict([("z", [1, {"y": 2}])])},
        {_Level.high: "int subclass key", _Name.a: "str subclass key", _Count(5): [_Count(6)]},
        {"ratio": _Ratio(0.25), "count": _Count(4), _Ratio(0.5): [_Ratio(1.5)]},
        [_Items([1, [2]]), _Map({"a": _Map()}), _Point(1, [2]), _Point((), {})],
        # A key seen before, as a key of another type, and as a value.
        [{"a": "a", "1": 1, 1: "1"}, {"a": {"a": "a"}, True: "true", "true": True}, "a"],
        [{1: "int"}, {1.0: "float"}, {True: "bool"}, {"1": "str"}],
        # Keys that equal other keys without having their characters (in one dict they would be
        # one key).
        [{"a": 1}, {_Folded("A"): 2}, {"b": {"c": 3}}, {_Folded("B"): {_Folded("C"): 4}}],
        [{_Folded("A"): 1}, {"a": 2}, {_Folded("a"): [_Folded("B"), "b"]}],
        # Strings that hold the layout's own text, at the depth where it is used.
        {"a": ",\n  ", "b": ["[\n    ", "\n  ]", ",\n    "], "c": {"d": "\n    }", "e": '"a": '}},
        [",\n  ", "[\n  ", "\n]", [",\n    ", "\n  ]"], {",\n    ": ",\n    "}],
        "top",
        "",
        1.5,
        math.nan,
        None,
        True,
        _Name.a,
        ("t", (1, 2)),
        [[[[[[[[[["deep"]]]]]]]]]],
    ],
)
def test_edge_cases_and_subclasses(data: Any) -> None:
    assert dumps_indented(data) == _reference(data)


def test_the_scored_demo_audit() -> None:
    # The document `score --format json` writes, for one audit and for a batch.
    from ic_audit.answers import load_audit
    from ic_audit.bank import load_bank
    from ic_audit.scoring import score_audit

    bank = load_bank(REAL_BANK)
    data = score_audit(bank, load_audit(Path(DEMO), bank, None)).to_data()
    assert dumps_indented(data) == _reference(data)
    assert dumps_indented([data, data, data]) == _reference([data, data, data])


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="json.dumps indents in C from 3.13")
def test_plain_data_never_reaches_the_slow_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only subclasses and refused types go through json.dumps: the scored audits never do.
    data = {"a": [1, 2.5, None, True, "é", {}, [], ()], "b": {"c": [{"d": math.inf}]}, 1: "x"}
    expected = _reference(data)

    def slow(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("json.dumps called")

    monkeypatch.setattr(json, "dumps", slow)
    assert dumps_indented(data) == expected


def test_what_json_refuses_is_refused() -> None:
    with pytest.raises(TypeError):
        dumps_indented({"a": {1, 2}})
    with pytest.raises(TypeError):
        dumps_indented([1, [object()]])
    with pytest.raises(TypeError):
        dumps_indented({(1, 2): "tuple key"})
    with pytest.raises(TypeError):
        dumps_indented({"a": _Map({(1, 2): "tuple key"})})
    with pytest.raises(TypeError):
        dumps_indented({1, 2})
