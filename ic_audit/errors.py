"""User-facing problems: one line each, naming the file, line or question id, and the fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def one_line(text: str) -> str:
    """Show control characters as escapes: a message is one line and cannot drive a terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


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
