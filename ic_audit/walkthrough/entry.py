"""`run_walkthrough`: the lock, the session, the signal handling and the engine tied together,
and leaving (the final save and the one-line resume hint)."""

from __future__ import annotations

import datetime as dt
import shlex
import signal
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from ic_audit.bank import Bank
from ic_audit.errors import UserError
from ic_audit.walkthrough.engine import Walkthrough
from ic_audit.walkthrough.lock import FileLock
from ic_audit.walkthrough.screens import Prompter
from ic_audit.walkthrough.session import Session
from ic_audit.walkthrough.signals import (
    EXIT_INTERRUPT,
    EXIT_OK,
    EXIT_USAGE,
    Interrupted,
    Quit,
)
from ic_audit.walkthrough.typed import section_ids


def resume_command(
    path: Path, bank_dir: Path | None, sections: Sequence[str], command: str = "run"
) -> str:
    parts = ["ic-audit", command, shlex.quote(str(path))]
    if bank_dir is not None:
        parts += ["--bank", shlex.quote(str(bank_dir))]
    for s in sections if command == "run" else ():
        parts += ["--section", shlex.quote(s)]
    return " ".join(parts)


def run_walkthrough(
    path: Path,
    bank: Bank,
    *,
    bank_dir: Path | None = None,
    sections: Sequence[str] = (),
    revisit: bool = False,
    prompter: Prompter | None = None,
    handle_signals: bool = True,
    today: dt.date | None = None,
) -> int:
    """Run the walkthrough on ``path``; returns the exit code (after saving)."""
    display = str(path)
    sections = section_ids(bank, sections)
    lock = FileLock(path, display)
    if not (path.parent if str(path.parent) else Path(".")).is_dir():
        raise UserError.one(display, f"directory {path.parent} does not exist; create it first")
    lock.acquire()
    try:
        session = Session.open(path, bank, display)
        if prompter is None:
            with suppress(ImportError):
                import readline  # noqa: F401  (line editing and history for input())
            prompter = Prompter()
        hint = resume_command(path, bank_dir, sections)
        engine = Walkthrough(
            session,
            prompter,
            sections=sections,
            revisit=revisit,
            today=today,
            resume_hint=hint,
            score_hint=resume_command(path, bank_dir, (), "score"),
        )
        previous: dict[int, Any] = {}
        try:
            # The handler raises `Interrupted` at most once, anywhere up to `_leave` (which
            # sets `closing`): the outer `except` also catches one raised in an inner clause.
            try:
                try:
                    if handle_signals:
                        signums = [signal.SIGINT, signal.SIGTERM]
                        if hasattr(signal, "SIGHUP"):
                            signums.append(signal.SIGHUP)
                        for signum in signums:
                            previous[signum] = signal.signal(signum, session.guard.handler)
                        session.guard.start_nudger([int(n) for n in signums])
                    return engine.run()
                except Quit as exc:
                    reason, code = exc.reason, EXIT_OK
                except KeyboardInterrupt:
                    reason, code = "interrupted", EXIT_INTERRUPT
                except Exception:
                    # A bug: save what was typed, then let the CLI report it (exit 70).
                    session.guard.closing = True
                    with suppress(Exception):
                        session.save()
                    raise
            except Interrupted as exc:
                reason = {
                    int(signal.SIGINT): "interrupted",
                    int(signal.SIGTERM): "terminated",
                }.get(int(exc.signum), "terminal closed")
                code = exc.exit_code
            return _leave(session, prompter, hint, reason, code)
        finally:
            session.guard.closing = True  # everything is saved: a late signal changes nothing
            session.guard.stop_nudger()
            for sig, old in previous.items():
                signal.signal(sig, old)
    finally:
        lock.release()


def _leave(session: Session, prompter: Prompter, hint: str, reason: str, code: int) -> int:
    """Final save and the one-line resume hint. Never raises."""
    session.guard.closing = True  # no more signal exceptions from here on
    try:
        saved = session.save()
    except Exception as exc:  # pragma: no cover - save() reports OSError itself
        session.save_error = str(exc)
        saved = False
    try:
        if not session.has_name:
            prompter.nothing_saved(reason, hint)
            return code
        if not saved:
            prompter.unsaved(f"{session.save_error}", session.text())
            return EXIT_USAGE if code == EXIT_OK else code
        n = sum(1 for a in session.answers.values() if a.answered)
        prompter.left(reason, n, session.display, hint)
    except Exception:  # the terminal may be gone (SIGHUP); the file is saved regardless
        pass
    return code
