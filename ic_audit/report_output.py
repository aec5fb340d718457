"""Writing a report where the user asked: atomically for files, straight through for devices.

An atomic write (temporary file, fsync, rename) keeps a previous report intact if anything
fails, but a rename would *replace* a device, a FIFO or a symlink. So: `-` is stdout; a path
that is (or links to) a FIFO or character device is written through, opened without blocking
(a FIFO nobody reads is refused at once instead of hanging); block devices are refused; a
symlink to a file is followed, and the file it names is replaced atomically.

`refuse_inputs` keeps a report from landing on a file the same run read (its answers, template
or bank), whatever name or link leads there.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

from ic_audit.atomic import atomic_write
from ic_audit.errors import UserError


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)  # follows symlinks: the file a name finally reaches
    except (OSError, ValueError):
        return None
    return (info.st_dev, info.st_ino)


def refuse_inputs(targets: Iterable[Path], inputs: Iterable[tuple[str, Path]]) -> None:
    """Exit 2, before anything is written, when a target is (or links to) a file read as input.

    `inputs` pairs what the file is ("answers file", "template", ...) with its path. Identity is
    the device and inode, so a symlink, a hard link or `./a.yaml` versus `a.yaml` all match.
    """
    seen: dict[tuple[int, int], tuple[str, Path]] = {}
    for what, path in inputs:
        ident = _identity(path)
        if ident is not None:
            seen.setdefault(ident, (what, path))
    for target in targets:
        if str(target) == "-":
            continue
        ident = _identity(target)
        if ident is not None and ident in seen:
            what, source = seen[ident]
            raise UserError.one(
                str(target),
                f"is the {what} {source} this command reads; writing the report there would "
                "destroy it: choose another -o",
            )


def write_output(path: Path, text: str) -> None:
    name = str(path)
    if name == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        info: os.stat_result | None = os.stat(path)  # follows symlinks
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UserError.one(name, f"cannot write: {exc.strerror or exc}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UserError.one(name, "is a directory; give a file name for -o")
    if info is not None and stat.S_ISBLK(info.st_mode):
        raise UserError.one(name, "is a block device; give a file name for -o")
    try:
        if info is not None and not stat.S_ISREG(info.st_mode):
            _write_through(path, text)
            return
        target = Path(os.path.realpath(path))
        if not target.parent.is_dir():
            raise UserError.one(name, f"directory {target.parent} does not exist; create it first")
        atomic_write(target, text)
    except OSError as exc:
        raise UserError.one(name, f"cannot write: {exc.strerror or exc}") from None


def _write_through(path: Path, text: str) -> None:
    """A FIFO or device: open without blocking (O_NONBLOCK), then write normally."""
    if not hasattr(os, "O_NONBLOCK"):  # Windows: no FIFOs to wait on
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    import fcntl

    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO with no reader (or a socket)
            raise UserError.one(
                str(path),
                "nothing is reading from it (a FIFO without a reader); start the reader "
                "first or give a file name for -o",
            ) from None
        raise
    # Back to blocking writes: a slow reader is waited for, not an error.
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
