"""ic-audit: audit an AI deployment for instrumental convergence risk."""

import os
import sys
import types

__version__ = "0.1.0"

# pydantic looks for plugins (entry points of every installed distribution) before it builds
# its first validator: a scan of the whole environment that ic-audit, which uses no plugins,
# pays on every run. This turns it off in our process only, unless the user set it.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")

_PLUGIN_LOADER = "pydantic.plugin._loader"


def _skip_plugin_loader_import() -> None:
    """Even with plugins off, importing pydantic's plugin loader imports `importlib.metadata`
    (and through it email, zipfile, csv, socket): about a tenth of a `score` run beyond the
    floor. While plugins are off, a stand-in answers "no plugins"; anything else it is asked
    (plugins turned back on, another attribute) loads the real loader in its place."""
    if _PLUGIN_LOADER in sys.modules:
        return
    stand_in = types.ModuleType(_PLUGIN_LOADER)

    def _real() -> types.ModuleType:
        import importlib

        if sys.modules.get(_PLUGIN_LOADER) is stand_in:
            del sys.modules[_PLUGIN_LOADER]
        return importlib.import_module(_PLUGIN_LOADER)

    def get_plugins() -> object:
        if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in ("__all__", "1", "true"):
            return ()
        return _real().get_plugins()

    def __getattr__(name: str) -> object:
        if name.startswith("__"):  # the import system probing (`__path__`): not a request
            raise AttributeError(name)
        return getattr(_real(), name)

    stand_in.get_plugins = get_plugins  # type: ignore[attr-defined]
    stand_in.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[_PLUGIN_LOADER] = stand_in


_skip_plugin_loader_import()
