"""Reading a bank directory: every file parsed and validated once, the bank's SHA-256 computed
once from the bytes read, the validated bank kept in memory and in the on-disk cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import ValidationError

from ic_audit.bank.cache_codec import cached_bank, store_bank
from ic_audit.bank.rules import check_rubric
from ic_audit.bank.schema import Bank, BankFile, Section, SectionFile
from ic_audit.errors import Problem, UserError
from ic_audit.gc_pause import paused_gc
from ic_audit.loading import Document, load_document, parse_document, read_bytes
from ic_audit.messages import pydantic_problems


def default_bank_dir() -> Path:
    from ic_audit.resources import data_dir

    return data_dir("questions")


_BANK_CACHE: dict[str, Bank] = {}


def load_bank(directory: Path | str | None = None) -> Bank:
    """Load and validate a bank directory; raise UserError listing every problem.

    A valid bank is kept in memory for the process and on disk (`ic_audit.cache`), keyed by
    the exact bytes of its files: the next run that uses the same bank reads the validated
    bank back instead of parsing and checking the YAML again.
    """
    path = Path(directory) if directory is not None else default_bank_dir()
    key = str(path.resolve())
    if key in _BANK_CACHE:
        return _BANK_CACHE[key]
    with paused_gc():
        bank = _load_bank(path, str(directory) if directory is not None else "(built-in bank)")
    _BANK_CACHE[key] = bank
    return bank


def _load_bank(path: Path, display: str) -> Bank:
    if not path.exists():
        raise UserError.one(display, "no such bank directory; check --bank")
    if not path.is_dir():
        raise UserError.one(display, "is not a directory; --bank takes a bank directory")
    meta_path = path / "bank.yaml"
    if not meta_path.exists():  # anything else there (a FIFO) is refused when it is read
        raise UserError.one(
            display, "has no bank.yaml; a bank directory needs one (see docs/bank-format.md)"
        )
    files = sorted(p for p in path.glob("*.yaml") if p.name != "bank.yaml")
    if not files:
        raise UserError.one(display, "has no section files (*.yaml besides bank.yaml)")
    raw = _read_files(meta_path, files)
    if raw is None:  # something is unreadable: the full load below says what
        return _validate_bank(display, meta_path, files, {}, None)
    sha256 = _bank_digest(meta_path, files, raw)
    cached = cached_bank(sha256)
    if cached is not None:
        cached.path = display
        return cached
    bank = _validate_bank(display, meta_path, files, raw, sha256)
    store_bank(bank)
    return bank


def _read_files(meta_path: Path, files: list[Path]) -> dict[Path, bytes] | None:
    try:
        return {file: read_bytes(file) for file in [meta_path, *files]}
    except UserError:
        return None


def _bank_digest(meta_path: Path, files: list[Path], raw: dict[Path, bytes]) -> str:
    """The bank's SHA-256 as reports print it: every file's name and exact bytes, in order."""
    digest = hashlib.sha256()
    digest.update(b"bank.yaml\0" + raw[meta_path] + b"\0")
    for file in files:
        digest.update(file.name.encode() + b"\0" + raw[file] + b"\0")
    return digest.hexdigest()


def _validate_bank(
    display: str,
    meta_path: Path,
    files: list[Path],
    raw: dict[Path, bytes],
    sha256: str | None,
) -> Bank:
    """Parse and check every file of the bank (bytes from ``raw`` when it has them).

    ``sha256`` is the digest of ``raw``; without it (a file could not be read up front) it is
    computed from the bytes read here, by the same `_bank_digest`.
    """

    problems: list[Problem] = []

    def load(file: Path) -> Document:
        name = _display(display, file)
        doc = parse_document(raw[file], file, name) if file in raw else load_document(file, name)
        problems.extend(doc.problems)
        read[file] = doc.raw
        return doc

    read: dict[Path, bytes] = {}
    meta_doc = load(meta_path)
    meta: BankFile | None = None
    if not isinstance(meta_doc.data, dict):
        problems.append(Problem(meta_doc.name, "must be a mapping with id, version and title", 1))
    else:
        data = dict(meta_doc.data)
        if isinstance(data.get("version"), (int, float)) and not isinstance(
            data.get("version"), bool
        ):
            problems.append(
                Problem(
                    meta_doc.name,
                    f'version must be text; quote it: version: "{data["version"]}"',
                    meta_doc.line(("version",)),
                )
            )
        else:
            try:
                meta = BankFile.model_validate(data)
            except ValidationError as exc:
                problems.extend(pydantic_problems(exc, meta_doc))

    sections: list[Section] = []
    docs: dict[str, Document] = {}
    section_ids: set[str] = set()
    for file in files:
        try:
            doc = load(file)
        except UserError as exc:
            problems.extend(exc.problems)
            continue
        if not isinstance(doc.data, dict):
            problems.append(Problem(doc.name, "must be a mapping with section and questions", 1))
            continue
        try:
            parsed = SectionFile.model_validate(doc.data)
        except ValidationError as exc:
            problems.extend(pydantic_problems(exc, doc))
            continue
        if parsed.section.id in section_ids:
            problems.append(
                Problem(
                    doc.name,
                    f"section id {parsed.section.id!r} is used by another file",
                    doc.line(("section", "id")),
                )
            )
            continue
        section_ids.add(parsed.section.id)
        questions = [q.model_copy(update={"section": parsed.section.id}) for q in parsed.questions]
        for q in questions:
            docs[q.id] = doc
        sections.append(Section(parsed.section, questions))

    if problems or meta is None:
        raise UserError(problems)
    bank = Bank(meta, sections, sha256 or _bank_digest(meta_path, files, read), display)
    check_rubric(bank, docs)
    return bank


def _display(base: str, file: Path) -> str:
    if base.startswith("("):
        return f"questions/{file.name}"
    return str(Path(base) / file.name)
