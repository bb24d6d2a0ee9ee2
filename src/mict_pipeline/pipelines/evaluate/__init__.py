"""Evaluate each trained experiment on its split's test videos: clip and video level."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
