"""What scoring looks up once instead of once per answer (`Question.facts`, the bank's lists of
measured and metric-input questions) gives what the question types give when asked directly."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ic_audit.bank import Bank, Question, load_bank
from ic_audit.scoring import applicability
from tests.conftest import MINI_BANK, REAL_BANK, ROOT, make_audit

BANKS = {
    "real": REAL_BANK,
    "mini": MINI_BANK,
    "metrics": ROOT / "tests" / "data" / "metrics_bank",
    "exposure": ROOT / "tests" / "data" / "exposure_bank",
}


def _values(q: Question) -> list[Any]:
    """Valid values of a question: its answer space, and for `multi` every pair of options."""
    values = [v for v, _ in q.answer_space]
    if q.type == "multi":
        plain = [o.value for o in q.options or [] if not o.exclusive]
        values += [q.coerce(list(pair)) for pair in itertools.combinations(plain, 2)]
    if q.type == "number":
        values += [v + 0.5 for v in values]
    return [v for v in values if _valid(q, v)]


def _valid(q: Question, value: Any) -> bool:
    try:
        return bool(q.coerce(value) == value)
    except ValueError:
        return False


def _expected(q: Question, value: Any) -> tuple[Any, ...]:
    kind = q.kind
    parts = kind.advice_parts(q, value)
    title = next((p.finding for p in parts if p.finding), None) or q.finding or q.text
    rec = (parts[0].recommendation if parts else None) or q.recommendation or ""
    return (
        kind.risk(q, value),
        kind.red_flag(q, value),
        kind.display(q, value),
        title,
        rec,
        tuple(p.evidence for p in parts if p.evidence is not None),
        any(getattr(p, "not_applicable", False) for p in parts),
    )


@pytest.mark.parametrize("name", list(BANKS))
def test_the_facts_of_an_answer_are_the_types_own_however_often_asked(name: str) -> None:
    bank = load_bank(BANKS[name])
    checked = 0
    for q in bank.questions:
        if not q.scored:
            continue
        for value in _values(q):
            want = _expected(q, value)
            for _ in range(2):  # the second time from the memo
                # An equal value, not the same object: a list is keyed by its items.
                again = list(value) if isinstance(value, list) else value
                facts = q.facts(again)
                assert tuple(facts) == want, (q.id, value)
                assert q.value_risk(again) == facts.risk
                assert q.red_flag_for(again) == facts.red_flag
                assert q.display(again) == facts.display
                assert q.advice_for(again) == (facts.title, facts.recommendation)
                assert q.evidence_for(again) == list(facts.evidence)
                assert q.declares_not_applicable(again) is facts.not_applicable
            checked += 1
    assert checked > 10


def test_a_multi_answer_in_another_order_is_another_key() -> None:
    # Values reach scoring normalised (option order); an unnormalised list is not mistaken for
    # the normalised one's facts, nor the other way round.
    bank = load_bank(REAL_BANK)
    q = next(q for q in bank.questions if q.type == "multi" and q.multi_mode == "hazards")
    plain = [o.value for o in q.options or [] if not o.exclusive][:2]
    assert q.facts(plain).display == q.kind.display(q, plain)
    assert q.facts(plain[::-1]).display == q.kind.display(q, plain[::-1])
    assert q.facts(plain).display != q.facts(plain[::-1]).display


@pytest.mark.parametrize("name", list(BANKS))
def test_the_banks_question_lists_are_those_the_rules_name(name: str) -> None:
    bank: Bank = load_bank(BANKS[name])
    assert bank.measured_questions == [q for q in bank.questions if q.measured_by is not None]
    inputs = [
        q
        for q in bank.questions
        if q.metric is not None
        and q.scored
        and (bank.exposure is None or q.role_or_default != "profile")
    ]
    assert list(bank.metric_inputs) == list(dict.fromkeys(q.metric for q in inputs))
    for metric, questions in bank.metric_inputs.items():
        assert questions == [q for q in inputs if q.metric == metric]


def _applies_one_by_one(bank: Bank, answers: dict[str, Any]) -> dict[str, bool]:
    # The rule as docs/rubric.md words it, question by question in bank order.
    applies: dict[str, bool] = {}
    for q in bank.questions:
        w = q.when
        if w is None:
            applies[q.id] = True
        elif not applies.get(w.question, True):
            applies[q.id] = False
        elif answers.get(w.question) is None:
            applies[q.id] = True
        elif w.at_least is not None:
            applies[q.id] = answers[w.question] >= w.at_least
        elif isinstance(answers[w.question], list):
            applies[q.id] = any(v in (w.in_ or []) for v in answers[w.question])
        else:
            applies[q.id] = answers[w.question] in (w.in_ or [])
    return applies


@pytest.mark.parametrize("name", list(BANKS))
def test_follow_ups_apply_as_the_rule_says_for_every_parent_answer(name: str) -> None:
    bank = load_bank(BANKS[name])
    parents = {q.when.question for q in bank.follow_ups if q.when is not None}
    assert bank.follow_ups == [q for q in bank.questions if q.when is not None]
    for parent in sorted(parents):
        for value in [None, *_values(bank.by_id[parent])]:
            # Every other parent unanswered, then every other parent at its riskiest.
            for others in ({}, {p: bank.by_id[p].riskiest for p in parents if p != parent}):
                answers = {**others, parent: value}
                audit = make_audit(bank, {k: v for k, v in answers.items() if v is not None})
                assert applicability(bank, audit) == _applies_one_by_one(bank, answers), (
                    parent,
                    value,
                )


def test_findings_rank_by_severity_then_points_keeping_bank_order_among_equals() -> None:
    from ic_audit.measure import Hooks

    def finding(ref: str, severity: str, points: float) -> dict[str, Any]:
        return {"question_id": ref, "severity": severity, "points": points}

    scored = [
        finding("A", "moderate", 1.0),
        finding("B", "high", 0.5),
        finding("C", "moderate", 2.0),
        finding("D", "moderate", 1.0),
        finding("E", "critical", 0.0),
        finding("F", "low", 0.0),
    ]
    hooks = Hooks(make_audit(load_bank(MINI_BANK), {}))
    assert [f["question_id"] for f in hooks.ranked(list(scored))] == ["E", "B", "C", "A", "D", "F"]
    # The evidence's and cadence's findings (no points) come after the answers' among equals.
    hooks.findings = [finding("X", "moderate", 0.0), finding("Y", "low", 0.0)]
    ranked = [f["question_id"] for f in hooks.ranked(list(scored))]
    assert ranked == ["E", "B", "C", "A", "D", "X", "F", "Y"]
