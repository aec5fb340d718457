"""Signals in the walkthrough: SIGINT/SIGTERM/SIGHUP become `Interrupted`, never mid-save.

Also the exit codes of `ic-audit run` and `Quit`, the other way out of the engine.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from types import FrameType

EXIT_OK = 0
EXIT_USAGE = 2
_SIGHUP = int(getattr(signal, "SIGHUP", 1))  # not on Windows
EXIT_HANGUP = 128 + _SIGHUP
EXIT_INTERRUPT = 128 + signal.SIGINT
EXIT_TERMINATE = 128 + signal.SIGTERM


class Interrupted(BaseException):
    """A signal (Ctrl-C, SIGTERM, SIGHUP) or a lost terminal: save and leave.

    A BaseException, like KeyboardInterrupt, so no `except Exception` (ours or a library's)
    swallows it: the handler raises it once and ignores later signals.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class Quit(Exception):
    """The user typed q/quit (or the input ended): save and leave with exit 0."""

    def __init__(self, reason: str = "quit") -> None:
        super().__init__(reason)
        self.reason = reason


class _Guard:
    """Turns SIGINT/SIGTERM/SIGHUP into `Interrupted`, deferred while a save is in progress.

    Python runs a signal handler only between bytecodes of the main thread. A signal that
    lands while the main thread is inside C code that then blocks (readline writes the prompt
    one byte at a time, then waits in select()) would wait for the next key press. So every
    signal also wakes a helper thread (through `signal.set_wakeup_fd`), which re-sends it to
    the main thread until the handler has run: the re-sent signal interrupts the blocking call
    (EINTR), and the code behind `input()` checks for handlers on EINTR.
    """

    _NUDGE_EVERY = 0.05  # seconds between re-sends while the main thread is stuck

    def __init__(self) -> None:
        self.saving = False
        self.closing = False
        self.pending: int | None = None
        self.fired: int | None = None  # the signal already turned into `Interrupted`
        self._wakeup: tuple[int, int] | None = None
        self._previous_wakeup = -1
        self._thread: threading.Thread | None = None

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.closing or self.fired is not None:
            return  # already on the way out: a second signal changes nothing
        if self.saving:
            self.pending = signum
            return
        self.fired = signum
        raise Interrupted(signum)

    @property
    def taken(self) -> bool:
        """The handler has seen a signal (or signals no longer matter)."""
        return self.closing or self.fired is not None or self.pending is not None

    @contextmanager
    def saving_block(self) -> Iterator[None]:
        self.saving = True
        try:
            yield
        finally:
            self.saving = False
        if self.pending is not None and not self.closing:
            # `fired` first, so the helper never sees a signal neither pending nor fired.
            self.fired = self.pending
            self.pending = None
            raise Interrupted(self.fired)

    # -- the helper thread

    def start_nudger(self, signums: Sequence[int]) -> None:
        """Wake on every signal and re-send it to the main thread until it is handled."""
        if not hasattr(signal, "pthread_kill"):  # pragma: no cover - not POSIX
            return
        r, w = os.pipe()
        os.set_blocking(w, False)
        try:
            self._previous_wakeup = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        except (ValueError, OSError):  # pragma: no cover - not the main thread
            os.close(r)
            os.close(w)
            return
        self._wakeup = (r, w)
        main = threading.main_thread().ident
        assert main is not None
        self._thread = threading.Thread(
            target=self._nudge, args=(r, main, tuple(signums)), daemon=True
        )
        self._thread.start()

    def _nudge(self, r: int, main: int, signums: tuple[int, ...]) -> None:
        # Blocked here, so the kernel delivers every signal to the main thread.
        signal.pthread_sigmask(signal.SIG_BLOCK, signums)
        while True:
            try:
                data = os.read(r, 64)
            except OSError:
                return
            if not data:
                return  # stop_nudger closed the pipe
            ours = [n for n in data if n in signums]
            while ours and not self.taken:
                signal.pthread_kill(main, ours[-1])
                time.sleep(self._NUDGE_EVERY)

    def stop_nudger(self) -> None:
        if self._wakeup is None:
            return
        r, w = self._wakeup
        self._wakeup = None
        with suppress(ValueError, OSError):
            signal.set_wakeup_fd(self._previous_wakeup)
        os.close(w)  # the helper reads EOF and returns
        if self._thread is not None:
            self._thread.join(timeout=1)
            self._thread = None
        os.close(r)
