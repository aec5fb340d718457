"""The bank's on-disk cache entry: a validated bank as JSON, and back without pydantic
validation, every field checked against its declared type and constraints."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import AfterValidator, BaseModel

from ic_audit import cache
from ic_audit.bank.rules import check_rubric
from ic_audit.bank.schema import Bank, BankFile, Question, Section, SectionSpec
from ic_audit.errors import UserError
from ic_audit.loading import Document

_M = TypeVar("_M", bound=BaseModel)

# The on-disk bank cache holds JSON, never code (see `ic_audit.cache`). An entry is trusted only
# after its key, its digest, the bank's SHA-256 and the exact shape and constraints of every
# field check out, and the rubric rules pass again; anything else is a miss and the bank is
# validated from its files. The models are then built without pydantic validation
# (`model_construct`), which is what makes a hit fast.
_CACHE_NAMESPACE = "bank-json"
_CACHE_FORMAT = "ic-audit-bank/1"
# The modules whose code decides what a valid bank is: an edit to any of them is a new key.
_CODE = (
    "ic_audit.bank.question_parts",
    "ic_audit.bank.schema",
    "ic_audit.bank.measured_by",
    "ic_audit.bank.values",
    "ic_audit.bank.rules",
    __name__,
)


class _NotABank(Exception):
    """A cache entry that is not exactly what `_bank_to_data` writes."""


def _bank_cache_key(sha256: str) -> str:
    import pydantic
    import pydantic_core

    return cache.fingerprint(
        _CACHE_FORMAT,
        sha256,
        pydantic.VERSION,
        pydantic_core.__version__,
        cache.code_stamp(*_CODE, *_type_modules(), "ic_audit.loading", "ic_audit.cache", "yaml"),
    )


def _type_modules() -> list[str]:
    """The question types' modules: their rubric rules and value checks decide a valid bank."""
    import sys

    import ic_audit.qtypes  # its package imports every registered type's module

    name = ic_audit.qtypes.__name__
    return sorted(m for m in sys.modules if m == name or m.startswith(name + "."))


def cached_bank(sha256: str) -> Bank | None:
    """The validated bank with these contents from the on-disk cache, if it has one."""
    payload = cache.read(_CACHE_NAMESPACE, _bank_cache_key(sha256)) if cache.enabled() else None
    if payload is None:
        return None
    import json

    try:
        return _bank_from_data(json.loads(payload), sha256)
    except Exception:  # damaged, foreign or tampered (deep nesting included): a miss
        return None


def store_bank(bank: Bank) -> None:
    if not cache.enabled():
        return
    import json

    try:
        payload = json.dumps(_bank_to_data(bank), separators=(",", ":")).encode("ascii")
    except Exception:  # never let the cache break a run
        return
    cache.write(_CACHE_NAMESPACE, _bank_cache_key(bank.sha256), payload)


def _bank_to_data(bank: Bank) -> dict[str, Any]:
    meta = {
        "id": bank.id,
        "version": bank.version,
        "title": bank.title,
        "description": bank.description,
        "rating_bands": _model_data(bank.rating_bands),
        "red_flags": _model_data(bank.red_flags),
        "metrics": _model_data(bank.metrics) if bank.defines_metrics else None,
        "severity": _model_data(bank.severity),
        "exposure": _model_data(bank.exposure),
        "reassess_days": bank.reassess_days,
    }
    sections = [
        {
            "spec": {"id": s.id, "title": s.title, "intro": s.intro, "weight": s.weight},
            "questions": [_model_data(q) for q in s.questions],
        }
        for s in bank.sections
    ]
    return {"format": _CACHE_FORMAT, "sha256": bank.sha256, "meta": meta, "sections": sections}


def _model_data(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {name: _model_data(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, list):
        return [_model_data(v) for v in value]
    if isinstance(value, dict):
        return {k: _model_data(v) for k, v in value.items()}
    return value


def _bank_from_data(data: Any, sha256: str) -> Bank:
    _expect(isinstance(data, dict) and data.keys() == {"format", "sha256", "meta", "sections"})
    _expect(data["format"] == _CACHE_FORMAT and data["sha256"] == sha256)
    meta = _construct(BankFile, data["meta"])
    _expect(type(data["sections"]) is list)
    sections: list[Section] = []
    for item in data["sections"]:
        _expect(isinstance(item, dict) and item.keys() == {"spec", "questions"})
        spec = _construct(SectionSpec, item["spec"])
        _expect(type(item["questions"]) is list)
        questions = [_construct(Question, q) for q in item["questions"]]
        _expect(all(q.section == spec.id for q in questions))
        sections.append(Section(spec, questions))
    _expect(bool(sections) and len({s.id for s in sections}) == len(sections))
    bank = Bank(meta, sections, sha256, "")
    # The rules are pure checks on the built models: cheap next to parsing and validating the
    # YAML, and they keep an entry that was edited into an invalid bank from being used.
    blank = Document(name="(cache)", data={})
    try:
        check_rubric(bank, {q.id: blank for q in bank.questions})
    except UserError:
        raise _NotABank from None
    return bank


def _expect(condition: bool) -> None:
    if not condition:
        raise _NotABank


def _construct(cls: type[_M], data: Any) -> _M:
    """An instance of ``cls`` from exactly its fields, each of exactly its declared type."""
    result: _M = _reader(cls)(data)
    return result


_Reader = Callable[[Any], Any]
_READERS: dict[type[BaseModel], _Reader] = {}


def _reader(cls: type[BaseModel]) -> _Reader:
    """A function that checks a model's data and builds it (made once per model: interpreting
    the annotations for every value would cost as much as validating)."""
    if cls in _READERS:
        return _READERS[cls]
    fields = tuple(
        (name, _compile(info.annotation, info.metadata)) for name, info in cls.model_fields.items()
    )
    names = {name for name, _ in fields}
    fast = cls.__pydantic_post_init__ is None and not cls.__private_attributes__

    def construct(values: dict[str, Any]) -> Any:
        if fast:
            # Every field is given, so the instance is its field values: restored the way
            # pickle and copy restore a model (`__setstate__`), faster than `model_construct`.
            model = cls.__new__(cls)
            model.__setstate__(
                {
                    "__dict__": values,
                    "__pydantic_fields_set__": set(names),
                    "__pydantic_extra__": None,
                    "__pydantic_private__": None,
                }
            )
            return model
        return cls.model_construct(**values)

    def read(value: Any) -> Any:
        if type(value) is not dict or value.keys() != names:
            raise _NotABank
        return construct({name: check(value[name]) for name, check in fields})

    _READERS[cls] = read
    return read


def _compile(tp: Any, metadata: Iterable[Any] = ()) -> _Reader:
    """A checker for values of type ``tp`` (a model, a list, a mapping, a union, a literal, a
    scalar)."""
    import typing
    from types import NoneType, UnionType

    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _compile(args[0], [*metadata, *args[1:]])
    if origin is typing.Union or origin is UnionType:
        options = [_compile(arg, metadata) for arg in args if arg is not NoneType]
        optional = NoneType in args

        def read_union(value: Any) -> Any:
            if value is None and optional:
                return None
            for option in options:
                try:
                    return option(value)
                except _NotABank:
                    continue
            raise _NotABank

        return read_union
    if origin is list:
        item = _compile(args[0])

        def read_list(value: Any) -> Any:
            if type(value) is not list:
                raise _NotABank
            return [item(v) for v in value]

        return read_list
    if origin is dict:
        key, val = _compile(args[0]), _compile(args[1])

        def read_dict(value: Any) -> Any:
            if type(value) is not dict:
                raise _NotABank
            return {key(k): val(v) for k, v in value.items()}

        return read_dict
    if origin is typing.Literal:
        allowed = frozenset(args)

        def read_literal(value: Any) -> Any:
            if type(value) is not str or value not in allowed:
                raise _NotABank
            return value

        return read_literal
    if tp in (str, bool, int, float):
        checks = _constraints(metadata)

        # JSON keeps int and float apart, as validation left them (a weight of 2 is 2.0).
        def read_scalar(value: Any) -> Any:
            if type(value) is not tp:
                raise _NotABank
            return value

        def read_checked(value: Any) -> Any:
            if type(value) is not tp or not all(check(value) for check in checks):
                raise _NotABank
            return value

        return read_checked if checks else read_scalar
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _reader(tp)
    raise TypeError(f"no cache reader for {tp!r}")  # a new field type: a miss until taught


def _constraints(metadata: Iterable[Any]) -> list[Callable[[Any], bool]]:
    import operator
    from functools import partial

    import annotated_types as at
    from pydantic.fields import FieldInfo

    checks: list[Callable[[Any], bool]] = []
    for m in metadata:
        if isinstance(m, FieldInfo):
            checks += _constraints(m.metadata)
        elif isinstance(m, at.Gt):
            checks.append(partial(_within, operator.gt, m.gt))
        elif isinstance(m, at.Ge):
            checks.append(partial(_within, operator.ge, m.ge))
        elif isinstance(m, at.Lt):
            checks.append(partial(_within, operator.lt, m.lt))
        elif isinstance(m, at.Le):
            checks.append(partial(_within, operator.le, m.le))
        elif isinstance(getattr(m, "pattern", None), str):
            checks.append(partial(_matches, re.compile(m.pattern)))
        elif isinstance(m, AfterValidator):
            checks.append(partial(_passes, m.func))
        else:
            raise TypeError(f"no cache check for {m!r}")  # a new constraint: a miss until taught
    return checks


def _within(op: Callable[[Any, Any], Any], limit: Any, value: Any) -> bool:
    return bool(op(value, limit))


def _passes(validator: Callable[..., Any], value: Any) -> bool:
    """A field's own after-validator (e.g. `check_line`): a cached value it refuses is a miss."""
    try:
        validator(value)
    except ValueError:
        return False
    return True


def _matches(pattern: re.Pattern[str], value: str) -> bool:
    return pattern.fullmatch(value) is not None
