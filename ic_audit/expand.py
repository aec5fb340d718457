"""Command-line arguments to files: literal paths and quoted glob patterns (`**` recursive).

The rules CI relies on (CONTRACT.md, "CI use"):

- Results keep argument order; each argument is expanded on its own. The files one pattern
  matches come sorted, each file once, even when symbolic links or hard links reach it by
  several paths.
- A pattern follows links to directories (as the shell and `glob` do) but never into a loop:
  every directory is read at most once for each part of the pattern, so `ln -s . self` can
  neither hang the expansion nor repeat a file.
- A literal path is taken as given; naming the same file twice scores it twice, because that
  is what was asked for.
- A pattern that matches nothing is an error naming it: a gate over zero files never passes.
- `batch` says whether the output is a list: any pattern, or more than one argument. Only a
  single literal path gives one object, so a pattern's output shape never depends on how
  many files it happened to match.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ic_audit.errors import Problem, UserError

_MAGIC = re.compile(r"[*?\[]")


@dataclass
class Expansion:
    paths: list[Path]
    batch: bool


def is_pattern(argument: str) -> bool:
    """A glob pattern, unless a file of that very name exists."""
    return bool(_MAGIC.search(argument)) and not os.path.lexists(argument)


def expand(arguments: list[str]) -> Expansion:
    """Every argument as files, in argument order; a pattern matching nothing is an error."""
    paths: list[Path] = []
    problems: list[Problem] = []
    any_pattern = False
    for argument in arguments:
        if not is_pattern(argument):
            paths.append(Path(argument))
            continue
        any_pattern = True
        files = match_files(argument)
        if not files:
            problems.append(Problem(argument, "the pattern matches no files"))
        paths.extend(Path(f) for f in files)
    if problems:
        raise UserError(problems)
    return Expansion(paths, batch=any_pattern or len(arguments) > 1)


def match_files(pattern: str) -> list[str]:
    """The regular files ``pattern`` matches, sorted, each file once (see the module docstring).

    Hidden names match only a part that starts with a dot, and `**` does not enter hidden
    directories, as with `glob`.
    """
    absolute = pattern.startswith(os.sep)
    parts = [p for p in pattern.split(os.sep) if p]
    start = os.sep if absolute else ""
    found: dict[tuple[int, int], str] = {}
    seen: set[tuple[int, int, int]] = set()
    # (directory as it is shown, index of the next part to match); depth-first, sorted, so a
    # file is found first by its shortest, first-sorting path.
    stack: list[tuple[str, int]] = [(start, 0)]
    while stack:
        directory, index = stack.pop()
        try:
            st = os.stat(directory or ".")
        except OSError:
            continue
        state = (st.st_dev, st.st_ino, index)
        if state in seen:
            continue  # reached again through a link: already read for this part
        seen.add(state)
        if index == len(parts):
            continue
        part = parts[index]
        last = index == len(parts) - 1
        nxt: list[tuple[str, int]] = []
        if part == "**":
            nxt.append((directory, index + 1))  # `**` matching no directory at all
            for name, is_dir in _entries(directory):
                if is_dir and not name.startswith("."):
                    nxt.append((os.path.join(directory, name), index))
        elif not _MAGIC.search(part):
            target = os.path.join(directory, part)
            if last:
                _add_file(found, target)
            else:
                nxt.append((target, index + 1))
        else:
            hidden_ok = part.startswith(".")
            for name, is_dir in _entries(directory):
                if name.startswith(".") and not hidden_ok:
                    continue
                if not fnmatch.fnmatchcase(name, part):
                    continue
                target = os.path.join(directory, name)
                if last:
                    _add_file(found, target)
                elif is_dir:
                    nxt.append((target, index + 1))
        if part == "**" and last:
            # A trailing `**` matches the files in every directory below as well.
            for name, is_dir in _entries(directory):
                if not is_dir and not name.startswith("."):
                    _add_file(found, os.path.join(directory, name))
        stack.extend(reversed(nxt))
    return sorted(found.values())


def _entries(directory: str) -> list[tuple[str, bool]]:
    """Names in ``directory`` (sorted) and whether each is a directory, links followed."""
    out: list[tuple[str, bool]] = []
    try:
        with os.scandir(directory or ".") as it:
            for entry in it:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                out.append((entry.name, is_dir))
    except OSError:
        return []
    out.sort()
    return out


def _add_file(found: dict[tuple[int, int], str], path: str) -> None:
    import stat

    try:
        st = os.stat(path)
    except OSError:
        return
    if stat.S_ISREG(st.st_mode):
        found.setdefault((st.st_dev, st.st_ino), path)
