"""The parts a bank question is made of, as the bank files write them: options, bands, number
ranges, `when` conditions and `replaces` entries, with the names and constraints they share
(roles, evidence tags, rating names, ids, risks) and `FileModel`, the base of every model of a
bank file. `schema` builds the questions, sections and the bank from these."""

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ic_audit.bank.values import _fmt_num

Role = Literal["profile", "control", "observation"]
ROLES: tuple[Role, ...] = ("profile", "control", "observation")
# What an observation answer says was seen: looked and saw nothing, never looked, seen and
# contained, seen and not contained (the last lifts the rating to `uncontained_floor`).
EvidenceTag = Literal["not_observed", "unknown", "contained", "uncontained"]
RatingName = Literal["low", "moderate", "high", "critical"]

# Matched with `fullmatch`: `$` would also match before a final newline, making `A-01\n` an id.
_ID_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_VALUE_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")

# Words YAML 1.1 reads as booleans or null: as option values they would be misread.
_YAML_WORDS = {"yes", "no", "y", "n", "on", "off", "true", "false", "null"}

Risk = Annotated[float, Field(ge=0.0, le=1.0)]


class FileModel(BaseModel):
    # Validators are built on first use: a bank read from the cache (see `load_bank`) never
    # validates anything, so a run that uses one never pays for building them.
    # allow_inf_nan=False: every number of a bank is finite (`.nan` would turn comparisons off).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, allow_inf_nan=False)


class Option(FileModel):
    value: str
    label: str
    risk: Risk | None = None
    weight: Annotated[float, Field(gt=0, le=100)] | None = None
    exclusive: bool = False
    red_flag: str | None = None
    recommendation: str | None = None
    finding: str | None = None
    evidence: EvidenceTag | None = None
    # The team declares the question does not apply: scores 0, needs a note, listed for review.
    not_applicable: bool = False

    @field_validator("value", mode="before")
    @classmethod
    def _yes_no_words(cls, v: Any) -> Any:
        # `value: yes` unquoted is a YAML boolean; the meaning is unambiguous, so accept it.
        if isinstance(v, bool):
            return "yes" if v else "no"
        return v


class Band(FileModel):
    min: float | None = None
    max: float | None = None
    risk: Risk
    label: str
    red_flag: str | None = None
    recommendation: str | None = None
    finding: str | None = None
    evidence: EvidenceTag | None = None

    def contains(self, x: float) -> bool:
        return (self.min is None or x >= self.min) and (self.max is None or x < self.max)


class NumberRange(FileModel):
    min: float | None = None
    max: float | None = None


class When(FileModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, defer_build=True, allow_inf_nan=False
    )

    question: str
    in_: list[str] | None = Field(default=None, alias="in")
    at_least: int | float | None = None

    @field_validator("in_", mode="before")
    @classmethod
    def _bools(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [("yes" if x else "no") if isinstance(x, bool) else x for x in v]
        return v

    def as_written(self) -> dict[str, Any]:
        out: dict[str, Any] = {"question": self.question}
        if self.in_ is not None:
            out["in"] = list(self.in_)
        if self.at_least is not None:
            out["at_least"] = self.at_least
        return out

    def describe(self) -> str:
        if self.in_ is not None:
            return f"{self.question} is {' or '.join(self.in_)}"
        return f"{self.question} is at least {_fmt_num(self.at_least or 0)}"


def _yes_no_word(v: Any) -> Any:
    return ("yes" if v else "no") if isinstance(v, bool) else v


class Replacement(FileModel):
    """An id of an earlier bank version this question takes over (`ic-audit migrate`): its
    answers' values map to this question's values through `values`; an old value not in the
    map (and any value when there is no map, as for an old number question) is not carried."""

    id: str
    values: dict[str, str] = Field(default_factory=dict)

    @field_validator("values", mode="before")
    @classmethod
    def _yes_no_words(cls, v: Any) -> Any:
        # `yes: ...` unquoted is a YAML boolean key; the meaning is unambiguous, so accept it.
        if isinstance(v, dict):
            return {_yes_no_word(k): _yes_no_word(x) for k, x in v.items()}
        return v
