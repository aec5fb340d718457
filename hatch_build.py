"""Wheel build step: compile the built-in report templates into the package.

An installed ic-audit then loads them as Python modules that only the install wrote (see
`ic_audit.render.jinja_reports.compile_builtin`): it never compiles them at run time and never keeps
compiled code in a cache that a user or another program could write. Editable installs and
checkouts have no compiled templates and compile in memory.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompiledTemplatesHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        self._compiled = tempfile.TemporaryDirectory(prefix="ic-audit-templates-")
        sys.path.insert(0, self.root)
        try:
            from ic_audit.render.jinja_reports import compile_builtin

            compile_builtin(Path(self._compiled.name))
        finally:
            sys.path.remove(self.root)
        build_data["force_include"][self._compiled.name] = "ic_audit/_data/compiled_templates"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        compiled = getattr(self, "_compiled", None)
        if compiled is not None:
            compiled.cleanup()
