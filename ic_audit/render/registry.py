"""Every output format of `score` and `report`, in one table.

A format is a `Renderer`: its name (the `--format` choice), the file suffixes that select it for
`report -o`, the commands that offer it, whether one document holds a batch of audits, a one-line
description (shown in `--help`), and where its `results, options -> text` function lives. The
CLI's choices, its `--help`, the `-o` suffix inference and tests/test_formats.py all read
`RENDERERS`; adding a format is one module with a `render(results, options)` function and one
entry here.

The function is imported on first use, so listing the formats (`--help`) imports no renderer.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ic_audit.bank import Bank
    from ic_audit.result import AuditResult

Command = Literal["score", "report"]


@dataclass(frozen=True)
class RenderOptions:
    """What a command tells a renderer besides the results; each format reads what it needs."""

    bank: Bank | None = None  # the bank the results were scored with (its metrics, for columns)
    fail_on: str | None = None  # --fail-on: JUnit's failure threshold
    fail_on_incomplete: bool = False  # JUnit: an incomplete audit is a failure, not a skip
    as_list: bool = False  # JSON: a list even for one result (a pattern or several files)
    colour: bool = False  # ANSI colour (a terminal)
    template: Path | None = None  # report --template: the user's Jinja2 template


RenderFunction = Callable[["Sequence[AuditResult]", RenderOptions], str]


@dataclass(frozen=True)
class Renderer:
    name: str
    suffixes: tuple[str, ...]  # lower-case, with the dot; the first is the one to suggest
    commands: frozenset[Command]
    batch: bool  # one document can hold many audits (else: exactly one result)
    description: str
    target: str  # "module:function", imported on first use
    template: bool = False  # takes a user's --template

    def render(self, results: Sequence[AuditResult], options: RenderOptions) -> str:
        if not self.batch and len(results) != 1:
            raise ValueError(f"the {self.name} format renders exactly one audit")
        module, _, function = self.target.partition(":")
        fn: RenderFunction = getattr(importlib.import_module(module), function)
        return fn(results, options)


def _renderers(*items: Renderer) -> dict[str, Renderer]:
    return {r.name: r for r in items}


RENDERERS: dict[str, Renderer] = _renderers(
    Renderer(
        name="table",
        suffixes=(".txt",),
        commands=frozenset({"score"}),
        batch=True,
        description="aligned columns, one row per audit",
        target="ic_audit.render.table:render",
    ),
    Renderer(
        name="md",
        suffixes=(".md", ".markdown"),
        commands=frozenset({"report"}),
        batch=False,
        description="the report as GitHub-flavoured Markdown",
        target="ic_audit.render.markdown:render",
        template=True,
    ),
    Renderer(
        name="html",
        suffixes=(".html", ".htm"),
        commands=frozenset({"report"}),
        batch=False,
        description="the report as one self-contained HTML page",
        target="ic_audit.render.html:render",
        template=True,
    ),
    Renderer(
        name="json",
        suffixes=(".json",),
        commands=frozenset({"score", "report"}),
        batch=True,
        description="the scored audit as JSON (the contract)",
        target="ic_audit.render.jsonout:render",
    ),
    Renderer(
        name="junit",
        suffixes=(".xml",),
        commands=frozenset({"score"}),
        batch=True,
        description="JUnit XML for CI test reports",
        target="ic_audit.render.junit:render",
    ),
    Renderer(
        name="sarif",
        suffixes=(".sarif",),
        commands=frozenset({"score"}),
        batch=True,
        description="SARIF 2.1.0 for code scanning",
        target="ic_audit.render.sarif:render",
    ),
)

DEFAULT_FORMAT: dict[Command, str] = {"score": "table", "report": "md"}


def formats_for(command: Command) -> list[Renderer]:
    return [r for r in RENDERERS.values() if command in r.commands]


def format_names(command: Command) -> list[str]:
    return [r.name for r in formats_for(command)]


def for_suffix(command: Command, name: str) -> Renderer | None:
    """The format `command` offers whose suffix ends ``name`` (a file name), if one does."""
    lowered = name.lower()
    for r in formats_for(command):
        if any(lowered.endswith(s) for s in r.suffixes):
            return r
    return None


def help_text(command: Command) -> str:
    """`--format`'s help: every choice with its description."""
    return "; ".join(f"{r.name}: {r.description}" for r in formats_for(command)) + "."


def choices_text(command: Command) -> str:
    """'md, html or json'."""
    names = format_names(command)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
