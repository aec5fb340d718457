"""The contract's scoring properties, checked with hypothesis on the real bank and the mini bank."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ic_audit.bank import Bank, Question, load_bank
from ic_audit.result import AuditResult, rating_rank
from ic_audit.scoring import score_audit
from tests.conftest import FILE_CHARS, MINI_BANK, REAL_BANK, make_audit

BANKS = {"real": load_bank(REAL_BANK), "mini": load_bank(MINI_BANK)}
# IC_AUDIT_EXAMPLES=5000 pytest tests/test_scoring_properties.py for a deep run.
PROFILE = settings(
    max_examples=int(os.environ.get("IC_AUDIT_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def value_strategy(q: Question) -> st.SearchStrategy[Any]:
    if q.type in ("single", "yes_no"):
        return st.sampled_from([o.value for o in q.options or []])
    if q.type == "multi":
        opts = q.options or []
        plain = [o.value for o in opts if not o.exclusive]
        none = [o.value for o in opts if o.exclusive]
        return st.one_of(st.just(none), st.lists(st.sampled_from(plain), min_size=1, unique=True))
    if q.type == "number":
        lo = q.range.min if q.range and q.range.min is not None else -10_000
        hi = q.range.max if q.range and q.range.max is not None else 10_000
        if q.integer:
            return st.integers(int(lo), int(hi))
        return st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if q.type == "date":
        return st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31))
    return st.text(FILE_CHARS, max_size=30)


@st.composite
def audits(draw: st.DrawFn, bank: Bank) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for q in bank.questions:
        if draw(st.booleans()) or draw(st.booleans()):
            out[q.id] = draw(value_strategy(q))
    return out


def all_scores(r: AuditResult) -> dict[str, float]:
    scores = {"overall": r.overall.score}
    scores.update({f"section:{s.id}": s.score for s in r.sections})
    scores.update({f"metric:{k}": m.score for k, m in r.metrics.items()})
    return scores


def all_ratings(r: AuditResult) -> dict[str, int]:
    ratings = {"overall": rating_rank(r.overall.rating)}
    ratings.update({f"section:{s.id}": rating_rank(s.rating) for s in r.sections})
    ratings.update({f"metric:{k}": rating_rank(m.rating) for k, m in r.metrics.items()})
    return ratings


def score(bank: Bank, answers: dict[str, Any]) -> AuditResult:
    return score_audit(bank, make_audit(bank, answers))


@pytest.mark.parametrize("name", BANKS)
def test_all_safest_answers_are_low_with_no_red_flags(name: str) -> None:
    bank = BANKS[name]
    r = score(bank, {q.id: q.safest for q in bank.questions if q.scored})
    assert r.overall.rating == "low"
    assert r.overall.score == 0.0
    assert r.red_flags == []
    assert all(s.rating == "low" for s in r.sections)
    assert all(m.rating == "low" for m in r.metrics.values())


@pytest.mark.parametrize("name", BANKS)
def test_all_riskiest_answers_are_critical(name: str) -> None:
    bank = BANKS[name]
    r = score(bank, {q.id: q.riskiest for q in bank.questions if q.scored})
    assert r.overall.rating == "critical"
    assert r.overall.score == 100.0
    assert r.red_flags


@pytest.mark.parametrize("name", BANKS)
def test_no_answers_is_at_least_high_and_lists_every_required_question(name: str) -> None:
    bank = BANKS[name]
    r = score(bank, {})
    assert rating_rank(r.overall.rating) >= rating_rank("high")
    assert not r.complete
    required = [q.id for q in bank.questions if q.is_required]
    assert r.unanswered == required


@pytest.mark.parametrize("name", BANKS)
@PROFILE
@given(data=st.data())
def test_a_riskier_answer_never_lowers_any_score_or_rating(name: str, data: st.DataObject) -> None:
    bank = BANKS[name]
    base = data.draw(audits(bank))
    q = data.draw(st.sampled_from([q for q in bank.questions if q.scored]))
    a = data.draw(value_strategy(q))
    b = data.draw(value_strategy(q))
    ra, rb = q.value_risk(q.coerce(a)), q.value_risk(q.coerce(b))
    assume(ra != rb)
    if ra > rb:
        a, b = b, a
    low = score(bank, {**base, q.id: a})
    high = score(bank, {**base, q.id: b})
    for key, value in all_scores(low).items():
        assert all_scores(high)[key] >= value, (key, q.id, a, b)
    for key, value in all_ratings(low).items():
        assert all_ratings(high)[key] >= value, (key, q.id, a, b)
    assert len(high.red_flags) >= len(low.red_flags)


@pytest.mark.parametrize("name", BANKS)
@PROFILE
@given(data=st.data())
def test_unanswered_is_never_safer_than_the_safest_answer(name: str, data: st.DataObject) -> None:
    bank = BANKS[name]
    base = data.draw(audits(bank))
    q = data.draw(st.sampled_from([q for q in bank.questions if q.scored and q.is_required]))
    unanswered = {k: v for k, v in base.items() if k != q.id}
    left_out = score(bank, unanswered)
    safest = score(bank, {**unanswered, q.id: q.safest})
    for key, value in all_scores(safest).items():
        assert all_scores(left_out)[key] >= value, (key, q.id)
    assert rating_rank(left_out.overall.rating) >= rating_rank(safest.overall.rating)


@pytest.mark.parametrize("name", BANKS)
@PROFILE
@given(data=st.data())
def test_red_flags_escalate_and_scores_stay_in_range(name: str, data: st.DataObject) -> None:
    bank = BANKS[name]
    r = score(bank, data.draw(audits(bank)))
    assert all(0.0 <= v <= 100.0 for v in all_scores(r).values())
    if r.red_flags:
        assert rating_rank(r.overall.rating) >= rating_rank("high")
    if len(r.red_flags) >= bank.red_flag_critical_at:
        assert r.overall.rating == "critical"
    # "Why this rating" adds up: the listed points plus the rest equal the score.
    why = r.why["overall"]
    total = sum(c.points for c in why.top) + why.others_points
    # Tolerance: the score has one decimal, each listed point value two.
    assert total == pytest.approx(r.overall.score, abs=0.09)


def test_follow_up_applies_only_when_its_condition_holds(mini_bank: Bank) -> None:
    safe = score(mini_bank, {"CT-01": "named_role", "AD-01": 2})
    assert {"CT-02", "AD-02"} <= set(safe.not_applicable)
    risky = score(mini_bank, {"CT-01": "nobody", "AD-01": 6})
    assert "CT-02" not in risky.not_applicable and "AD-02" not in risky.not_applicable
    assert "AD-02" in risky.unanswered  # required and now applicable
    kept = score(mini_bank, {"CT-01": "named_role", "AD-01": 2, "AD-02": ["disabled_monitor"]})
    row = next(a for a in kept.answers if a.question_id == "AD-02")
    assert row.status == "not_applicable" and row.value == ["disabled_monitor"]
    assert kept.red_flags == []  # an answer that does not apply is never scored


def test_follow_up_of_an_unanswered_question_still_applies(mini_bank: Bank) -> None:
    r = score(mini_bank, {})
    assert "AD-02" in r.unanswered


def test_worked_example_in_rubric_doc(mini_bank: Bank) -> None:
    # The arithmetic docs/rubric.md walks through, so the doc cannot drift from the code.
    r = score(
        mini_bank,
        {
            "GD-01": "no",
            "CT-01": "anyone_senior",
            "CT-03": ["stop"],
            "AD-01": 2,
            "AD-02": ["none_seen"],
        },
    )
    # weights: GD-01 3, CT-01 4, CT-03 2, AD-01 2, AD-02 1 -> total 12
    # risks:   1.0       0.5      0.5     0.0      0.0 (n/a)
    assert r.overall.score == round(100 * (3 * 1.0 + 4 * 0.5 + 2 * 0.5) / 12, 1) == 50.0
    assert r.overall.rating == "high"
    assert r.metrics["controllability"].score == round(100 * (4 * 0.5 + 2 * 0.5) / 6, 1)
    assert r.sections[0].score == round(100 * (3 + 2 + 1) / 9, 1)
