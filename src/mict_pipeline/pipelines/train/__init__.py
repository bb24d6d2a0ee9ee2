"""Train every configured experiment on every split (namespaces split_<n>.<experiment>)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
