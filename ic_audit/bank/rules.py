"""The rubric rules run on a whole bank, which the scoring guarantees rest on (see
docs/bank-format.md): unique ids, anchored scales (some answer is safe, some is risky), red flags
and follow-up conditions that point upward, and `replaces` entries that `ic-audit migrate` can
follow. Every violation is reported with its line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ic_audit.bank.measured_by import measured_by_problems
from ic_audit.bank.question_parts import _ID_RE, Band, Option
from ic_audit.bank.schema import Bank, Question
from ic_audit.errors import Problem, UserError
from ic_audit.loading import Document

if TYPE_CHECKING:
    from ic_audit.qtypes.base import Report


class _Reporter:
    """Reports a rule violation for one question at the line of the field concerned."""

    def __init__(self, doc: Document, qid: str, problems: list[Problem]) -> None:
        self.doc = doc
        self.qid = qid
        self.pos = _question_pos(doc, qid)
        self.problems = problems

    def __call__(self, msg: str, *path: str | int) -> None:
        line = self.doc.line(("questions", self.pos, *path)) if self.pos is not None else None
        self.problems.append(Problem(self.doc.name, msg, line, self.qid))


def check_rubric(bank: Bank, docs: dict[str, Document]) -> None:
    """The rules scoring depends on; every violation is reported, with its line."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, q in enumerate(bank.questions):
        add = _Reporter(docs[q.id], q.id, problems)
        if not _ID_RE.fullmatch(q.id):
            add("id must start with a letter and hold only letters, digits, '_', '.', '-'", "id")
        if q.id in seen:
            add("id is used twice in the bank; ids must be unique", "id")
        seen[q.id] = index
        if q.metric is not None and q.metric not in bank.metric_by_id:
            add(
                f"metric {q.metric!r} is not one the bank defines; use one of "
                f"{', '.join(bank.metric_by_id)} or none",
                "metric",
            )
        _check_question(q, add)
        if q.measured_by is not None:
            for message in measured_by_problems(
                q.metric, [o.value for o in q.options or []], q.measured_by
            ):
                add(message, "measured_by")
        _check_role(q, bank, add)
        _check_replaces(q, bank, add)
        if q.when is not None:
            _check_when(q, bank, seen, add)
    if bank.exposure is not None and not any(
        q.scored and q.role == "profile" for q in bank.questions
    ):
        problems.append(
            Problem(
                "bank.yaml",
                "a bank with `exposure` needs at least one scored question with role: profile",
            )
        )
    if problems:
        raise UserError(problems)


def _check_role(q: Question, bank: Bank, add: _Reporter) -> None:
    if q.role is None and bank.exposure is not None:
        add(
            "the bank defines `exposure`, so every question needs a role: profile, control "
            "or observation"
        )
    if q.role == "profile" and q.scored and bank.exposure is None:
        add(
            "role: profile needs `exposure` in bank.yaml (it turns the profile into impact)", "role"
        )


def _check_evidence(
    q: Question, parts: list[tuple[Option | Band, float]], key: str, add: _Reporter
) -> None:
    """Not knowing is never safer than a known bad result; uncontained is the worst."""
    unknown = [r for p, r in parts if p.evidence == "unknown"]
    contained = [r for p, r in parts if p.evidence == "contained"]
    if unknown and contained and min(unknown) < max(contained):
        i = next(
            i for i, (p, r) in enumerate(parts) if p.evidence == "unknown" and r == min(unknown)
        )
        add(
            "not knowing is never safer: an `unknown` answer's risk must be at least every "
            "`contained` answer's risk",
            key,
            i,
        )
    for i, (part, risk) in enumerate(parts):
        if part.evidence == "uncontained" and risk != 1.0:
            add("an `uncontained` answer carries the question's maximum risk, 1.0", key, i)


def _check_not_applicable(q: Question, add: _Reporter) -> None:
    # The type's own rule (e.g. which multi options may declare it) is in its `check`.
    for i, o in enumerate(q.options or []):
        if o.not_applicable and (q.option_risk(o) != 0.0 or o.red_flag or o.evidence):
            add(
                "a `not_applicable` option scores like a question that does not apply: risk 0.0, "
                "no red flag, no evidence tag",
                "options",
                i,
            )


def _question_pos(doc: Document, qid: str) -> int | None:
    items = doc.data.get("questions", []) if isinstance(doc.data, dict) else []
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == qid:
            return i
    return None


def _check_question(q: Question, add: _Reporter) -> None:
    if not q.scored:
        if q.options or q.bands:
            add(f"a {q.type} question is not scored; remove options/bands")
        if q.metric:
            add(f"a {q.type} question is not scored, so it cannot feed metric {q.metric}")
        return
    if not q.finding:
        add("a scored question needs `finding`: the title of what a risky answer reveals")
    q.kind.check(q, add)
    if q.options:
        _check_evidence(q, [(o, q.option_risk(o)) for o in q.options], "options", add)
    elif q.bands:
        _check_evidence(q, [(b, b.risk) for b in q.bands], "bands", add)
    _check_not_applicable(q, add)


def _check_advice(
    q: Question, parts: list[tuple[Option | Band, float]], key: str, add: Report
) -> None:
    for i, (part, risk) in enumerate(parts):
        if risk > 0 and not (part.recommendation or q.recommendation):
            add("a risky answer needs a recommendation (on the option or the question)", key, i)
    for i, (part, risk) in enumerate(parts):
        if part.red_flag and risk == 0.0:
            add("a red flag cannot sit on an answer with risk 0.0", key, i)
    flagged = [r for p, r in parts if p.red_flag]
    if flagged:
        lowest = min(flagged)
        for i, (part, risk) in enumerate(parts):
            if risk > lowest and not part.red_flag:
                add(
                    "red flags must point upward: this answer is riskier than a red-flag "
                    "answer, so it must be a red flag too",
                    key,
                    i,
                )


def _check_when(q: Question, bank: Bank, seen: dict[str, int], add: _Reporter) -> None:
    w = q.when
    assert w is not None
    parent = bank.by_id.get(w.question)
    if parent is None:
        add(f"when: no question {w.question!r} in the bank", "when")
        return
    if w.question not in seen or w.question == q.id:
        add(f"when: {w.question} must come before {q.id} in the bank", "when")
        return
    if not parent.scored:
        add(f"when: {w.question} is a {parent.type} question; conditions need a scored one", "when")
        return
    if (w.in_ is None) == (w.at_least is None):
        add("when: give exactly one of `in` (a list of values) or `at_least` (a number)", "when")
        return
    risks = parent.kind.condition_risks(parent, w, add)
    if risks is None:
        return
    inside, outside = risks
    if inside and outside and max(outside) > min(inside):
        add(
            "when: the condition must point upward in risk: every answer that makes this "
            "follow-up apply must be at least as risky as every answer that does not",
            "when",
        )


def _check_replaces(q: Question, bank: Bank, add: _Reporter) -> None:
    """`replaces` names ids of an earlier bank version. An old id may feed several questions
    (one old answer split in two), but it must not be a live id of this bank with another
    meaning: ids are never reused. A question may name its own id only to rename its values
    (same meaning, so the id is kept; the map says which old value is which new one)."""
    named: set[str] = set()
    for i, r in enumerate(q.replaces):
        if not _ID_RE.fullmatch(r.id):
            add(f"replaces: {r.id!r} is not a question id", "replaces", i, "id")
            continue
        if r.id in named:
            add(f"replaces: {r.id} is listed twice; list it once", "replaces", i, "id")
        named.add(r.id)
        if r.id == q.id and not r.values:
            add(
                f"replaces: {q.id} names its own id without `values`; a kept id needs no "
                "entry (give `values` only to rename its old values)",
                "replaces",
                i,
            )
        elif r.id != q.id and r.id in bank.by_id:
            add(
                f"replaces: {r.id} is a question of this bank; an id is never reused for "
                "another meaning, so only ids this version no longer has can be replaced",
                "replaces",
                i,
                "id",
            )
        if r.values and not q.options:
            add(
                f"replaces: a {q.type} question has no option values to map {r.id}'s answers "
                "to; drop `values` (old answers are then kept as notes for review)",
                "replaces",
                i,
                "values",
            )
            continue
        for old, new in r.values.items():
            if new not in q.option_map:
                add(
                    f"replaces: {r.id}'s {old!r} maps to {new!r}, which is not one of this "
                    f"question's options ({', '.join(q.option_map)})",
                    "replaces",
                    i,
                    "values",
                    old,
                )
