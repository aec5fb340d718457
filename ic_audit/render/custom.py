"""Reports from a template the user supplies (`report --template FILE`), in Jinja2's sandbox.

The template sees the same context as the built-in reports (`r`, the result as JSON data, and
the helpers in `templating.build_context`); user text is escaped the same way: autoescaping for
HTML, the Markdown escaping filters and safety net for Markdown.
"""

from __future__ import annotations

from pathlib import Path

from ic_audit.errors import UserError
from ic_audit.loading import decode_text, read_bytes
from ic_audit.render.templating import Format, build_context, environment
from ic_audit.result import AuditResult


def format_for_template(path: Path) -> Format:
    name = path.name.lower().removesuffix(".j2").removesuffix(".jinja")
    return "html" if name.endswith((".html", ".htm")) else "md"


def render_template_file(result: AuditResult, path: Path, fmt_name: Format | None = None) -> str:
    import jinja2
    import jinja2.exceptions

    name = str(path)
    source = decode_text(read_bytes(path, name), name)
    fmt_name = fmt_name or format_for_template(path)
    env = environment(fmt_name, sandboxed=True)
    try:
        template = env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise UserError.one(
            name, f"template syntax error: {exc.message}", line=exc.lineno
        ) from None
    context = build_context(result)
    if fmt_name == "html":
        from ic_audit.render.html import chart_context

        context["charts"] = chart_context(context)
    try:
        return template.render(**context)
    except jinja2.exceptions.SecurityError as exc:
        raise UserError.one(name, f"template refused by the sandbox: {exc}") from None
    except jinja2.UndefinedError as exc:
        raise UserError.one(
            name, f"template uses something the report does not have: {exc.message}"
        ) from None
    except jinja2.TemplateError as exc:
        raise UserError.one(name, f"template error: {exc}") from None
    except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
        raise UserError.one(name, f"template failed: {type(exc).__name__}: {exc}") from None
