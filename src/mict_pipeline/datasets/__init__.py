"""Datasets: UCF-101's split lists and class names, and the built-in synthetic UCF-101-format set (no Kedro)."""
