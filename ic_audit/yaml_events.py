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
  so the check that wants a number refuses it with a hint instead of scoring 1:30 as 90. So
  does a date that is no date (2026-13-01, `!!timestamp soon`) and a `!!bool maybe`: the
  question they answer names them.
"""

from __future__ import annotations

import datetime as dt
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
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"
# A date and nothing else, the timestamp files hold most: what `date.fromisoformat` reads.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A number as people write it: decimal digits, a point, an exponent; and YAML's .inf/.nan
# (read as numbers so the checks that need finite numbers can name them).
_PLAIN_NUMBER = re.compile(
    r"[-+]?(?:0|[1-9][0-9]*)|[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_MISSING = object()


# Flow collections opened one after another ("[[[[", "{ [ {"): how many in a row make a file
# worth reading with the pure-Python parser (see `_parser_for`). One pattern per opening
# character: a pattern that starts with a literal is searched for six times faster.
_FLOW_RUNS = (re.compile(r"\[(?:\s*[\[{]){31}"), re.compile(r"\{(?:\s*[\[{]){31}"))


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
    if loader_cls is not yaml.SafeLoader and any(run.search(text) for run in _FLOW_RUNS):
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


# What the loop keeps about a mapping or sequence it has left open to build one inside it:
# container, is_map, path, key, key_line, size, duplicate, anchor, start (see `_build`).
_Open = tuple[Any, bool, Path_, "str | None", int, int, bool, "str | None", Any]


def _build(parser: Any, name: str) -> Document:
    """Build plain data from the parser's events, one at a time (see the module docstring).

    One flat loop over the event stream with everything it needs in local variables, the
    collection being built included (the ones around it wait on a stack): it runs once per
    event of every file read, so it is the hot path of loading.
    """
    import yaml

    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    map_end, seq_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    document_start = yaml.DocumentStartEvent
    resolvers = yaml.resolver.Resolver.yaml_implicit_resolvers
    reader = _ScalarReader(name, resolvers)
    read_scalar, read_plain = reader.read, reader.read_plain
    # Unless someone has added path or wildcard resolvers to PyYAML (then every scalar takes
    # the general path), what `Resolver.resolve` does for a scalar without a tag is simple:
    # quoted or block text stays text, and so does a plain one whose first character no
    # resolver claims ("acts_alone", "Refunds above ..."); the rest is `read_plain`.
    simple = not yaml.resolver.Resolver.yaml_path_resolvers and not resolvers.get(None)
    resolved_starts = frozenset(first for first, claims in resolvers.items() if claims)
    lines: dict[Path_, int] = {}
    anchors: dict[str, tuple[Any, int]] = {}
    problems: list[Problem] = []
    root: Any = None
    documents = 0
    nodes = 0

    # The collection being built: None at the top level.
    container: Any = None
    is_map = False
    path: Path_ = ()
    key: str | None = None  # a mapping's key waiting for its value
    key_line = 0
    size = 1  # values in it, itself included (what an alias to it costs)
    duplicate = False  # the pending value belongs to a repeated key: drop it
    anchor: str | None = None
    start: Any = None  # the event that opened it: where it starts
    stack: list[_Open] = []

    def fail(message: str, event: Any) -> UserError:
        mark = getattr(event, "start_mark", None)
        return UserError.one(name, message, line=mark.line + 1 if mark else None)

    def too_many(event: Any) -> UserError:
        return fail(f"has more than {MAX_NODES:,} values; is this the right file?", event)

    def repeated(key: str, event: Any) -> str:
        line = event.start_mark.line + 1
        problems.append(Problem(name, f"key {key!r} appears twice in one mapping; keep one", line))
        # Lines under the repeated key go to a path nothing reads, not over the first's.
        return key + "\x00repeated"

    get_event = parser.get_event
    try:
        while (event := get_event()) is not None:
            cls = type(event)
            if cls is scalar_event:
                nodes += 1
                if nodes > MAX_NODES:
                    raise too_many(event)
                value = event.value
                if is_map and key is None:
                    # A key: plain text, and where the key starts is the line of its value.
                    if event.tag not in (None, "!", _STR_TAG):
                        raise fail(f"tag {event.tag} is not allowed on a key", event)
                    if event.anchor:
                        anchors[event.anchor] = (value, 1)
                    size += 1
                    key, key_line = value, event.start_mark.line + 1
                    if value in container:
                        key, duplicate = repeated(value, event), True
                    continue
                if event.tag is not None or not simple:
                    value = read_scalar(event)
                elif event.implicit[0] and value[:1] in resolved_starts:
                    value = read_plain(event)
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
                value_size = 1
            elif cls is map_end or cls is seq_end:
                nodes += 1
                if nodes > MAX_NODES:
                    raise too_many(event)
                if anchor:
                    anchors[anchor] = (container, size)
                value, value_size, event = container, size, start
                (container, is_map, path, key, key_line, size, duplicate, anchor, start) = (
                    stack.pop()
                )
            elif cls is map_start or cls is seq_start:
                nodes += 1
                if nodes > MAX_NODES:
                    raise too_many(event)
                opens_map = cls is map_start
                if event.tag not in (None, "!", _MAP_TAG if opens_map else _SEQ_TAG):
                    raise fail(
                        f"tag {event.tag} is not allowed; ic-audit reads plain data only", event
                    )
                if container is None:
                    inner: Path_ = ()
                elif is_map:
                    if key is None:
                        raise fail("mapping keys must be plain text", event)
                    inner = (*path, key)
                else:
                    inner = (*path, len(container))
                if len(stack) >= MAX_DEPTH:
                    raise fail(f"is nested more than {MAX_DEPTH} levels deep", event)
                stack.append(
                    (container, is_map, path, key, key_line, size, duplicate, anchor, start)
                )
                container, is_map, path = ({} if opens_map else []), opens_map, inner
                key, key_line, size, duplicate = None, 0, 1, False
                anchor, start = event.anchor, event
                continue
            elif cls is alias_event:
                nodes += 1
                if nodes > MAX_NODES:
                    raise too_many(event)
                if event.anchor not in anchors:
                    raise fail(f"alias *{event.anchor} names no anchor", event)
                value, value_size = anchors[event.anchor]
                nodes += value_size
                if nodes > MAX_NODES:
                    raise fail(
                        f"expands to more than {MAX_NODES:,} values through aliases (&/*)", event
                    )
                if is_map and key is None:
                    if not isinstance(value, str) or value_size != 1:
                        raise fail("mapping keys must be plain text", event)
                    size += 1
                    key, key_line = value, event.start_mark.line + 1
                    if value in container:
                        key, duplicate = repeated(value, event), True
                    continue
            else:
                if cls is document_start:
                    documents += 1
                    if documents > 1:
                        raise fail("holds more than one YAML document (---); keep one", event)
                continue  # the stream's start and end, a document's end

            # Attach the finished value (`event` is where it starts) to the container being
            # built, or make it the root. Keys were attached above.
            if container is None:
                root = value
                lines[()] = event.start_mark.line + 1
                continue
            size += value_size
            if duplicate:  # the first value of a repeated key stands
                duplicate = False
                key = None
            elif is_map:  # the value of a mapping's key (a key never gets this far)
                key_path = (*path, key)  # a name: `x[*a, b]` needs 3.11
                lines[key_path] = key_line  # type: ignore[index]
                container[key] = value
                key = None
            else:  # an item of a sequence
                item_path = (*path, len(container))
                lines[item_path] = event.start_mark.line + 1
                container.append(value)
    finally:
        parser.dispose()
    return Document(name, root, lines, problems=problems)


class _ScalarReader:
    """Scalars to values: only the YAML core types, each resolved and built once per file.

    The resolved tag depends only on the text and how it was written (plain or quoted), and the
    value only on the tag and the text, so both are remembered: a file repeats ``yes``, ``0.0``
    and its labels many times.
    """

    __slots__ = ("built", "claims", "constructor", "name", "plain", "resolved", "resolver")

    def __init__(self, name: str, claims: dict[Any, list[tuple[str, Any]]]) -> None:
        self.name = name
        self.claims = claims  # PyYAML's implicit resolvers: first character -> (tag, pattern)s
        self.constructor: Any = None
        self.resolver: Any = None
        self.resolved: dict[tuple[str, Any], str] = {}
        self.built: dict[tuple[str, str], Any] = {}
        self.plain: dict[str, Any] = {}

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

    def read_plain(self, event: Any) -> Any:
        """`read` for a plain scalar without a tag, when PyYAML has no path or wildcard
        resolvers: then `Resolver.resolve` is the first pattern claimed for the first
        character that matches, else text, and that is done here without its layers."""
        text = event.value
        value = self.plain.get(text, _MISSING)
        if value is _MISSING:
            for tag, pattern in self.claims.get(text[:1], ()):
                if pattern.match(text):
                    value = self._construct(tag, event) if tag != _STR_TAG else text
                    break
            else:
                value = text
            self.plain[text] = value
        return value

    def _resolve(self, text: str, implicit: Any) -> str:
        import yaml

        if self.resolver is None:
            self.resolver = yaml.resolver.Resolver()
        tag: str = self.resolver.resolve(yaml.ScalarNode, text, implicit)
        return tag

    def _construct(self, tag: str, event: Any) -> Any:
        import yaml

        text = event.value
        if tag == "tag:yaml.org,2002:merge":
            raise self.fail("merge keys (<<) are not supported; write the keys out", event)
        if tag not in _CORE_SCALAR_TAGS:
            raise self.fail(f"tag {tag} is not allowed; ic-audit reads plain data only", event)
        # The values files hold most are built here, each as SafeConstructor builds it (its
        # layers cost several times the work); the rest by SafeConstructor itself.
        if tag == _NULL_TAG:
            return None
        if tag == _BOOL_TAG:
            # `!!bool maybe` fails inside PyYAML with a KeyError: kept as text, it is refused
            # by the question it answers.
            return yaml.constructor.SafeConstructor.bool_values.get(text.lower(), text)
        if tag in (_INT_TAG, _FLOAT_TAG):
            if not _PLAIN_NUMBER.fullmatch(text):
                # 1:30 (base 60), 0x10, 017 (octal), 0b11, 1_000: YAML 1.1 reads these as
                # numbers nobody meant to write. Kept as text, whatever wants a number refuses
                # it with a hint.
                return text
            # What is left is decimal: int() and float() read it as PyYAML does, but for
            # .inf/.nan, an integer with a point and one long enough to meet Python's limit.
            if tag == _INT_TAG and "." not in text and len(text) <= 18:
                return int(text)
            if tag == _FLOAT_TAG and text[-1] not in "fFnN":
                return float(text)
        if tag == _TIMESTAMP_TAG:
            if _ISO_DATE.fullmatch(text):
                try:
                    return dt.date.fromisoformat(text)
                except ValueError:
                    return text  # 2026-13-01: see below
            if not yaml.constructor.SafeConstructor.timestamp_regexp.match(text):
                # `!!timestamp soon`: PyYAML's constructor fails on it with an AttributeError.
                # Kept as text like any impossible date, for the check that wants a date.
                return text
        if self.constructor is None:
            self.constructor = yaml.constructor.SafeConstructor()
        node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
        try:
            # What `construct_object` calls for a scalar node, without its bookkeeping for
            # collections and recursion.
            return self.constructor.yaml_constructors[tag](self.constructor, node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            if tag == _TIMESTAMP_TAG:
                # Looks like a date but is not one (2026-13-01): keep the text so the check that
                # knows which question it answers can name it.
                return text
            raise self.fail(f"value {text[:40]!r} cannot be read: {exc}", event) from None
