"""Command-line values converted without building a pydantic TypeAdapter per parameter.

typer 0.29 converts every parameter of the invoked command through a pydantic `TypeAdapter`
that it builds on first use (`typer._coercion.build_runtime_param`): importing that machinery
(`typer._adapters`, which pulls in `pydantic.types`, `pydantic.fields`, `annotated_types`) and
building an adapter for each of `score`'s dozen parameters costs more than the scoring itself.

Our parameters are few kinds: `str`, `list[str]`, `Path`, an Enum or a `Literal` of choices
(booleans that arrive as booleans are never converted). For those, when the value is already
of the shape the command line gives (a `str`, or a list of them), the conversion is done here
with typer's own pure helpers (`coerce_cli_choice`, `coerce_cli_path`), the same functions its
adapters call. Anything else (an unexpected type, an invalid choice, a path typer refuses) goes
to typer's own converter, unchanged, so every result and every error message is typer's.

If a later typer moves these internals, `install` finds nothing to hook and typer does all the
work itself: slower, never different. `tests/test_cli_coerce.py` checks that both paths give
the same values and the same errors.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class FastConversion:
    """Mixin for our click command classes: every parameter the parser will see (the help
    option included, which click creates on first use) gets the fast converter first."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        install(params)
        return params


def install(params: Iterable[Any]) -> None:
    """Give each typer parameter in `params` that has no converter yet the fast one."""
    maker = _maker()
    if maker is None:
        return
    for param in params:
        if getattr(param, "_runtime_param", False) is None:
            desc = getattr(param, "type_descriptor", None)
            if desc is not None and desc.file_annotation is None:
                param._runtime_param = maker(
                    parameter_info=desc.parameter_info, annotation=desc.annotation
                )


@functools.cache
def _maker() -> Any:
    """The converter class, or None when this typer lacks the internals it builds on."""
    try:
        from typer._click.exceptions import BadParameter
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._param_types import (
            choice_coercion_annotation,
            coerce_cli_choice,
            coerce_cli_path,
        )
    except ImportError:  # a typer without these internals: it converts everything itself
        return None

    def fast(rp: Any, value: Any, param: Any, ctx: Any) -> tuple[bool, Any]:
        annotation = rp.annotation
        info = rp.parameter_info
        if info.parser is not None:
            return False, None
        if annotation is str:
            return (True, value) if isinstance(value, str) else (False, None)
        if annotation == list[str]:
            if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                return True, list(value)
            return False, None
        if not isinstance(value, str):
            return False, None
        if annotation is Path and info.path_type is None:
            # What the adapter does: `Path(value)` for a str, then typer's existence and access
            # checks. A refusal goes to typer's converter, whose message names the path as typed.
            try:
                return True, coerce_cli_path(
                    Path(value), info, path_type=Path, param=param, ctx=ctx
                )
            except BadParameter:
                return False, None
        choice = choice_coercion_annotation(annotation, info)
        if choice is not None:
            choices, case_sensitive = choice
            try:
                return True, coerce_cli_choice(
                    value, choices=choices, case_sensitive=case_sensitive, ctx=ctx
                )
            except ValueError:
                return False, None  # typer's converter words the error
        return False, None

    class FastRuntimeParam(RuntimeParam):
        """typer's conversion contract; the common shapes here, typer's converter for the rest."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            done, result = fast(self, value, param, ctx)
            if done:
                return result
            return build_runtime_param(param.type_descriptor)._coerce_value(
                value, param=param, ctx=ctx
            )

    return FastRuntimeParam
