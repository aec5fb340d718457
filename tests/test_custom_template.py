"""`report --template`: user templates render the report data in Jinja2's sandbox, escaped."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MINI_BANK, ROOT, run_cli

HOSTILE = str(ROOT / "tests" / "data" / "mini_audit.yaml")


def _report(tmp_path: Path, name: str, body: str, *extra: str) -> tuple[int, str, str]:
    template = tmp_path / name
    template.write_text(body)
    result = run_cli(
        "report", HOSTILE, "--bank", str(MINI_BANK), "--template", str(template), *extra
    )
    return result.returncode, result.stdout, result.stderr


def test_markdown_template_gets_the_data_with_user_text_escaped(tmp_path: Path) -> None:
    code, out, _ = _report(
        tmp_path,
        "summary.md.j2",
        "# {{ r.system.name }}\n{{ r.overall.rating }} {{ r.overall.score | fmt }}\n",
    )
    assert code == 0
    assert out.splitlines()[1] == "critical 78.3"
    assert "<agent>" not in out and "&lt;agent&gt;" in out
    assert "](http" not in out  # the system name's link syntax is neutralised


def test_html_template_is_autoescaped(tmp_path: Path) -> None:
    code, out, _ = _report(
        tmp_path,
        "page.html.j2",
        "<h1>{{ r.system.name }}</h1>{% for a in r.answers %}<p>{{ a.note }}</p>{% endfor %}",
    )
    assert code == 0
    assert "<script>" not in out and "&lt;script&gt;" in out


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ r.__class__.__mro__ }}", "refused by the sandbox"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "refused by the sandbox"),
        ("{{ r.findings.append(1) }}", "refused by the sandbox"),
        ("{% for x in %}", ":1: template syntax error"),
        ("{{ r.no_such_field }}", "does not have"),
    ],
)
def test_unsafe_or_broken_templates_are_one_line_exit_2(
    tmp_path: Path, body: str, message: str
) -> None:
    code, out, err = _report(tmp_path, "t.md.j2", body)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_template_with_json_format_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = _report(tmp_path, "t.md.j2", "x", "--format", "json")
    assert code == 2 and "--template" in err
