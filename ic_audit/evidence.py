"""Operational evidence: the measurements behind the three key metrics (`evidence:` in an
answers file), their models, and reading them inline or from CSV / JSON Lines files.

Evidence is validated like every other part of an answers file: every problem is one located
line (the key's line inline; the row's line in a file), and a file is read with the same safety
as an answers file (`ic_audit.loading.read_bytes`: regular files only, a size limit). The
figures computed from it are `ic_audit.measure`'s.
"""

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    with_config,
)
from typing_extensions import NotRequired, TypedDict

from ic_audit.bank import parse_date
from ic_audit.errors import Problem
from ic_audit.limits import (
    EVIDENCE_FILE_MAX_BYTES,
    EVIDENCE_PROBLEMS_SHOWN,
    EVIDENCE_ROWS_MAX,
    TEXT_MAX,
)
from ic_audit.loading import Document, check_line, decode_text, read_bytes, refused_character
from ic_audit.messages import _loc_text, _plain_message

Kind = Literal["drift_reviews", "drills", "evaluations"]
KINDS: tuple[Kind, ...] = ("drift_reviews", "drills", "evaluations")
Reviewer = Literal["independent", "deploying_team"]
EnvironmentName = Literal["lab", "staging", "production"]
Intervention = Literal["stop", "override", "redirect", "rollback"]


Count = Annotated[int, Field(ge=0)]
_ROW_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False)

# Rows are validated as typed dictionaries, entirely inside pydantic's core: a model instance
# per row would cost several times as much, and a 100,000-row file must read in well under a
# second. The checks across fields (`_row_problem`) run after, in one loop.


@with_config(_ROW_CONFIG)
class DriftReview(TypedDict):
    """One reviewed window of the system's actions (goal drift)."""

    start: dt.date
    end: dt.date
    actions_reviewed: Count
    incidents: Count
    reviewer: Reviewer


@with_config(_ROW_CONFIG)
class Drill(TypedDict):
    """One stop / override / redirect / rollback drill (controllability). `seconds_to_effect`
    is left out (or empty) when the drill failed."""

    date: dt.date
    environment: EnvironmentName
    load: Annotated[float, Field(ge=0.0, le=1.0)]
    attempted: Intervention
    succeeded: bool
    seconds_to_effect: NotRequired[Annotated[float, Field(ge=0.0)] | None]


@with_config(_ROW_CONFIG)
class Evaluation(TypedDict):
    """One run of a fixed evaluation suite (alignment decay); a higher score is better."""

    date: dt.date
    suite: Annotated[str, Field(min_length=1, max_length=TEXT_MAX), AfterValidator(check_line)]
    score: float


MODELS: dict[Kind, Any] = {
    "drift_reviews": DriftReview,
    "drills": Drill,
    "evaluations": Evaluation,
}
_DATES: dict[Kind, tuple[str, ...]] = {
    "drift_reviews": ("start", "end"),
    "drills": ("date",),
    "evaluations": ("date",),
}
_ADAPTERS: dict[Kind, TypeAdapter[Any]] = {}


def _adapter(kind: Kind) -> TypeAdapter[Any]:
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(list[MODELS[kind]])  # type: ignore[valid-type]
    return _ADAPTERS[kind]


def fields_of(kind: Kind) -> list[str]:
    return list(MODELS[kind].__annotations__)


def _before(kind: Kind, row: Any) -> str | None:
    """A date that pydantic would misread (an integer as a Unix timestamp, a date with a
    time): refused with the words every other date in an answers file gets."""
    if type(row) is not dict:
        return None
    for key in _DATES[kind]:
        value = row.get(key)
        if value is None or type(value) is str:
            continue
        if not (
            isinstance(value, str)
            or (isinstance(value, dt.date) and not isinstance(value, dt.datetime))
        ):
            try:
                parse_date(value)
            except ValueError as exc:
                return f"{key}: {exc}"
    return None


def _row_problem(kind: Kind, row: dict[str, Any]) -> str | None:
    """The checks across fields of one valid row."""
    if kind == "drift_reviews":
        if row["end"] < row["start"]:
            return f"end ({row['end']}) is before start ({row['start']}); swap them"
        if row["incidents"] > row["actions_reviewed"]:
            return (
                f"incidents ({row['incidents']}) are more than actions_reviewed "
                f"({row['actions_reviewed']}); an incident is one reviewed action"
            )
    elif kind == "drills":
        seconds = row.get("seconds_to_effect")
        if row["succeeded"] and seconds is None:
            return "seconds_to_effect is required when the drill succeeded"
        if not row["succeeded"] and seconds is not None:
            return "seconds_to_effect must be empty when the drill failed"
    return None


def _validate(
    kind: Kind, rows: list[Any]
) -> tuple[list[Any] | None, list[tuple[int, tuple[Any, ...], str]]]:
    """Valid rows, or the problems as (row index, location in the row, message)."""
    errors: list[tuple[int, tuple[Any, ...], str]] = []
    for i, row in enumerate(rows):
        bad = _before(kind, row)
        if bad is not None:
            errors.append((i, (), bad))
    if errors:
        return None, errors
    try:
        valid: list[Any] = _adapter(kind).validate_python(rows)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            index = loc[0] if loc and isinstance(loc[0], int) else 0
            errors.append((index, loc[1:], _plain_message(err["type"], err["msg"])))
        # The rows without a field error still get the checks across fields, so one run
        # reports every problem (the slow path: only for a file that is refused anyway).
        bad_rows = {i for i, _, _ in errors}
        one = TypeAdapter(MODELS[kind])
        for i, row in enumerate(rows):
            if i not in bad_rows:
                problem = _row_problem(kind, one.validate_python(row))
                if problem is not None:
                    errors.append((i, (), problem))
        errors.sort(key=lambda e: e[0])
        return None, errors
    for i, row in enumerate(valid):
        bad = _row_problem(kind, row)
        if bad is not None:
            errors.append((i, (), bad))
    if kind == "drills":
        for row in valid:
            row.setdefault("seconds_to_effect", None)
    return (None, errors) if errors else (valid, errors)


def _source_schema(kind: Kind) -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "array", "items": TypeAdapter(MODELS[kind]).json_schema()},
            {
                "type": "string",
                "description": "path, relative to the answers file, of a CSV (.csv) or "
                "JSON Lines (.jsonl) file with the same fields",
            },
        ]
    }


class EvidenceSection(BaseModel):
    """`evidence:` as written: each kind a list of rows or the path of a file. The rows are
    validated by `load_evidence`, which knows where the answers file is and reports each
    problem at its own line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drift_reviews: Annotated[Any, WithJsonSchema(_source_schema("drift_reviews"))] = None
    drills: Annotated[Any, WithJsonSchema(_source_schema("drills"))] = None
    evaluations: Annotated[Any, WithJsonSchema(_source_schema("evaluations"))] = None


@dataclass
class Evidence:
    """Validated evidence of one answers file, every kind a list (empty when not given)."""

    drift_reviews: list[DriftReview] = field(default_factory=list)
    drills: list[Drill] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    # Where each kind came from: "inline", or the evidence file as the user named it.
    sources: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.drift_reviews or self.drills or self.evaluations)


def load_evidence(raw: Any, doc: Document) -> tuple[Evidence, list[Problem]]:
    """Validate `evidence:` of ``doc`` (already checked to be a mapping of known kinds)."""
    evidence = Evidence()
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        return evidence, problems
    for kind in KINDS:
        value = raw.get(kind)
        if value is None:
            continue
        if isinstance(value, str):
            rows = _from_file(kind, value, doc, problems)
            if rows is not None:
                setattr(evidence, kind, rows)
                evidence.sources[kind] = value
        elif isinstance(value, list):
            rows = _inline(kind, value, doc, problems)
            if rows is not None:
                setattr(evidence, kind, rows)
                evidence.sources[kind] = "inline"
        else:
            problems.append(
                Problem(
                    doc.name,
                    f"evidence.{kind}: must be a list of rows or the path of a CSV or JSON Lines "
                    "file, relative to this file",
                    doc.line(("evidence", kind)),
                )
            )
    return evidence, problems


def _too_many(kind: Kind, count: int, file: str, line: int | None) -> Problem:
    return Problem(
        file,
        f"evidence.{kind}: {count:,} rows; the limit is {EVIDENCE_ROWS_MAX:,} "
        "(summarise older windows into fewer rows)",
        line,
    )


def _inline(
    kind: Kind, rows: list[Any], doc: Document, problems: list[Problem]
) -> list[Any] | None:
    if len(rows) > EVIDENCE_ROWS_MAX:
        problems.append(_too_many(kind, len(rows), doc.name, doc.line(("evidence", kind))))
        return None
    valid, errors = _validate(kind, rows)
    found: list[Problem] = []
    for index, loc, msg in errors:
        fld = _loc_text(loc)
        where = f"evidence.{kind}[{index}]" + (f".{fld}" if fld else "")
        found.append(
            Problem(doc.name, f"{where}: {msg}", doc.line(("evidence", kind, index, *loc)))
        )
    problems.extend(_capped(found, doc.name))
    return valid


def _capped(found: list[Problem], file: str) -> list[Problem]:
    if len(found) <= EVIDENCE_PROBLEMS_SHOWN:
        return found
    rest = len(found) - EVIDENCE_PROBLEMS_SHOWN
    return [
        *found[:EVIDENCE_PROBLEMS_SHOWN],
        Problem(file, f"... and {rest:,} more problems like these; fix the ones above first"),
    ]


def evidence_file_path(doc: Document, written: str) -> tuple[Path | None, str]:
    """Where an evidence file named in ``doc`` is, and the name to show for it."""
    shown = str(Path(doc.name).parent / written) if not Path(written).is_absolute() else written
    if doc.path is None:
        return None, shown
    return doc.path.parent / written, shown


def _from_file(
    kind: Kind, written: str, doc: Document, problems: list[Problem]
) -> list[Any] | None:
    from ic_audit.errors import UserError

    key_line = doc.line(("evidence", kind))
    path, shown = evidence_file_path(doc, written)
    if path is None:
        # Text parsed without a file behind it (a migration preview): nothing to resolve the
        # path against, so the rows are read when the saved file is.
        return None
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        problems.append(
            Problem(
                doc.name,
                f"evidence.{kind}: {written!r} must be a .csv or .jsonl (JSON Lines) file",
                key_line,
            )
        )
        return None
    try:
        text = decode_text(read_bytes(path, shown, EVIDENCE_FILE_MAX_BYTES), shown)
    except UserError as exc:
        # Located at the key that names the file: the fix may be in either file.
        for p in exc.problems:
            where = p.file if p.line is None else f"{p.file}:{p.line}"
            problems.append(Problem(doc.name, f"evidence.{kind}: {where}: {p.message}", key_line))
        return None
    found: list[Problem] = []
    if suffix == ".csv":
        rows, lines = _csv_rows(kind, text, shown, found)
    else:
        rows, lines = _jsonl_rows(text, shown, found)
    if len(rows) > EVIDENCE_ROWS_MAX:
        problems.append(_too_many(kind, len(rows), shown, None))
        return None
    if found:
        problems.extend(_capped(found, shown))
        return None
    valid, errors = _validate(kind, rows)
    for index, loc, msg in errors:
        fld = _loc_text(loc)
        text = f"{kind} row {index + 1}: " + (f"{fld}: {msg}" if fld else msg)
        found.append(Problem(shown, text, lines[index] if index < len(lines) else None))
    problems.extend(_capped(found, shown))
    return valid


def _csv_rows(
    kind: Kind, text: str, shown: str, found: list[Problem]
) -> tuple[list[dict[str, Any]], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        found.append(Problem(shown, "is empty; the first line names the columns", 1))
        return [], []
    except csv.Error as exc:
        found.append(Problem(shown, f"is not valid CSV: {exc}", 1))
        return [], []
    header = [h.strip() for h in header]
    known = fields_of(kind)
    unknown = [h for h in header if h not in known]
    if unknown:
        bad = refused_character(unknown[0])
        shown_col = "a column holding " + bad if bad else repr(unknown[0])
        found.append(
            Problem(
                shown,
                f"{shown_col} is not a field of {kind}; the columns are {', '.join(known)}",
                1,
            )
        )
        return [], []
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        found.append(Problem(shown, f"column {twice[0]!r} appears twice; keep one", 1))
        return [], []
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    width = len(header)
    start = 2
    try:
        for cells in reader:
            line = start
            start = reader.line_num + 1
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line
            if len(cells) != width:
                found.append(
                    Problem(
                        shown,
                        f"{kind} row {len(rows) + 1}: has {len(cells)} cells; the header has "
                        f"{width}",
                        line,
                    )
                )
                rows.append({})
                lines.append(line)
                continue
            # An empty cell is a field left out (a failed drill's seconds_to_effect).
            row = dict(zip(header, cells, strict=True))
            if "" in row.values():
                row = {k: v for k, v in row.items() if v != ""}
            rows.append(row)
            lines.append(line)
    except csv.Error as exc:
        found.append(Problem(shown, f"is not valid CSV: {exc}", reader.line_num))
    if _clean(text):
        return rows, lines  # one search of the whole text clears every cell
    for i, row in enumerate(rows):
        for key, value in row.items():
            bad = refused_character(value)
            if bad is not None:
                found.append(
                    Problem(shown, f"{kind} row {i + 1}: {key}: holds {bad}; remove it", lines[i])
                )
    return rows, lines


# The characters `refused_character` refuses that ASCII text can hold: a simple class is an
# order of magnitude faster to search than the full one, and evidence files are mostly ASCII.
_ASCII_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> bool:
    """Whether no string in ``text`` can hold a refused character (one search of it all)."""
    if text.isascii():
        return _ASCII_REFUSED.search(text) is None
    return refused_character(text) is None


class _DuplicateKey(ValueError):
    pass


def _pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(items)
    if len(out) != len(items):
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                raise _DuplicateKey(f"key {key!r} appears twice in one object; keep one")
            seen.add(key)
    return out


def _no_constants(token: str) -> Any:
    raise ValueError(f"{token} is not a number JSON allows")


def _jsonl_rows(text: str, shown: str, found: list[Problem]) -> tuple[list[Any], list[int]]:
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    lines = [n for n, _ in numbered]
    try:
        # Fast path: every line at once, in one call of the C decoder.
        rows = json.loads(
            "[" + ",".join(line for _, line in numbered) + "]", parse_constant=_no_constants
        )
    except ValueError:
        rows = None
    if rows is None or any(type(row) is not dict for row in rows):
        return _jsonl_each(numbered, shown, found), lines
    # A key written twice is kept once by the fast path: a line with more `":` than keys may
    # hold one, and is read again, key by key.
    decoder = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_no_constants)
    for (number, line), row in zip(numbered, rows, strict=True):
        if line.count('":') > len(row):
            try:
                decoder.decode(line)
            except ValueError as exc:
                found.append(Problem(shown, str(exc), number))
    if not _clean(text):
        for (number, _), row in zip(numbered, rows, strict=True):
            _refused_values(row, shown, number, found)
    return rows, lines


def _refused_values(row: dict[str, Any], shown: str, number: int, found: list[Problem]) -> None:
    for key, value in row.items():
        bad = refused_character(key) or (
            refused_character(value) if isinstance(value, str) else None
        )
        if bad is not None:
            found.append(Problem(shown, f"{key!r}: holds {bad}; remove it", number))


def _jsonl_each(numbered: list[tuple[int, str]], shown: str, found: list[Problem]) -> list[Any]:
    """Line by line, to say which lines are not one JSON object."""
    rows: list[Any] = []
    decoder = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_no_constants)
    for number, line in numbered:
        try:
            row = decoder.decode(line)
        except json.JSONDecodeError as exc:
            found.append(Problem(shown, f"is not valid JSON on this line: {exc.msg}", number))
            row = {}
        except ValueError as exc:
            found.append(Problem(shown, str(exc), number))
            row = {}
        if not isinstance(row, dict):
            found.append(Problem(shown, "each line must be one JSON object {...}", number))
            row = {}
        _refused_values(row, shown, number, found)
        rows.append(row)
    return rows
