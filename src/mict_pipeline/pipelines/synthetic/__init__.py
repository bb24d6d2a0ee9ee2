"""The built-in synthetic UCF-101-format dataset: writes the two archives the demo downloads."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
