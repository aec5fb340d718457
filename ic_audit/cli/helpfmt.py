"""How `--help` reads: usage lines with the metavars a person would write, no word broken at
its hyphen, and a usage error that names the command it came from. (The classes also convert
values the fast way: `ic_audit.cli.coerce`.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from typer._click import Context, HelpFormatter
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup

from ic_audit.cli.coerce import FastConversion

# A non-breaking hyphen stands in for "-" while the text is wrapped, so `--fail-on-incomplete`
# and `ic-audit` never end a line at their hyphen; both are one column wide, so the layout
# is the one the wrapper chose.
_KEEP = "\u2011"


def _keep(text: str) -> str:
    return text.replace("-", _KEEP)


class _Formatter(HelpFormatter):
    def write(self, string: str) -> None:
        super().write(string.replace(_KEEP, "-"))

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, _keep(args), prefix)

    def write_text(self, text: str) -> None:
        super().write_text(_keep(text))

    def write_dl(
        self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        super().write_dl([(_keep(a), _keep(b)) for a, b in rows], col_max, col_spacing)


class _Context(Context):
    formatter_class = _Formatter


def usage_name(param: Any) -> str:
    """An argument as usage lines write it: `NAME`, `NAME...` (one or more), `[NAME]`."""
    name = str(param.metavar or param.name).upper()
    if param.nargs != 1:
        name += "..."
    return name if param.required else f"[{name}]"


class Command(FastConversion, TyperCommand):
    context_class = _Context

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(usage_name(param))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                # The name as in the usage line, without the type the signature declares
                # (`<list[str]>`, `<path>`): the help says what the argument is.
                arguments.append((usage_name(param), record[1]))
            else:
                options.append(record)
        for heading, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(heading):
                    formatter.write_dl(rows)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:
            # The parser raises some errors (an option missing its value) without a context;
            # give them this command's, so the message points to `ic-audit CMD --help`.
            if exc.ctx is None:
                exc.ctx, exc.cmd = ctx, self
            raise


class Group(FastConversion, TyperGroup):
    context_class = _Context
