"""`report --template`: user templates render the report data in Jinja2's sandbox, escaped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MINI_BANK, ROOT, run_main

HOSTILE = str(ROOT / "tests" / "data" / "mini_audit.yaml")


def _report(tmp_path: Path, name: str, body: str, *extra: str) -> tuple[int, str, str]:
    template = tmp_path / name
    template.write_text(body)
    result = run_main(
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
    assert "\\[click](http\\://evil.example)" in out  # the system name's link stays text


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


# ---------------------------------------------------------------------------------------------
# the budget: every template ends in bounded time and memory, over budget is exit 2

_MEASURED = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[2:]).returncode
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as fh:
    fh.write(str(peak * 1024 if sys.platform != "darwin" else peak))
sys.exit(code)
"""

# Ten to the ninth iterations over a list written in the template (no range, no calls).
_NESTED = "{% set xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] %}" + "".join(
    "{% for x" + str(i) + " in xs %}" for i in range(9)
)
_NESTED_END = "{% endfor %}" * 9


def _bounded_report(tmp_path: Path, body: str) -> tuple[int, str, str, int | None]:
    """Run the real entry point on a template, killed after 60 s; also its peak memory."""
    template = tmp_path / "t.md.j2"
    template.write_text(body)
    argv = [sys.executable, "-m", "ic_audit", "report", HOSTILE, "--bank", str(MINI_BANK)]
    argv += ["--template", str(template)]
    peak_file = tmp_path / "peak"
    if sys.platform.startswith("linux"):
        argv = [sys.executable, "-c", _MEASURED, str(peak_file), *argv]
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    proc = subprocess.run(
        argv, env={**env, "NO_COLOR": "1"}, capture_output=True, text=True, timeout=60
    )
    peak = int(peak_file.read_text()) if peak_file.exists() else None
    return proc.returncode, proc.stdout, proc.stderr, peak


@pytest.mark.parametrize(
    ("body", "budget"),
    [
        pytest.param("{{ 'x'|center(10**9) }}", "center width", id="center-filter"),
        pytest.param("{{ 'x'.ljust(10**9) }}", "ljust() width", id="ljust-method"),
        pytest.param("{{ '%.999999999f'|format(1.0) }}", "precision", id="format-filter"),
        pytest.param("{{ '%.999999999f' % 1.0 }}", "precision", id="percent-operator"),
        pytest.param("{{ '{:>999999999}'.format(1) }}", "precision", id="str-format"),
        pytest.param("{{ 'x' * 10**9 }}", "repeated value", id="repeat-string"),
        pytest.param("{{ [1, 2] * 10**8 }}", "repeated list", id="repeat-list"),
        pytest.param("{{ lipsum(10**7) }}", "lipsum", id="lipsum"),
        pytest.param("{{ 10 ** 100000000 }}", "bits", id="power"),
        pytest.param("{{ 'abcdefghij'|replace('', 'x' * 10**7) }}", "replace", id="replace"),
        pytest.param(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "range() items",
            id="nested-range",
        ),
        pytest.param(
            "{% for i in range(100000) %}{% for j in range(1000) %}"
            + "x" * 100
            + "{% endfor %}{% endfor %}",
            "output longer than",
            id="nested-range-output",
        ),
        pytest.param(
            "{% macro m() %}" + _NESTED + "xxxxxxxx" + _NESTED_END + "{% endmacro %}{{ m() }}",
            "memory",
            id="nested-loops-in-memory",
        ),
        pytest.param(
            "{% set ns = namespace(s='x' * 1000) %}{% for i in range(40) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
            "memory",
            id="doubling",
        ),
        pytest.param(
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "recursion", id="recursion"
        ),
    ],
)
def test_a_template_over_its_budget_is_one_line_exit_2(
    tmp_path: Path, body: str, budget: str
) -> None:
    code, out, err, peak = _bounded_report(tmp_path, body)
    assert (code, out) == (2, ""), err[-2000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[-2000:]
    assert str(tmp_path / "t.md.j2") in lines[0]
    assert "budget" in lines[0] and budget in lines[0]
    assert peak is None or peak < 1024 * 1024 * 1024, f"peak memory {peak} bytes"


def test_a_template_that_runs_too_long_is_stopped_at_its_time_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In this process with a 0.3 s budget instead of 5 s: the same timer and the same message.
    from ic_audit.render import user_template

    monkeypatch.setattr(user_template, "TIME_BUDGET_SECONDS", 0.3)
    template = tmp_path / "t.md.j2"
    template.write_text(_NESTED + _NESTED_END)  # 10**9 iterations
    result = run_main("report", HOSTILE, "--bank", str(MINI_BANK), "--template", str(template))
    assert (result.returncode, result.stdout) == (2, "")
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(template) in lines[0]
    assert "budget" in lines[0] and "ran longer than 0.3 seconds" in lines[0]


def test_everyday_template_features_stay_within_the_budget(tmp_path: Path) -> None:
    code, out, err, _ = _bounded_report(
        tmp_path,
        "{{ 'ab'|center(6) }}|{{ '%.2f'|format(1.5) }}|{{ '%5.1f' % 2.25 }}|{{ 'ab' * 2 }}|"
        "{{ 2 ** 10 }}|{% for i in range(3)|reverse %}{{ i }}{% endfor %}|"
        "{{ range(10)[2:4]|list|join(',') }}|{{ range(5)|length }}|{{ '{:>4}'.format(7) }}|"
        "{{ 'a-b'|replace('-', '+') }}|{{ 'x'.ljust(3) }}|"
        "{{ 'ref 12345678901234: %(n)3d'|format(n=7) }}.\n"
        "{% for a in r.answers %}{{ loop.index }}{% endfor %}\n",
    )
    assert code == 0, err
    first = out.splitlines()[0]
    assert first == "  ab  |1.50|  2.2|abab|1024|210|2,3|5|   7|a+b|x  |ref 12345678901234:   7.", (
        first
    )
