"""User-facing problems: one line each, naming the file, line or question id, and the fix;
and the escaping of text from files before it is printed or put in a document."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def _escaped(c: str) -> str:
    """One character as the escape a reader can type back: a byte that was not UTF-8 (kept by
    Python's surrogateescape, e.g. in a file name) as ``\\xff``, anything else as repr does."""
    if "\udc80" <= c <= "\udcff":
        return f"\\x{ord(c) - 0xDC00:02x}"
    return repr(c)[1:-1]


def one_line(text: str) -> str:
    """Show control characters as escapes: a message is one line and cannot drive a terminal.

    The one cleaning for every line printed from file content (errors, warnings, titles,
    tables, workflow commands): nothing printed can start a line of its own, move the cursor,
    reorder text (bidi controls) or fail to encode as UTF-8.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escaped(c) for c in text)


# Bidi embeddings, overrides and isolates ("Trojan Source"): they make a reader see other text.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe_in_documents(c: str) -> bool:
    o = ord(c)
    if o < 0x20:
        return c not in "\t\n\r"
    return (
        0x7F <= o <= 0x9F  # DEL and C1 controls (CSI included)
        or 0xD800 <= o <= 0xDFFF  # lone surrogates: not encodable as UTF-8
        or 0xFDD0 <= o <= 0xFDEF  # noncharacters ...
        or (o & 0xFFFE) == 0xFFFE  # ... U+FFFE, U+FFFF and their copies in every plane
        or c in _BIDI
    )


def escape_unsafe(text: str) -> str:
    """Like `one_line`, for documents whose text may span lines (JUnit, SARIF, JSON): tabs and
    line breaks stay; what XML 1.0 or UTF-8 cannot carry, and controls, show as escapes."""
    if text.isprintable() or not any(_unsafe_in_documents(c) for c in text):
        return text
    return "".join(_escaped(c) if _unsafe_in_documents(c) else c for c in text)


def json_utf8(document: str) -> str:
    """A JSON document (from ``json.dumps(..., ensure_ascii=False)``) made encodable as UTF-8:
    a lone surrogate, which only a string can hold, becomes its visible escape (``\\xff``,
    ``\\ud800``) as JSON text. Control characters are already escaped by JSON itself."""
    try:
        document.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(
            _escaped(c).replace("\\", "\\\\") if "\ud800" <= c <= "\udfff" else c for c in document
        )
    return document


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a user's input, located as precisely as we can."""

    file: str
    message: str
    line: int | None = None
    question_id: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        qid = f" {self.question_id}:" if self.question_id else ""
        return one_line(f"{where}:{qid} {self.message}")


class UserError(Exception):
    """An expected mistake in input or usage; the CLI prints it and exits 2.

    It carries every problem found, so `validate` can list them all at once.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(
        cls,
        file: str,
        message: str,
        line: int | None = None,
        question_id: str | None = None,
    ) -> UserError:
        return cls([Problem(file, message, line, question_id)])


class UsageError(Exception):
    """A mistake in how a command was called (not in a file); exit 2 with one line."""
