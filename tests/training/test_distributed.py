"""The checks that keep a run on several processes or machines one run: the global batch is the
recipe's, and every process resumes from the same checkpoint (its machines share the data root)."""

from __future__ import annotations

import pytest

from mict_pipeline.config import ParameterError
from mict_pipeline.training import distributed
from mict_pipeline.training.distributed import SharedFolderError, check_same_start, per_process_batch

WHERE = "experiments.mict_resnet18.recipe.batch_size"


def test_the_recipes_batch_is_split_evenly_or_refused_with_the_batch_to_set():
    assert per_process_batch(112, 8, WHERE) == 14  # 2 nodes x 4 GPUs: still 112 clips a step
    with pytest.raises(ParameterError, match=(
        rf"^{WHERE}: 112 clips do not split evenly over the 12 processes torchrun started, .* set `batch_size: 108` "
        r"\(a multiple of 12\) in the experiment's `recipe:` in conf/<env>/parameters.yml"
    )):
        per_process_batch(112, 12, WHERE)
    with pytest.raises(ParameterError, match=r"`batch_size: 8` \(a multiple of 8\)"):
        per_process_batch(4, 8, WHERE)


def _seen(monkeypatch, *ranks):
    """What the processes of a run report: (host, epoch) per rank."""
    monkeypatch.setattr(distributed.dist, "get_world_size", lambda: len(ranks))
    monkeypatch.setattr(distributed.dist, "all_gather_object", lambda seen, _: seen.__setitem__(slice(None), ranks))


def test_processes_that_see_different_checkpoints_stop_the_run_naming_the_data_root(monkeypatch, tmp_path):
    _seen(monkeypatch, ("node-a", 3), ("node-a", 3))
    check_same_start(tmp_path / "last.pt", 3)
    _seen(monkeypatch, ("node-a", 3), ("node-a", 3), ("node-b", 0), ("node-b", 0))
    with pytest.raises(SharedFolderError, match=(
        rf"^{tmp_path / 'last.pt'}: the processes of one run see different checkpoints there \(rank 0 on node-a: epoch 3; "
        r"rank 2 on node-b: epoch 0; 0 is none\), .* set `data_root: <that folder>` in conf/<env>/globals.yml$"
    )):
        check_same_start(tmp_path / "last.pt", 3)
