"""The contract's scoring properties, checked with hypothesis on the real bank and the mini bank."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ic_audit.answers import load_audit
from ic_audit.bank import Bank, Question, load_bank
from ic_audit.result import AuditResult, rating_rank
from ic_audit.scoring import score_audit
from tests.conftest import FILE_CHARS, MINI_BANK, REAL_BANK, ROOT, make_audit

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
        # Up to the audit date of `conftest.answers_file`: a date question records the past.
        return st.dates(dt.date(2000, 1, 1), dt.date(2026, 10, 1))
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
    scores.update({f"role:{k}": v.score for k, v in (r.roles or {}).items()})
    if r.exposure is not None:
        scores["exposure"] = r.exposure.score
    return scores


def all_ratings(r: AuditResult) -> dict[str, int]:
    ratings = {"overall": rating_rank(r.overall.rating)}
    ratings.update({f"section:{s.id}": rating_rank(s.rating) for s in r.sections})
    ratings.update({f"metric:{k}": rating_rank(m.rating) for k, m in r.metrics.items()})
    ratings.update({f"role:{k}": rating_rank(v.rating) for k, v in (r.roles or {}).items()})
    if r.exposure is not None:
        # Exposure levels go lowest first: a wider profile never moves down a level.
        levels = [lv.id for lv in BANKS["real"].exposure.levels]  # type: ignore[union-attr]
        ratings["exposure"] = levels.index(r.exposure.level)
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
    lowest = bank.exposure is not None and r.exposure is not None
    lowest = lowest and r.exposure.level == bank.exposure.levels[0].id  # type: ignore[union-attr]
    if r.red_flags:
        # From bank 2.0: at least moderate at the lowest exposure level, high everywhere else.
        floor = "moderate" if lowest else "high"
        assert rating_rank(r.overall.rating) >= rating_rank(floor)
    if len(r.red_flags) >= bank.red_flag_critical_at and not lowest:
        assert r.overall.rating == "critical"
    uncontained = [
        a
        for a in r.answers
        if a.status == "answered"
        and a.risk is not None
        and "uncontained" in bank.by_id[a.question_id].evidence_for(a.value)
    ]
    if uncontained:
        assert rating_rank(r.overall.rating) >= rating_rank("high")
    # "Why this rating" adds up: the listed points plus the rest equal the score.
    why = r.why["overall"]
    total = sum(c.points for c in why.top) + why.others_points
    # Tolerance: the score has one decimal, each listed point value two.
    assert total == pytest.approx(r.overall.score, abs=0.09)


@PROFILE
@given(data=st.data())
def test_a_wider_profile_never_lowers_the_score_or_rating(data: st.DataObject) -> None:
    # The same answers with a profile of wider reach (one profile answer moved to a riskier
    # option, follow-ups it switches on included) never score or rate lower.
    bank = BANKS["real"]
    base = data.draw(audits(bank))
    profile = [q for q in bank.questions if q.scored and q.role == "profile"]
    q = data.draw(st.sampled_from(profile))
    a, b = data.draw(value_strategy(q)), data.draw(value_strategy(q))
    ra, rb = q.value_risk(q.coerce(a)), q.value_risk(q.coerce(b))
    assume(ra != rb)
    if ra > rb:
        a, b = b, a
    narrow, wide = score(bank, {**base, q.id: a}), score(bank, {**base, q.id: b})
    assert wide.overall.score >= narrow.overall.score, (q.id, a, b)
    assert rating_rank(wide.overall.rating) >= rating_rank(narrow.overall.rating), (q.id, a, b)
    assert wide.exposure is not None and narrow.exposure is not None
    assert wide.exposure.score >= narrow.exposure.score


def _tagged(tag: str) -> list[tuple[Question, Any]]:
    """(question, answer value) for every single-valued answer of the real bank with this tag."""
    bank = BANKS["real"]
    out: list[tuple[Question, Any]] = []
    for q in bank.questions:
        if q.type in ("single", "yes_no"):
            out += [(q, o.value) for o in q.options or [] if o.evidence == tag]
        elif q.type == "multi":
            out += [(q, [o.value]) for o in q.options or [] if o.evidence == tag]
        elif q.type == "number":
            out += [(q, v) for v, _ in q.answer_space if q.band_for(v).evidence == tag]
    return out


def test_the_real_bank_tags_unknown_contained_and_uncontained_answers() -> None:
    unknown, contained = _tagged("unknown"), _tagged("contained")
    assert {q.id for q, _ in unknown} & {q.id for q, _ in contained}
    assert _tagged("uncontained")


@PROFILE
@given(data=st.data())
def test_not_knowing_never_scores_safer_than_a_contained_result(data: st.DataObject) -> None:
    bank = BANKS["real"]
    contained_by_q: dict[str, list[Any]] = {}
    for q, v in _tagged("contained"):
        contained_by_q.setdefault(q.id, []).append(v)
    pairs = [(q, u, c) for q, u in _tagged("unknown") for c in contained_by_q.get(q.id, [])]
    q, unknown, contained = data.draw(st.sampled_from(pairs))
    base = data.draw(audits(bank))
    not_known = score(bank, {**base, q.id: unknown})
    known = score(bank, {**base, q.id: contained})
    for key, value in all_scores(known).items():
        assert all_scores(not_known)[key] >= value, (key, q.id, unknown, contained)
    assert rating_rank(not_known.overall.rating) >= rating_rank(known.overall.rating)


@PROFILE
@given(data=st.data())
def test_an_uncontained_observation_is_at_least_high_at_any_exposure(data: st.DataObject) -> None:
    bank = BANKS["real"]
    q, value = data.draw(st.sampled_from(_tagged("uncontained")))
    # The narrowest profile: nothing to act through.
    safest_profile = {p.id: p.safest for p in bank.questions if p.role == "profile" and p.scored}
    base = {**data.draw(audits(bank)), **safest_profile}
    r = score(bank, {**base, q.id: value})
    if next(a for a in r.answers if a.question_id == q.id).status == "answered":
        assert rating_rank(r.overall.rating) >= rating_rank("high"), (q.id, value)


def test_red_flags_at_the_lowest_exposure_lift_only_to_moderate() -> None:
    bank = BANKS["real"]
    safest = {q.id: q.safest for q in bank.questions if q.scored}
    flagged = [
        (q, o.value)
        for q in bank.questions
        if q.type == "single" and q.role == "control"
        for o in q.options or []
        if o.red_flag
    ]
    answers = dict(safest)
    for q, value in flagged[: bank.red_flag_critical_at]:
        answers[q.id] = value
    r = score(bank, answers)
    assert r.exposure is not None and r.exposure.level == "minimal"
    assert len(r.red_flags) >= bank.red_flag_critical_at
    assert r.overall.rating == "moderate"
    # The same answers with reach beyond the lowest level: critical.
    wide = score(bank, {**answers, "PR-01": "acts_alone"})
    assert wide.exposure is not None and wide.exposure.level != "minimal"
    assert wide.overall.rating == "critical"


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


RUBRIC_DOC = ROOT / "docs" / "rubric.md"
QID = r"[A-Z]{2}-\d\d"


def _worked_example() -> str:
    text = RUBRIC_DOC.read_text(encoding="utf-8")
    match = re.search(r"^## \d+\. Worked example\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, "docs/rubric.md has no worked example section"
    return match.group(1)


def _number(cell: str) -> float:
    """The last number in a cell of the doc ("100 x 3 / 12 = 25.00" -> 25.0)."""
    found = re.findall(r"\d+(?:\.\d+)?", cell)
    assert found, cell
    return float(found[-1])


def test_worked_example_in_rubric_doc(mini_bank: Bank, tmp_path: Path) -> None:
    # Everything docs/rubric.md states about its worked example is read from the doc and checked
    # against the scoring: the answers, the table, each figure and rating, the findings' order
    # and the closing what-ifs. Editing either side alone fails here.
    doc = _worked_example()
    block = re.search(r"```yaml\n(.*?)```", doc, re.S)
    assert block, "the worked example's answers block"
    audit_file = tmp_path / "worked.yaml"
    audit_file.write_text("system: {name: Worked example}\n" + block.group(1), encoding="utf-8")
    audit = load_audit(audit_file, mini_bank)
    r = score_audit(mini_bank, audit)
    rows = {a.question_id: a for a in r.answers}
    weights = {q.id: q.weight for q in mini_bank.questions}

    # The table: weight, risk, e x risk and points of every answered question, then the totals.
    table = [
        [cell.strip().strip("*") for cell in line.strip().strip("|").split("|")]
        for line in doc.splitlines()
        if line.startswith("| ") and not line.startswith("| question")
    ]
    body = [cells for cells in table if re.fullmatch(QID, cells[0])]
    assert {cells[0] for cells in body} == set(audit.answers)
    total = sum(weights[cells[0]] for cells in body)
    for qid, e, risk, e_risk, points in body:
        assert float(e) == weights[qid], qid
        assert ("n/a" in risk) == (qid in r.not_applicable), qid
        assert _number(risk) == (rows[qid].risk or 0.0), qid
        assert float(e_risk) == weights[qid] * _number(risk), qid
        assert round(_number(points), 2) == round(100 * float(e_risk) / total, 2), qid
    (totals,) = [cells for cells in table if cells[0] == "total"]
    assert float(totals[1]) == total
    assert float(totals[3]) == sum(float(cells[3]) for cells in body)
    assert _number(totals[4]) == r.overall.score

    # Each figure, as "**Name** ...: ... **score**, `rating`" (or ": `rating`").
    figures = dict(
        (name, (float(score), rating))
        for name, score, rating in re.findall(
            r"^- \*\*(.+?)\*\*.*?\*\*(\d+(?:\.\d+)?)\*\*[:,] `(\w+)`", doc, re.M | re.S
        )
    )
    assert figures.pop("Overall") == (r.overall.score, r.overall.rating)
    for metric in r.metrics.values():
        # The doc names a metric by its id in words ("Goal drift" for goal_drift).
        named = [n for n in figures if n.lower() == metric.id.replace("_", " ").lower()]
        assert named, f"the worked example gives no figure for the metric {metric.id}"
        assert figures.pop(named[0]) == (metric.score, metric.rating), metric.id
    for section in r.sections:
        key = f'Section "{section.id}"'
        if key in figures:
            assert figures.pop(key) == (section.score, section.rating), section.id
    assert not figures, f"figures in the doc that match nothing: {figures}"

    # Findings, in the doc's order, each group with its severity and risk.
    findings = re.search(r"^- \*\*Findings\*\*:(.*?)(?=^\S|\Z)", doc, re.M | re.S)
    assert findings
    stated: list[tuple[str, str, float]] = []
    for group in findings.group(1).split(")")[:-1]:
        severity = re.search(r"\(`(\w+)`, risk (\d+(?:\.\d+)?)", group)
        assert severity, group
        stated += [(qid, severity[1], float(severity[2])) for qid in re.findall(QID, group)]
    assert stated == [(f.question_id, f.severity, f.risk) for f in r.findings]

    # The what-ifs: another answer (a red flag), then the same question left unanswered.
    what_if = re.search(
        rf"Had ({QID}) been answered `(\w+)`.*?= (\d+(?:\.\d+)?), `(\w+)`", doc, re.S
    )
    assert what_if
    qid, value, stated_score, rating = what_if.groups()
    answers = {k: a.value for k, a in audit.answers.items()}
    flagged = score(mini_bank, {**answers, qid: value})
    assert (flagged.overall.score, flagged.overall.rating) == (float(stated_score), rating)
    assert qid in {f.question_id for f in flagged.red_flags}
    assert re.search(rf"Left unanswered, {qid} would count as `{value}`", doc)
    left = score(mini_bank, {k: v for k, v in answers.items() if k != qid})
    assert left.overall.score == float(stated_score)
    assert qid in left.unanswered and not left.red_flags


EXPOSURE_BANK = ROOT / "tests" / "data" / "exposure_bank"


def test_worked_example_2_in_rubric_doc(tmp_path: Path) -> None:
    # The bank 2.0 worked example of docs/rubric.md, read from the doc: every figure ("- **Name**:
    # ... = **value**") and every what-if is checked against the scoring.
    bank = load_bank(EXPOSURE_BANK)
    text = RUBRIC_DOC.read_text(encoding="utf-8")
    match = re.search(r"^## \d+\. Worked example: bank 2\.0\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, "docs/rubric.md has no bank 2.0 worked example"
    doc = match.group(1)
    block = re.search(r"```yaml\n(.*?)```", doc, re.S)
    assert block
    audit_file = tmp_path / "worked2.yaml"
    audit_file.write_text("system: {name: Worked example}\n" + block.group(1), encoding="utf-8")
    r = score_audit(bank, load_audit(audit_file, bank))
    assert r.risk_model is not None and r.exposure is not None
    m = r.risk_model
    points = {a.question_id: a.points for a in r.answers}
    actual: dict[str, object] = {
        "E": m.exposure,
        "Exposure score": r.exposure.score,
        "Exposure level": r.exposure.level,
        "G": m.control_gap,
        "O": m.observed,
        "Impact": m.impact,
        "Likelihood": m.likelihood,
        "Overall score": r.overall.score,
        "Score rating": r.overall.score_rating,
        "Rating": r.overall.rating,
        "GD-01 points": points["GD-01"],
        "Goal drift": r.metrics["goal_drift"].score,
        "Controllability": r.metrics["controllability"].score,
    }
    figures = re.findall(r"^- \*\*(?!If )([^*]+)\*\*: .*?= \*\*([^*]+)\*\*", doc, re.M)
    assert {name for name, _ in figures} == set(actual)
    for name, value in figures:
        want = actual[name]
        if isinstance(want, str):
            assert value == want, name
        else:
            assert float(value) == pytest.approx(want, abs=1e-9), name
    # The points add up to the score.
    assert sum(p or 0.0 for q, p in points.items() if not q.startswith("PR-")) == pytest.approx(
        r.overall.score
    )

    what_ifs = re.findall(
        r"^- \*\*If (\S+) were `(\w+)`\*\*: .*\*\*(\d+(?:\.\d+)?)\*\*, `(\w+)`", doc, re.M
    )
    assert len(what_ifs) == 4
    answers = yaml.safe_load(block.group(1))["answers"]
    for qid, value, score_text, rating in what_ifs:
        changed = dict(answers)
        q = bank.by_id[qid]
        changed[qid] = [value] if q.type == "multi" else value
        other = score(bank, changed)
        assert (other.overall.score, other.overall.rating) == (float(score_text), rating), qid
