"""JUnit XML for CI systems (GitLab, Jenkins): one test case per audit and one per finding.

A test case fails when its rating or severity is at or above the threshold: `--fail-on` when
given, otherwise `high` (so high and critical findings show red by default while the exit code
still follows `--fail-on` alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from ic_audit.errors import escape_unsafe
from ic_audit.result import AuditResult, rating_rank

if TYPE_CHECKING:
    from ic_audit.render.registry import RenderOptions

DEFAULT_THRESHOLD = "high"


def _attr(value: object) -> str:
    # quoteattr escapes &, <, > and quotes; what XML 1.0 cannot hold (controls, noncharacters
    # such as U+FFFE, lone surrogates) is shown as an escape, so every parser reads the file.
    return quoteattr(escape_unsafe(str(value)))


def _text(value: object) -> str:
    return escape(escape_unsafe(str(value)))


def render(results: Sequence[AuditResult], options: RenderOptions) -> str:
    return render_junit(results, options.fail_on, options.fail_on_incomplete)


def render_junit(
    results: Sequence[AuditResult],
    threshold: str | None = None,
    fail_on_incomplete: bool = False,
) -> str:
    limit = rating_rank(threshold or DEFAULT_THRESHOLD)
    suites: list[str] = []
    total_tests = total_failures = total_skipped = 0
    for r in results:
        system = str(r.system.get("name", ""))
        classname = f"ic-audit.{system}"
        cases: list[str] = []
        failures = skipped = 0

        o = r.overall
        # A stable name, so CI test history can follow it from run to run; the rating and
        # score of this run go in the outcome and the suite's properties.
        name = f"overall rating below {threshold or 'high'}"
        body = ""
        detail = "\n".join(f"{m.title}: {m.score:.1f} ({m.rating})" for m in r.metrics.values())
        if rating_rank(o.rating) >= limit:
            failures += 1
            why = f" (raised by {o.escalated_by})" if o.escalated_by else ""
            message = (
                f"{system} is rated {o.rating} ({o.score:.1f}/100){why}, "
                f"at or above {threshold or 'high'}"
            )
            body = f'<failure type="rating" message={_attr(message)}>{_text(detail)}</failure>'
        else:
            status = f"rated {o.rating} ({o.score:.1f}/100)\n{detail}"
            body = f"<system-out>{_text(status)}</system-out>"
        cases.append(_case(classname, name, r.answers_file, None, body))

        if r.complete:
            cases.append(_case(classname, "all required questions answered", r.answers_file))
        else:
            n = len(r.unanswered)
            message = f"{n} required question{'s' if n != 1 else ''} unanswered"
            detail = ", ".join(r.unanswered)
            if fail_on_incomplete:
                failures += 1
                body = (
                    f'<failure type="incomplete" message={_attr(message)}>{_text(detail)}</failure>'
                )
            else:
                skipped += 1
                body = f"<skipped message={_attr(message)}/>"
            cases.append(
                _case(classname, "all required questions answered", r.answers_file, None, body)
            )

        for f in r.findings:
            body = ""
            text = f"{f.title}\nAnswer: {f.answer}\nRecommendation: {f.recommendation}"
            if rating_rank(f.severity) >= limit:
                failures += 1
                body = (
                    f'<failure type="{f.severity}" message={_attr(f.severity + ": " + f.title)}>'
                    f"{_text(text)}</failure>"
                )
            else:
                body = f"<system-out>{_text(f.severity + ': ' + text)}</system-out>"
            cases.append(
                _case(classname, f"{f.question_id}: {f.title}", r.answers_file, f.line, body)
            )

        props = {
            "system": system,
            "rating": o.rating,
            "score": f"{o.score:.1f}",
            "bank": f"{r.bank.id} {r.bank.version}",
            "bank_sha256": r.bank.sha256,
            "answers_sha256": r.answers_sha256,
            "audit_date": r.audit_date or "",
        }
        properties = "".join(
            f"\n      <property name={_attr(k)} value={_attr(v)}/>" for k, v in props.items()
        )
        suites.append(
            f'  <testsuite name={_attr(r.answers_file)} tests="{len(cases)}" '
            f'failures="{failures}" errors="0" skipped="{skipped}">\n'
            f"    <properties>{properties}\n    </properties>\n"
            + "".join(cases)
            + "  </testsuite>\n"
        )
        total_tests += len(cases)
        total_failures += failures
        total_skipped += skipped
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="ic-audit" tests="{total_tests}" failures="{total_failures}" '
        f'errors="0" skipped="{total_skipped}">\n' + "".join(suites) + "</testsuites>\n"
    )


def _case(classname: str, name: str, file: str, line: int | None = None, body: str = "") -> str:
    where = f" file={_attr(file)}" + (f' line="{line}"' if line else "")
    head = f"    <testcase classname={_attr(classname)} name={_attr(name)}{where}"
    return f"{head}>{body}</testcase>\n" if body else f"{head}/>\n"
