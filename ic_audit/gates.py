"""The CI gates of `score` and `report`: `--fail-on RATING` and `--fail-on-incomplete`.

An audit that trips a gate gets one line saying which; any such line means exit 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ic_audit.result import AuditResult

EXIT_GATE = 1


def gate_failures(
    results: list[AuditResult], fail_on: str | None, fail_on_incomplete: bool = False
) -> list[str]:
    """One line per audit and gate it trips, in the order of ``results``."""
    from ic_audit.result import held_note, rating_rank

    lines: list[str] = []
    for r in results:
        if fail_on is not None and rating_rank(r.overall.rating) >= rating_rank(fail_on):
            o = r.overall
            held = held_note(o.rating, o.score_rating, o.escalated_by)
            lines.append(
                f"{r.answers_file}: rated {o.rating} (score {o.score:.1f}"
                f"{f', {held}' if held else ''}), at or above --fail-on {fail_on}"
            )
        if fail_on_incomplete and not r.complete:
            n = len(r.unanswered)
            lines.append(
                f"{r.answers_file}: {n} required question{'s' if n != 1 else ''} unanswered "
                f"(--fail-on-incomplete): {', '.join(r.unanswered[:10])}"
                + (", ..." if n > 10 else "")
            )
    return lines


def exit_code(failures: list[str]) -> int:
    return EXIT_GATE if failures else 0
