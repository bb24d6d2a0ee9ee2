"""Prepare UCF-101: unpack archives, extract frame stores, validate and index the three splits."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
