"""The answers file being edited: metadata and answers in memory, merging edits made to the
file meanwhile, and saving atomically after every change through `ic_audit.answers_layout`."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ic_audit.answers import Answer, AnswersFile, Audit, audit_from_document
from ic_audit.answers_layout import Layout
from ic_audit.answers_text import answers_text
from ic_audit.atomic import atomic_write, write_new_beside
from ic_audit.bank import Bank
from ic_audit.errors import UserError
from ic_audit.loading import Document, load_document, parse_json
from ic_audit.walkthrough.signals import _Guard
from ic_audit.yaml_events import parse_yaml


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
