"""`ic-audit run`: the interactive walkthrough.

One module per job, so the logic is testable without a terminal:

- `signals`: SIGINT/SIGTERM/SIGHUP turned into `Interrupted`, deferred while a save runs.
- `session`: the answers file in memory (metadata + answers), edits made meanwhile merged,
  saved atomically after every change through `ic_audit.answers_layout`.
- `lock`: one walkthrough per answers file.
- `screens`: the `Prompter`, all terminal I/O; the only module that knows rich.
- `engine` (with `typed`, what a person types): navigation, resume position, revisit,
  applicability of follow-ups; it hands the screens data, never markup.
- `entry`: `run_walkthrough` ties them together; leaving saves and prints the resume hint.

Exit codes: 0 finished or quit (saved); 2 bad usage or input (nothing overwritten); 130 Ctrl-C,
143 SIGTERM, 129 SIGHUP or a terminal that went away (128 + the signal number, the shell
convention). Every one of them saves first.
"""

from ic_audit.walkthrough.entry import resume_command, run_walkthrough
from ic_audit.walkthrough.lock import FileLock
from ic_audit.walkthrough.screens import Prompter
from ic_audit.walkthrough.signals import (
    EXIT_HANGUP,
    EXIT_INTERRUPT,
    EXIT_OK,
    EXIT_TERMINATE,
    EXIT_USAGE,
    Interrupted,
)

__all__ = [
    "EXIT_HANGUP",
    "EXIT_INTERRUPT",
    "EXIT_OK",
    "EXIT_TERMINATE",
    "EXIT_USAGE",
    "FileLock",
    "Interrupted",
    "Prompter",
    "resume_command",
    "run_walkthrough",
]
