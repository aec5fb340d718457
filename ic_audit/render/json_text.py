"""JSON text with two-space indents: ``json.dumps(data, indent=2, ensure_ascii=False)``, faster.

The standard library encodes an indented document with its pure-Python encoder (its C encoder
takes no indent before Python 3.13), a generator per container: in `score --format json` over a
batch that was most of the cost of each file. `dumps_indented` writes the same text, byte for
byte, in one recursive pass that still encodes every string with the C string encoder.
tests/test_json_text.py holds it to `json.dumps` on generated documents.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

_INFINITY = float("inf")


def _float(value: float) -> str:
    # What json.dumps writes for a float (allow_nan is its default: True).
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return encode_basestring(key)
    # json.dumps turns these keys into text; any other key is a TypeError there too.
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return '"' + int.__repr__(key) + '"'
    if isinstance(key, float):
        return '"' + _float(key) + '"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _write(value: Any, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            out.append(separator)
            out.append(_key(key))
            out.append(": ")
            _write(item, inner, out)
            separator = "," + inner
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _write(item, inner, out)
            separator = "," + inner
        out.append(newline + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float:
        out.append(_float(value))
    else:
        # Subclasses (an IntEnum, a str Enum, an OrderedDict) and anything json.dumps refuses:
        # exactly what it writes, or its TypeError.
        out.append(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", newline))


def dumps_indented(data: Any) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)``, byte for byte."""
    out: list[str] = []
    _write(data, "\n", out)
    return "".join(out)
