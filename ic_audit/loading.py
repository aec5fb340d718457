"""Reading user files (YAML or JSON) into plain data with a line for every key, safely.

Every file a user hands us is untrusted. This module owns the rules that keep reading it
bounded and honest:

- YAML is read from libyaml's flat event stream, never the recursive composer: a deeply nested
  document makes the C composer crash the interpreter, and the event stream lets us stop at
  ``MAX_DEPTH`` before any real work is done. Our limit is the one a user meets, whatever
  PyYAML release is installed: see `_parser_for`.
- Tags never construct objects: only the YAML core types (str, int, float, bool, null,
  timestamp) are built; any other tag is an error.
- Aliases are resolved by sharing, and every alias charges the size of what it points to, so an
  alias bomb hits ``MAX_NODES`` instead of exhausting memory.
- A key written twice in one mapping is an error, never a silent last-one-wins.
- Text holds only characters every output can carry (`refused_character`): a string of any
  file read that holds a lone surrogate, a noncharacter or a control character is refused.
- Numbers are read the way people write them: a plain scalar that YAML 1.1 would read as a
  base-60, hexadecimal, octal or binary number, or one with `_` between digits, stays text,
  so the check that wants a number refuses it with a hint instead of scoring 1:30 as 90.
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ic_audit.errors import Problem, UserError
from ic_audit.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

Path_ = tuple[str | int, ...]

_CORE_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
# A number as people write it: decimal digits, a point, an exponent; and YAML's .inf/.nan
# (read as numbers so the checks that need finite numbers can name them).
_PLAIN_NUMBER = re.compile(
    r"[-+]?(?:0|[1-9][0-9]*)|[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_MISSING = object()


@dataclass
class Document:
    """A parsed file: its data, and the 1-based line where each key or list item starts."""

    name: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    raw: bytes = b""
    # Problems found while reading that did not stop it (a key written twice: the first is
    # kept), reported together with whatever the checks after it find.
    problems: list[Problem] = field(default_factory=list)

    def line(self, path: Path_) -> int | None:
        """The line of ``path``, or of its nearest located ancestor."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def read_bytes(path: Path, display: str | None = None) -> bytes:
    """Read a user's file, turning every way it can be unreadable into one clear line.

    Only a regular file is read: a FIFO, a device or a socket could block forever (or never
    end), so it is refused before it is opened, and again after, on the open descriptor, in
    case it was swapped in between (opening with O_NONBLOCK so that open cannot block).
    """
    name = display or str(path)
    try:
        _regular_file(os.stat(path).st_mode, name)
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
        with open(fd, "rb") as fh:
            st = os.fstat(fd)
            _regular_file(st.st_mode, name)
            if st.st_size > MAX_FILE_BYTES:
                raise UserError.one(
                    name,
                    f"is {st.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,} "
                    "(is this the right file?)",
                )
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise UserError.one(name, "no such file; check the path") from None
    except PermissionError:
        raise UserError.one(name, "permission denied; check the file's permissions") from None
    except IsADirectoryError:
        raise UserError.one(name, "is a directory; give the path of a file") from None
    except OSError as exc:
        raise UserError.one(name, f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise UserError.one(name, f"is larger than the limit of {MAX_FILE_BYTES:,} bytes")
    return data


def _regular_file(mode: int, name: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise UserError.one(name, "is a directory; give the path of a file")
    kind = (
        "a named pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "something other than a file"
    )
    raise UserError.one(name, f"is {kind}, not a regular file; give the path of a file")


def decode_text(data: bytes, name: str) -> str:
    if b"\x00" in data:
        raise UserError.one(name, "is a binary file, not YAML or JSON text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError.one(name, "is not valid UTF-8 text; save it as UTF-8", line=line) from None
    return text.removeprefix("\ufeff")


# What no string from a user's file may hold: C0 and C1 control characters but tab, newline and
# carriage return (they drive terminals and CI logs, and XML 1.0 forbids most), lone surrogates
# (not encodable as UTF-8) and the Unicode noncharacters (not allowed in XML; U+FFFE/U+FFFF
# break JUnit readers).
_REFUSED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(
        f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17)
    )
    + "]"
)
_LINE_BREAKS = re.compile("[\t\n\r\x85\u2028\u2029]")


def refused_character(text: str) -> str | None:
    """The first character of ``text`` a file may not hold, described, or None."""
    found = _REFUSED.search(text)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        kind = "a lone surrogate"
    elif code >= 0xFDD0 and (code <= 0xFDEF or code & 0xFFFE == 0xFFFE):
        kind = "a Unicode noncharacter"
    else:
        kind = "a control character"
    return f"U+{code:04X} ({kind})"


def check_text(text: str) -> str:
    """``text`` if a file may hold it; else ValueError with the user's message (for validators)."""
    bad = refused_character(text)
    if bad is not None:
        raise ValueError(f"holds {bad}; remove it")
    return text


def check_line(text: str) -> str:
    """`check_text` for ids and versions, which are also one line."""
    check_text(text)
    if _LINE_BREAKS.search(text):
        raise ValueError("must be one line; remove the line break or tab")
    return text


def _escaped(text: str) -> str:
    return _REFUSED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _refuse_bad_text(doc: Document) -> None:
    """Report every string value holding a refused character, with its line.

    The string is replaced by an escaped copy, so the checks that run after this one (and the
    messages they print) see only clean text and do not report it a second time; the file is
    refused either way.
    """
    data = doc.data
    before = len(doc.problems)
    stack: list[tuple[Any, Path_]] = [(data, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            # Keys are not checked here: every key of every file we read must be one we know
            # (a field or a question id), so a key holding such a character is refused anyway,
            # by the check that knows what it should have been.
            for key, value in item.items():
                if isinstance(value, str):
                    if _REFUSED.search(value):
                        _text_problem(doc, (*path, key), value)
                        item[key] = _escaped(value)
                elif isinstance(value, (dict, list)):
                    stack.append((value, (*path, key)))
        elif isinstance(item, list):
            for i, value in enumerate(item):
                if isinstance(value, str):
                    if _REFUSED.search(value):
                        _text_problem(doc, (*path, i), value)
                        item[i] = _escaped(value)
                elif isinstance(value, (dict, list)):
                    stack.append((value, (*path, i)))
    if isinstance(data, str) and _REFUSED.search(data):
        _text_problem(doc, (), data)
        doc.data = _escaped(data)
    found = doc.problems[before:]
    found.sort(key=lambda p: p.line or 0)  # the walk above is depth-first, from the end
    doc.problems[before:] = found


def _text_problem(doc: Document, path: Path_, text: str) -> None:
    qid: str | None = None
    named = path
    if len(path) >= 2 and path[0] == "answers" and isinstance(path[1], str):
        qid = _escaped(path[1])  # an answers file: the question the text belongs to
        named = path[2:]
    elif len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
        items = doc.data.get("questions") if isinstance(doc.data, dict) else None
        if isinstance(items, list) and path[1] < len(items) and isinstance(items[path[1]], dict):
            found = items[path[1]].get("id")  # a bank's section file: the question's id
            qid = found if isinstance(found, str) else None
    field = ""
    for part in named:
        field += f"[{part}]" if isinstance(part, int) else ("." if field else "") + _escaped(part)
    where = f"{field}: " if field else ""
    doc.problems.append(
        Problem(
            doc.name,
            f"{where}holds {refused_character(text)}, which cannot be stored or shown as text; "
            "remove it",
            doc.line(path),
            qid,
        )
    )


def load_document(path: Path, display: str | None = None) -> Document:
    """Load a YAML or JSON file (chosen by its suffix) with line numbers."""
    name = display or str(path)
    return parse_document(read_bytes(path, name), path, name)


def parse_document(raw: bytes, path: Path, name: str) -> Document:
    """`load_document` for bytes already read from ``path``."""
    text = decode_text(raw, name)
    if not text.strip():
        raise UserError.one(name, "is empty; see `ic-audit init` for a template")
    is_json = path.suffix.lower() == ".json"
    doc = parse_json(text, name) if is_json else parse_yaml(text, name)
    doc.raw = raw
    _refuse_bad_text(doc)
    return doc


def parse_json(text: str, name: str) -> Document:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise _DuplicateKey(key)
            out[key] = value
        return out

    def no_constants(token: str) -> Any:
        raise ValueError(f"{token} is not a number JSON allows")

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=no_constants)
    except _DuplicateKey as exc:
        raise UserError.one(
            name,
            f"key {exc.key!r} appears twice in one object; keep one",
            line=_json_key_line(text, exc.key),
        ) from None
    except json.JSONDecodeError as exc:
        raise UserError.one(name, f"is not valid JSON: {exc.msg}", line=exc.lineno) from None
    except ValueError as exc:
        raise UserError.one(name, f"is not valid JSON: {exc}") from None
    except RecursionError:
        raise UserError.one(name, f"is nested more than {MAX_DEPTH} levels deep") from None
    if _depth(data) > MAX_DEPTH:
        raise UserError.one(name, f"is nested more than {MAX_DEPTH} levels deep")
    return Document(name, data, _json_lines(text, data))


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _depth(value: Any) -> int:
    # Iterative so a hostile document cannot exhaust the stack here either.
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def _json_key_line(text: str, key: str) -> int | None:
    needle = json.dumps(key)
    pos = text.find(needle)
    return None if pos < 0 else text.count("\n", 0, pos) + 1


def _json_lines(text: str, data: Any) -> dict[Path_, int]:
    """Best-effort key lines for JSON: the first and second level of the top object.

    That is where answer ids live, which is what error messages and SARIF need.
    """
    lines: dict[Path_, int] = {(): 1}
    if not isinstance(data, dict):
        return lines
    cursor = 0
    for key, value in data.items():
        pos = text.find(json.dumps(key), cursor)
        if pos < 0:
            continue
        lines[(key,)] = text.count("\n", 0, pos) + 1
        cursor = pos
        if isinstance(value, dict):
            inner = cursor
            for sub in value:
                spos = text.find(json.dumps(sub), inner)
                if spos < 0:
                    continue
                lines[(key, sub)] = text.count("\n", 0, spos) + 1
                inner = spos
    return lines


# Flow collections opened one after another ("[[[[", "{ [ {"): how many in a row make a file
# worth reading with the pure-Python parser (see `_parser_for`).
_FLOW_RUN = re.compile(r"[\[{](?:\s*[\[{]){31}")


def _parser_for(text: str) -> Any:
    """The event parser for ``text``: libyaml's, unless it could stop before our depth check.

    libyaml (as bundled from PyYAML 6.0.4) has its own nesting limit, and its scanner reads up
    to 1024 characters ahead of the events it has handed out while it looks for a `key:`: a
    line of a thousand "[" fails inside the scanner with libyaml's wording before our loop has
    seen 50 levels. Reaching that limit within the look-ahead takes a long run of flow
    collection starts with at most a few other characters between them, so such a run of 32
    sends the file to the pure-Python parser, which has no limit of its own: `_build` then
    stops it at ``MAX_DEPTH`` with our message on every PyYAML release. A run that is only
    text (in quotes, or inside a plain scalar) still parses as it would have; it only costs
    the slower parser.
    """
    import yaml

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if loader_cls is not yaml.SafeLoader and _FLOW_RUN.search(text):
        loader_cls = yaml.SafeLoader
    return loader_cls(text)


def parse_yaml(text: str, name: str) -> Document:
    import yaml

    try:
        return _build(_parser_for(text), name)
    except UserError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "syntax error"
        raise UserError.one(name, f"is not valid YAML: {what}", line=line) from None
    except yaml.YAMLError as exc:
        raise UserError.one(name, f"is not valid YAML: {exc}") from None


class _Frame:
    """A mapping or sequence under construction."""

    __slots__ = (
        "anchor",
        "container",
        "duplicate",
        "is_map",
        "key",
        "key_line",
        "path",
        "size",
        "start",
    )

    def __init__(
        self,
        container: dict[str, Any] | list[Any],
        is_map: bool,
        path: Path_,
        anchor: str | None,
        start: Any,
    ) -> None:
        self.container = container
        self.is_map = is_map
        self.path = path
        self.anchor = anchor
        self.start = start  # the event that opened it: where it starts
        self.key: str | None = None
        self.key_line = 0
        self.size = 1
        self.duplicate = False  # the pending value belongs to a repeated key: drop it


# Event kinds, by class (see `_event_kinds`).
_SKIP, _DOC, _ALIAS, _SCALAR, _MAP, _SEQ, _END = range(7)


@functools.cache
def _event_kinds() -> dict[type, int]:
    import yaml

    return {
        yaml.StreamStartEvent: _SKIP,
        yaml.StreamEndEvent: _SKIP,
        yaml.DocumentEndEvent: _SKIP,
        yaml.DocumentStartEvent: _DOC,
        yaml.AliasEvent: _ALIAS,
        yaml.ScalarEvent: _SCALAR,
        yaml.MappingStartEvent: _MAP,
        yaml.SequenceStartEvent: _SEQ,
        yaml.MappingEndEvent: _END,
        yaml.SequenceEndEvent: _END,
    }


def _build(parser: Any, name: str) -> Document:
    """Build plain data from the parser's events, one at a time (see the module docstring).

    One flat loop over the event stream with everything it needs in local variables: it runs
    once per event of every file read, so it is the hot path of loading.
    """
    import yaml

    kinds = _event_kinds()
    scalar = _ScalarReader(name)
    # What `Resolver.resolve` does for a scalar that is not plain, unless someone has added
    # path resolvers to PyYAML (then every scalar takes the general path).
    quoted_is_text = not yaml.resolver.Resolver.yaml_path_resolvers
    lines: dict[Path_, int] = {}
    anchors: dict[str, tuple[Any, int]] = {}
    stack: list[_Frame] = []
    frame: _Frame | None = None  # stack[-1], or None at the top level
    root: Any = None
    documents = 0
    nodes = 0

    def fail(message: str, event: Any) -> UserError:
        mark = getattr(event, "start_mark", None)
        return UserError.one(name, message, line=mark.line + 1 if mark else None)

    problems: list[Problem] = []

    def duplicate(frame: _Frame, key: str, event: Any) -> None:
        line = event.start_mark.line + 1
        problems.append(Problem(name, f"key {key!r} appears twice in one mapping; keep one", line))
        frame.duplicate = True
        # Lines under the repeated key go to a path nothing reads, not over the first's.
        frame.key = key + "\x00repeated"

    get_event = parser.get_event
    read_scalar = scalar.read
    try:
        while (event := get_event()) is not None:
            kind = kinds.get(type(event), _SKIP)
            if kind == _SKIP:
                continue
            if kind == _DOC:
                documents += 1
                if documents > 1:
                    raise fail("holds more than one YAML document (---); keep one", event)
                continue
            nodes += 1
            if nodes > MAX_NODES:
                raise fail(f"has more than {MAX_NODES:,} values; is this the right file?", event)
            if kind == _SCALAR:
                if frame is not None and frame.is_map and frame.key is None:
                    # A key: plain text, and where the key starts is the line of its value.
                    if event.tag not in (None, "!", _STR_TAG):
                        raise fail(f"tag {event.tag} is not allowed on a key", event)
                    value = event.value
                    if event.anchor:
                        anchors[event.anchor] = (value, 1)
                    frame.size += 1
                    frame.key, frame.key_line = value, event.start_mark.line + 1
                    if value in frame.container:
                        duplicate(frame, value, event)
                    continue
                if event.tag is None and not event.implicit[0] and quoted_is_text:
                    value = event.value  # quoted or block text: only plain scalars resolve
                else:
                    value = read_scalar(event)
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
                size = 1
            elif kind in (_MAP, _SEQ):
                is_map = kind == _MAP
                if event.tag not in (None, "!", _MAP_TAG if is_map else _SEQ_TAG):
                    raise fail(
                        f"tag {event.tag} is not allowed; ic-audit reads plain data only", event
                    )
                if frame is None:
                    path: Path_ = ()
                elif frame.is_map:
                    if frame.key is None:
                        raise fail("mapping keys must be plain text", event)
                    path = (*frame.path, frame.key)
                else:
                    path = (*frame.path, len(frame.container))
                if len(stack) >= MAX_DEPTH:
                    raise fail(f"is nested more than {MAX_DEPTH} levels deep", event)
                frame = _Frame({} if is_map else [], is_map, path, event.anchor, event)
                stack.append(frame)
                continue
            elif kind == _END:
                done = stack.pop()
                frame = stack[-1] if stack else None
                if done.anchor:
                    anchors[done.anchor] = (done.container, done.size)
                value, size, event = done.container, done.size, done.start
            else:  # _ALIAS
                if event.anchor not in anchors:
                    raise fail(f"alias *{event.anchor} names no anchor", event)
                value, size = anchors[event.anchor]
                nodes += size
                if nodes > MAX_NODES:
                    raise fail(
                        f"expands to more than {MAX_NODES:,} values through aliases (&/*)", event
                    )
                if frame is not None and frame.is_map and frame.key is None:
                    if not isinstance(value, str) or size != 1:
                        raise fail("mapping keys must be plain text", event)
                    frame.size += 1
                    frame.key, frame.key_line = value, event.start_mark.line + 1
                    if value in frame.container:
                        duplicate(frame, value, event)
                    continue

            # Attach the finished value (`event` is where it starts) to the container being
            # built, or make it the root. Keys were attached above.
            if frame is None:
                root = value
                lines[()] = event.start_mark.line + 1
                continue
            frame.size += size
            key = frame.key
            if frame.duplicate:  # the first value of a repeated key stands
                frame.duplicate = False
                frame.key = None
            elif key is not None:  # the value of a mapping's key (a key never gets this far)
                key_path = (*frame.path, key)
                lines[key_path] = frame.key_line
                frame.container[key] = value  # type: ignore[call-overload]
                frame.key = None
            else:  # an item of a sequence
                container = frame.container
                item_path = (*frame.path, len(container))  # a name: `x[*a, b]` needs 3.11
                lines[item_path] = event.start_mark.line + 1
                container.append(value)  # type: ignore[union-attr]
    finally:
        parser.dispose()
    return Document(name, root, lines, problems=problems)


class _ScalarReader:
    """Scalars to values: only the YAML core types, each resolved and built once per file.

    The resolved tag depends only on the text and how it was written (plain or quoted), and the
    value only on the tag and the text, so both are remembered: a file repeats ``yes``, ``0.0``
    and its labels many times.
    """

    __slots__ = ("built", "constructor", "name", "resolved", "resolver")

    def __init__(self, name: str) -> None:
        self.name = name
        self.constructor: Any = None
        self.resolver: Any = None
        self.resolved: dict[tuple[str, Any], str] = {}
        self.built: dict[tuple[str, str], Any] = {}

    def fail(self, message: str, event: Any) -> UserError:
        mark = getattr(event, "start_mark", None)
        return UserError.one(self.name, message, line=mark.line + 1 if mark else None)

    def read(self, event: Any) -> Any:
        tag = event.tag
        text = event.value
        if tag is None or tag == "!":
            key = (text, event.implicit)
            tag = self.resolved.get(key)
            if tag is None:
                tag = self._resolve(text, event.implicit)
                self.resolved[key] = tag
        if tag == _STR_TAG:
            return text  # what SafeConstructor builds for a str node: its text
        built = self.built.get((tag, text), _MISSING)
        if built is _MISSING:
            built = self._construct(tag, event)
            self.built[(tag, text)] = built
        return built

    def _resolve(self, text: str, implicit: Any) -> str:
        import yaml

        if self.resolver is None:
            self.resolver = yaml.resolver.Resolver()
        tag: str = self.resolver.resolve(yaml.ScalarNode, text, implicit)
        return tag

    def _construct(self, tag: str, event: Any) -> Any:
        import yaml

        if tag == "tag:yaml.org,2002:merge":
            raise self.fail("merge keys (<<) are not supported; write the keys out", event)
        if tag not in _CORE_SCALAR_TAGS:
            raise self.fail(f"tag {tag} is not allowed; ic-audit reads plain data only", event)
        if tag in (_INT_TAG, _FLOAT_TAG) and not _PLAIN_NUMBER.fullmatch(event.value):
            # 1:30 (base 60), 0x10, 017 (octal), 0b11, 1_000: YAML 1.1 reads these as numbers
            # nobody meant to write. Kept as text, whatever wants a number refuses it with a hint.
            return event.value
        if self.constructor is None:
            self.constructor = yaml.SafeLoader("")
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            if tag == "tag:yaml.org,2002:timestamp":
                # Looks like a date but is not one (2026-13-01): keep the text so the check that
                # knows which question it answers can name it.
                return event.value
            raise self.fail(f"value {event.value[:40]!r} cannot be read: {exc}", event) from None
