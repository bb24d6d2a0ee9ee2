"""Training loop: learning, checkpoints, resume to identical weights, scoring, DDP on CPU."""

from __future__ import annotations

import dataclasses
import os
import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from mict_pipeline.config import ConfigError
from mict_pipeline.data.clips import ClipDataset
from mict_pipeline.data.device_clips import EncodedClipDataset
from mict_pipeline.models import build_model, import_seed_checkpoint, save_model
from mict_pipeline.training import Recipe, distributed_context, predict_scores, topk_correct, train

from conftest import CLIPS, index_table, moving_bar_frames, moving_bar_jpegs

RECIPE = Recipe(epochs=3, batch_size=4, lr=0.01, lr_milestones=(2,), workers=0, eval_batch_size=3, seed=7)


def build() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("mict_resnet18", 2, dropout=0.5)


def saver(model, path):
    save_model(path, model, "mict_resnet18", 2, dropout=0.5)


def test_train_writes_checkpoints_metrics_and_history(tiny_datasets, tmp_path):
    train_set, test_set = tiny_datasets()
    summary = train(build(), train_set, test_set, RECIPE, tmp_path / "ckpt", save_best=saver, log_dir=tmp_path / "live", progress=False)
    assert [h["epoch"] for h in summary["history"]] == [1, 2, 3]
    assert [h["lr"] for h in summary["history"]] == pytest.approx([0.01, 0.01, 0.001])  # / 10 after epoch 2
    assert {"train_loss", "train_top1", "val_top1", "val_top5", "val_loss"} <= set(summary["history"][0])
    assert "clips_per_s" not in summary["history"][0]  # a timing: logged by DVCLive below, kept out of checkpoints
    assert (tmp_path / "ckpt" / "last.pt").is_file() and (tmp_path / "ckpt" / "best.pt").is_file()
    assert summary["best_val_top1"] == max(h["val_top1"] for h in summary["history"])
    best = import_seed_checkpoint(tmp_path / "ckpt" / "best.pt", "mict_resnet18", 2, dropout=0.5)
    assert isinstance(best, torch.nn.Module)
    # DVCLive wrote a metric series per epoch, and no dvc.yaml of its own.
    series = (tmp_path / "live" / "plots" / "metrics" / "val_top1.tsv").read_text().splitlines()
    assert len(series) == 4 and not (tmp_path / "live" / "dvc.yaml").exists()
    assert len((tmp_path / "live" / "plots" / "metrics" / "clips_per_s.tsv").read_text().splitlines()) == 4


class Interrupt(Exception):
    pass


class InterruptingDataset(ClipDataset):
    """Raises after ``limit`` items, like a process killed in the middle of an epoch."""

    def __init__(self, *args, limit: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls, self.limit = 0, limit

    def __getitem__(self, i):
        self.calls += 1
        if self.calls > self.limit:
            raise Interrupt
        return super().__getitem__(i)


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_resume_after_interruption_gives_identical_weights(tiny_datasets, tmp_path, optimizer):
    recipe = dataclasses.replace(RECIPE, optimizer=optimizer, lr=RECIPE.lr if optimizer == "sgd" else 1e-3)
    train_set, test_set = tiny_datasets(seed=7)
    train(build(), train_set, test_set, recipe, tmp_path / "straight", save_best=saver, progress=False)

    interrupted = InterruptingDataset(index_table(8), "train", CLIPS, seed=7, loader=moving_bar_frames, limit=12)
    with pytest.raises(Interrupt):  # dies in the middle of epoch 2
        train(build(), interrupted, test_set, recipe, tmp_path / "resumed", save_best=saver, progress=False)
    assert torch.load(tmp_path / "resumed" / "last.pt", weights_only=False)["epoch"] == 1
    train_set_again, _ = tiny_datasets(seed=7)
    train(build(), train_set_again, test_set, recipe, tmp_path / "resumed", save_best=saver, progress=False)

    straight = torch.load(tmp_path / "straight" / "last.pt", weights_only=False)
    resumed = torch.load(tmp_path / "resumed" / "last.pt", weights_only=False)
    assert resumed["epoch"] == straight["epoch"] == 3
    for key, value in straight["model"].items():
        assert torch.equal(value, resumed["model"][key]), key
    assert ("exp_avg" in resumed["optimizer"]["state"][0]) == (optimizer == "adamw")  # the optimizer asked for
    assert resumed["history"] == straight["history"]


def test_decoding_on_the_device_trains_repeatably(tiny_datasets, tmp_path):
    """recipe.decode: device on the CPU: workers read JPEG bytes, the loop decodes and augments; two runs agree."""
    recipe = dataclasses.replace(RECIPE, epochs=2, decode="device", workers=2, prefetch_factor=2)
    _, test_set = tiny_datasets()
    runs = []
    for name in ("a", "b"):
        train_set = EncodedClipDataset(index_table(8), CLIPS, seed=7, reader=moving_bar_jpegs)
        summary = train(build(), train_set, test_set, recipe, tmp_path / name, save_best=saver, progress=False)
        assert [h["epoch"] for h in summary["history"]] == [1, 2]
        runs.append(torch.load(tmp_path / name / "last.pt", weights_only=False)["model"])
    for key, value in runs[0].items():
        assert torch.equal(value, runs[1][key]), key


def test_finished_run_is_not_trained_again(tiny_datasets, tmp_path):
    train_set, test_set = tiny_datasets()
    train(build(), train_set, test_set, RECIPE, tmp_path, save_best=saver, progress=False)
    mtime = (tmp_path / "last.pt").stat().st_mtime_ns
    summary = train(build(), train_set, test_set, RECIPE, tmp_path, save_best=saver, progress=False)
    assert (tmp_path / "last.pt").stat().st_mtime_ns == mtime and len(summary["history"]) == 3


def test_video_level_scores_average_clip_softmax(tmp_path):
    model = build().eval()
    index = index_table(3, n_frames=20)
    clip_scores = predict_scores(model, ClipDataset(index, "clip", CLIPS, loader=moving_bar_frames), RECIPE)
    video = ClipDataset(index, "video", CLIPS, loader=moving_bar_frames)
    video_scores = predict_scores(model, video, RECIPE)
    assert clip_scores.shape == video_scores.shape == (3, 2)
    np.testing.assert_allclose(video_scores.sum(axis=1), 1.0, rtol=1e-5)
    clips, _ = video[0]  # 16 frames -> 2 clips of 8
    with torch.no_grad():
        from mict_pipeline.data.clips import normalize_clips

        expected = torch.softmax(model(normalize_clips(clips)), dim=1).mean(dim=0).numpy()
    np.testing.assert_allclose(video_scores[0], expected, rtol=1e-5, atol=1e-6)


def test_topk_correct():
    logits = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.05, 0.15], [0.2, 0.3, 0.5]])
    assert topk_correct(logits, torch.tensor([1, 2, 0]), ks=(1, 2)) == [1, 2]


def test_recipe_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"experiments.x.recipe.lr_sched"):
        Recipe.from_params({"epochs": 1, "batch_size": 2, "lr_sched": 3}, where="experiments.x.recipe")
    with pytest.raises(ConfigError, match=r"experiments.x.recipe.epochs"):
        Recipe.from_params({"batch_size": 2}, where="experiments.x.recipe")
    with pytest.raises(ConfigError, match="recipe.amp must be one of"):
        Recipe(epochs=1, batch_size=1, amp="fp8")
    with pytest.raises(ConfigError, match="recipe.optimizer must be one of"):
        Recipe(epochs=1, batch_size=1, optimizer="adam")
    with pytest.raises(ConfigError, match=r"recipe.decode must be one of \['worker', 'device'\]"):
        Recipe(epochs=1, batch_size=1, decode="gpu")
    with pytest.raises(ConfigError, match="recipe.prefetch_factor must be positive"):
        Recipe(epochs=1, batch_size=1, prefetch_factor=0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(WORLD_SIZE=str(world), RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from conftest import CLIPS as clips, index_table as table, moving_bar_frames as frames

    with distributed_context() as got_rank:
        assert got_rank == rank
        train_set = ClipDataset(table(8), "train", clips, seed=7, loader=frames)
        test_set = ClipDataset(table(4), "clip", clips, loader=frames)
        recipe = Recipe(epochs=2, batch_size=4, workers=0, eval_batch_size=4, seed=7)
        model = build()
        summary = train(model, train_set, test_set, recipe, out, save_best=saver, progress=False)
        assert len(summary["history"]) == 2  # the same summary on every rank
        torch.save(dict(model.named_parameters()), os.path.join(out, f"rank{rank}.pt"))


def test_ddp_with_two_gloo_processes_on_cpu(tmp_path):
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    for key in rank0:
        # Gradients are all-reduced, so the weights stay identical (BatchNorm statistics are per process).
        assert torch.equal(rank0[key], rank1[key]), key
    state = torch.load(tmp_path / "last.pt", weights_only=False)
    assert state["epoch"] == 2 and len(state["history"]) == 2  # written once, by rank 0
