"""Speed and memory of each experiment's model by the original's protocol."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
