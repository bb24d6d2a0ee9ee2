"""Training and scoring (no Kedro): recipe, loop with checkpoints and resume, DDP under torchrun."""

from .distributed import distributed_context
from .loop import BEST, LAST, batch_to_device, predict_scores, topk_correct, train, train_loader, train_step, validate
from .recipe import Recipe

__all__ = [
    "BEST", "LAST", "Recipe", "batch_to_device", "distributed_context", "predict_scores", "topk_correct", "train",
    "train_loader", "train_step", "validate",
]
