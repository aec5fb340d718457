"""ic-audit: audit an AI deployment for instrumental convergence risk."""

__version__ = "0.1.0"
