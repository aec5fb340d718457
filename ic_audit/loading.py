"""Reading user files (YAML or JSON) into plain data with a line for every key, safely.

Every file a user hands us is untrusted. This module owns the rules that keep reading it
bounded and honest:

- YAML is read from libyaml's flat event stream, never the recursive composer: a deeply nested
  document makes the C composer crash the interpreter, and the event stream lets us stop at
  ``MAX_DEPTH`` before any real work is done.
- Tags never construct objects: only the YAML core types (str, int, float, bool, null,
  timestamp) are built; any other tag is an error.
- Aliases are resolved by sharing, and every alias charges the size of what it points to, so an
  alias bomb hits ``MAX_NODES`` instead of exhausting memory.
- A key written twice in one mapping is an error, never a silent last-one-wins.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ic_audit.errors import UserError

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 50
MAX_NODES = 500_000

Path_ = tuple[str | int, ...]

_CORE_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


@dataclass
class Document:
    """A parsed file: its data, and the 1-based line where each key or list item starts."""

    name: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    raw: bytes = b""

    def line(self, path: Path_) -> int | None:
        """The line of ``path``, or of its nearest located ancestor."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def read_bytes(path: Path, display: str | None = None) -> bytes:
    """Read a user's file, turning every way it can be unreadable into one clear line."""
    name = display or str(path)
    try:
        if path.is_dir():
            raise UserError.one(name, "is a directory; give the path of a file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UserError.one(
                name,
                f"is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} (is this the right file?)",
            )
        with path.open("rb") as fh:
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


def decode_text(data: bytes, name: str) -> str:
    if b"\x00" in data:
        raise UserError.one(name, "is a binary file, not YAML or JSON text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError.one(name, "is not valid UTF-8 text; save it as UTF-8", line=line) from None
    return text.removeprefix("\ufeff")


def load_document(path: Path, display: str | None = None) -> Document:
    """Load a YAML or JSON file (chosen by its suffix) with line numbers."""
    name = display or str(path)
    raw = read_bytes(path, name)
    text = decode_text(raw, name)
    if not text.strip():
        raise UserError.one(name, "is empty; see `ic-audit init` for a template")
    is_json = path.suffix.lower() == ".json"
    doc = parse_json(text, name) if is_json else parse_yaml(text, name)
    doc.raw = raw
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


def parse_yaml(text: str, name: str) -> Document:
    import yaml

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return _build(yaml.parse(text, Loader=loader_cls), name)
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

    __slots__ = ("anchor", "container", "key", "key_line", "path", "size", "start_event")

    def __init__(
        self, container: dict[str, Any] | list[Any], path: Path_, start_event: Any
    ) -> None:
        self.container = container
        self.path = path
        self.start_event = start_event
        self.anchor: str | None = start_event.anchor
        self.key: str | None = None
        self.key_line = 0
        self.size = 1


def _build(events: Any, name: str) -> Document:
    import yaml

    constructor = yaml.SafeLoader("")
    resolver = yaml.resolver.Resolver()
    lines: dict[Path_, int] = {}
    anchors: dict[str, tuple[Any, int]] = {}
    stack: list[_Frame] = []
    root: Any = None
    documents = 0
    nodes = 0

    def fail(message: str, event: Any) -> UserError:
        mark = getattr(event, "start_mark", None)
        return UserError.one(name, message, line=mark.line + 1 if mark else None)

    def place(value: Any, size: int, event: Any) -> None:
        """Attach a finished value to the container being built (or make it the root)."""
        nonlocal root
        line = event.start_mark.line + 1 if getattr(event, "start_mark", None) else 0
        if not stack:
            root = value
            lines[()] = line
            return
        frame = stack[-1]
        frame.size += size
        if isinstance(frame.container, list):
            item_path = (*frame.path, len(frame.container))  # a name: `x[*a, b]` needs 3.11
            lines[item_path] = line
            frame.container.append(value)
            return
        if frame.key is None:
            if not isinstance(value, str) or size != 1:
                raise fail("mapping keys must be plain text", event)
            if value in frame.container:
                raise fail(f"key {value!r} appears twice in one mapping; keep one", event)
            frame.key, frame.key_line = value, line
            return
        key_path = (*frame.path, frame.key)
        lines[key_path] = frame.key_line
        frame.container[frame.key] = value
        frame.key = None

    def child_path() -> Path_:
        if not stack:
            return ()
        frame = stack[-1]
        if isinstance(frame.container, list):
            return (*frame.path, len(frame.container))
        return (*frame.path, frame.key if frame.key is not None else "")

    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise fail("holds more than one YAML document (---); keep one", event)
            continue
        if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
            continue
        nodes += 1
        if nodes > MAX_NODES:
            raise fail(f"has more than {MAX_NODES:,} values; is this the right file?", event)
        is_key = bool(stack) and isinstance(stack[-1].container, dict) and stack[-1].key is None
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise fail(f"alias *{event.anchor} names no anchor", event)
            value, size = anchors[event.anchor]
            nodes += size
            if nodes > MAX_NODES:
                raise fail(
                    f"expands to more than {MAX_NODES:,} values through aliases (&/*)", event
                )
            place(value, size, event)
        elif isinstance(event, yaml.ScalarEvent):
            if is_key:
                if event.tag not in (None, "!", "tag:yaml.org,2002:str"):
                    raise fail(f"tag {event.tag} is not allowed on a key", event)
                value = event.value
            else:
                value = _scalar(event, constructor, resolver, fail)
            if event.anchor:
                anchors[event.anchor] = (value, 1)
            place(value, 1, event)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            is_map = isinstance(event, yaml.MappingStartEvent)
            allowed = (None, "!", _MAP_TAG if is_map else _SEQ_TAG)
            if event.tag not in allowed:
                raise fail(f"tag {event.tag} is not allowed; ic-audit reads plain data only", event)
            if is_key:
                raise fail("mapping keys must be plain text", event)
            if len(stack) >= MAX_DEPTH:
                raise fail(f"is nested more than {MAX_DEPTH} levels deep", event)
            container: dict[str, Any] | list[Any] = {} if is_map else []
            stack.append(_Frame(container, child_path(), event))
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = stack.pop()
            if frame.anchor:
                anchors[frame.anchor] = (frame.container, frame.size)
            place(frame.container, frame.size, frame.start_event)
    return Document(name, root, lines)


def _scalar(event: Any, constructor: Any, resolver: Any, fail: Any) -> Any:
    import yaml

    tag = event.tag
    if tag in (None, "!"):
        tag = resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == "tag:yaml.org,2002:merge":
        raise fail("merge keys (<<) are not supported; write the keys out", event)
    if tag not in _CORE_SCALAR_TAGS:
        raise fail(f"tag {tag} is not allowed; ic-audit reads plain data only", event)
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        if tag == "tag:yaml.org,2002:timestamp":
            # Looks like a date but is not one (2026-13-01): keep the text so the check that
            # knows which question it answers can name it.
            return event.value
        raise fail(f"value {event.value[:40]!r} cannot be read: {exc}", event) from None


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write a file so readers see the old content or the new, never half of either."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    tmp = directory / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = None
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
