"""The fast indented JSON writer is `json.dumps(indent=2, ensure_ascii=False)`, byte for byte."""

from __future__ import annotations

import enum
import json
import math
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ic_audit.render.json_text import dumps_indented

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
_keys = st.text() | st.integers() | st.booleans() | st.none() | st.floats()
_documents = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(_keys, inner, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(_documents)
def test_same_text_as_json_dumps(data: Any) -> None:
    assert dumps_indented(data) == json.dumps(data, indent=2, ensure_ascii=False)


class _Level(enum.IntEnum):
    high = 3


class _Name(str, enum.Enum):
    a = "a\u2028\ud800\x00"


@pytest.mark.parametrize(
    "data",
    [
        {},
        [],
        {"a": {}, "b": [], "c": [[]], "d": [{}]},
        {"x": [1, 2.5, -0.0, 1e-07, 1e16, math.inf, -math.inf, math.nan]},
        {"text": 'é \u2028 \ud800 \x1f " \\ </script>', 1: 1, 2.5: 2, None: 4},
        {True: 3, False: [0.5]},
        {"level": _Level.high, "name": _Name.a, "ordered": OrderedDict([("z", [1, {"y": 2}])])},
        # A key seen before, as a key of another type, and as a value: encoded keys are kept.
        [{"a": "a", "1": 1, 1: "1"}, {"a": {"a": "a"}, True: "true", "true": True}, "a"],
        "top",
        1.5,
        None,
        [[], {}, ()],
        ("t", (1, 2)),
    ],
)
def test_edge_cases_and_subclasses(data: Any) -> None:
    assert dumps_indented(data) == json.dumps(data, indent=2, ensure_ascii=False)


def test_what_json_refuses_is_refused() -> None:
    with pytest.raises(TypeError):
        dumps_indented({"a": {1, 2}})
    with pytest.raises(TypeError):
        dumps_indented({(1, 2): "tuple key"})
