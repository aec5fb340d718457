"""The walkthrough's file lock: one walkthrough per answers file at a time."""

from __future__ import annotations

import errno
import os
import stat
from contextlib import suppress
from pathlib import Path

from ic_audit.errors import UsageError, UserError


class FileLock:
    """An exclusive, non-blocking `flock` on ``.<name>.lock`` beside the answers file.

    The lock belongs to the file the name leads to (links resolved), so a walkthrough through
    a symlink and one through the real name exclude each other. The lock path itself is never
    followed if it is a link, never truncated unless it holds only a pid (a lock left behind),
    and never anything but a regular file: a cloned repository could carry a link there
    pointing at someone's answers.
    """

    def __init__(self, target: Path, display: str) -> None:
        resolved = Path(os.path.realpath(target))
        self.path = resolved.parent / f".{resolved.name}.lock"
        self.display = display
        self.fd: int | None = None

    def _refuse(self, what: str) -> UserError:
        return UserError.one(
            self.display, f"the lock file {self.path} {what}; move it away and run again"
        )

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK
        try:
            fd = os.open(self.path, flags | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP or os.path.islink(self.path):
                raise self._refuse("is a symbolic link (not a lock file)") from None
            if exc.errno == errno.EISDIR or os.path.isdir(self.path):
                raise self._refuse("is a directory") from None
            raise UserError.one(
                self.display, f"cannot create the lock file {self.path}: {exc.strerror or exc}"
            ) from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise self._refuse("is not a regular file")
        if st.st_nlink != 1:
            os.close(fd)
            raise self._refuse("is a hard link to another file")
        return fd

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock, documented
            return
        for _ in range(20):
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_pid(fd)
                os.close(fd)
                who = f" (pid {holder})" if holder else ""
                raise UsageError(
                    f"another walkthrough is editing {self.display}{who}; finish or quit that "
                    "one first"
                ) from None
            # The holder deletes the lock file on release; make sure ours is still the one
            # at the path, or a third walkthrough could lock a fresh file beside us.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path, follow_symlinks=False).st_ino
            except FileNotFoundError:
                same = False
            if same:
                # Left behind by a walkthrough that was killed: it holds a pid or nothing.
                old = os.pread(fd, 64, 0)
                if old.strip() and not old.strip().isdigit():
                    os.close(fd)
                    raise self._refuse("holds something other than a process id")
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self.fd = fd
                return
            os.close(fd)
        raise UsageError(f"could not lock {self.display}; try again")  # pragma: no cover

    def release(self) -> None:
        if self.fd is None:
            return
        with suppress(OSError):
            os.unlink(self.path)
        os.close(self.fd)
        self.fd = None


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
