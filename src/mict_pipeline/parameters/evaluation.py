"""The ``evaluation`` block: how the evaluate pipeline runs a checkpoint, not what it measures."""

from __future__ import annotations

from mict_pipeline.config import Params


class EvaluationParams(Params):
    """The ``evaluation`` block."""

    # On a CPU, run each checkpoint with BatchNorm folded into the convolutions and channels-last
    # weights (mict_pipeline.models.inference): the same top-1 and scores within 1e-5 of the model
    # as trained, in less time. false: the model as trained. A GPU always runs it as trained.
    fast: bool = True
