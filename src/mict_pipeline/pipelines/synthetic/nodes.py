"""Nodes of the synthetic pipeline: a thin adapter over mict_pipeline.data.synthetic."""

from __future__ import annotations

from typing import Any

from mict_pipeline.config import require
from mict_pipeline.data.synthetic import generate_dataset

CONF_FILE = "conf/<env>/parameters_synthetic.yml"


def generate_synthetic_archives(synthetic: dict[str, Any]) -> dict[str, Any]:
    """Write UCF101.zip and the split-list zip (deterministic for a seed); return their manifest."""
    require(synthetic, ["out_dir", "seed"], "synthetic", CONF_FILE)
    options = {k: tuple(v) if isinstance(v, list) and k != "classes" else v for k, v in synthetic.items() if k != "out_dir"}
    return generate_dataset(synthetic["out_dir"], **options)
