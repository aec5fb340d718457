"""An on-disk cache for work that depends only on file contents: the validated question bank.
It makes a run faster, and nothing else.

- Where: ``$XDG_CACHE_HOME/ic-audit`` (an absolute ``XDG_CACHE_HOME`` only, as the XDG spec
  says), else ``~/.cache/ic-audit``. ``IC_AUDIT_NO_CACHE=1`` (any value but empty or ``0``)
  turns it off: nothing is read or written.
- Keys: a SHA-256 of the input's exact bytes together with the ic-audit, Python and library
  versions and a fingerprint of the code that produced the entry, so an entry is never used for
  other input or by other code.
- Data, never code: an entry is plain bytes (the bank cache stores JSON) that the reader checks
  field by field. Nothing read from here is unpickled, unmarshalled, imported or evaluated, so
  whoever can write the directory (another local account, a CI cache restored from another
  branch) can at worst cause a miss. Report templates are not cached here at all: they are
  compiled into the package when it is built (see `ic_audit.render.jinja_reports`).
- Safety: an entry is written to a temporary file and renamed into place, so a reader sees a
  whole entry or none. Every entry carries a SHA-256 of its payload, checked before use; an
  entry that is damaged, unreadable, not a regular file (a FIFO or device is never waited on),
  a link, not owned by the current user, or writable by others is ignored (and replaced by the
  next write). Any failure to read or write falls back to doing the work: the cache is never
  needed for a correct result. Nothing is ever evicted; deleting the directory is always safe.
- Entries written by earlier releases (pickles under ``banks/`` and Jinja2 bytecode under
  ``templates/``) are never read: they are deleted the next time an entry is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import sys
from pathlib import Path

from ic_audit import __version__

ENV_DISABLE = "IC_AUDIT_NO_CACHE"
_MAGIC = b"ic-audit-cache\x002\n"
_DIGEST = 32
# Far above any real entry (a bank of 5,000 questions is a few MB): a bigger file is not ours.
MAX_ENTRY_BYTES = 256 * 1024 * 1024
# Where earlier releases kept code-bearing entries (pickle, marshal): removed, never read.
_LEGACY = ("banks", "templates")
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def enabled() -> bool:
    return os.environ.get(ENV_DISABLE, "") in ("", "0")


def cache_dir() -> Path | None:
    """The cache directory (not created), or None when the cache is off or has no home."""
    if not enabled():
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError, OSError):
            return None
    return Path(base) / "ic-audit"


def fingerprint(*parts: object) -> str:
    """A key from the versions that matter and the given parts (bytes are hashed as they are)."""
    digest = hashlib.sha256()
    impl = sys.implementation
    for part in (__version__, impl.name, impl.cache_tag, sys.version, *parts):
        data = part if isinstance(part, bytes) else repr(part).encode("utf-8", "replace")
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def code_stamp(*modules: str) -> tuple[object, ...]:
    """Size and modification time of the given modules' files (found without importing them):
    an edited module or a reinstalled library makes a new key."""
    stamp: list[object] = []
    for name in modules:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if module is None:
            import importlib.util

            try:
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError):
                spec = None
            file = spec.origin if spec is not None else None
        try:
            st = os.stat(file) if file else None
        except OSError:
            st = None
        stamp.append((name, st.st_size, st.st_mtime_ns) if st else (name, None))
    return tuple(stamp)


def _trusted(st: os.stat_result) -> bool:
    """A regular file of a sane size, ours and not writable by anyone else (where files have
    owners)."""
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY_BYTES:
        return False
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return True
    return st.st_uid == getuid() and not st.st_mode & 0o022


def _read_entry(path: Path) -> bytes | None:
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever;
    # O_NOFOLLOW: a link planted in the cache is not followed. Only then is the file checked.
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if not _trusted(st):
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_ENTRY_BYTES:
                return None
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read(namespace: str, key: str) -> bytes | None:
    """The payload stored under ``key``, or None if absent, damaged or not to be trusted."""
    directory = cache_dir()
    if directory is None:
        return None
    try:
        data = _read_entry(directory / namespace / key)
    except (OSError, ValueError):
        return None
    if data is None:
        return None
    head = len(_MAGIC)
    if len(data) < head + _DIGEST or not data.startswith(_MAGIC):
        return None
    payload = data[head + _DIGEST :]
    if hashlib.sha256(payload).digest() != data[head : head + _DIGEST]:
        return None
    return payload


def write(namespace: str, key: str, payload: bytes) -> None:
    """Store ``payload`` under ``key`` atomically; a failure to write is ignored."""
    directory = cache_dir()
    if directory is None:
        return
    from ic_audit.atomic import replace_file

    target = directory / namespace
    try:
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Mode None: the entry stays mkstemp's 0o600, readable by its owner only.
        data = _MAGIC + hashlib.sha256(payload).digest() + payload
        replace_file(target / key, data, None, f".{key[:16]}.")
    except (OSError, ValueError):
        pass
    _remove_legacy(directory)


def _remove_legacy(directory: Path) -> None:
    """Delete what earlier releases cached as code; a failure is ignored (it is never read)."""
    for name in _LEGACY:
        path = directory / name
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            elif path.is_symlink() or path.exists():
                path.unlink()
