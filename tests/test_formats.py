"""The output formats of `score` and `report`: the registry is what the CLI offers and renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from ic_audit.answers import load_audit
from ic_audit.bank import Bank
from ic_audit.render.registry import (
    DEFAULT_FORMAT,
    RENDERERS,
    Command,
    RenderOptions,
    format_names,
)
from ic_audit.result import AuditResult
from ic_audit.scoring import score_audit
from tests.conftest import DEMO, run_cli

COMMANDS: tuple[Command, ...] = ("score", "report")


@pytest.fixture(scope="module")
def demo_result(real_bank: Bank) -> AuditResult:
    return score_audit(real_bank, load_audit(DEMO, real_bank))


def _cli_choices(command: Command) -> list[str]:
    """The `--format` values the command's signature declares (what typer builds the option
    from)."""
    import typing

    from ic_audit import cli

    hint = typing.get_type_hints(getattr(cli, command), include_extras=True)["format"]
    literal = typing.get_args(hint)[0]  # Annotated[Literal[...] | None, typer.Option(...)]
    if typing.get_origin(literal) is not typing.Literal:
        literal = next(a for a in typing.get_args(literal) if a is not type(None))
    assert typing.get_origin(literal) is typing.Literal
    return list(typing.get_args(literal))


@pytest.mark.parametrize("command", COMMANDS)
def test_the_cli_offers_exactly_the_registry_formats(command: Command) -> None:
    assert _cli_choices(command) == format_names(command)
    assert DEFAULT_FORMAT[command] in format_names(command)
    help_text = " ".join(run_cli(command, "--help").stdout.split())
    for name in format_names(command):
        assert RENDERERS[name].description in help_text
    # A format of the other command only, or none at all, is refused as bad usage.
    for name in [*(n for n in RENDERERS if n not in format_names(command)), "pdf"]:
        refused = run_cli(command, str(DEMO), "--format", name)
        assert refused.returncode == 2 and not refused.stdout, (command, name)


def test_every_format_is_offered_by_some_command_and_has_a_suffix() -> None:
    for renderer in RENDERERS.values():
        assert renderer.commands and renderer.commands <= set(COMMANDS), renderer.name
        assert renderer.suffixes and all(s.startswith(".") for s in renderer.suffixes)
    # A suffix selects at most one format, or `-o` inference would depend on table order.
    report_suffixes = [s for name in format_names("report") for s in RENDERERS[name].suffixes]
    assert len(report_suffixes) == len(set(report_suffixes))


@pytest.mark.parametrize("name", list(RENDERERS))
def test_every_registered_format_renders_the_demo_audit(
    name: str, demo_result: AuditResult, real_bank: Bank
) -> None:
    text = RENDERERS[name].render([demo_result], RenderOptions(bank=real_bank))
    overall = demo_result.overall
    assert f"{overall.score:.1f}" in text and overall.rating in text
    assert text.endswith("\n")


@pytest.mark.parametrize(("command", "name"), [(c, n) for c in COMMANDS for n in format_names(c)])
def test_the_cli_prints_what_the_registry_renders(
    command: Command, name: str, demo_result: AuditResult, real_bank: Bank
) -> None:
    result = run_cli(command, str(DEMO), "--format", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == RENDERERS[name].render([demo_result], RenderOptions(bank=real_bank))


def test_a_batch_format_takes_several_audits(demo_result: AuditResult, real_bank: Bank) -> None:
    for renderer in RENDERERS.values():
        if renderer.batch:
            text = renderer.render([demo_result, demo_result], RenderOptions(bank=real_bank))
            assert text.count(demo_result.answers_file) >= 2, renderer.name
        else:
            with pytest.raises(ValueError):
                renderer.render([demo_result, demo_result], RenderOptions(bank=real_bank))


@pytest.mark.parametrize("name", format_names("report"))
def test_report_output_suffix_selects_the_format(name: str, tmp_path: Path) -> None:
    renderer = RENDERERS[name]
    for suffix in renderer.suffixes:
        target = tmp_path / f"report{suffix.upper()}"
        result = run_cli("report", str(DEMO), "-o", str(target))
        assert result.returncode == 0, result.stderr
        expected = run_cli("report", str(DEMO), "--format", name).stdout
        assert target.read_text(encoding="utf-8") == expected
        assert "warning" not in result.stderr


@pytest.mark.parametrize("suffix", [".pdf", ".docx"])
def test_an_output_suffix_no_format_writes_is_exit_2_naming_the_formats(
    suffix: str, tmp_path: Path
) -> None:
    target = tmp_path / f"report{suffix}"
    result = run_cli("report", str(DEMO), "-o", str(target))
    assert result.returncode == 2
    assert not target.exists()
    (line,) = result.stderr.strip().splitlines()
    assert suffix in line
    for name in format_names("report"):
        assert name in line
        assert all(s in line for s in RENDERERS[name].suffixes)
    # --format says what to write, whatever the name.
    forced = run_cli("report", str(DEMO), "-o", str(target), "--format", "md")
    assert forced.returncode == 0, forced.stderr
    assert target.read_text(encoding="utf-8").startswith("# ")
