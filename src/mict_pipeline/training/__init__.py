"""Training and scoring (no Kedro): recipe, loop with checkpoints and resume, DDP under torchrun."""

from .distributed import distributed_context
from .loop import BEST, LAST, predict_scores, topk_correct, train, validate
from .recipe import Recipe

__all__ = ["BEST", "LAST", "Recipe", "distributed_context", "predict_scores", "topk_correct", "train", "validate"]
