"""Every size limit a user can meet, defined once.

The file loader, the answers models, the walkthrough and the JSON Schema that
`ic-audit schema` prints all read them from here, so what the schema accepts is what `validate`
accepts.
"""

from __future__ import annotations

# Files: refused before parsing, whatever the parser would tolerate.
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 50  # nesting of mappings and lists
MAX_NODES = 500_000  # values in one document, aliases expanded

# Text in an answers file.
TEXT_MAX = 500  # a name, a team, a version: one short field
LONG_TEXT_MAX = 20_000  # a note, a description
EVIDENCE_ITEM_MAX = 2_000  # one evidence reference
EVIDENCE_COUNT_MAX = 200  # evidence references for one answer

# A free-text answer: a question's `max_length`, by default and at most.
TEXT_ANSWER_MAX_DEFAULT = 5_000
TEXT_ANSWER_MAX_CEILING = 100_000

# Operational evidence (`evidence:` in an answers file, inline or in CSV / JSON Lines files).
EVIDENCE_FILE_MAX_BYTES = 64 * 1024 * 1024  # one evidence file: 100,000s of rows fit
EVIDENCE_ROWS_MAX = 500_000  # rows of one kind (drift reviews, drills or evaluations)
EVIDENCE_PROBLEMS_SHOWN = 50  # problems listed per evidence file; the rest are counted
