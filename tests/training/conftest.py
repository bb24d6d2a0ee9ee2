"""The training tests' fixtures, over :mod:`tiny_training`."""

from __future__ import annotations

import pytest

from mict_pipeline.clips.dataset import ClipDataset

from tiny_training import CLIPS, index_table, moving_bar_frames


@pytest.fixture
def tiny_datasets():
    def make(n_train: int = 8, n_test: int = 4, seed: int = 0):
        train = ClipDataset(index_table(n_train), "train", CLIPS, seed=seed, loader=moving_bar_frames)
        test = ClipDataset(index_table(n_test), "clip", CLIPS, loader=moving_bar_frames)
        return train, test

    return make
