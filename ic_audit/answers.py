"""The answers file: its format (pydantic models), loading, and validation against a bank.

Shorthand (``GD-01: yes``) and long form (``value``/``note``/``evidence``) mean the same; both
become an `Answer`. Every value goes through `Question.coerce`, the same code the walkthrough
uses for what a person types at a prompt.
"""

import datetime as dt
import difflib
import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from ic_audit.bank import Bank, Question, parse_date
from ic_audit.errors import Problem, UserError
from ic_audit.evidence import Evidence, EvidenceSection, load_evidence
from ic_audit.gc_pause import paused_gc
from ic_audit.limits import EVIDENCE_COUNT_MAX, EVIDENCE_ITEM_MAX, LONG_TEXT_MAX, TEXT_MAX
from ic_audit.loading import Document, check_line, check_text, load_document
from ic_audit.messages import pydantic_problems

if TYPE_CHECKING:
    from pydantic import TypeAdapter

# Every string passes `check_text`: the walkthrough builds these models from what a person types,
# so nothing can be saved that loading the file would refuse.
Text = Annotated[str, Field(min_length=1, max_length=TEXT_MAX), AfterValidator(check_text)]
LongText = Annotated[str, Field(max_length=LONG_TEXT_MAX), AfterValidator(check_text)]
# Ids and versions are also one line: they are printed inside other lines.
LineText = Annotated[str, Field(min_length=1, max_length=TEXT_MAX), AfterValidator(check_line)]
EvidenceItem = Annotated[
    str, Field(min_length=1, max_length=EVIDENCE_ITEM_MAX), AfterValidator(check_text)
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _strict_date(v: Any) -> Any:
    # pydantic would read an integer as a Unix timestamp: a silent misreading we refuse.
    return parse_date(v)


class SystemInfo(_Model):
    """The AI deployment under audit."""

    name: Text
    owner: Text | None = None
    description: LongText | None = None
    version: Text | None = None


class Person(_Model):
    name: Text
    team: Text | None = None
    role: Text | None = None
    email: Text | None = None
    # False when the auditor belongs to the team that deploys the system (a finding); left out,
    # independence is judged from `team` against the system's `owner`.
    independent: bool | None = None


class BankRef(_Model):
    id: LineText
    version: LineText

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            raise ValueError(f'must be text; quote it: version: "{v}"')
        return v


class Answer(_Model):
    """One answer; `value` is None when the question is left unanswered."""

    value: Any = None
    note: LongText | None = None
    evidence: Annotated[list[EvidenceItem], Field(max_length=EVIDENCE_COUNT_MAX)] = Field(
        default_factory=list
    )

    @field_validator("evidence", mode="before")
    @classmethod
    def _one_evidence(cls, v: Any) -> Any:
        if v is None:
            return []
        return [v] if isinstance(v, str) else v

    @property
    def answered(self) -> bool:
        return self.value is not None


class AnswersFile(_Model):
    """The whole answers file, as a person writes it."""

    system: SystemInfo
    auditor: Person | None = None
    audit_date: dt.date | None = None
    bank: BankRef | None = None
    # What `ic-audit migrate` could not place on any question of the new bank version (an old
    # answer to a question nobody replaces), kept word for word so nothing is lost.
    migration_notes: Annotated[list[LongText], Field(max_length=EVIDENCE_COUNT_MAX)] | None = None
    answers: dict[str, Any] = Field(default_factory=dict)
    # Measurements behind the key metrics (ic_audit.evidence), inline or as files.
    evidence: EvidenceSection | None = None
    # The date of the audit before this one: a reassessment later than the cadence allows is a
    # finding. `reassess_by` sets the next one (default: audit_date + the bank's cadence).
    previous_audit: dt.date | None = None
    reassess_by: dt.date | None = None

    @field_validator("audit_date", "previous_audit", "reassess_by", mode="before")
    @classmethod
    def _date(cls, v: Any) -> Any:
        return None if v is None else _strict_date(v)

    @field_validator("answers", mode="before")
    @classmethod
    def _answers_mapping(cls, v: Any) -> Any:
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise ValueError("must be a mapping of question id to answer")
        return v


_LONG_KEYS = {"value", "note", "evidence"}


@dataclass
class Audit:
    """A validated answers file, with everything scoring and reports need to cite it."""

    file: str
    meta: AnswersFile
    answers: dict[str, Answer]
    sha256: str
    lines: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    evidence: Evidence = field(default_factory=Evidence)
    # Lines of top-level keys findings can point at (auditor, previous_audit, evidence kinds).
    meta_lines: dict[str, int] = field(default_factory=dict)


def load_audit(path: Path | str, bank: Bank, display: str | None = None) -> Audit:
    """Load an answers file and check it against the bank; every problem is reported."""
    path = Path(path)
    name = display or str(path)
    with paused_gc():
        doc = load_document(path, name)
        return audit_from_document(doc, bank)


def audit_from_document(doc: Document, bank: Bank) -> Audit:
    name = doc.name
    if not isinstance(doc.data, dict):
        raise UserError.one(
            name, "must be a mapping with system, audit_date and answers; see `ic-audit init`", 1
        )
    problems: list[Problem] = list(doc.problems)
    try:
        meta = AnswersFile.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, doc))
        meta = None

    warnings: list[str] = []
    # Read from the raw data, so a wrong bank is reported even when other fields are broken.
    ref = doc.data.get("bank")
    ref_id = ref.get("id") if isinstance(ref, dict) else None
    ref_version = ref.get("version") if isinstance(ref, dict) else None
    if isinstance(ref_id, str) and ref_id != bank.id:
        problems.append(
            Problem(
                name,
                f"bank.id is {ref_id!r} but the bank in use is {bank.id!r}; "
                "pass the right one with --bank",
                doc.line(("bank", "id")),
            )
        )
    elif isinstance(ref_version, str) and major_version(ref_version) != major_version(bank.version):
        # Another major version gives ids and values other meanings: scoring would mislead,
        # and every answer checked against the wrong bank would only bury the one fix.
        raise UserError.one(
            name,
            f"bank.version is {ref_version!r}, but the bank in use is {bank.id} "
            f"{bank.version} (another major version); run: ic-audit migrate {name}",
            doc.line(("bank", "version")),
        )
    elif isinstance(ref_version, str) and ref_version != bank.version:
        warnings.append(
            f"{name}: answered against bank version {ref_version}, scoring with "
            f"{bank.version}; review questions that changed"
        )

    raw_answers = doc.data.get("answers")
    answers: dict[str, Answer] = {}
    lines: dict[str, int] = {}
    if isinstance(raw_answers, dict):
        for qid in raw_answers:
            line = doc.line(("answers", qid))
            if line is not None:
                lines[qid] = line
        valid = _all_valid(raw_answers, bank)
        if valid is not None:
            answers = valid
        else:  # something is wrong: each answer on its own, for its problems
            for qid, raw in raw_answers.items():
                line = lines.get(qid)
                answer = _one_answer(qid, raw, bank, doc, problems, line)
                if answer is None:
                    continue
                if qid in bank.declarable and not _declaration_noted(
                    bank.by_id[qid], answer, doc, problems, line
                ):
                    continue
                answers[qid] = answer
    evidence, evidence_problems = load_evidence(doc.data.get("evidence"), doc)
    problems.extend(evidence_problems)
    if meta is not None:
        problems.extend(_date_order(meta, doc))
        today = dt.date.today()
        for qid, answer in answers.items():
            if qid not in bank.dated:
                continue
            question = bank.by_id[qid]
            msg = question.kind.dated_problem(question, answer.value, meta.audit_date, today)
            if msg is not None:
                at = doc.line(("answers", qid, "value")) or lines.get(qid)
                problems.append(Problem(name, msg, at, qid))
    if problems or meta is None:
        raise UserError(problems)
    ordered = {q.id: answers[q.id] for q in bank.questions if q.id in answers}
    meta_lines: dict[str, int] = {}
    for key in ("auditor", "previous_audit", "evidence"):
        if key in doc.data and doc.line((key,)) is not None:
            meta_lines[key] = doc.line((key,)) or 0
    for kind in evidence.sources:
        line = doc.lines.get(("evidence", kind))
        if line is not None:
            meta_lines[f"evidence.{kind}"] = line
    return Audit(
        name,
        meta,
        ordered,
        hashlib.sha256(doc.raw).hexdigest(),
        lines,
        warnings,
        evidence,
        meta_lines,
    )


def _date_order(meta: AnswersFile, doc: Document) -> list[Problem]:
    out: list[Problem] = []
    when = meta.audit_date
    if when is None:
        return out
    if meta.reassess_by is not None and meta.reassess_by <= when:
        out.append(
            Problem(
                doc.name,
                f"reassess_by ({meta.reassess_by}) must be after audit_date ({when})",
                doc.line(("reassess_by",)),
            )
        )
    if meta.previous_audit is not None and meta.previous_audit >= when:
        out.append(
            Problem(
                doc.name,
                f"previous_audit ({meta.previous_audit}) must be before audit_date ({when})",
                doc.line(("previous_audit",)),
            )
        )
    return out


def major_version(version: str) -> str:
    """The part of a bank version before the first dot: "2" for "2.0" and "2.1"."""
    return version.strip().split(".", 1)[0]


def suggest_id(typed: str, bank: Bank) -> str | None:
    """The id a person most likely meant: the same id in another case, `GV-01` for `GV-1`,
    else the closest spelling."""
    by_upper = {qid.upper(): qid for qid in bank.by_id}
    key = typed.strip().upper()
    if key in by_upper:
        return by_upper[key]
    match = re.fullmatch(r"([A-Z]+)[-_ ]?0*(\d+)", key)
    if match:
        for qid in bank.by_id:
            m = re.fullmatch(r"([A-Za-z]+)-0*(\d+)", qid)
            if m and m.group(1).upper() == match.group(1) and m.group(2) == match.group(2):
                return qid
    close = difflib.get_close_matches(key, list(by_upper), n=1)
    return by_upper[close[0]] if close else None


def _all_valid(raw_answers: dict[str, Any], bank: Bank) -> dict[str, Answer] | None:
    """Every answer, when all are valid, built in one pydantic call; else None, and each is
    then read on its own by `_one_answer`, which words its problems.

    A call per answer cost more than its validation. The value is checked by its question
    first, as `_one_answer` does after: the model reads `value` as it is.
    """
    forms: dict[str, Any] = {}
    try:
        for qid, raw in raw_answers.items():
            question = bank.by_id.get(qid)
            if question is None:
                return None
            if isinstance(raw, dict):
                if not _LONG_KEYS.issuperset(raw):
                    return None
                value = raw.get("value")
                forms[qid] = raw if value is None else {**raw, "value": question.coerce(value)}
            else:
                forms[qid] = {"value": None if raw is None else question.coerce(raw)}
        answers = _answers_adapter().validate_python(forms)
    except ValueError:  # a value its question refuses, or a pydantic ValidationError
        return None
    for qid in bank.declarable.intersection(answers):
        if _needs_a_note(bank.by_id[qid], answers[qid]):
            return None
    return answers


@functools.cache
def _answers_adapter() -> "TypeAdapter[dict[str, Answer]]":
    from pydantic import TypeAdapter

    return TypeAdapter(dict[str, Answer])


def _one_answer(
    qid: str, raw: Any, bank: Bank, doc: Document, problems: list[Problem], line: int | None
) -> Answer | None:
    question = bank.by_id.get(qid)
    if question is None:
        close = suggest_id(qid, bank)
        hint = f"did you mean {close}?" if close else "see `ic-audit questions` for the ids"
        problems.append(Problem(doc.name, f"unknown question id; {hint}", line, qid))
        return None
    if isinstance(raw, dict):
        extra = set(raw) - _LONG_KEYS
        if extra:
            problems.append(
                Problem(
                    doc.name,
                    f"unknown key {sorted(extra)[0]!r} in the long form; use value, note, evidence",
                    doc.line(("answers", qid, sorted(extra)[0])),
                    qid,
                )
            )
            return None
        try:
            answer = Answer.model_validate(raw)
        except ValidationError as exc:
            for p in pydantic_problems(exc, doc, ("answers", qid)):
                problems.append(Problem(p.file, p.message, p.line, qid))
            return None
        if answer.value is None:
            return answer
        try:
            # The answer is ours alone, so it takes the clean value in place of a copy.
            answer.value = question.coerce(answer.value)
        except ValueError as exc:
            problems.append(Problem(doc.name, str(exc), doc.line(("answers", qid, "value")), qid))
            return None
        return answer
    if raw is None:
        return Answer(value=None)
    try:
        value = question.coerce(raw)
    except ValueError as exc:
        problems.append(Problem(doc.name, str(exc), line, qid))
        return None
    return Answer(value=value)


def _needs_a_note(question: Question, answer: Answer) -> bool:
    """Whether ``answer`` declares the question does not apply without a note saying why."""
    return (
        answer.answered
        and question.declares_not_applicable(answer.value)
        and not (answer.note is not None and answer.note.strip())
    )


def _declaration_noted(
    question: Question, answer: Answer, doc: Document, problems: list[Problem], line: int | None
) -> bool:
    """A team that declares a question does not apply says why: the claim is listed for a
    reviewer, and a bare "does not apply" would be a way to skip a risky answer unseen."""
    if not _needs_a_note(question, answer):
        return True
    problems.append(
        Problem(
            doc.name,
            "this answer declares the question does not apply, which needs a note saying why; "
            "use the long form with value and note",
            line,
            question.id,
        )
    )
    return False
