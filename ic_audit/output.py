"""Writing a report where the user asked: atomically for files, straight through for devices.

An atomic write (temporary file, fsync, rename) keeps a previous report intact if anything
fails, but a rename would *replace* a device, a FIFO or a symlink. So: `-` is stdout; a path
that is (or links to) something other than a regular file is written through; a symlink to a
file is followed, and the file it names is replaced atomically.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from ic_audit.errors import UserError
from ic_audit.loading import atomic_write


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
    try:
        if info is not None and not stat.S_ISREG(info.st_mode):
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            return
        target = Path(os.path.realpath(path))
        if not target.parent.is_dir():
            raise UserError.one(name, f"directory {target.parent} does not exist; create it first")
        atomic_write(target, text)
    except OSError as exc:
        raise UserError.one(name, f"cannot write: {exc.strerror or exc}") from None
