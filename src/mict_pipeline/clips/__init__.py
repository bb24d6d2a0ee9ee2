"""Clips: the clip recipe, frame sampling, the original's augmentation in the loader workers or on
the training device, and normalisation (no Kedro)."""

from .config import ClipConfig
from .dataset import ClipDataset
from .device import EncodedClipDataset
from .transforms import normalize_clips

__all__ = ["ClipConfig", "ClipDataset", "EncodedClipDataset", "normalize_clips"]
