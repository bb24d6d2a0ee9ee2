"""Prepare UCF-101: unpack archives, extract frame stores, validate and index the three splits."""

from .pipeline import SPLITS, create_pipeline

__all__ = ["SPLITS", "create_pipeline"]
