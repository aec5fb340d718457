"""The rubric rules run on a whole bank, which the scoring guarantees rest on (see
docs/bank-format.md): unique ids, anchored scales (some answer is safe, some is risky), red flags
and follow-up conditions that point upward, and `replaces` entries that `ic-audit migrate` can
follow. Every violation is reported with its line."""

from __future__ import annotations

import itertools

from ic_audit.bank.schema import _ID_RE, _VALUE_RE, _YAML_WORDS, Band, Bank, Option, Question
from ic_audit.errors import Problem, UserError
from ic_audit.loading import Document


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
        _check_replaces(q, bank, add)
        if q.when is not None:
            _check_when(q, bank, seen, add)
    if problems:
        raise UserError(problems)


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
    if q.type in ("single", "yes_no", "multi"):
        _check_options(q, add)
    else:
        _check_bands(q, add)


def _check_options(q: Question, add: _Reporter) -> None:
    opts = q.options or []
    if q.bands or q.range or q.unit:
        add(f"a {q.type} question takes options, not bands/range/unit")
    if len(opts) < 2:
        add("needs at least two options", "options")
        return
    values = [o.value for o in opts]
    if len(set(values)) != len(values):
        add("option values must be unique", "options")
    if q.type == "yes_no":
        if sorted(values) != ["no", "yes"]:
            add('a yes_no question has exactly the options "yes" and "no"', "options")
    else:
        for i, o in enumerate(opts):
            if not _VALUE_RE.fullmatch(o.value) or o.value in _YAML_WORDS:
                add(
                    f"option value {o.value!r} must be a lower-case identifier and not a YAML "
                    "boolean or null word",
                    "options",
                    i,
                    "value",
                )
    if q.type != "multi":
        if q.scoring:
            add("`scoring` applies to multi questions only", "scoring")
        for i, o in enumerate(opts):
            if o.risk is None:
                add(f"option {o.value!r} needs a risk (0.0 to 1.0)", "options", i)
            if o.exclusive or o.weight is not None:
                add("`exclusive` and `weight` apply to multi questions only", "options", i)
    else:
        exclusive = [o for o in opts if o.exclusive]
        if len(exclusive) != 1:
            add(
                "a multi question needs exactly one `exclusive: true` option (the 'none' answer)",
                "options",
            )
        for i, o in enumerate(opts):
            if q.multi_mode == "safeguards":
                if not o.exclusive and o.risk is not None:
                    add(f"safeguard {o.value!r} takes a weight, not a risk", "options", i)
                if o.exclusive and o.risk not in (None, 1.0):
                    add("the 'none' option of a safeguards question has risk 1.0", "options", i)
                if o.red_flag and not o.exclusive:
                    add(
                        "only the 'none' option of a safeguards question may be a red flag",
                        "options",
                        i,
                    )
            else:
                if o.risk is None:
                    add(f"option {o.value!r} needs a risk (0.0 to 1.0)", "options", i)
                if o.weight is not None:
                    add("`weight` applies to safeguards questions only", "options", i)
                if o.exclusive and (o.risk or 0.0) != 0.0:
                    add(
                        "the exclusive 'none' option of a hazards question has risk 0.0",
                        "options",
                        i,
                    )
    risks = [r for _, r in q.answer_space]
    if min(risks) != 0.0 or max(risks) != 1.0:
        add("the scale must be anchored: one answer with risk 0.0 and one with risk 1.0", "options")
    _check_advice(q, [(o, q.option_risk(o)) for o in opts], "options", add)


def _check_bands(q: Question, add: _Reporter) -> None:
    bands = q.bands or []
    if q.options or q.scoring:
        add("a number question takes bands, not options")
    if not bands:
        add("a number question needs risk bands", "bands")
        return
    lo = q.range.min if q.range else None
    hi = q.range.max if q.range else None
    if lo is not None and hi is not None and lo > hi:
        add("range.min is above range.max", "range")
    for i, (a, b) in enumerate(itertools.pairwise(bands)):
        if a.max is None or b.min is None or a.max != b.min:
            add(
                f"bands {i} and {i + 1} must meet: the max of one is the min of the next",
                "bands",
                i + 1,
            )
    for i, band in enumerate(bands):
        if band.min is not None and band.max is not None and band.min >= band.max:
            add("band min must be below its max", "bands", i)
    first, last = bands[0], bands[-1]
    if first.min is not None and (lo is None or first.min > lo):
        add("the first band must start at or below range.min (or be open)", "bands", 0)
    if last.max is not None and (hi is None or last.max <= hi):
        add("the last band must end above range.max (or be open)", "bands", len(bands) - 1)
    risks = [b.risk for b in bands]
    if min(risks) != 0.0 or max(risks) != 1.0:
        add("the scale must be anchored: one band with risk 0.0 and one with risk 1.0", "bands")
    _check_advice(q, [(b, b.risk) for b in bands], "bands", add)


def _check_advice(
    q: Question, parts: list[tuple[Option | Band, float]], key: str, add: _Reporter
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
    if parent.type == "number":
        if w.at_least is None:
            add(f"when: {w.question} is a number; use at_least", "when")
            return
        inside = [r for v, r in parent.answer_space_split(w.at_least, True)]
        outside = [r for v, r in parent.answer_space_split(w.at_least, False)]
    else:
        if w.in_ is None:
            add(f"when: {w.question} has options; use in: [values]", "when")
            return
        unknown = [v for v in w.in_ if v not in parent.option_map]
        if unknown:
            add(
                f"when: {', '.join(map(str, unknown))} not among the options of {w.question}",
                "when",
            )
            return
        opts = parent.options or []
        inside = [parent.option_risk(o) for o in opts if o.value in w.in_]
        outside = [parent.option_risk(o) for o in opts if o.value not in w.in_]
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
