"""Migrating an answers file to the current bank's major version (`ic-audit migrate`).

The bank says how: a question's `replaces` entries name the ids of an earlier version it takes
over and map their old values to its own. The rules, in order:

- An answer whose id the current bank still has is kept as it is (its comments too), unless its
  value is no longer valid, or the question renames its values (`replaces` naming its own id).
- An answer to an old id is carried to every question that replaces it, its values mapped
  (several values of one old multiple-choice answer that map into a single-choice question keep
  the riskiest; several old answers feeding one multiple-choice question are combined, its
  exclusive "none" dropped when another value is there). Its note and evidence go along.
- Nothing is dropped. An old value no question maps, an old answer with no value map (an old
  number question), or one the current id refuses, is listed in the result and kept, word for
  word, as a note on the nearest question: the first one (in bank order) that replaces the old
  id, or the kept question itself. An old id no question replaces has no nearest question: it
  goes to the file's top-level `migration_notes` list.
- `bank.version` becomes the current version.

`migrate_file` writes the result atomically (to ``-o`` or in place) after keeping the original
beside it as ``FILE.bak-OLDVERSION`` (never over an existing backup). YAML is rewritten with the
walkthrough's round-trip writer, so comments stay wherever the answer under them stays.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ic_audit.answers import Answer, AnswersFile, audit_from_document, major_version
from ic_audit.bank import Bank, Question, Replacement
from ic_audit.errors import Problem, UserError
from ic_audit.limits import EVIDENCE_COUNT_MAX
from ic_audit.loading import Document, decode_text, load_document, parse_document
from ic_audit.messages import pydantic_problems


@dataclass(frozen=True)
class Unmapped:
    """An old answer (or part of one) that no question of the current bank holds as a value."""

    old_id: str
    value: Any  # the old value(s) not carried, as the file wrote them
    reason: str
    kept_on: str | None  # the question whose note keeps it; None: top-level `migration_notes`

    def describe(self) -> str:
        """One plain line for the summary, e.g. ``GD-02 (old answer 1.8): the new question GD-11
        asks differently; answer GD-11 again (the old answer is kept as a note on it)``."""
        if self.kept_on is None:
            where = "the old answer is kept under migration_notes at the end of the file"
        elif self.reason.endswith(f"answer {self.kept_on} again"):
            where = "the old answer is kept as a note on it"
        else:
            where = f"the old answer is kept as a note on {self.kept_on}"
        return f"{self.old_id} (old answer {_show(self.value)}): {self.reason} ({where})"


@dataclass
class Migration:
    """What `migrate_document` made of an answers file."""

    old_version: str
    new_version: str
    text: str  # the migrated file
    kept: list[str] = field(default_factory=list)  # ids copied as they were
    mapped: list[tuple[str, str]] = field(default_factory=list)  # (old id, new id) carried
    unmapped: list[Unmapped] = field(default_factory=list)


@dataclass
class _Target:
    """What the old answers bring to one question of the current bank."""

    values: list[tuple[str, str]] = field(default_factory=list)  # (new value, from old id)
    notes: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    own: Answer | None = None  # the answer already given under this id, when valid


def backup_path(path: Path, old_version: str) -> Path:
    """The first backup name of ``path`` (later ones add ``-2``, ``-3``... beside it)."""
    return path.with_name(f"{path.name}.bak-{old_version}")


def migrate_file(path: Path, bank: Bank, output: Path | None = None) -> tuple[Migration, Path]:
    """Migrate ``path`` for ``bank`` and write it; returns the migration and the backup kept
    (``path`` itself when ``-o`` names another file, which leaves the original in place)."""
    from ic_audit.atomic import atomic_write, write_new_beside

    doc = load_document(path)
    migration = migrate_document(doc, bank)
    in_place = output is None or _same_file(output, path)
    if output is not None and not in_place:
        backup = backup_path(path, migration.old_version)
        if Path(os.path.abspath(output)) == Path(os.path.abspath(backup)):
            raise UserError.one(
                str(output),
                f"is the name migrate keeps {path}'s backup under; choose another -o",
            )
        if os.path.lexists(output):
            raise UserError.one(
                str(output),
                "already exists; migrate never writes over a file: choose another -o or remove it",
            )
    target = output if output is not None and not in_place else path
    try:
        if in_place:
            kept = write_new_beside(path, f".bak-{migration.old_version}", doc.raw)
        else:
            kept = path
        if not Path(os.path.realpath(target)).parent.is_dir():
            raise UserError.one(str(target), "its directory does not exist; create it first")
        atomic_write(target, migration.text)
    except OSError as exc:
        raise UserError.one(str(target), f"cannot write: {exc.strerror or exc}") from None
    return migration, kept


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def migrate_document(doc: Document, bank: Bank) -> Migration:
    """The migrated text of an answers file read into ``doc``, and what happened to each
    answer. Raises `UserError` for a file that cannot or need not be migrated."""
    name = doc.name
    if doc.problems:
        raise UserError(doc.problems)
    data = doc.data
    if not isinstance(data, dict):
        raise UserError.one(name, "must be a mapping with system, bank and answers", 1)
    old_version = _check_bank(doc, bank)
    _check_meta(doc)
    old_answers = _read_answers(doc)

    migration = Migration(old_version, bank.version, "")
    by_old: dict[str, list[tuple[Question, Replacement]]] = {}
    for q in bank.questions:
        for r in q.replaces:
            by_old.setdefault(r.id, []).append((q, r))
    targets: dict[str, _Target] = {}
    loose: list[str] = []
    origin = f"(bank {old_version})"

    for qid, answer in old_answers.items():
        kept = bank.by_id.get(qid)
        renames = next((r for r in kept.replaces if r.id == qid), None) if kept else None
        if kept is not None and renames is None:
            _keep(kept, answer, targets, migration, origin)
            continue
        feeds = by_old.get(qid, [])
        if not feeds:
            if answer.value is not None or answer.note or answer.evidence:
                what = f"no question of bank {bank.id} {bank.version} takes its place"
                migration.unmapped.append(Unmapped(qid, answer.value, what, None))
                loose.append(_record(qid, origin, answer, what))
            continue
        _carry(qid, answer, feeds, targets, migration, origin)

    new_answers = {qid: answers for qid, answers in _build(bank, targets, migration, origin)}
    migration.text = _write(doc, bank, old_answers, new_answers, loose)
    _check_result(doc, bank, migration.text)
    return migration


def _check_bank(doc: Document, bank: Bank) -> str:
    ref = doc.data.get("bank")
    version = ref.get("version") if isinstance(ref, dict) else None
    ref_id = ref.get("id") if isinstance(ref, dict) else None
    line = doc.line(("bank",))
    if not isinstance(version, str) or not isinstance(ref_id, str):
        raise UserError.one(
            doc.name,
            "has no bank id and version to migrate from; add the bank it was answered against, "
            'e.g. bank: {id: ic-core, version: "1.0"}',
            line,
        )
    if ref_id != bank.id:
        raise UserError.one(
            doc.name,
            f"bank.id is {ref_id!r} but the bank in use is {bank.id!r}; migrate moves answers "
            "between versions of one bank: pass the right one with --bank",
            doc.line(("bank", "id")),
        )
    old, new = major_version(version), major_version(bank.version)
    if old == new:
        raise UserError.one(
            doc.name,
            f"already answered against bank {bank.id} {version}, the current major version "
            f"({bank.version}); nothing to migrate",
            doc.line(("bank", "version")),
        )
    if old.isdigit() and new.isdigit() and int(old) > int(new):
        raise UserError.one(
            doc.name,
            f"answered against bank {bank.id} {version}, newer than the bank in use "
            f"({bank.version}); use the ic-audit release that ships it",
            doc.line(("bank", "version")),
        )
    return version


def _check_meta(doc: Document) -> None:
    """Everything but the answers must already be valid: migrate moves answers, nothing else."""
    rest = {k: v for k, v in doc.data.items() if k != "answers"}
    try:
        AnswersFile.model_validate(rest)
    except ValidationError as exc:
        raise UserError(pydantic_problems(exc, doc)) from None


def _read_answers(doc: Document) -> dict[str, Answer]:
    raw_answers = doc.data.get("answers")
    if raw_answers is None:
        return {}
    if not isinstance(raw_answers, dict):
        raise UserError.one(
            doc.name, "answers must be a mapping of question id to answer", doc.line(("answers",))
        )
    problems: list[Problem] = []
    out: dict[str, Answer] = {}
    for qid, raw in raw_answers.items():
        if not isinstance(raw, dict):
            out[qid] = Answer(value=_word(raw))
            continue
        extra = set(raw) - {"value", "note", "evidence"}
        if extra:
            problems.append(
                Problem(
                    doc.name,
                    f"unknown key {sorted(extra)[0]!r} in the long form; use value, note, evidence",
                    doc.line(("answers", qid, sorted(extra)[0])),
                    qid,
                )
            )
            continue
        try:
            answer = Answer.model_validate(raw)
        except ValidationError as exc:
            for p in pydantic_problems(exc, doc, ("answers", qid)):
                problems.append(Problem(p.file, p.message, p.line, qid))
            continue
        answer.value = _word(answer.value)
        out[qid] = answer
    if problems:
        raise UserError(problems)
    return out


def _word(value: Any) -> Any:
    """Yes/no as the words a bank maps (`yes:` unquoted is a YAML boolean)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return [_word(v) for v in value]
    return value


def _keep(
    q: Question, answer: Answer, targets: dict[str, _Target], migration: Migration, origin: str
) -> None:
    target = targets.setdefault(q.id, _Target())
    if answer.value is None:
        target.own = answer
        migration.kept.append(q.id)
        return
    try:
        value = q.coerce(answer.value)
    except ValueError as exc:
        why = f"no longer a valid answer ({exc}); answer {q.id} again"
        migration.unmapped.append(Unmapped(q.id, answer.value, why, q.id))
        target.notes.append(_record(q.id, origin, answer, why))
        target.evidence += answer.evidence
        return
    del value  # valid: the answer stays exactly as written (so its lines stay untouched)
    target.own = answer
    migration.kept.append(q.id)


def _carry(
    qid: str,
    answer: Answer,
    feeds: list[tuple[Question, Replacement]],
    targets: dict[str, _Target],
    migration: Migration,
    origin: str,
) -> None:
    given = answer.value if isinstance(answer.value, list) else [answer.value]
    given = [v for v in given if v is not None]
    carried: set[int] = set()
    for q, r in feeds:
        target = targets.setdefault(q.id, _Target())
        values = []
        for i, v in enumerate(given):
            new = r.values.get(v) if isinstance(v, str) else None
            if new is None and r.id == q.id and isinstance(v, str) and v in q.option_map:
                new = v  # a renaming question keeps the values it did not rename
            if new is not None:
                values.append((new, qid))
                carried.add(i)
        if values:
            target.values += values
            migration.mapped.append((qid, q.id))
        if answer.note:
            target.notes.append(answer.note if qid == q.id else f"{qid} {origin}: {answer.note}")
        if values or not given:
            target.evidence += answer.evidence
    left = [v for i, v in enumerate(given) if i not in carried]
    if not left:
        return
    nearest = feeds[0][0]
    if all(not r.values for _, r in feeds):
        news = [q.id for q, _ in feeds]
        if len(news) == 1:
            why = f"the new question {news[0]} asks differently; answer {news[0]} again"
        else:
            why = f"the new questions {', '.join(news)} ask differently; answer them again"
    else:
        why = f"no question of bank {migration.new_version} has a choice for this answer; "
        why += f"answer {nearest.id} again"
    shown: Any = left if isinstance(answer.value, list) else left[0]
    migration.unmapped.append(Unmapped(qid, shown, why, nearest.id))
    record = answer.model_copy(update={"value": shown, "note": None})
    target = targets[nearest.id]
    target.notes.append(_record(qid, origin, record, why))
    if not carried:
        target.evidence += answer.evidence


def _record(qid: str, origin: str, answer: Answer, why: str) -> str:
    """An old answer written out in full, for a note: nothing of it is lost."""
    parts = [f"{qid} {origin} was answered {_show(answer.value)}, not migrated: {why}."]
    if answer.note:
        parts.append(f"Its note: {answer.note}")
    if answer.evidence:
        parts.append(f"Its evidence: {', '.join(answer.evidence)}")
    return " ".join(parts)


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if value is None:
        return "(blank)"
    return str(value)


def _build(
    bank: Bank, targets: dict[str, _Target], migration: Migration, origin: str
) -> Iterable[tuple[str, Answer]]:
    """The new answer of each question the old file feeds, in bank order."""
    for q in bank.questions:
        target = targets.get(q.id)
        if target is None:
            continue
        value = None if target.own is None else target.own.value
        notes = list(target.notes)
        if target.values:
            mapped = _combine(q, target.values)
            if value is None:
                value = mapped
            elif mapped != q.coerce(value):
                sources = sorted({old for _, old in target.values})
                why = f"{q.id} already has its own answer, which is kept"
                for old in sources:
                    shown = [v for v, o in target.values if o == old]
                    migration.unmapped.append(Unmapped(old, shown, why, q.id))
                notes.append(
                    f"{', '.join(sources)} {origin} mapped to {_show(mapped)}, not migrated: {why}."
                )
        own_note = target.own.note if target.own is not None else None
        note = "\n\n".join(n for n in [own_note, *notes] if n) or None
        own_evidence = target.own.evidence if target.own is not None else []
        evidence = list(dict.fromkeys([*own_evidence, *target.evidence]))[:EVIDENCE_COUNT_MAX]
        if value is None and note is None and not evidence and target.own is None:
            continue
        yield q.id, Answer(value=value, note=note, evidence=evidence)


def _combine(q: Question, values: list[tuple[str, str]]) -> Any:
    return q.kind.combine(q, list(dict.fromkeys(v for v, _ in values)))


def _write(
    doc: Document,
    bank: Bank,
    old: dict[str, Answer],
    new: dict[str, Answer],
    loose: list[str],
) -> str:
    from ic_audit.answers_layout import Layout

    as_json = _is_json(doc)
    layout = Layout.parse(decode_text(doc.raw, doc.name), as_json)
    top = layout.data
    answers = top.get("answers")
    if answers is not None:
        for qid in list(answers):
            if qid not in new:
                if as_json:
                    del answers[qid]
                else:
                    _delete_keeping_comments(answers, qid)
    old_meta = {k: _plain(v) for k, v in doc.data.items() if k != "answers"}
    new_meta = dict(old_meta)
    new_meta["bank"] = {**old_meta["bank"], "version": bank.version}
    if loose:
        new_meta["migration_notes"] = [*(old_meta.get("migration_notes") or []), *loose]
    before = {qid: a for qid, a in old.items() if qid in new}
    layout.update(bank, (old_meta, before), (new_meta, new))
    return layout.text()


def _delete_keeping_comments(mapping: Any, name: str) -> None:
    """Remove an answer; the comment lines above it and below it go above the answer that
    follows."""
    from ic_audit.answers_layout import _claim_comments, _delete

    _claim_comments(mapping, list(mapping).index(name) + 1)
    _delete(mapping, name)


def _is_json(doc: Document) -> bool:
    # As the loader decides: by the suffix.
    return doc.name.lower().endswith(".json")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _check_result(doc: Document, bank: Bank, text: str) -> None:
    """The migrated file must read back as a valid answers file for the bank in use."""
    suffix = ".json" if _is_json(doc) else ".yaml"
    try:
        audit_from_document(
            parse_document(text.encode("utf-8"), Path("x" + suffix), doc.name), bank
        )
    except UserError as exc:
        raise UserError(
            Problem(p.file, f"after migration: {p.message}", None, p.question_id)
            for p in exc.problems
        ) from None
