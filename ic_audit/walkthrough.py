"""`ic-audit run`: the interactive walkthrough.

Three layers, so the logic is testable without a terminal:

- `Session`: the answers file in memory (metadata + answers), loaded once, saved atomically
  after every change through `ic_audit.writer`.
- `Prompter`: all terminal I/O. Output goes through rich; input is one line at a time from a
  ``read`` function (``input`` by default), so tests pass a scripted one.
- `Walkthrough`: navigation (next, back, skip, resume position, revisit), applicability of
  follow-ups through `scoring.applicability`, and turning typed text into answers through
  `Question.coerce`, the same validation the file loader uses.

`run_walkthrough` ties them together with the file lock and the signal handling.

Exit codes: 0 finished or quit (saved); 2 bad usage or input (nothing overwritten); 130 Ctrl-C,
143 SIGTERM, 129 SIGHUP or a terminal that went away (128 + the signal number, the shell
convention). Every one of them saves first.
"""

from __future__ import annotations

import copy
import datetime as dt
import errno
import os
import re
import shlex
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from ic_audit.answers import Answer, AnswersFile, Audit, audit_from_document
from ic_audit.bank import Bank, Question, Section, parse_decimal
from ic_audit.errors import UsageError, UserError, one_line
from ic_audit.loading import (
    Document,
    atomic_write,
    load_document,
    parse_json,
    parse_yaml,
    refused_character,
    write_new_beside,
)
from ic_audit.terminal import RATING_STYLE, rating_line
from ic_audit.writer import Layout, answers_text

if TYPE_CHECKING:
    from rich.console import Console

    from ic_audit.result import AuditResult

EXIT_OK = 0
EXIT_USAGE = 2
_SIGHUP = int(getattr(signal, "SIGHUP", 1))  # not on Windows
EXIT_HANGUP = 128 + _SIGHUP
EXIT_INTERRUPT = 128 + signal.SIGINT
EXIT_TERMINATE = 128 + signal.SIGTERM

_TEXT_MAX = 500  # the metadata fields' limit (answers.Text)
_NOTE_MAX = 20_000
_EVIDENCE_MAX = 2000

Action = Literal["next", "back"]

_TYPE_NAMES = {
    "yes_no": "yes/no",
    "single": "one choice",
    "multi": "several choices",
    "number": "number",
    "date": "date",
    "text": "free text",
}


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


# ------------------------------------------------------------------------------------ session


class Session:
    """The answers file being edited: metadata and answers, and how to save them."""

    def __init__(self, path: Path, bank: Bank, display: str | None = None) -> None:
        self.path = path
        self.display = display or str(path)
        self.bank = bank
        self.meta: dict[str, Any] = {}
        self.answers: dict[str, Answer] = {}
        self.existed = False
        self.warnings: list[str] = []
        self.as_json = path.suffix.lower() == ".json"
        self.guard = _Guard()
        self.last_saved: bytes | None = None  # the file's bytes as we last read or wrote them
        self.save_error: str | None = None
        self.notices: list[str] = []
        # What this session changed, so edits made to the file meanwhile can be merged.
        self.touched_meta: set[tuple[str, ...]] = set()
        self.touched_answers: set[str] = set()
        # The file as its author laid it out, and the metadata and answers it holds: a save
        # writes into it only what differs, so comments, order and blanks stay as they were.
        self.layout: Layout | None = None
        self.held: tuple[dict[str, Any], dict[str, Answer]] = ({}, {})

    # -- loading

    @classmethod
    def open(cls, path: Path, bank: Bank, display: str | None = None) -> Session:
        """Load an existing answers file (refusing an invalid one) or start a new one."""
        session = cls(path, bank, display)
        name = session.display
        if path.is_dir():
            raise UserError.one(name, "is a directory; give the path of an answers file")
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise UserError.one(name, f"directory {parent} does not exist; create it first")
        if path.exists():
            doc = load_document(path, name) if _has_content(path, name) else None
            if doc is not None:
                audit = audit_from_document(doc, bank)
                session.existed = True
                session.warnings = list(audit.warnings)
                session.meta, session.answers = _state_of(doc, audit)
                session.last_saved = doc.raw
                session._hold(doc)
        if "bank" not in session.meta:
            session.meta["bank"] = {"id": bank.id, "version": bank.version}
        return session

    # -- state

    @property
    def has_name(self) -> bool:
        system = self.meta.get("system")
        return isinstance(system, dict) and bool(system.get("name"))

    def get_meta(self, path: tuple[str, ...]) -> Any:
        node: Any = self.meta
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def set_meta(self, path: tuple[str, ...], value: Any) -> None:
        self.touched_meta.add(path)
        self._put_meta(path, value)

    def _put_meta(self, path: tuple[str, ...], value: Any) -> None:
        if len(path) == 1:
            if value is None:
                self.meta.pop(path[0], None)
            else:
                self.meta[path[0]] = value
            self._order_meta()
            return
        head, leaf = path
        node = self.meta.get(head)
        if not isinstance(node, dict):
            node = {}
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
        if node:
            self.meta[head] = node
        else:
            self.meta.pop(head, None)
        self._order_meta()

    def _order_meta(self) -> None:
        order = ("system", "auditor", "audit_date", "bank")
        ordered = {k: self.meta[k] for k in order if k in self.meta}
        ordered.update({k: v for k, v in self.meta.items() if k not in ordered})
        self.meta = ordered

    def value(self, qid: str) -> Any:
        answer = self.answers.get(qid)
        return None if answer is None else answer.value

    def is_answered(self, qid: str) -> bool:
        return self.value(qid) is not None

    def set_answer(self, qid: str, answer: Answer | None) -> None:
        self.touched_answers.add(qid)
        if answer is None or (answer.value is None and answer.note is None and not answer.evidence):
            self.answers.pop(qid, None)
        else:
            self.answers[qid] = answer
        self.set_answer_order()

    def audit_view(self) -> Audit:
        """An `Audit` over the in-memory answers (enough for `applicability`)."""
        return Audit(self.display, AnswersFile.model_construct(), self.answers, "")

    def applicable(self) -> dict[str, bool]:
        from ic_audit.scoring import applicability

        return applicability(self.bank, self.audit_view())

    # -- saving

    def _hold(self, doc: Document) -> None:
        """Keep ``doc``'s layout, and what it holds, as the base of the next save."""
        from ic_audit.loading import decode_text

        self.layout = Layout.parse(decode_text(doc.raw, self.display), self.as_json)
        self.held = copy.deepcopy((self.meta, self.answers))

    def text(self) -> str:
        """The file as it is to be saved: the person's layout with this session's changes."""
        if self.layout is None:
            self.layout = Layout.new(self.bank, self.as_json)
            self.held = ({}, {})
        self.layout.update(self.bank, self.held, (self.meta, self.answers))
        self.held = copy.deepcopy((self.meta, self.answers))
        text = self.layout.text()
        if not self._holds(text):
            # Never expected; if the edited layout does not read back as these answers, a
            # freshly written file (without the comments) is better than a wrong one.
            text = answers_text(self.bank, self.meta, self.answers, as_json=self.as_json)
            self.layout = Layout.parse(text, self.as_json)
        return text

    def _holds(self, text: str) -> bool:
        """True when ``text`` reads back as this session's metadata and answers."""
        try:
            doc = parse_json(text, self.display) if self.as_json else parse_yaml(text, self.display)
            meta, answers = _state_of(doc, audit_from_document(doc, self.bank))
        except UserError:
            return False

        def filled(a: dict[str, Answer]) -> dict[str, Answer]:
            return {k: v for k, v in a.items() if v.value is not None or v.note or v.evidence}

        return meta == self.meta and filled(answers) == filled(self.answers)

    def save(self) -> bool:
        """Write the file atomically if anything changed; False (and `save_error`) on failure.

        If the file was changed by someone else since we last read or wrote it, their version
        is merged first (our changes from this session win), so neither side loses anything.
        """
        if not self.has_name:
            return True  # nothing valid to write yet: the system name comes first
        with self.guard.saving_block():
            self._merge_outside_edits()
            data = self.text().encode("utf-8")
            if data == self.last_saved and self.path.exists():
                self.save_error = None
                return True
            try:
                atomic_write(self.path, data)
            except OSError as exc:
                self.save_error = f"could not save {self.display}: {exc.strerror or exc}"
                return False
            self.last_saved = data
            self.save_error = None
        return True

    def _merge_outside_edits(self) -> None:
        if self.last_saved is None:
            return
        try:
            on_disk = self.path.read_bytes()
        except OSError:
            return  # gone or unreadable: writing ours is all we can do
        if on_disk == self.last_saved:
            return
        try:
            doc = load_document(self.path, self.display)
            audit = audit_from_document(doc, self.bank)
        except UserError as exc:
            try:
                backup = write_new_beside(self.path, ".conflict", on_disk)
            except OSError:
                return
            first = exc.problems[0] if exc.problems else "invalid"
            self.notices.append(
                f"{self.display} was edited outside the walkthrough and is not valid ({first}); "
                f"that version is kept in {backup}"
            )
            self.last_saved = on_disk
            return
        meta, answers = _state_of(doc, audit)
        mine_meta, mine_answers = self.meta, self.answers
        self.meta, self.answers = meta, answers
        self._hold(doc)  # their layout and content; ours goes on top below
        for path in self.touched_meta:
            node: Any = mine_meta
            for part in path:
                node = node.get(part) if isinstance(node, dict) else None
            self._put_meta(path, node)
        for qid in self.touched_answers:
            if qid in mine_answers:
                self.answers[qid] = mine_answers[qid]
            else:
                self.answers.pop(qid, None)
        self.set_answer_order()
        if "bank" not in self.meta:
            self.meta["bank"] = {"id": self.bank.id, "version": self.bank.version}
        self.last_saved = on_disk
        self.notices.append(
            f"{self.display} was edited outside the walkthrough; merged those edits"
        )

    def set_answer_order(self) -> None:
        order = {q.id: i for i, q in enumerate(self.bank.questions)}
        self.answers = dict(
            sorted(self.answers.items(), key=lambda kv: order.get(kv[0], len(order)))
        )

    def parsed(self) -> Audit:
        """The file as `score` would read it, validated from the text we write."""
        text = self.text()
        doc: Document = (
            parse_json(text, self.display) if self.as_json else parse_yaml(text, self.display)
        )
        doc.raw = text.encode("utf-8")
        return audit_from_document(doc, self.bank)


def _state_of(doc: Document, audit: Audit) -> tuple[dict[str, Any], dict[str, Answer]]:
    """(metadata, answers) of a loaded file: metadata as written, the date as a date."""
    data = doc.data if isinstance(doc.data, dict) else {}
    meta = {k: v for k, v in data.items() if k != "answers"}
    if audit.meta.audit_date is not None:
        meta["audit_date"] = audit.meta.audit_date
    return meta, dict(audit.answers)


def _has_content(path: Path, name: str) -> bool:
    from ic_audit.loading import read_bytes

    return bool(read_bytes(path, name).strip())


# --------------------------------------------------------------------------------------- lock


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


# ----------------------------------------------------------------------------------- prompter


def _safe(text: str, keep_newlines: bool = False) -> str:
    """User or bank text made harmless for the terminal: no escape sequences, no rich markup."""
    from rich.markup import escape

    lines = str(text).split("\n") if keep_newlines else [str(text)]
    return escape("\n".join(one_line(line) for line in lines))


def _flag(reason: str | None) -> str:
    return f"  [bold red]RED FLAG:[/] [red]{_safe(reason)}[/]" if reason else ""


@dataclass
class QuestionView:
    """Everything one question screen shows."""

    question: Question
    section: Section
    number: int  # k in "question k of n"
    total: int
    answered: int
    current: Any
    note: str | None
    evidence: list[str]
    condition: str | None  # why a follow-up is asked


class Prompter:
    """Terminal I/O: rich for output, one `input()` line at a time for input."""

    def __init__(
        self,
        console: Console | None = None,
        read: Callable[[str], str] | None = None,
    ) -> None:
        if console is None:
            from rich.console import Console

            console = Console(highlight=False)
        self.console = console
        self._read = read or input
        self.metric_titles: dict[str, str] = {}  # the bank's, from `welcome`

    # -- basic

    def ask(self, prompt: str) -> str:
        """One line of input; EOFError / OSError / KeyboardInterrupt propagate to the engine."""
        # Prompts echo text from the answers file (current values, notes); `input()` prints
        # them as they are, so they are cleaned here, once for every prompt.
        prompt = one_line(prompt)
        while True:
            try:
                return self._read(prompt)
            except UnicodeDecodeError:
                self.error("that was not readable as UTF-8 text; type it again")

    def say(self, markup: str = "") -> None:
        self.console.print(markup, highlight=False)

    def info(self, text: str) -> None:
        self.console.print(f"[dim]{_safe(text)}[/]", highlight=False)

    def ok(self, text: str) -> None:
        self.console.print(f"[green]{_safe(text)}[/]", highlight=False)

    def warn(self, text: str) -> None:
        self.console.print(f"[yellow]! {_safe(text)}[/]", highlight=False)

    def error(self, text: str) -> None:
        self.console.print(f"[bold red]✗[/] [red]{_safe(text)}[/]", highlight=False)

    # -- screens

    def welcome(self, bank: Bank, display: str, new: bool) -> None:
        self.metric_titles = {m.id: m.title for m in bank.metrics}
        self.console.rule(f"[bold]ic-audit[/] · {_safe(bank.title)}")
        if new:
            self.say(
                f"New audit: answers will be saved to [bold]{_safe(display)}[/] after every answer."
            )
        self.info("At any prompt: ? help · s skip · b back · q save and quit · Ctrl-C also saves")

    def resume(
        self, display: str, answered: int, total: int, where: str | None, revisit: bool = False
    ) -> None:
        self.say(f"Resuming [bold]{_safe(display)}[/]: {answered} of {total} questions answered.")
        if where:
            verb = "Going through every answer again from" if revisit else "Continuing at"
            self.say(f"{verb} {_safe(where)}.")

    def section_intro(self, section: Section, index: int, count: int, questions: int) -> None:
        from rich.panel import Panel

        body = _safe(" ".join(section.intro.split())) if section.intro else ""
        n = f"{questions} question{'s' if questions != 1 else ''}"
        self.console.print()
        self.console.print(
            Panel(
                body or f"[dim]{n}[/]",
                title=f"[bold]Section {index} of {count}: {_safe(section.title)}[/]",
                subtitle=f"[dim]{n}[/]" if body else None,
                title_align="left",
                subtitle_align="right",
                expand=True,
            )
        )

    def question(self, v: QuestionView) -> None:
        q = v.question
        self.console.print()
        self.console.rule(style="dim")
        self.say(
            f"[bold cyan]Section: {_safe(v.section.title)} · question {v.number} of {v.total}[/]"
        )
        tags = [q.id, _TYPE_NAMES.get(q.type, q.type)]
        tags.append("required" if q.is_required else "optional")
        if q.metric:
            tags.append(f"metric: {self.metric_titles.get(q.metric, q.metric).lower()}")
        tags.append(f"{v.answered} answered so far")
        self.info(" · ".join(tags))
        if v.condition:
            self.say(f"[magenta]Follow-up: asked because {_safe(v.condition)}[/]")
        self.console.print()
        self.say(f"[bold]{_safe(' '.join(q.text.split()))}[/]")
        self.console.print()
        if q.options:
            for i, o in enumerate(q.options, 1):
                mark = ""
                if q.type == "multi" and o.exclusive:
                    mark = " [dim](on its own)[/]"
                self.say(f"  [bold]{i}.[/] {_safe(o.label)}{mark}")
            self.console.print()
        hint = self.input_hint(q)
        if not q.is_required:
            hint += " Optional: Enter alone skips it."
        self.say(f"[dim]{_safe(hint)}[/]")
        if v.current is not None:
            self.say(
                f"Current answer: [bold]{_safe(self.current_text(q, v.current))}[/]"
                "  [dim](Enter keeps it)[/]"
            )
        if v.note:
            self.say(f"[dim]Note: {_safe(v.note)}[/]")
        if v.evidence:
            self.say(f"[dim]Evidence: {_safe(', '.join(v.evidence))}[/]")
        self.info("? help · ?? rubric · s skip · b back · note edit note/evidence · q quit")

    @staticmethod
    def input_hint(q: Question) -> str:
        n = len(q.options or [])
        if q.type == "yes_no":
            return f"Type 1-{n}, or yes / no."
        if q.type == "single":
            return f"Type a number 1-{n}."
        if q.type == "multi":
            return f"Type one or more numbers 1-{n}, separated by commas or spaces (e.g. 1,3)."
        if q.type == "number":
            kind = "A whole number" if q.integer else "A number"
            unit = f" in {q.unit}" if q.unit else ""
            return f"{kind}{unit}; allowed: {q.range_text()}."
        if q.type == "date":
            return "A date as YYYY-MM-DD (e.g. 2026-10-01), or `today`."
        return "Free text, one line."

    @staticmethod
    def current_text(q: Question, value: Any) -> str:
        shown = q.display(value)
        if q.type in ("single", "yes_no"):
            index = list(q.option_map).index(value) + 1
            return f"{index}. {shown}"
        if q.type == "multi":
            order = list(q.option_map)
            numbers = ",".join(str(order.index(v) + 1) for v in value)
            return f"{numbers} ({shown})"
        return shown

    def help(self, q: Question) -> None:
        self.console.print()
        self.say(f"[bold]Help for {_safe(q.id)}[/]")
        self.say(_safe(" ".join(q.help.split())))
        if q.concept:
            self.say(f"[dim]Concept: {_safe(q.concept)}[/]")
        if q.references:
            self.say(f"[dim]References: {_safe('; '.join(q.references))}[/]")
        if q.when:
            self.say(f"[dim]Follow-up: applies when {_safe(q.when.describe())}.[/]")
        self.say(
            "[dim]Commands: s skip (leave unanswered) · b back · ?? rubric · note edit the "
            "note/evidence · clear remove the answer · q save and quit. To type text that "
            r"looks like a command, start it with a backslash (\b).[/]"
        )

    def rubric(self, q: Question) -> None:
        self.console.print()
        if not q.scored:
            self.say(f"[bold]{_safe(q.id)}[/] is not scored: it is kept for the report.")
            return
        self.say(f"[bold]Rubric for {_safe(q.id)}[/] (risk 0.00 = safest, 1.00 = riskiest)")
        if q.type == "multi" and q.multi_mode == "safeguards":
            self.info(
                "Safeguards: each one chosen lowers the risk; the risk shown is for "
                "choosing it alone."
            )
        elif q.type == "multi":
            self.info("Hazards: each one chosen raises the risk.")
        if q.options:
            for i, o in enumerate(q.options, 1):
                flag = _flag(o.red_flag)
                self.say(f"  {i}. {_safe(o.label)}  [dim]risk {q.option_risk(o):.2f}[/]{flag}")
        unit = f" {q.unit}" if q.unit else ""
        for band in q.bands or []:
            if band.min is not None and band.max is not None:
                span = f"{band.min:g} to under {band.max:g}{unit}"
            elif band.max is not None:
                span = f"under {band.max:g}{unit}"
            elif band.min is not None:
                span = f"{band.min:g}{unit} or more"
            else:
                span = "any value"
            self.say(
                f"  {_safe(span)}: {_safe(band.label)}  [dim]risk {band.risk:.2f}[/]"
                f"{_flag(band.red_flag)}"
            )
        if q.finding:
            self.say(f"[dim]A risky answer is reported as: {_safe(q.finding)}[/]")

    def _bullets(self, items: list[tuple[str, str]], colour: str) -> None:
        """`• ID: text` lines whose text wraps under itself, not under the bullet."""
        from rich.table import Table

        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for qid, text in items:
            grid.add_row(f"  [{colour}]•[/] {_safe(qid)}:", _safe(text))
        self.console.print(grid)

    def review(self, result: AuditResult, bank: Bank, display: str) -> None:
        from rich.table import Table

        self.console.print()
        self.console.rule("[bold]Review[/]")
        self.say(rating_line(result, "Rating preview"))
        c = result.counts
        self.info(
            f"{c.answered} of {c.applicable} applicable questions answered; answers saved in "
            f"{display}"
        )
        metrics = Table(show_edge=False, box=None, pad_edge=False)
        metrics.add_column("key metric")
        metrics.add_column("score", justify="right")
        metrics.add_column("rating")
        for m in result.metrics.values():
            metrics.add_row(
                _safe(m.title), f"{m.score:.1f}", f"[{RATING_STYLE[m.rating]}]{m.rating}[/]"
            )
        self.console.print()
        self.console.print(metrics)
        self.console.print()
        if result.red_flags:
            self.say(f"[bold red]Red flags ({len(result.red_flags)})[/]")
            self._bullets([(flag.question_id, flag.reason) for flag in result.red_flags], "red")
        else:
            self.say("[green]No red flags.[/]")
        self.console.print()
        if result.unanswered:
            self.say(
                f"[bold yellow]Unanswered required questions ({len(result.unanswered)})[/] "
                "[dim]— counted as their riskiest answer until answered[/]"
            )
            self._bullets(
                [(qid, " ".join(bank.by_id[qid].text.split())) for qid in result.unanswered],
                "yellow",
            )
        else:
            self.say("[green]Every required question that applies is answered.[/]")


# ------------------------------------------------------------------------------------- engine

_COMMANDS = {
    "?": "help", "help": "help",
    "??": "rubric", "rubric": "rubric",
    "s": "skip", "skip": "skip",
    "b": "back", "back": "back",
    "q": "quit", "quit": "quit", "exit": "quit",
    "note": "note", "clear": "clear",
}  # fmt: skip


def _command(raw: str) -> str | None:
    return _COMMANDS.get(raw.strip().lower())


def _split_command(raw: str) -> tuple[str | None, str]:
    """(command, text) for what was typed; a leading backslash makes a command word literal."""
    text = raw.strip()
    if text.startswith("\\"):
        return None, text[1:]
    return _command(raw), text


@dataclass(frozen=True)
class MetaField:
    path: tuple[str, ...]
    label: str
    required: bool = False
    is_date: bool = False


META_FIELDS = (
    MetaField(("system", "name"), "Name of the AI system under audit", required=True),
    MetaField(("system", "owner"), "Team that owns it"),
    MetaField(("auditor", "name"), "Your name (the auditor)"),
    MetaField(("auditor", "team"), "Your team"),
    MetaField(("audit_date",), "Audit date", is_date=True),
)


class Walkthrough:
    """The walkthrough's logic; all I/O goes through the `Prompter`."""

    def __init__(
        self,
        session: Session,
        prompter: Prompter,
        *,
        sections: Sequence[str] = (),
        revisit: bool = False,
        today: dt.date | None = None,
        resume_hint: str = "",
        score_hint: str = "",
    ) -> None:
        self.session = session
        self.bank = session.bank
        self.p = prompter
        self.revisit = revisit
        self.today = today or dt.date.today()
        self.resume_hint = resume_hint or f"ic-audit run {shlex.quote(session.display)}"
        self.score_hint = score_hint or f"ic-audit score {shlex.quote(session.display)}"
        chosen = set(section_ids(self.bank, sections))
        self.sections = [s for s in self.bank.sections if not chosen or s.id in chosen]
        self.section_filter = bool(chosen)
        self.walk: list[Question] = [q for s in self.sections for q in s.questions]
        self.high_water = -1
        self.last_section: str | None = None

    # -- navigation (pure logic)

    def applies(self) -> dict[str, bool]:
        return self.session.applicable()

    def applicable_walk(self) -> list[int]:
        applies = self.applies()
        return [i for i, q in enumerate(self.walk) if applies.get(q.id, True)]

    def start_position(self) -> int | None:
        """Where to begin: the first applicable question (revisit) or first unanswered one."""
        for i in self.applicable_walk():
            if self.revisit or not self.session.is_answered(self.walk[i].id):
                return i
        return None

    def resume_position(self) -> int | None:
        """Where a resumed walkthrough continues: after the furthest question answered.

        Not at the first unanswered one: that is usually a question the person skipped on
        purpose, and they would meet it again on every resume. What was skipped is offered
        at the end (the review's "go through the unanswered questions").
        """
        if self.revisit:
            return self.start_position()
        items = self.applicable_walk()
        answered = [i for i in items if self.session.is_answered(self.walk[i].id)]
        later = [i for i in items if answered and i > answered[-1]]
        return later[0] if later else self.start_position()

    def next_position(self, pos: int) -> int | None:
        for i in self.applicable_walk():
            if i <= pos:
                continue
            if (
                self.revisit
                or i <= self.high_water
                or not self.session.is_answered(self.walk[i].id)
            ):
                return i
        return None

    def previous_position(self, pos: int) -> int | None:
        earlier = [i for i in self.applicable_walk() if i < pos]
        return earlier[-1] if earlier else None

    def progress(self, pos: int) -> tuple[int, int, int]:
        """(k, n, answered) for "question k of n" over the applicable walked questions."""
        items = self.applicable_walk()
        k = sum(1 for i in items if i <= pos)
        answered = sum(1 for i in items if self.session.is_answered(self.walk[i].id))
        return k, len(items), answered

    # -- running

    def run(self) -> int:
        s = self.session
        self.p.welcome(self.bank, s.display, new=not s.existed)
        for warning in s.warnings:
            self.p.warn(f"warning: {warning}")
        if not s.existed:
            self.ask_metadata(list(META_FIELDS))
        else:
            missing = [f for f in META_FIELDS if s.get_meta(f.path) is None]
            if s.get_meta(("audit_date",)) is None:
                # Interrupted during the metadata questions last time: finish them.
                self.ask_metadata(missing)
            elif self.revisit and not self.section_filter:
                self.ask_metadata(list(META_FIELDS))
            items = self.applicable_walk()
            answered = sum(1 for i in items if s.is_answered(self.walk[i].id))
            start = self.resume_position()
            where = None
            if start is not None:
                k, n, _ = self.progress(start)
                where = f"{self.walk[start].id} (question {k} of {n})"
            self.p.resume(s.display, answered, len(items), where, self.revisit)
            skipped = [
                self.walk[i].id
                for i in items
                if start is not None and i < start and not s.is_answered(self.walk[i].id)
            ]
            if skipped:
                shown = ", ".join(skipped[:5])
                more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
                self.p.info(f"Left unanswered earlier: {shown}{more}; offered again at the end.")
        pos = self.resume_position()
        if pos is None and self.walk:
            self.p.info(
                "Every question in scope is answered; use --revisit to go through them again."
            )
        while True:
            self.walk_from(pos)
            if not self.review():
                return EXIT_OK
            self.revisit = False  # "answer the unanswered ones now"
            self.high_water = -1
            pos = self.start_position()

    def walk_from(self, pos: int | None) -> None:
        while pos is not None:
            self.high_water = max(self.high_water, pos)
            q = self.walk[pos]
            section = self.bank.section_by_id[q.section]
            if section.id != self.last_section:
                if self._forward_into(section):
                    self.p.section_intro(
                        section,
                        self.sections.index(section) + 1,
                        len(self.sections),
                        len(section.questions),
                    )
                self.last_section = section.id
            action = self.ask_question(pos)
            if action == "back":
                prev = self.previous_position(pos)
                if prev is None:
                    self.p.info("This is the first question.")
                else:
                    pos = prev
                continue
            pos = self.next_position(pos)

    def _forward_into(self, section: Section) -> bool:
        if self.last_section is None:
            return True
        ids = [s.id for s in self.sections]
        return ids.index(section.id) > ids.index(self.last_section)

    # -- metadata

    def ask_metadata(self, fields: list[MetaField]) -> None:
        s = self.session
        if not fields:
            return
        self.p.say("\n[bold]About this audit[/]")
        self.p.info("Enter accepts the value in [brackets]; b goes back; q saves and quits.")

        def unasked(f: MetaField) -> bool:
            # A team without an auditor's name would not be a valid file: not asked.
            return f.path == ("auditor", "team") and s.get_meta(("auditor", "name")) is None

        i = 0
        while i < len(fields):
            f = fields[i]
            if unasked(f):
                i += 1
                continue
            current = s.get_meta(f.path)
            default: Any = current
            if f.is_date and default is None:
                default = self.today
            shown = default.isoformat() if isinstance(default, dt.date) else default
            if shown:
                hint = f" [{shown}]" + ("" if f.required or f.is_date else " (- removes)")
            else:
                hint = "" if f.required else " (Enter to skip)"
            raw = self.read(f"{f.label}{hint}: ")
            cmd, text = _split_command(raw)
            if cmd == "quit":
                raise Quit()
            if cmd == "back":
                i = max(0, i - 1)
                while i > 0 and unasked(fields[i]):
                    i -= 1
                continue
            if cmd in ("help", "rubric"):
                self.p.info("This is recorded at the top of the answers file and the report.")
                continue
            if cmd == "skip" or (cmd is None and not text and default is None):
                if f.required and not current:
                    self.p.error("the system's name is required; type it")
                    continue
                i += 1
                continue
            if cmd is None and not text:
                s.set_meta(f.path, default)
                i += 1
                self.save()
                continue
            if cmd is not None:
                self.p.error(f"`{text}` does nothing here; type a value")
                continue
            if text == "-" and not f.required:
                s.set_meta(f.path, None)
                if f.path == ("auditor", "name"):
                    s.set_meta(("auditor",), None)
                i += 1
                self.save()
                continue
            if f.is_date:
                if text.lower() == "today":
                    text = self.today.isoformat()
                try:
                    value: Any = dt.date.fromisoformat(text)
                except ValueError:
                    self.p.error(f"{text[:60]!r} is not a date; use YYYY-MM-DD, e.g. 2026-10-01")
                    continue
            else:
                if len(text) > _TEXT_MAX:
                    self.p.error(f"that is {len(text):,} characters; the limit is {_TEXT_MAX}")
                    continue
                value = text
            s.set_meta(f.path, value)
            i += 1
            self.save()

    # -- one question

    def ask_question(self, pos: int) -> Action:
        q = self.walk[pos]
        s = self.session
        while True:
            answer = s.answers.get(q.id)
            k, n, answered = self.progress(pos)
            condition = None
            if q.when is not None:
                parent = s.value(q.when.question)
                pq = self.bank.by_id.get(q.when.question)
                if parent is None or pq is None:
                    condition = (
                        f"{q.when.question} is unanswered (it applies when {q.when.describe()})"
                    )
                else:
                    condition = f"{q.when.question} is {pq.display(parent)}"
            self.p.question(
                QuestionView(
                    question=q,
                    section=self.bank.section_by_id[q.section],
                    number=k,
                    total=n,
                    answered=answered,
                    current=answer.value if answer else None,
                    note=answer.note if answer else None,
                    evidence=list(answer.evidence) if answer else [],
                    condition=condition,
                )
            )
            result = self._answer_loop(q)
            if result == "again":
                continue
            return result

    def _answer_loop(self, q: Question) -> Action | Literal["again"]:
        s = self.session
        while True:
            raw = self.read("answer> ")
            cmd = _command(raw)
            if raw.strip().startswith("\\"):
                cmd = None
                raw = raw.strip()[1:]
            current = s.value(q.id)
            if cmd == "help":
                self.p.help(q)
                continue
            if cmd == "rubric":
                self.p.rubric(q)
                continue
            if cmd == "quit":
                raise Quit()
            if cmd == "back":
                return "back"
            if cmd == "skip":
                if current is None:
                    self.p.info(f"Skipped {q.id}: left unanswered.")
                else:
                    self.p.info(f"Skipped {q.id}: answer kept.")
                return "next"
            if cmd == "clear":
                old = s.answers.get(q.id)
                if old is None or old.value is None:
                    self.p.info(f"{q.id} has no answer to clear.")
                    continue
                s.set_answer(q.id, old.model_copy(update={"value": None}))
                self.save()
                self.p.info(f"Cleared the answer to {q.id}.")
                return "next"
            if cmd == "note":
                self.ask_note_evidence(q)
                return "again"
            if not raw.strip():
                if current is not None:
                    return "next"
                if not q.is_required:
                    self.p.info(f"Skipped {q.id} (optional).")
                    return "next"
                self.p.error(
                    f"no answer typed; {Prompter.input_hint(q)[0].lower()}"
                    f"{Prompter.input_hint(q)[1:]} Or s to skip."
                )
                continue
            try:
                value = self.parse(q, raw)
            except ValueError as exc:
                self.p.error(str(exc))
                continue
            old = s.answers.get(q.id)
            changed = old is None or old.value != value
            new = (old or Answer()).model_copy(update={"value": value})
            s.set_answer(q.id, new)
            self.save()
            self.p.ok(f"✓ {q.id}: {q.display(value)}")
            fresh = old is not None and old.note is None and not old.evidence
            if (changed or fresh) and self.ask_note_evidence(q) == "back":
                return "again"
            return "next"

    def parse(self, q: Question, raw: str) -> Any:
        """Typed text -> a clean value, through `Question.coerce` (raises ValueError)."""
        text = raw.strip()
        options = list(q.option_map)
        if q.type in ("yes_no", "single"):
            if text.isdigit():
                i = int(text)
                if 1 <= i <= len(options):
                    return q.coerce(options[i - 1])
                raise ValueError(f"{i} is not one of the choices; type a number 1-{len(options)}")
            elif q.type == "yes_no" and text.lower() in ("y", "n"):
                return q.coerce("yes" if text.lower() == "y" else "no")
            elif text.lower() in q.option_map:
                return q.coerce(text.lower())
            try:
                return q.coerce(text)
            except ValueError as exc:
                raise ValueError(f"{exc} (or type a number 1-{len(options)})") from None
        if q.type == "multi":
            tokens = [t for t in re.split(r"[,;\s]+", text) if t]
            values: list[Any] = []
            for t in tokens:
                if t.isdigit() and 1 <= int(t) <= len(options):
                    values.append(options[int(t) - 1])
                elif t.isdigit():
                    raise ValueError(
                        f"{t} is not one of the choices; type numbers 1-{len(options)}"
                    )
                else:
                    values.append(t.lower() if t.lower() in q.option_map else t)
            alone = [v for v in values if v in q.option_map and q.option_map[v].exclusive]
            if alone and len(set(values)) > 1:
                label = q.option_map[alone[0]].label
                raise ValueError(f"'{label}' stands on its own; choose it alone or leave it out")
            try:
                return q.coerce(values)
            except ValueError as exc:
                if all(v in q.option_map for v in values):
                    raise  # a real choice problem (empty, twice)
                raise ValueError(f"{exc} (or type numbers 1-{len(options)})") from None
        if q.type == "number":
            if q.unit and text.lower().endswith(q.unit.lower()):
                text = text[: -len(q.unit)].strip()
            return q.coerce(_number(text))
        if q.type == "date":
            if text.lower() == "today":
                text = self.today.isoformat()
            return q.coerce(text)
        if q.type == "text":
            if any(0xD800 <= ord(ch) <= 0xDFFF for ch in raw):
                raise ValueError("the text holds bytes that are not UTF-8; type it again")
            return q.coerce(raw.strip())
        return q.coerce(text)  # pragma: no cover - every type is handled above

    def ask_note_evidence(self, q: Question) -> Literal["done", "back"]:
        """The optional note and evidence for the answer to ``q``; saved after each."""
        s = self.session
        for kind in ("note", "evidence"):
            while True:
                answer = s.answers.get(q.id) or Answer()
                if kind == "note":
                    cur = answer.note
                    label = (
                        f"Note — Enter keeps “{_short(cur)}”, - removes it: "
                        if cur
                        else "Note (Enter to skip): "
                    )
                else:
                    items = list(answer.evidence)
                    label = (
                        f"Evidence — Enter keeps {_short(', '.join(items))}, - removes, "
                        "+ITEM adds: "
                        if items
                        else "Evidence: links, ticket ids, file paths, comma-separated "
                        "(Enter to skip): "
                    )
                raw = self.read(label)
                cmd, text = _split_command(raw)
                if cmd == "quit":
                    raise Quit()
                if cmd == "back":
                    return "back"
                if cmd in ("help", "rubric"):
                    self.p.info(
                        "A note explains the answer (one line). Evidence is where to check "
                        "it: links, ticket ids or file paths, separated by commas. Both go "
                        "into the report."
                    )
                    continue
                if cmd == "skip" or not text:
                    break
                if kind == "note":
                    if text == "-":
                        s.set_answer(q.id, answer.model_copy(update={"note": None}))
                    elif len(text) > _NOTE_MAX:
                        self.p.error(
                            f"the note is {len(text):,} characters; the limit is {_NOTE_MAX:,}"
                        )
                        continue
                    else:
                        s.set_answer(q.id, answer.model_copy(update={"note": text}))
                else:
                    if text == "-":
                        s.set_answer(q.id, answer.model_copy(update={"evidence": []}))
                    else:
                        add = text.startswith("+")
                        parts = [p.strip() for p in text.lstrip("+").split(",") if p.strip()]
                        long = [p for p in parts if len(p) > _EVIDENCE_MAX]
                        if long:
                            self.p.error(
                                f"an evidence reference is longer than "
                                f"{_EVIDENCE_MAX} characters; shorten it"
                            )
                            continue
                        merged = list(answer.evidence) + parts if add else parts
                        merged = list(dict.fromkeys(merged))[:200]
                        s.set_answer(q.id, answer.model_copy(update={"evidence": merged}))
                self.save()
                break
        return "done"

    # -- end

    def review(self) -> bool:
        """The review screen and what-next menu; True to go back to unanswered questions."""
        s = self.session
        if not s.has_name:
            return False
        from ic_audit.scoring import score_audit

        result = score_audit(self.bank, s.parsed())
        self.p.review(result, self.bank, s.display)
        applies = self.applies()
        todo = [q.id for q in self.walk if applies.get(q.id, True) and not s.is_answered(q.id)]
        base = s.path.with_name(s.path.stem + "-report")
        show_menu = True
        while True:
            if show_menu:
                self.p.say("\n[bold]What next?[/]")
                self.p.say(f"  [bold]1.[/] Write the Markdown report ({_safe(str(base))}.md)")
                self.p.say(f"  [bold]2.[/] Write the HTML report ({_safe(str(base))}.html)")
                if todo:
                    required = sum(1 for qid in todo if self.bank.by_id[qid].is_required)
                    self.p.say(
                        f"  [bold]3.[/] Go through the {len(todo)} unanswered question"
                        f"{'s' if len(todo) != 1 else ''} now ({required} required)"
                    )
                elsewhere = len(result.unanswered) - sum(
                    1 for qid in todo if self.bank.by_id[qid].is_required
                )
                if self.section_filter and elsewhere > 0:
                    self.p.info(
                        f"{elsewhere} unanswered required question"
                        f"{'s are' if elsewhere != 1 else ' is'} in sections outside --section; "
                        f"answer {'them' if elsewhere != 1 else 'it'} with: "
                        f"ic-audit run {shlex.quote(s.display)}"
                    )
                self.p.info("Enter or q: finish (everything is saved)")
                show_menu = False
            raw = self.read("choice> ").strip().lower()
            if raw in ("", "q", "quit", "exit"):
                self.p.say(
                    f"Saved [bold]{_safe(s.display)}[/]. Score it with "
                    f"[bold]{_safe(self.score_hint)}[/]; change answers with "
                    f"[bold]{_safe(self.resume_hint)} --revisit[/]."
                )
                return False
            if raw in ("1", "2", "md", "html"):
                fmt = "md" if raw in ("1", "md") else "html"
                self.write_report(result, Path(f"{base}.{fmt}"), fmt)
                show_menu = True
                continue
            if raw == "3" and todo:
                return True
            if raw in ("?", "help"):
                self.p.info(
                    "Type 1 or 2 to write a report next to the answers file"
                    + (", 3 to answer what is left" if todo else "")
                    + "; Enter to finish."
                )
                continue
            self.p.error(
                f"{raw[:40]!r} is not a choice; type 1, 2{', 3' if todo else ''} or press Enter"
            )

    def write_report(self, result: AuditResult, target: Path, fmt: str) -> None:
        from ic_audit.render import REPORT_FORMATS

        try:
            text = REPORT_FORMATS[fmt](result)
        except Exception as exc:  # a renderer bug must not end the session
            self.p.error(
                f"could not render the {fmt} report ({type(exc).__name__}: {exc}); the "
                f"answers are saved: try `{self.score_hint.replace(' score ', ' report ', 1)} "
                f"-o {target}`"
            )
            return
        try:
            atomic_write(target, text)
        except OSError as exc:
            self.p.error(f"could not write {target}: {exc.strerror or exc}")
            return
        self.p.ok(f"Wrote {target}")

    # -- helpers

    def read(self, prompt: str) -> str:
        while True:
            try:
                text = self.p.ask(prompt)
            except EOFError:
                raise Quit("end of input") from None
            except OSError:
                # The terminal went away under us: same as a hang-up.
                raise Interrupted(_SIGHUP) from None
            # Typed text holds only what the file loader accepts (an arrow key's escape
            # sequence, bytes the terminal could not decode): nothing saved is refused later.
            bad = refused_character(text)
            if bad is None:
                return text
            self.p.error(f"that holds {bad}, which an answers file cannot hold; type it again")

    def save(self) -> None:
        ok = self.session.save()
        for notice in self.session.notices:
            self.p.warn(notice)
        self.session.notices.clear()
        if not ok and self.session.save_error:
            self.p.error(
                f"{self.session.save_error}; your answers are kept and saving is retried "
                "after the next one"
            )


def _number(text: str) -> Any:
    """Typed digits as an int or float, so `coerce` judges the number (e.g. "not a whole
    number" for 2.5); anything else (1:30, 0x10, 1_000) is passed on as text for `coerce` to
    reject, as the file loader does."""
    value = parse_decimal(text)
    return text if value is None else value


def _short(text: str | None, width: int = 40) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------------------------- top level


def section_ids(bank: Bank, sections: Sequence[str]) -> list[str]:
    """The bank's ids for what was given to --section; a UsageError names one it lacks.

    Section ids are lower-case in banks; what people type (`OVERSIGHT`, stray spaces, dashes
    for underscores) is accepted when it names a section.
    """
    by_key = {s.id.lower().replace("-", "_"): s.id for s in bank.sections}
    ids: list[str] = []
    for raw in sections:
        key = raw.strip().lower().replace("-", "_")
        if key not in by_key:
            known = ", ".join(s.id for s in bank.sections)
            raise UsageError(f"no section {raw!r} in the bank; sections are: {known}")
        ids.append(by_key[key])
    return list(dict.fromkeys(ids))


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
            prompter.console.print(
                f"\n{reason}: nothing saved yet (no system name given); start again with: "
                f"{_safe(hint)}",
                highlight=False,
            )
            return code
        if not saved:
            prompter.error(f"{session.save_error}; here is the file, copy it:")
            prompter.console.out(session.text(), highlight=False)
            return EXIT_USAGE if code == EXIT_OK else code
        n = sum(1 for a in session.answers.values() if a.answered)
        prompter.console.print(
            f"\n{reason}: {n} answer{'s' if n != 1 else ''} saved in {_safe(session.display)}; "
            f"resume with: {_safe(hint)}",
            highlight=False,
            soft_wrap=True,
        )
    except Exception:  # the terminal may be gone (SIGHUP); the file is saved regardless
        pass
    return code
