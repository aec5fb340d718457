"""Reports from a template the user supplies (`report --template FILE`), in Jinja2's sandbox,
within a time and size budget.

The template sees the same context as the built-in reports (`r`, the result as JSON data, and
the helpers in `jinja_reports.build_context`); user text is escaped the same way: autoescaping for
HTML, the Markdown escaping filters and safety net for Markdown.

A template is code from outside, so besides the sandbox (no Python internals, no changing the
data) it gets a budget (the constants below, documented in README "Limits on input"): a
template over it ends with one line naming the template and the budget, exit 2. Operations that
could build something huge in one step (``center``/``ljust``/``rjust``/``indent``/``replace``
widths and sizes, ``format``/``%`` widths and precisions, ``*`` repetition, ``**``, ``range``)
are checked before they run; the output is streamed and counted; the time limit is checked
between pieces of output, on every call and every 1,000 ``range`` items, and, where the
platform has it (POSIX, main thread), time and memory by an interval timer that interrupts any
loop.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ic_audit.errors import UserError
from ic_audit.loading import decode_text, read_bytes
from ic_audit.render.jinja_reports import Format, build_context, environment
from ic_audit.result import AuditResult

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

# The budget of one custom template.
TIME_BUDGET_SECONDS = 5.0
OUTPUT_BUDGET_CHARS = 50_000_000  # the whole report; also the most any one value may hold
RANGE_BUDGET_ITEMS = 10_000_000  # items produced by every range() of one render together
POWER_BUDGET_BITS = 1_000_000  # the size of a ``**`` result
MEMORY_BUDGET_BYTES = 256 * 1024 * 1024  # growth of the process's peak memory while rendering
_TICK_SECONDS = 0.05

_NUMBER = re.compile(r"\d+")
# Where a width or precision can be: ``%-08.3f`` / ``%(name)5s``, and ``{0:>8.2}``.
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*[\d*]*(?:\.[\d*]*)?")
_BRACE_SPEC = re.compile(r"\{[^{}:]*:([^{}]*)")
_NESTED_FIELD = re.compile(r"\{[^{}]*\{")


class BudgetExceeded(Exception):
    """A template went over one of its budgets (``what`` says which)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class _OutOfTime(BaseException):
    # A BaseException, so that no ``except Exception`` inside Jinja2 can swallow it.
    pass


class _OutOfMemory(BaseException):
    pass


class _Budget:
    """The state of one render: its deadline, the range items used so far, and the process's
    peak memory when it started."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + TIME_BUDGET_SECONDS
        self.range_items = 0
        self.memory_start = _peak_memory()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise _OutOfTime

    def check_memory(self) -> None:
        peak = _peak_memory()
        start = self.memory_start
        if peak is not None and start is not None and peak - start > MEMORY_BUDGET_BYTES:
            raise _OutOfMemory


def _peak_memory() -> int | None:
    """The process's peak resident memory in bytes, where the platform says."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


_current: _Budget | None = None


def _check_time() -> None:
    if _current is not None:
        _current.check_time()


def _size(what: str, n: Any) -> None:
    """Refuse to build anything of more than the output budget."""
    if isinstance(n, (int, float)) and not isinstance(n, bool) and n > OUTPUT_BUDGET_CHARS:
        raise BudgetExceeded(f"{what} bigger than {OUTPUT_BUDGET_CHARS:,} characters")


def _check_format(fmt: str, args: Any) -> None:
    """A ``%``/``format`` pattern whose widths or precisions would build a huge string."""
    specs = _PERCENT_SPEC.findall(fmt) + _BRACE_SPEC.findall(fmt)
    for number in _NUMBER.findall(" ".join(specs)):
        if len(number) > 9 or int(number) > OUTPUT_BUDGET_CHARS:
            raise BudgetExceeded(f"a format width or precision over {OUTPUT_BUDGET_CHARS:,}")
    if "*" in fmt or _NESTED_FIELD.search(fmt):  # widths taken from the arguments
        values = args if isinstance(args, (tuple, list)) else [args]
        if isinstance(args, dict):
            values = list(args.values())
        for value in values:
            _size("a format width or precision", value)


def _check_repeat(left: Any, right: Any) -> None:
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, str) and isinstance(n, int):
            _size("a repeated value", len(seq) * n)
        elif isinstance(seq, (list, tuple)) and isinstance(n, int) and len(seq) * n > _MAX_ITEMS:
            # A list costs a pointer per item, not a byte: bounded by the range budget.
            raise BudgetExceeded(f"a repeated list of more than {_MAX_ITEMS:,} items")


def _check_power(base: Any, exponent: Any) -> None:
    if not (isinstance(base, int) and isinstance(exponent, int)):
        return
    if abs(base) > 1 and exponent > 0 and exponent * math.log2(abs(base)) > POWER_BUDGET_BITS:
        raise BudgetExceeded(f"a number of more than {POWER_BUDGET_BITS:,} bits")


_WIDTH_METHODS = {"center", "ljust", "rjust", "zfill"}
_MAX_ITEMS = RANGE_BUDGET_ITEMS


def _check_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    # The sandbox hands out ``str.format`` wrapped (functools.wraps keeps the original).
    obj = getattr(obj, "__wrapped__", obj)
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if name == "generate_lorem_ipsum":  # the ``lipsum`` global: paragraphs of up to max words
        n = args[0] if args else kwargs.get("n", 5)
        most = args[3] if len(args) > 3 else kwargs.get("max", 100)
        if isinstance(n, int) and isinstance(most, int):
            _size("a lipsum() text", n * most * 12)
    if isinstance(owner, str):
        if name in _WIDTH_METHODS and args:
            _size(f"a {name}() width", args[0])
        elif name == "expandtabs":
            width = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(width, int):
                _size("an expandtabs() result", owner.count("\t") * width + len(owner))
        elif name in ("format", "format_map"):
            _check_format(owner, [*args, *kwargs.values()])
        elif name == "replace" and len(args) >= 2:
            _check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else None)
        elif name == "join" and args:
            _check_time()


def _check_replace(s: Any, old: Any, new: Any, count: Any) -> None:
    if not all(isinstance(x, str) for x in (s, old, new)):
        return
    n = len(s) + 1 if old == "" else s.count(old)
    if isinstance(count, int) and count >= 0:
        n = min(n, count)
    _size("a replace() result", len(s) + n * (len(new) - len(old)))


class _CountedRange:
    """``range`` for templates: counted against the range budget and the clock as it runs."""

    def __init__(self, numbers: range) -> None:
        _size("a range", len(numbers))
        self._range = numbers

    def __iter__(self) -> Iterator[int]:
        budget = _current
        for i, value in enumerate(self._range):
            if budget is not None and i % 1000 == 0:
                budget.range_items += min(1000, len(self._range) - i)
                if budget.range_items > RANGE_BUDGET_ITEMS:
                    raise BudgetExceeded(f"more than {RANGE_BUDGET_ITEMS:,} range() items")
                budget.check_time()
            yield value

    def __len__(self) -> int:
        return len(self._range)

    def __getitem__(self, index: Any) -> Any:
        item = self._range[index]
        return _CountedRange(item) if isinstance(item, range) else item

    def __contains__(self, value: object) -> bool:
        return value in self._range

    def __reversed__(self) -> Iterator[int]:
        return iter(_CountedRange(self._range[::-1]))

    def __repr__(self) -> str:
        return repr(self._range)


def _range(*args: int) -> _CountedRange:
    return _CountedRange(range(*args))


def _bounded_filters() -> dict[str, Callable[..., Any]]:
    """Jinja2's filters that can build something huge from a small template, checked first."""
    from jinja2 import filters, pass_eval_context
    from jinja2.nodes import EvalContext

    def center(value: Any, width: int = 80) -> str:
        _size("a center width", width)
        return filters.do_center(value, width)

    def indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
        w = len(width) if isinstance(width, str) else width
        if isinstance(w, int):
            _size("an indent result", len(str(s)) + (str(s).count("\n") + 1) * w)
        return filters.do_indent(s, width, first, blank)

    def format_(value: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(value, str):
            _check_format(value, [*args, *kwargs.values()] if args or kwargs else ())
        return filters.do_format(value, *args, **kwargs)

    @pass_eval_context
    def replace(eval_ctx: EvalContext, s: Any, old: Any, new: Any, count: int | None = None) -> str:
        _check_replace(str(s), str(old), str(new), count)
        return filters.do_replace(eval_ctx, s, old, new, count)

    return {"center": center, "indent": indent, "format": format_, "replace": replace}


@functools.cache
def sandbox_class() -> type[ImmutableSandboxedEnvironment]:
    """Jinja2's immutable sandbox with the budget's checks (built on first use)."""
    from jinja2.runtime import Context
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BudgetSandbox(ImmutableSandboxedEnvironment):
        # Checked before they run, and never folded at compile time.
        intercepted_binops = frozenset({"*", "**", "%"})

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.filters.update(_bounded_filters())
            self.globals["range"] = _range

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            _check_time()
            if operator == "*":
                _check_repeat(left, right)
            elif operator == "**":
                _check_power(left, right)
            elif operator == "%" and isinstance(left, str):
                _check_format(left, right)
            return super().call_binop(context, operator, left, right)

        def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            _check_time()
            _check_call(__obj, args, kwargs)
            return super().call(__context, __obj, *args, **kwargs)

    return BudgetSandbox


@contextlib.contextmanager
def _watchdog(budget: _Budget) -> Iterator[None]:
    """Check the clock and memory every few milliseconds, interrupting even a loop that calls
    nothing we check (POSIX, main thread only; elsewhere the checks on calls, ``range`` and
    output are what is left)."""
    import signal
    import threading

    setitimer = getattr(signal, "setitimer", None)
    if setitimer is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    # A tick raises at most once, and never once the render has ended: a tick landing in the
    # clean-up below would otherwise skip it and leave the timer raising into whatever runs
    # next (the error message being printed, say).
    state = {"fired": False, "stopped": False}

    def tick(signum: int, frame: object) -> None:
        if state["fired"] or state["stopped"]:
            return
        try:
            budget.check_time()
            budget.check_memory()
        except BaseException:
            state["fired"] = True
            raise

    previous = signal.signal(signal.SIGALRM, tick)
    try:
        setitimer(signal.ITIMER_REAL, _TICK_SECONDS, _TICK_SECONDS)
        yield
    finally:
        try:
            state["stopped"] = True
        finally:
            setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def format_for_template(path: Path) -> Format:
    name = path.name.lower().removesuffix(".j2").removesuffix(".jinja")
    return "html" if name.endswith((".html", ".htm")) else "md"


def _over(name: str, what: str) -> UserError:
    return UserError.one(
        name,
        f"template went over its budget: {what}; simplify the template "
        "(see README, Limits on input)",
    )


def render_template_file(result: AuditResult, path: Path, fmt_name: Format | None = None) -> str:
    global _current
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
    except RecursionError:
        raise UserError.one(name, "template is nested too deeply to compile") from None
    context = build_context(result)
    if fmt_name == "html":
        from ic_audit.render.html import chart_context

        context["charts"] = chart_context(context)
    parts: list[str] = []
    size = 0
    _current = budget = _Budget()
    try:
        with _watchdog(budget):
            for chunk in template.generate(**context):
                size += len(chunk)
                if size > OUTPUT_BUDGET_CHARS:
                    raise BudgetExceeded(f"output longer than {OUTPUT_BUDGET_CHARS:,} characters")
                budget.check_time()
                parts.append(chunk)
    except _OutOfTime:
        raise _over(name, f"ran longer than {TIME_BUDGET_SECONDS:g} seconds") from None
    except BudgetExceeded as exc:
        raise _over(name, exc.what) from None
    except RecursionError:
        raise _over(name, "recursion too deep (a macro that calls itself without end?)") from None
    except (MemoryError, _OutOfMemory):
        limit = MEMORY_BUDGET_BYTES // (1024 * 1024)
        raise _over(name, f"used more than {limit} MiB of memory") from None
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
    finally:
        _current = None
    return "".join(parts)
