"""Average each experiment's metrics over the three splits into the original's result table."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
