"""Question types are one class each, in one registry (`ic_audit.qtypes.TYPES`): a new type is
a class and a registry entry, and it works through every part of the tool without any other
module knowing its name."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from ic_audit.answers import load_audit
from ic_audit.answers_template import answers_template
from ic_audit.bank import Question, load_bank
from ic_audit.catalogue import answers_schema, bank_json
from ic_audit.errors import UserError
from ic_audit.qtypes import TYPES, QuestionType
from ic_audit.qtypes.base import Report
from ic_audit.scoring import score_audit
from ic_audit.walkthrough import Prompter, run_walkthrough
from ic_audit.walkthrough.typed import parse_answer
from tests.conftest import ROOT

TODAY = dt.date(2026, 10, 1)


def test_the_registry_holds_the_types_the_bank_format_documents() -> None:
    assert list(TYPES) == ["single", "multi", "yes_no", "number", "text", "date"]
    for name, kind in TYPES.items():
        assert kind.name == name
        # Every operation without a default is the type's own.
        for op in ("coerce", "input_hint", "init_hint", "json_schema"):
            assert getattr(type(kind), op) is not getattr(QuestionType, op), (name, op)


def test_no_module_outside_the_types_branches_on_a_type_name() -> None:
    chain = re.compile(r"\.type\s*(==|!=|in\b)|\.type\)\s*(==|!=)|\b_TYPE_NAMES\b")
    found = [
        f"{path.relative_to(ROOT)}:{i}"
        for path in sorted((ROOT / "ic_audit").rglob("*.py"))
        if "qtypes" not in path.parts
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if chain.search(line)
    ]
    assert found == []


@pytest.mark.parametrize("written", ["scale_1_5", "5", "[single]"])
def test_an_unknown_type_names_the_registered_ones(tmp_path: Path, written: str) -> None:
    bank = _bank(tmp_path, f"type: {written}")
    with pytest.raises(UserError) as caught:
        load_bank(bank)
    assert "type: must be 'single', 'multi', 'yes_no', 'number', 'text' or 'date'" in str(
        caught.value.problems[0]
    )


# ---------------------------------------------------------------- a throwaway type, end to end


class Scale15(QuestionType):
    """A rating from 1 (safest) to 5 (riskiest): the risk rises evenly."""

    name = "scale_1_5"
    label = "scale of 1 to 5"
    scored = True

    def coerce(self, q: Question, raw: Any) -> Any:
        if isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 5:
            raise ValueError(f"{raw!r} is not a whole number from 1 to 5")
        return raw

    def parse(self, q: Question, raw: str, today: dt.date) -> Any:
        return q.coerce(raw.strip().removesuffix("/5"))

    def risk(self, q: Question, value: Any) -> float:
        return (value - 1) / 4

    def red_flag(self, q: Question, value: Any) -> str | None:
        return "rated 5 of 5" if value == 5 else None

    def answer_space(self, q: Question) -> list[tuple[Any, float]]:
        return [(v, self.risk(q, v)) for v in range(1, 6)]

    def display(self, q: Question, value: Any) -> str:
        return f"{value} of 5"

    def input_hint(self, q: Question) -> str:
        return "A whole number from 1 (safest) to 5 (riskiest), e.g. 2 or 2/5."

    def init_hint(self, q: Question) -> list[str]:
        return ["a whole number, 1 (safest) to 5 (riskiest)"]

    def describe(self, q: Question) -> dict[str, Any]:
        return {"scale": [1, 5]}

    def json_schema(self, q: Question) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1, "maximum": 5}

    def check(self, q: Question, add: Report) -> None:
        if q.options or q.bands:
            add("a scale_1_5 question takes no options or bands")


def _bank(tmp_path: Path, type_line: str, extra: str = "") -> Path:
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "bank.yaml").write_text('id: scales\nversion: "1.0"\ntitle: Scales\n')
    (bank / "10-scale.yaml").write_text(
        "section: {id: scale, title: Scales}\n"
        "questions:\n"
        "  - id: SC-01\n"
        f"    {type_line}\n"
        "    text: How much autonomy does the system have?\n"
        "    help: 1 is none, 5 is full.\n"
        "    metric: controllability\n"
        "    finding: Too much autonomy\n"
        "    recommendation: Put a person in the loop.\n" + extra
    )
    return bank


@pytest.fixture
def scale_type(monkeypatch: pytest.MonkeyPatch) -> Scale15:
    kind = Scale15()
    monkeypatch.setitem(TYPES, kind.name, kind)  # the one registry line
    return kind


def test_a_new_type_is_one_class_and_one_registry_entry(
    tmp_path: Path, scale_type: Scale15
) -> None:
    bank = load_bank(_bank(tmp_path, "type: scale_1_5"))
    q = bank.by_id["SC-01"]
    assert q.kind is scale_type and q.scored and q.is_required

    # An answers file: coerced on load, scored, shown.
    answers = tmp_path / "audit.yaml"
    answers.write_text("system: {name: Agent}\naudit_date: 2026-10-01\nanswers:\n  SC-01: '4'\n")
    audit = load_audit(answers, bank)
    assert audit.answers["SC-01"].value == 4
    result = score_audit(bank, audit)
    row = next(a for a in result.answers if a.question_id == "SC-01")
    assert (row.value, row.display, row.risk) == (4, "4 of 5", 0.75)
    assert [(f.question_id, f.title, f.answer) for f in result.findings] == [
        ("SC-01", "Too much autonomy", "4 of 5")
    ]
    assert result.overall.score == pytest.approx(75.0)

    # A bad value: one located message, the type's own.
    answers.write_text("system: {name: Agent}\nanswers:\n  SC-01: 9\n")
    with pytest.raises(UserError) as caught:
        load_audit(answers, bank)
    assert "SC-01" in str(caught.value) and "9 is not a whole number from 1 to 5" in str(
        caught.value
    )

    # `questions --format json` and `schema`.
    described = bank_json(bank)["questions"][0]
    assert described["type"] == "scale_1_5" and described["scale"] == [1, 5]
    assert (described["safest"], described["riskiest"]) == (1, 5)
    value_schema = {"type": "integer", "minimum": 1, "maximum": 5}
    assert (
        value_schema
        in answers_schema(bank)["properties"]["answers"]["properties"]["SC-01"]["anyOf"]
    )

    # `init`: the type's hint under the question, and the file loads as written.
    template = answers_template(bank, TODAY)
    assert "SC-01 (scale/1/5, metric: controllability): How much" in template
    assert "#   a whole number, 1 (safest) to 5 (riskiest)" in template
    assert yaml.safe_load(template)["answers"] == {"SC-01": None}

    # The walkthrough: the type's hint, rubric and parsing, a wrong answer told, the value saved.
    with pytest.raises(ValueError, match="not a whole number from 1 to 5"):
        parse_answer(q, "7", TODAY)
    walked = tmp_path / "walked.yaml"
    walked.write_text("system: {name: Agent}\naudit_date: 2026-10-01\nanswers: {}\n")
    lines = ["??", "7", "2/5", "", "", ""]
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None, force_terminal=False)

    def read(prompt: str) -> str:
        buffer.write(prompt)
        if not lines:
            raise EOFError
        return lines.pop(0)

    code = run_walkthrough(
        walked, bank, prompter=Prompter(console, read), handle_signals=False, today=TODAY
    )
    assert code == 0
    shown = " ".join(buffer.getvalue().split())
    assert "SC-01 · scale of 1 to 5 · required" in shown
    assert "A whole number from 1 (safest) to 5 (riskiest), e.g. 2 or 2/5." in shown
    assert "7 is not a whole number from 1 to 5" in shown
    assert "2 of 5 risk 0.25 3 of 5" in shown  # `??`: the rubric, from the type's answer space
    assert "5 of 5 risk 1.00 RED FLAG: rated 5 of 5" in shown
    assert load_audit(walked, bank).answers["SC-01"].value == 2
    assert "SC-01: 2\n" in walked.read_text()


def test_a_new_type_brings_its_own_rubric_rules(tmp_path: Path, scale_type: Scale15) -> None:
    extra = "    options:\n      - {value: a, label: A, risk: 0.0}\n"
    with pytest.raises(UserError) as caught:
        load_bank(_bank(tmp_path, "type: scale_1_5", extra))
    assert [p.message for p in caught.value.problems] == [
        "a scale_1_5 question takes no options or bands"
    ]


def test_the_rubric_screen_of_each_built_in_type_is_unchanged() -> None:
    from tests.conftest import MINI_BANK

    bank = load_bank(MINI_BANK)
    buffer = io.StringIO()
    prompter = Prompter(Console(file=buffer, width=200, color_system=None), lambda _: "")
    for qid in ("AD-01", "AD-02", "AD-03"):
        prompter.rubric(bank.by_id[qid])
    out = buffer.getvalue()
    # The rows as before; the risks in one right-aligned column, a red flag under its row.
    assert re.search(r"\n  under 4 months: within a quarter +risk 0\.00\n", out)
    assert re.search(r"\n  4 to under 13 months: within a year +risk 0\.50\n", out)
    assert re.search(
        r"\n  13 months or more: over a year +risk 1\.00\n"
        r"  RED FLAG: No reassessment in over a year\.\n",
        out,
    )
    assert "Hazards: each one chosen raises the risk.\n" in out
    assert re.search(
        r"\n  1\. None seen +risk 0\.00\n  2\. Asked for more access +risk 0\.40\n", out
    )
    risks = [line.rindex("risk ") for line in out.splitlines() if "  risk " in line]
    assert len(set(risks[:3])) == 1 and len(set(risks[3:])) == 1, out
    assert "AD-03 is not scored: it is kept for the report." in out


def test_the_examples_the_tool_gives_for_multi_questions_are_valid_answers() -> None:
    from ic_audit.bank import load_bank
    from ic_audit.qtypes import TYPES
    from tests.conftest import REAL_BANK

    bank = load_bank(REAL_BANK)
    multis = [q for q in bank.questions if q.type == "multi"]
    assert multis
    for q in multis:
        hint = TYPES["multi"].init_hint(q)[0]
        listed = hint.split("[", 1)[1].rstrip("]").split(", ")
        q.coerce(listed)  # raises if the example combines "none" with another option
        typed = TYPES["multi"].input_hint(q).split("(e.g. ")[1].rstrip(").")
        q.coerce([q.options[int(n) - 1].value for n in typed.split(",")])  # type: ignore[index]
