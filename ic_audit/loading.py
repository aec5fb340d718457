"""Reading user files (YAML or JSON) into plain data with a line for every key, safely.

Every file a user hands us is untrusted. This module owns reading it: only regular files, within
``MAX_FILE_BYTES``, UTF-8 text; JSON with its duplicate keys and depth refused; and the text
rule every value meets:

- A key written twice in one mapping is an error, never a silent last-one-wins.
- Text holds only characters every output can carry (`refused_character`): a string of any
  file read that holds a lone surrogate, a noncharacter or a control character is refused.

YAML is read by `ic_audit.yaml_events` (imported when a YAML file is read).
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ic_audit.errors import Problem, UserError
from ic_audit.limits import MAX_DEPTH, MAX_FILE_BYTES

Path_ = tuple[str | int, ...]


@dataclass
class Document:
    """A parsed file: its data, and the 1-based line where each key or list item starts."""

    name: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    raw: bytes = b""
    # The file it was read from (None for text parsed from elsewhere): evidence files named in
    # an answers file are found relative to it.
    path: Path | None = None
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


def read_bytes(path: Path, display: str | None = None, limit: int = MAX_FILE_BYTES) -> bytes:
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
            if st.st_size > limit:
                raise UserError.one(
                    name,
                    f"is {st.st_size:,} bytes; the limit is {limit:,} (is this the right file?)",
                )
            # Sized by the file: a read sized by the limit costs a buffer of the limit (8 MB,
            # 35 us) for every file. One byte more tells whether it has grown since.
            data = fh.read(st.st_size + 1)
            if len(data) > st.st_size:
                data += fh.read(limit + 1 - len(data))
    except FileNotFoundError:
        raise UserError.one(name, "no such file; check the path") from None
    except PermissionError:
        raise UserError.one(name, "permission denied; check the file's permissions") from None
    except IsADirectoryError:
        raise UserError.one(name, "is a directory; give the path of a file") from None
    except OSError as exc:
        raise UserError.one(name, f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise UserError.one(name, f"is larger than the limit of {limit:,} bytes")
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
        # As ranges: a class of 32 single characters above U+FFFF is searched half as fast.
        f"{chr(plane * 0x10000 + 0xFFFE)}-{chr(plane * 0x10000 + 0xFFFF)}"
        for plane in range(1, 17)
    )
    + "]"
)
_LINE_BREAKS = re.compile("[\t\n\r\x85\u2028\u2029]")
# The part of `_REFUSED` ASCII text can hold: the full class is slow to search (its ranges above
# U+FFFF cost about 20 ns a character), and it is searched in every string of every file read,
# nearly all of them ASCII.
_REFUSED_ASCII = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _find_refused(text: str) -> re.Match[str] | None:
    """The first refused character of ``text`` (see `_REFUSED`), searched the fast way."""
    if text.isascii():
        # Printable ASCII holds none; only text with tabs or line breaks needs the search.
        return None if text.isprintable() else _REFUSED_ASCII.search(text)
    return _REFUSED.search(text)


def refused_character(text: str) -> str | None:
    """The first character of ``text`` a file may not hold, described, or None."""
    found = _find_refused(text)
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


# The bytes of a UTF-8 file that decode to no refused character: printable ASCII, tab, line
# breaks, and every byte of a multi-byte character (those are looked at by the pattern below).
_CLEAN_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n\r" + bytes(range(0x80, 0x100))
# Where a refused character above ASCII can be in UTF-8: C1 controls (C2 80-9F), surrogates
# (ED A0-BF; strict decoding refuses them anyway), U+FDD0-U+FDEF (EF B7 90-AF), and every
# U+xFFFE/U+xFFFF (ending BF BE/BF BF). Broader than the refused set, never narrower.
_MAYBE_REFUSED = re.compile(rb"\xc2[\x80-\x9f]|\xed[\xa0-\xbf]|\xef\xb7[\x90-\xaf]|\xbf[\xbe\xbf]")
_MAYBE_REFUSED_LEADS = (b"\xc2", b"\xed", b"\xef", b"\xbf")  # the bytes its matches start with


def may_hold_refused(raw: bytes) -> bool:
    """False when no string read from these UTF-8 bytes can hold a refused character.

    A string's characters come from the file's own characters, from its escapes (a
    backslash, in YAML's double quotes and in JSON) and from line folding (spaces and line
    breaks). So a file with none of those characters and no backslash needs no walk over its
    strings: a few passes in C, where the walk cost a regular-expression search per string.
    The search for multi-byte characters is the slow pass (2 ms a megabyte), so it runs only
    on a file holding a byte one of them starts with.
    """
    return (
        bool(raw.translate(None, _CLEAN_BYTES))
        or b"\\" in raw
        or (
            not raw.isascii()
            and any(lead in raw for lead in _MAYBE_REFUSED_LEADS)
            and _MAYBE_REFUSED.search(raw) is not None
        )
    )


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
                    if _find_refused(value):
                        _text_problem(doc, (*path, key), value)
                        item[key] = _escaped(value)
                elif isinstance(value, (dict, list)):
                    stack.append((value, (*path, key)))
        elif isinstance(item, list):
            for i, value in enumerate(item):
                if isinstance(value, str):
                    if _find_refused(value):
                        _text_problem(doc, (*path, i), value)
                        item[i] = _escaped(value)
                elif isinstance(value, (dict, list)):
                    stack.append((value, (*path, i)))
    if isinstance(data, str) and _find_refused(data):
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
    doc = parse_document(read_bytes(path, name), path, name)
    doc.path = path
    return doc


def parse_document(raw: bytes, path: Path, name: str) -> Document:
    """`load_document` for bytes already read from ``path``."""
    text = decode_text(raw, name)
    if not text.strip():
        raise UserError.one(name, "is empty; see `ic-audit init` for a template")
    if path.suffix.lower() == ".json":
        doc = parse_json(text, name)
    else:
        from ic_audit.yaml_events import parse_yaml

        doc = parse_yaml(text, name)
    doc.raw = raw
    if may_hold_refused(raw):
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
