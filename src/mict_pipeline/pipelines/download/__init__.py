"""Download UCF-101's video archive and split lists: verified, resumable, with mirrors."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
