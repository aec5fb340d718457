"""JSON text with two-space indents: ``json.dumps(data, indent=2, ensure_ascii=False)``, faster.

The standard library encodes an indented document with its pure-Python encoder (its C encoder
takes no indent before Python 3.13), a generator per container: in `score --format json` over a
batch that was most of the cost of each file. `dumps_indented` writes the same text, byte for
byte, in one recursive pass that still encodes every string with the C string encoder: one
string per item, one join per container, and each key encoded once per document.
tests/test_json_text.py holds it to `json.dumps` on generated documents. From Python 3.13 the C
encoder indents and `json.dumps` is the faster of the two, so it writes the document there.

`score`/`report --format json` do not come here: pydantic writes each result
(`AuditResult.json_text`). Measured and dropped: handing containers that hold only scalars to a
C encoder per depth (finding and splicing them cost what it saved), and laying the whole document
out as tokens for one C encoder call (25% faster on a batch, no faster for one document, much
more code).
"""

from __future__ import annotations

import json
import sys
from json.encoder import encode_basestring
from typing import Any

_INFINITY = float("inf")
# From 3.13 json.dumps indents with its C encoder (0.45 ms a demo audit there, this writer 0.9).
_INDENTS_IN_C = sys.version_info >= (3, 13)


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


def _scalar(value: Any, newline: str) -> str:
    """Anything but text and a non-empty container, as json.dumps writes it."""
    kind = type(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        return _float(value)
    if kind is str:
        return encode_basestring(value)
    if (kind is dict or kind is list or kind is tuple) and not value:
        return "{}" if kind is dict else "[]"
    # Subclasses (an IntEnum, a str Enum, an OrderedDict) and anything json.dumps refuses:
    # exactly what it writes, or its TypeError.
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", newline)


def _write(
    value: dict[Any, Any] | list[Any] | tuple[Any, ...], newline: str, keys: dict[str, str]
) -> str:
    """A non-empty dict, list or tuple whose closing bracket goes after ``newline``.

    Each item becomes one string and the container one join: a list append per item, not per
    token, and no call for an item that is text. ``keys`` holds each text key encoded with its
    ": ", as a document repeats a few keys many times.
    """
    inner = newline + "  "
    parts: list[str] = []
    append = parts.append
    if type(value) is dict:
        for key, item in value.items():
            head = keys.get(key) if type(key) is str else None
            if head is None:
                head = _key(key) + ": "
                if type(key) is str:
                    keys[key] = head
            kind = type(item)
            if kind is str:
                append(head + encode_basestring(item))
            elif (kind is dict or kind is list or kind is tuple) and item:
                append(head + _write(item, inner, keys))
            else:
                append(head + _scalar(item, inner))
        return "{" + inner + ("," + inner).join(parts) + newline + "}"
    for item in value:
        kind = type(item)
        if kind is str:
            append(encode_basestring(item))
        elif (kind is dict or kind is list or kind is tuple) and item:
            append(_write(item, inner, keys))
        else:
            append(_scalar(item, inner))
    return "[" + inner + ("," + inner).join(parts) + newline + "]"


def dumps_indented(data: Any) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)``, byte for byte."""
    if _INDENTS_IN_C:
        return json.dumps(data, indent=2, ensure_ascii=False)
    kind = type(data)
    if (kind is dict or kind is list or kind is tuple) and data:
        return _write(data, "\n", {})
    return _scalar(data, "\n")
