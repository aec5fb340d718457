"""YAML to plain data with a line for every key: the event-stream builder behind `load_document`.

The rules it keeps (the file-level ones are `ic_audit.loading`'s):

- YAML is read from libyaml's flat event stream, never the recursive composer: a deeply nested
  document makes the C composer crash the interpreter, and the event stream lets us stop at
  ``MAX_DEPTH`` before any real work is done. Our limit is the one a user meets, whatever
  PyYAML release is installed: see `_parser_for`.
- Tags never construct objects: only the YAML core types (str, int, float, bool, null,
  timestamp) are built; any other tag is an error.
- Aliases are resolved by sharing, and every alias charges the size of what it points to, so an
  alias bomb hits ``MAX_NODES`` instead of exhausting memory.
- A key written twice in one mapping is reported (the first value is kept).
- Numbers are read the way people write them: a plain scalar that YAML 1.1 would read as a
  base-60, hexadecimal, octal or binary number, or one with `_` between digits, stays text,
  so the check that wants a number refuses it with a hint instead of scoring 1:30 as 90.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ic_audit.errors import Problem, UserError
from ic_audit.limits import MAX_DEPTH, MAX_NODES
from ic_audit.loading import Document, Path_

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
