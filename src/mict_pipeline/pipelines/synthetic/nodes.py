"""Nodes of the synthetic pipeline: a thin adapter over mict_pipeline.datasets.synthetic."""

from __future__ import annotations

from typing import Any

from mict_pipeline.datasets.synthetic import generate_dataset
from mict_pipeline.parameters.synthetic import SyntheticParams


def generate_synthetic_archives(synthetic: SyntheticParams, synthetic_dir: str) -> dict[str, Any]:
    """Write UCF101.zip and the split-list zip into ``synthetic_dir`` (deterministic for a seed);
    return their manifest."""
    return generate_dataset(synthetic_dir, **synthetic.model_dump())
