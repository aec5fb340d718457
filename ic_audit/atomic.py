"""Writing files so that nothing is lost: the one atomic writer (reports, answers files, the
cache) and the exclusive writer of backups beside a file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write a file so readers see the old content or the new, never half of either.

    A symlink is followed: the file it points to is replaced (the link stays a link). The
    temporary file has an unpredictable name, is created exclusively in the target's own
    directory (so the rename cannot cross file systems) and is synced before the rename; an
    existing target keeps its permissions.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    target = Path(os.path.realpath(path))
    try:
        mode: int = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = _new_file_mode()
    replace_file(target, payload, mode, f".{target.name}.")
    _sync_directory(target.parent)


def replace_file(target: Path, payload: bytes, mode: int | None, prefix: str) -> None:
    """The core of every atomic write: ``payload`` into a temporary file with an unpredictable
    name, created exclusively beside ``target`` (``prefix`` + random + ``.tmp``), given ``mode``
    (None keeps mkstemp's 0o600), synced, then renamed over ``target``. ``target`` itself is
    not resolved: a link at that name is replaced, not followed."""
    import tempfile

    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    try:
        with open(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _new_file_mode() -> int:
    # What `open()` would have given a new file: 0o666 less the umask (mkstemp makes 0o600).
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _sync_directory(directory: Path) -> None:
    # The rename is durable only once the directory is; not every platform can open one.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_new_beside(path: Path, suffix: str, data: bytes) -> Path:
    """Write ``data`` to a new file named after ``path`` plus ``suffix``, never over another.

    ``a.yaml.conflict``, then ``a.yaml.conflict-2``, ``-3``...: each is created exclusively
    (``O_EXCL``, which also refuses a symlink at the name), so an earlier one is never lost.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        mode = Path(os.path.realpath(path)).stat().st_mode & 0o666
    except OSError:
        mode = 0o600
    for n in range(1, 10_000):
        candidate = directory / f"{path.name}{suffix}{'' if n == 1 else f'-{n}'}"
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        try:
            with open(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                candidate.unlink()
            raise
        return candidate
    raise FileExistsError(f"{directory / (path.name + suffix)}-*: too many backups already")
