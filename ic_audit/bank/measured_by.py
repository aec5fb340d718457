"""`measured_by` on a bank question: which figure computed from operational evidence answers
it, and which option each value of that figure selects (see ic_audit/measure.py)."""

from pydantic import BaseModel, ConfigDict, Field

# The figures a question can be answered by, per metric: the contract's `measured` fields and a
# few more that only select answers. A list figure (interventions) answers a `multi` question.
FIGURES: dict[str, tuple[str, ...]] = {
    "goal_drift": (
        "actions_reviewed",
        "incidents",
        "rate_per_1000",
        "upper_95_per_1000",
        "independent_share",
    ),
    "controllability": (
        "drills",
        "success_rate",
        "p95_seconds",
        "production_load_share",
        "days_since_production_drill",
        "days_since_production_load_drill",
        "interventions_at_production_load",
    ),
    "alignment_decay": ("longest_window_days", "days_since_last_evaluation", "largest_drop"),
}


class MeasuredOption(BaseModel):
    """The option a figure in [min, max) selects (min inclusive, max exclusive, None open)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, allow_inf_nan=False)

    value: str
    min: float | None = None
    max: float | None = None


class MeasuredBy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, allow_inf_nan=False)

    metric: str
    figure: str
    options: list[MeasuredOption] = Field(default_factory=list)
    # The option chosen when evidence for the metric is there but gives no figure (no drill in
    # production: "never"); None: the typed answer stands.
    absent: str | None = None


def measured_by_problems(
    metric: str | None, option_values: list[str], measured: MeasuredBy
) -> list[str]:
    """What is wrong with a question's `measured_by` (for the bank's rubric check)."""
    out: list[str] = []
    if measured.metric not in FIGURES:
        out.append(f"measured_by.metric must be one of {', '.join(FIGURES)}")
        return out
    if metric is not None and metric != measured.metric:
        out.append(f"measured_by.metric {measured.metric!r} is not the question's metric")
    if measured.figure not in FIGURES[measured.metric]:
        out.append(
            f"measured_by.figure must be one of {', '.join(FIGURES[measured.metric])} "
            f"for {measured.metric}"
        )
    named = [o.value for o in measured.options] + (
        [measured.absent] if measured.absent is not None else []
    )
    for value in named:
        if value not in option_values:
            out.append(f"measured_by names {value!r}, which is not an option of the question")
    return out
