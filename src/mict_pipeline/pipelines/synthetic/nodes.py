"""Nodes of the synthetic pipeline: a thin adapter over mict_pipeline.datasets.synthetic."""

from __future__ import annotations

from typing import Any

from mict_pipeline.datasets.synthetic import generate_dataset, generate_hmdb51, generate_kinetics, generate_replica
from mict_pipeline.parameters.synthetic import SyntheticParams


def generate_synthetic_archives(synthetic: SyntheticParams, synthetic_dir: str) -> dict[str, Any]:
    """Write the layout (``synthetic.layout``) into ``synthetic_dir``, deterministic for a seed:
    UCF101.zip and the split-list zip of the motion dataset or the UCF-101 replica; hmdb51_org.zip
    and test_train_splits.zip of the motions in HMDB-51's format; or annotations.csv and the clips
    folder of a Kinetics download. Return their manifest."""
    common = {"seed": synthetic.seed, "size": synthetic.size, "workers": synthetic.workers}
    if synthetic.layout == "ucf101":
        return generate_replica(synthetic_dir, **synthetic.ucf101.model_dump(), **common)
    if synthetic.layout == "kinetics":
        kinetics = synthetic.kinetics
        return generate_kinetics(
            synthetic_dir, classes=kinetics.classes, labels=kinetics.label_names(), clips=kinetics.clips,
            missing=kinetics.missing, frames=kinetics.frames, **common,
        )
    if synthetic.layout == "hmdb51":
        return generate_hmdb51(synthetic_dir, **synthetic.hmdb51.model_dump(), **common)
    return generate_dataset(synthetic_dir, **synthetic.motions.model_dump(), **common)
