"""The fast command-line converter (`ic_audit.cli.coerce`) gives exactly what typer's own gives.

Every parameter of every command is converted twice for each value of a matrix (the shapes the
parser hands over, valid and invalid): once with the fast converter, once with typer's adapter
path. Results and error messages must be the same.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from ic_audit.cli import app
from ic_audit.cli.coerce import _maker, install
from tests.conftest import DEMO
from tests.test_startup_cost import _probe

# typer before 0.29 converts values without pydantic adapters, and has no internals to hook.
needs_adapters = pytest.mark.skipif(
    _maker() is None, reason="this typer converts values without building pydantic adapters"
)


def _commands() -> list[Any]:
    root = get_command(app)
    return [root, *root.commands.values()]  # type: ignore[attr-defined]


def _values(tmp_path: Path) -> list[Any]:
    directory = tmp_path / "a dir"
    directory.mkdir()
    return [
        None,
        True,
        False,
        "",
        "-",
        "json",
        "JSON",
        "html",
        "High",
        "critical",
        "pdf",
        str(DEMO),
        str(directory),
        str(tmp_path / "missing.yaml"),
        "x//y/../z",
        ("a.yaml", "b.yaml"),
        ["only.yaml"],
        (),
        3,
        ("a", 3),
    ]


def _outcome(param: Any, ctx: Any, value: Any) -> tuple[str, Any]:
    from typer._click.exceptions import BadParameter

    try:
        result = param.process_value(ctx, value)
    except BadParameter as exc:
        return "error", exc.format_message()
    except Exception as exc:  # the same exception type and text either way
        return type(exc).__name__, str(exc)
    return "value", (type(result).__name__, result)


@needs_adapters
def test_fast_conversion_equals_typers_own_for_every_parameter(tmp_path: Path) -> None:
    compared = 0
    kinds: set[str] = set()
    values = _values(tmp_path)
    for command in _commands():
        ctx = command.make_context(command.name or "ic-audit", [], resilient_parsing=True)
        params = list(command.get_params(ctx))
        for value in values:
            for param in params:
                if not hasattr(param, "type_descriptor"):
                    continue
                param._runtime_param = None
                install([param])
                fast = _outcome(param, ctx, value)
                param._runtime_param = None  # typer builds its adapter
                slow = _outcome(param, ctx, value)
                assert fast == slow, (command.name, param.name, value)
                kinds.add(repr(param.type_descriptor.annotation))
                compared += 1
    # Every kind of parameter the CLI has was compared.
    assert {"<class 'str'>", "<class 'pathlib.Path'>", "list[str]", "<class 'bool'>"} <= kinds
    assert any("Literal" in k for k in kinds) and any("enum" in k for k in kinds)
    assert compared > 500


@needs_adapters
def test_a_parameter_gets_the_fast_converter_when_parsed() -> None:
    command = get_command(app).commands["score"]  # type: ignore[attr-defined]
    ctx = command.make_context("score", [str(DEMO), "--format", "json"])
    converters = {type(p._runtime_param).__name__ for p in command.get_params(ctx)}
    assert converters == {"FastRuntimeParam"}
    assert ctx.params["format"] == "json"
    assert ctx.params["answers"] == [str(DEMO)]


@pytest.mark.skipif(os.name != "posix", reason="module probe uses a POSIX subprocess")
def test_score_and_report_do_not_build_typers_pydantic_adapters() -> None:
    for argv in (["score", str(DEMO)], ["report", str(DEMO), "--format", "md"]):
        result = _probe(argv, ["typer._adapters"])
        assert result["code"] in (0, 1)
        assert result["imported"] == []


def test_a_bad_value_still_gets_typers_message() -> None:
    from tests.conftest import run_cli

    result = run_cli("score", str(DEMO), "--format", "pdf")
    assert result.returncode == 2
    assert "'pdf' is not one of" in result.stderr
    result = run_cli("score", str(DEMO), "--fail-on", "HIGH")  # case-insensitive choice
    assert result.returncode == 1
