"""What a run imports and builds beyond the libraries' floor (issue 10, point 6).

Timings are left to `benchmarks/bench.py`; these tests hold the mechanisms that keep the
start-up cost down, each through a fresh interpreter running the real entry point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import DEMO, ROOT, run_cli

# Runs `main(argv)` and reports, on stderr, which of the named modules ended up imported.
_PROBE = """
import json, sys
from ic_audit.cli import main
argv, watched = json.loads(sys.argv[1]), json.loads(sys.argv[2])
try:
    main(argv)
except SystemExit as exc:
    code = exc.code
sys.stderr.write("\\nPROBE " + json.dumps({
    "code": code,
    "imported": [m for m in watched if m in sys.modules],
    "loader_is_real": hasattr(sys.modules.get("pydantic.plugin._loader"), "entry_points"),
}) + "\\n")
"""


def _probe(argv: list[str], watched: list[str], env: dict[str, str] | None = None) -> dict:
    full_env = {**os.environ, "NO_COLOR": "1"}
    full_env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv), json.dumps(watched)],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = proc.stderr.rsplit("PROBE ", 1)[-1]
    result: dict = json.loads(line)
    return result


def test_score_does_not_import_importlib_metadata_for_pydantic_plugins() -> None:
    result = _probe(["score", str(DEMO), "--format", "json"], ["importlib.metadata", "email"])
    assert result["code"] == 0
    assert result["imported"] == []


def test_pydantic_plugins_turned_on_by_the_user_still_load() -> None:
    result = _probe(
        ["score", str(DEMO)], ["importlib.metadata"], env={"PYDANTIC_DISABLE_PLUGINS": "0"}
    )
    assert result["code"] == 0
    assert result["imported"] == ["importlib.metadata"]
    assert result["loader_is_real"]


def test_a_command_run_builds_only_that_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer.main

    from ic_audit import cli

    built: list[str] = []
    real = typer.main.get_command_from_info

    def counting(command_info: Any, **kwargs: Any) -> Any:
        command = real(command_info, **kwargs)
        built.append(command.name or "")
        return command

    monkeypatch.setattr(typer.main, "get_command_from_info", counting)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["score", str(DEMO), "--format", "json"])
    assert exit_info.value.code == 0
    assert json.loads(capsys.readouterr().out)["tool"]["name"] == "ic-audit"
    assert built == ["score"]


def test_top_level_help_and_a_mistyped_command_still_see_every_command() -> None:
    from ic_audit import cli

    names = [info.callback.__name__ for info in cli.app.registered_commands if info.callback]
    listed = run_cli("--help").stdout
    assert all(f"  {name}" in listed for name in names)
    typo = run_cli("scor", str(DEMO))
    assert typo.returncode == 2
    assert "'score'" in typo.stderr


def test_model_fields_are_declared_as_types_not_as_text_to_evaluate() -> None:
    # pydantic evaluates a field annotation given as text (what `from __future__ import
    # annotations` makes of every one) when it builds the class: about a thousand evaluations
    # at every start-up for ic-audit's models. Declared as types, they cost nothing.
    import importlib
    import inspect
    import pkgutil

    from pydantic import BaseModel

    import ic_audit

    as_text: list[str] = []
    for info in pkgutil.walk_packages(ic_audit.__path__, "ic_audit."):
        if ".walkthrough" in info.name or info.name.endswith("__main__"):
            continue  # the walkthrough's screens need a terminal library; it has no models
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                annotations = inspect.get_annotations(value)
                as_text += [
                    f"{value.__name__}.{k}" for k, v in annotations.items() if isinstance(v, str)
                ]
    assert as_text == []
