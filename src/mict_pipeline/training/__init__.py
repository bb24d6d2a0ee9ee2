"""Training and scoring (no Kedro): the loop with checkpoints and resume, DDP under torchrun."""

from .distributed import distributed_context
from .loop import (
    EpochSampler,
    NonFiniteScoresError,
    ResumeError,
    batch_to_device,
    predict_scores,
    topk_hits,
    train,
    train_epoch,
    train_loader,
    train_step,
    training_dataset,
    validate,
)

__all__ = [
    "EpochSampler", "NonFiniteScoresError", "ResumeError", "batch_to_device", "distributed_context", "predict_scores", "topk_hits", "train", "train_epoch", "train_loader",
    "train_step", "training_dataset", "validate",
]
