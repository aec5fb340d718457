"""The archetype audits in examples/archetypes/ hold the ratings an auditor expects (written in
each file's header before scoring) and the order between them stated in their README."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from ic_audit.answers import load_audit
from ic_audit.bank import load_bank
from ic_audit.result import AuditResult
from ic_audit.scoring import score_audit
from tests.conftest import REAL_BANK, ROOT

ARCHETYPES = ROOT / "examples" / "archetypes"
FILES = sorted(ARCHETYPES.glob("[0-9][0-9]-*.yaml"))


def _expected(path: Path) -> str:
    found = re.findall(r"^# expected: (low|moderate|high|critical)\s*$", path.read_text(), re.M)
    assert len(found) == 1, f"{path.name}: needs one `# expected: RATING` line in its header"
    return found[0]


def _score(path: Path) -> AuditResult:
    bank = load_bank(REAL_BANK)
    return score_audit(bank, load_audit(path, bank))


def test_there_are_at_least_six_archetypes() -> None:
    assert len(FILES) >= 6


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_archetype_holds_its_expected_rating(path: Path) -> None:
    result = _score(path)
    assert result.complete, f"{path.name}: unanswered {result.unanswered}"
    assert result.overall.rating == _expected(path), (path.name, result.overall)


def test_the_readme_table_agrees_with_the_headers() -> None:
    readme = (ARCHETYPES / "README.md").read_text()
    for path in FILES:
        row = re.search(rf"^\| {re.escape(path.name)} \|[^|]*\| (\w+)", readme, re.M)
        assert row, f"README.md has no row for {path.name}"
        assert row.group(1) == _expected(path), path.name


def _order() -> list[tuple[str, str]]:
    """The "a < b" pairs of the README's "Expected order of overall scores" line."""
    readme = (ARCHETYPES / "README.md").read_text()
    line = re.search(r"^Expected order of overall scores: (.*?)\.?$", readme, re.M)
    assert line, "README.md states no expected order"
    pairs: list[tuple[str, str]] = []
    for clause in re.split(r"[;,]| and ", line.group(1)):
        ids = re.findall(r"\d\d", clause)
        pairs += list(itertools.pairwise(ids))
    assert pairs
    return pairs


def test_the_archetypes_keep_the_expected_order() -> None:
    scores = {p.name[:2]: _score(p).overall.score for p in FILES}
    pairs = _order()
    # The README's order covers every archetype.
    assert {i for pair in pairs for i in pair} == set(scores)
    for lower, higher in pairs:
        assert scores[lower] < scores[higher], (lower, higher, scores)
