"""ic-audit: audit an AI deployment for instrumental convergence risk."""

import os

__version__ = "0.1.0"

# pydantic looks for plugins (entry points of every installed distribution) before it builds
# its first validator: a scan of the whole environment that ic-audit, which uses no plugins,
# pays on every run. This turns it off in our process only, unless the user set it.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
