"""The question bank: its file format (pydantic models), loading, and rubric validation.

- `question_parts`: the options, bands and conditions a question is made of;
- `schema`: the models of the bank files and the risk arithmetic of one answer;
  `values`: numbers and dates as files write them.
- `rules`: the rubric rules checked on a whole bank.
- `load`: reading a bank directory (digest, in-memory and on-disk cache);
  `cache_codec`: the cache entry's JSON, read back without validation.

The bank is the single source of truth for question text, rubric and recommendations. Beyond
the shape of each file, `load_bank` enforces the rubric rules that the scoring guarantees rest
on (see docs/bank-format.md): anchored scales, upward-pointing red flags and conditions.
"""

from ic_audit.bank.load import default_bank_dir, load_bank
from ic_audit.bank.question_parts import (
    ROLES,
    Band,
    EvidenceTag,
    NumberRange,
    Option,
    Replacement,
    Role,
    When,
)
from ic_audit.bank.schema import (
    DEFAULT_METRICS,
    Bank,
    BankFile,
    Exposure,
    ExposureLevel,
    MetricSpec,
    Question,
    RatingBands,
    RedFlagPolicy,
    Section,
    SectionFile,
    SectionSpec,
    SeverityCutoffs,
)
from ic_audit.bank.values import parse_date, parse_decimal

__all__ = [
    "DEFAULT_METRICS",
    "ROLES",
    "Band",
    "Bank",
    "BankFile",
    "EvidenceTag",
    "Exposure",
    "ExposureLevel",
    "MetricSpec",
    "NumberRange",
    "Option",
    "Question",
    "RatingBands",
    "RedFlagPolicy",
    "Replacement",
    "Role",
    "Section",
    "SectionFile",
    "SectionSpec",
    "SeverityCutoffs",
    "When",
    "default_bank_dir",
    "load_bank",
    "parse_date",
    "parse_decimal",
]
