"""Entry point for ``python -m ic_audit``."""

from ic_audit.cli import main

main()
