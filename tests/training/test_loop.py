"""Training loop: learning, checkpoints, resume to identical weights, scoring, DDP on CPU."""

from __future__ import annotations

import os
import shutil
import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from mict_pipeline.checkpoint import CheckpointError, load_checkpoint, read_checkpoint
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.clips.transforms import normalize_clips
from mict_pipeline.clips.device import EncodedClipDataset
from mict_pipeline.config import ParameterError
from mict_pipeline.experiment import ModelOptions, Recipe
from mict_pipeline.sources import code_record, module_code
from mict_pipeline.training import (
    EpochSampler, ResumeError, batch_to_device, distributed_context, predict_scores, topk_hits, train, train_epoch, train_loader,
)

from tiny_training import CLIPS, index_table, moving_bar_frames, moving_bar_jpegs, tiny_experiment
from demo_project import ROOT

SRC = ROOT / "src"

EXPERIMENT = tiny_experiment()
RECIPE = EXPERIMENT.recipe


def build(experiment=EXPERIMENT) -> torch.nn.Module:
    torch.manual_seed(0)
    return experiment.build_model()


def test_train_writes_checkpoints_metrics_and_history(tiny_datasets, tmp_path):
    train_set, test_set = tiny_datasets()
    summary = train(build(), train_set, test_set, EXPERIMENT, tmp_path / "ckpt", log_dir=tmp_path / "live", progress=False)
    assert [h["epoch"] for h in summary["history"]] == [1, 2, 3]
    assert [h["lr"] for h in summary["history"]] == pytest.approx([0.01, 0.01, 0.001])  # / 10 after epoch 2
    assert {"train_loss", "train_top1", "val_top1", "val_top5", "val_loss"} <= set(summary["history"][0])
    assert "clips_per_s" not in summary["history"][0]  # a timing: logged by DVCLive below, kept out of checkpoints
    assert (tmp_path / "ckpt" / "last.pt").is_file() and (tmp_path / "ckpt" / "best.pt").is_file()
    assert summary["best_val_top1"] == max(h["val_top1"] for h in summary["history"])
    # Both checkpoints carry the experiment; only last.pt the training state.
    best, last = read_checkpoint(tmp_path / "ckpt" / "best.pt"), read_checkpoint(tmp_path / "ckpt" / "last.pt")
    assert best.experiment == last.experiment == EXPERIMENT
    assert best.training is None and last.training["epoch"] == 3 and last.training["history"] == summary["history"]
    model, experiment = load_checkpoint(tmp_path / "ckpt" / "best.pt")
    assert experiment.dataset.class_names == ("down", "up") and not model.training
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
    experiment = tiny_experiment(optimizer=optimizer, lr=RECIPE.lr if optimizer == "sgd" else 1e-3)
    train_set, test_set = tiny_datasets(seed=7)
    train(build(experiment), train_set, test_set, experiment, tmp_path / "straight", progress=False)

    interrupted = InterruptingDataset(index_table(8), "train", CLIPS, seed=7, loader=moving_bar_frames, limit=12)
    with pytest.raises(Interrupt):  # dies in the middle of epoch 2
        train(build(experiment), interrupted, test_set, experiment, tmp_path / "resumed", progress=False)
    assert read_checkpoint(tmp_path / "resumed" / "last.pt").training["epoch"] == 1
    train_set_again, _ = tiny_datasets(seed=7)
    train(build(experiment), train_set_again, test_set, experiment, tmp_path / "resumed", progress=False)

    straight = read_checkpoint(tmp_path / "straight" / "last.pt")
    resumed = read_checkpoint(tmp_path / "resumed" / "last.pt")
    assert resumed.training["epoch"] == straight.training["epoch"] == 3
    for key, value in straight.state_dict.items():
        assert torch.equal(value, resumed.state_dict[key]), key
    assert ("exp_avg" in resumed.training["optimizer"]["state"][0]) == (optimizer == "adamw")  # the optimizer asked for
    assert resumed.training["history"] == straight.training["history"]
    assert resumed.training["scheduler"]["milestones"] == {2: 1}
    for name in ("best.pt", "last.pt"):  # and the same bytes, so DVC sees the same outputs
        assert (tmp_path / "straight" / name).read_bytes() == (tmp_path / "resumed" / name).read_bytes(), name


def test_persistent_workers_train_as_in_process_and_resume_identically(tiny_datasets, tmp_path):
    """Workers kept across epochs (each with its own copy of the dataset) still draw every epoch's
    clips: the weights equal an in-process run's, and a run killed in epoch 2 and resumed ends the same."""
    in_process, persistent = tiny_experiment(workers=0), tiny_experiment(workers=2, prefetch_factor=2)
    train_set, test_set = tiny_datasets(seed=7)
    train(build(in_process), train_set, test_set, in_process, tmp_path / "in_process", progress=False)
    train(build(persistent), train_set, test_set, persistent, tmp_path / "persistent", progress=False)
    # Each worker counts its own items: 4 per epoch (one batch of the two), so the 6th kills epoch 2.
    interrupted = InterruptingDataset(index_table(8), "train", CLIPS, seed=7, loader=moving_bar_frames, limit=5)
    with pytest.raises(Interrupt):
        train(build(persistent), interrupted, test_set, persistent, tmp_path / "resumed", progress=False)
    assert read_checkpoint(tmp_path / "resumed" / "last.pt").training["epoch"] == 1
    train(build(persistent), train_set, test_set, persistent, tmp_path / "resumed", progress=False)

    expected = read_checkpoint(tmp_path / "in_process" / "last.pt")
    for run in ("persistent", "resumed"):
        checkpoint = read_checkpoint(tmp_path / run / "last.pt")
        assert checkpoint.training["history"] == expected.training["history"], run
        for key, value in expected.state_dict.items():
            assert torch.equal(value, checkpoint.state_dict[key]), (run, key)
    assert (tmp_path / "persistent" / "last.pt").read_bytes() == (tmp_path / "resumed" / "last.pt").read_bytes()


class _EpochAndWorker(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 8

    def __getitem__(self, key):
        epoch, _ = key
        return torch.tensor([epoch, os.getpid()]), 0


def test_the_loader_keeps_its_workers_and_carries_the_epoch_to_them():
    sampler = EpochSampler(8, seed=0)
    loader = train_loader(_EpochAndWorker(), tiny_experiment(workers=2, prefetch_factor=1).recipe, 2, sampler, torch.device("cpu"))
    seen = {}
    for epoch in range(3):
        sampler.set_epoch(epoch)
        items = torch.cat([batch for batch, _ in loader])
        seen[epoch] = set(items[:, 1].tolist())
        assert items[:, 0].tolist() == [epoch] * 8
    assert len(seen[0]) == 2 and seen[0] == seen[1] == seen[2] and os.getpid() not in seen[0]


_CONVERSIONS = ("item", "tolist", "numpy", "cpu", "__int__", "__float__", "__bool__", "__index__")


def _count_conversions(monkeypatch) -> list[str]:
    """Patch every way a tensor becomes a Python value (or host memory); returns the list of calls."""
    calls: list[str] = []
    for name in _CONVERSIONS:
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    return calls


def _epoch_conversions(monkeypatch, batches: int) -> int:
    experiment = tiny_experiment(batch_size=2)  # SGD: its step reads no tensor (AdamW reads its host-side step count)
    train_set = ClipDataset(index_table(12), "train", CLIPS, seed=7, loader=moving_bar_frames)
    model = build(experiment)
    optimizer = experiment.recipe.make_optimizer(model.parameters())
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    loader = train_loader(train_set, experiment.recipe, 2, EpochSampler(len(train_set), seed=7), torch.device("cpu"))
    with monkeypatch.context() as patch:
        calls = _count_conversions(patch)
        totals = train_epoch(model, loader, optimizer, scaler, None, batch_to_device(train_set), torch.device("cpu"), limit=batches)
        counted = len(calls)
    assert totals[3] == 2 * batches
    return counted


def test_the_training_step_path_reads_nothing_back(monkeypatch):
    """What the epoch converts to Python values must not grow with its steps: only the loader's
    per-epoch set-up may (its shuffled order, its workers' seed)."""
    assert _epoch_conversions(monkeypatch, 6) == _epoch_conversions(monkeypatch, 2)
    with monkeypatch.context() as patch:  # the counting sees what the old loop did per step
        calls = _count_conversions(patch)
        loss = torch.ones(())
        loss.item(), int(loss)
    assert calls == ["item", "__int__"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_training_step_path_does_not_synchronise_on_cuda(tiny_datasets):
    experiment = tiny_experiment(batch_size=2, device="cuda")
    train_set, _ = tiny_datasets(n_train=12, seed=7)
    model = build(experiment).cuda()
    optimizer = experiment.recipe.make_optimizer(model.parameters())
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    device = torch.device("cuda")
    loader = train_loader(train_set, experiment.recipe, 2, EpochSampler(len(train_set), seed=7), device)
    to_device = batch_to_device(train_set)
    train_epoch(model, loader, optimizer, scaler, torch.bfloat16, to_device, device, limit=1)  # warm-up: cuDNN, allocator
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        totals = train_epoch(model, loader, optimizer, scaler, torch.bfloat16, to_device, device, limit=4)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert totals[3].item() == 8


def test_val_every_validates_those_epochs_and_the_last(tiny_datasets, tmp_path):
    """best.pt is chosen among the validated epochs only; the last epoch is always validated."""
    experiment = tiny_experiment(epochs=5, val_every=2)
    train_set, test_set = tiny_datasets()
    summary = train(build(experiment), train_set, test_set, experiment, tmp_path / "ckpt", log_dir=tmp_path / "live", progress=False)
    validated = [h["epoch"] for h in summary["history"] if "val_top1" in h]
    assert validated == [2, 4, 5]
    assert summary["best_epoch"] in validated and [h["train_clips"] for h in summary["history"]] == [8] * 5
    series = (tmp_path / "live" / "plots" / "metrics" / "val_top1.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in series[1:]] == ["1", "3", "4"]  # DVCLive steps: epoch - 1
    seconds = (tmp_path / "live" / "plots" / "metrics" / "train_seconds.tsv").read_text().splitlines()
    assert len(seconds) == 6 and all(float(line.split("\t")[1]) > 0 for line in seconds[1:])


def test_resume_refuses_a_checkpoint_of_another_experiment(tiny_datasets, tmp_path):
    train_set, test_set = tiny_datasets()
    short = tiny_experiment(epochs=1)
    train(build(short), train_set, test_set, short, tmp_path, progress=False)
    before = (tmp_path / "last.pt").read_bytes()
    for other, change in [
        (tiny_experiment(epochs=2, lr=0.05), r"recipe.epochs: 1 -> 2; recipe.lr: 0.01 -> 0.05"),
        (short.model_copy(update={"clips": CLIPS.model_copy(update={"output_size": 24})}), r"clips.output_size: 16 -> 24"),
        (short.model_copy(update={"dataset": short.dataset.model_copy(update={"name": "other"})}), r"dataset.name: 'moving bars' -> 'other'"),
    ]:
        with pytest.raises(ResumeError, match=rf"last.pt was written by another experiment .*\({change}\).*To start afresh, move .* aside"):
            train(build(other), train_set, test_set, other, tmp_path, progress=False)
    assert (tmp_path / "last.pt").read_bytes() == before  # refused before anything was written
    # How the run executes is not part of the experiment: another worker count or device resumes.
    same = tiny_experiment(epochs=1, workers=1, eval_batch_size=2, device="cpu")
    assert len(train(build(same), train_set, test_set, same, tmp_path, progress=False)["history"]) == 1


def test_resume_refuses_a_checkpoint_trained_on_another_training_list(tiny_datasets, tmp_path):
    """Same experiment, other training videos (e.g. a regenerated dataset): not resumed."""
    short = tiny_experiment(epochs=1)
    train_set, test_set = tiny_datasets()
    train(build(short), train_set, test_set, short, tmp_path, progress=False)
    other_list, _ = tiny_datasets(n_train=12)
    longer = tiny_experiment(epochs=2)
    with pytest.raises(ResumeError, match=r"recipe.epochs: 1 -> 2; training list [0-9a-f]{16} -> [0-9a-f]{16} \(another list"):
        train(build(longer), other_list, test_set, longer, tmp_path, progress=False)
    # The same list read from another folder is the same data: the run resumes.
    moved = ClipDataset(index_table(8), "train", CLIPS, seed=0, loader=moving_bar_frames, root="elsewhere")
    assert moved.fingerprint == train_set.fingerprint


def _training_sources(folder) -> list:
    """Copies in ``folder`` of the sources the training loop records, named as in the package."""
    copies = []
    for name in module_code([train.__module__])["files"]:
        copy = folder / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copies.append(shutil.copyfile(SRC / name, copy))
    return copies


def test_a_changed_training_source_does_not_resume_the_old_model(tiny_datasets, tmp_path, caplog):
    """A finished run's last.pt records its sources: after a comment is added to one of them
    (clips/transforms.py), the run is refused naming that file, or (restart, as `dvc repro` runs
    it) trained afresh to what a run started in an empty folder with that code writes; a format-1
    last.pt records no code, so it is taken for other code."""
    train_set, test_set = tiny_datasets()
    short = tiny_experiment(epochs=1)
    copies = _training_sources(tmp_path / "src")
    old_code = code_record(copies, tmp_path / "src")
    train(build(short), train_set, test_set, short, tmp_path / "run", progress=False, code=old_code)
    with (tmp_path / "src/mict_pipeline/clips/transforms.py").open("a") as source:
        source.write("# a comment\n")
    new_code = code_record(copies, tmp_path / "src")

    with pytest.raises(ResumeError, match=r"last.pt was written by another experiment .*\(code changed: mict_pipeline/clips/transforms.py\)"):
        train(build(short), train_set, test_set, short, tmp_path / "run", progress=False, code=new_code)
    train(build(short), train_set, test_set, short, tmp_path / "run", progress=False, code=new_code, on_other_experiment="restart")
    assert "(code changed: mict_pipeline/clips/transforms.py): training afresh" in caplog.text and "resuming" not in caplog.text
    train(build(short), train_set, test_set, short, tmp_path / "fresh", progress=False, code=new_code)
    for name in ("best.pt", "last.pt"):
        assert read_checkpoint(tmp_path / "run" / name).code == new_code
        assert (tmp_path / "run" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name

    version_1 = torch.load(tmp_path / "run/last.pt", weights_only=True)
    version_1.update(format_version=1, code=None)
    del version_1["content_sha256"]
    torch.save(version_1, tmp_path / "run/last.pt")
    with pytest.raises(ResumeError, match=r"\(its code is unknown \(a checkpoint of format version 1 records none\)\)"):
        train(build(short), train_set, test_set, short, tmp_path / "run", progress=False, code=new_code)


def test_restart_trains_afresh_over_a_checkpoint_of_another_experiment(tiny_datasets, tmp_path, caplog):
    """on_other_experiment="restart" (what `dvc repro` passes): the other run's checkpoints go, and
    the new run ends with the bytes of one started in an empty folder."""
    train_set, test_set = tiny_datasets()
    train(build(), train_set, test_set, EXPERIMENT, tmp_path / "fresh", progress=False)
    short = tiny_experiment(epochs=1, lr=0.05)
    train(build(short), train_set, test_set, short, tmp_path / "reused", progress=False)
    train(build(), train_set, test_set, EXPERIMENT, tmp_path / "reused", progress=False, on_other_experiment="restart")
    assert "was written by another experiment (recipe.epochs: 1 -> 3; recipe.lr: 0.05 -> 0.01): training afresh" in caplog.text
    for name in ("best.pt", "last.pt"):
        assert (tmp_path / "fresh" / name).read_bytes() == (tmp_path / "reused" / name).read_bytes(), name


def test_a_smoke_run_trains_and_validates_what_its_limits_allow(tiny_datasets, tmp_path):
    """limit_epochs / limit_train_batches / limit_val_batches: a smoke run of the recipe, never
    resumed as the full run (the limits are part of what it trained)."""
    train_set, test_set = tiny_datasets(n_train=16, n_test=12)
    seen: list[int] = []
    recorded = ClipDataset.__getitem__

    def counting(dataset, i):
        seen.append(i)
        return recorded(dataset, i)

    smoke = tiny_experiment(limit_epochs=2, limit_train_batches=1, limit_val_batches=1)  # batches of 4
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ClipDataset, "__getitem__", counting)
        summary = train(build(smoke), train_set, test_set, smoke, tmp_path, progress=False)
    assert [h["epoch"] for h in summary["history"]] == [1, 2]  # of the recipe's 3
    assert len(seen) == 2 * (4 + 4)  # per epoch: one training batch, one batch of validation clips
    assert smoke.recipe.validation_rows(12).tolist() == [0, 4, 7, 11]  # spread over the list
    full = tiny_experiment()
    with pytest.raises(ResumeError, match=r"recipe.limit_epochs: 2 -> None; recipe.limit_train_batches: 1 -> None"):
        train(build(full), train_set, test_set, full, tmp_path, progress=False)


def test_decoding_on_the_device_trains_repeatably(tiny_datasets, tmp_path):
    """recipe.decode: device on the CPU: workers read JPEG bytes, the loop decodes and augments; two runs agree."""
    experiment = tiny_experiment(epochs=2, decode="device", workers=2, prefetch_factor=2)
    _, test_set = tiny_datasets()
    runs = []
    for name in ("a", "b"):
        train_set = EncodedClipDataset(index_table(8), CLIPS, seed=7, reader=moving_bar_jpegs)
        summary = train(build(experiment), train_set, test_set, experiment, tmp_path / name, progress=False)
        assert [h["epoch"] for h in summary["history"]] == [1, 2]
        runs.append(read_checkpoint(tmp_path / name / "last.pt").state_dict)
    for key, value in runs[0].items():
        assert torch.equal(value, runs[1][key]), key


def test_finished_run_is_not_trained_again(tiny_datasets, tmp_path):
    train_set, test_set = tiny_datasets()
    train(build(), train_set, test_set, EXPERIMENT, tmp_path, progress=False)
    mtime = (tmp_path / "last.pt").stat().st_mtime_ns
    summary = train(build(), train_set, test_set, EXPERIMENT, tmp_path, progress=False)
    assert (tmp_path / "last.pt").stat().st_mtime_ns == mtime and len(summary["history"]) == 3


def test_fewer_training_clips_than_a_batch_are_refused_before_training(tiny_datasets, tmp_path):
    train_set, test_set = tiny_datasets(n_train=RECIPE.batch_size - 1)
    with pytest.raises(ParameterError, match=r"^experiments\.tiny\.recipe\.batch_size: 3 training clips give no full batch of 4 .*"
                       r"set `batch_size: 3` .* in conf/<env>/parameters\.yml"):
        train(build(), train_set, test_set, EXPERIMENT, tmp_path, progress=False)
    assert not list(tmp_path.iterdir())  # no model that learnt nothing


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
        expected = torch.softmax(model(normalize_clips(clips)), dim=1).mean(dim=0).numpy()
    np.testing.assert_allclose(video_scores[0], expected, rtol=1e-5, atol=1e-6)


def test_topk_hits():
    logits = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.05, 0.15], [0.2, 0.3, 0.5]])
    assert topk_hits(logits, torch.tensor([1, 2, 0]), ks=(1, 2)).tolist() == [1, 2]


def test_recipe_errors_name_the_key():
    where = "experiments.x.recipe"
    for block, message in [
        ({"epochs": 1, "lr_sched": 3}, rf"{where}: unknown key 'lr_sched'; valid keys: epochs, batch_size, "),
        ({"epochs": 0}, rf"{where}.epochs: Input should be greater than 0 \(got 0\)"),
        ({"batch_size": "abc"}, rf"{where}.batch_size: Input should be a valid integer, unable to parse string as an integer \(got 'abc'\)"),
        ({"amp": "fp8"}, rf"{where}.amp: Input should be 'auto', 'off', 'bf16' or 'fp16' \(got 'fp8'\)"),
        ({"optimizer": "adam"}, rf"{where}.optimizer: Input should be 'sgd' or 'adamw'"),
        ({"decode": "gpu"}, rf"{where}.decode: Input should be 'worker' or 'device'"),
        ({"prefetch_factor": 0}, rf"{where}.prefetch_factor: Input should be greater than 0"),
    ]:
        with pytest.raises(ParameterError, match=message):
            Recipe.model_validate(block, where=where)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(WORLD_SIZE=str(world), RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from tiny_training import CLIPS as clips, index_table as table, moving_bar_frames as frames, tiny_experiment

    with distributed_context() as got_rank:
        assert got_rank == rank
        train_set = ClipDataset(table(8), "train", clips, seed=7, loader=frames)
        test_set = ClipDataset(table(4), "clip", clips, loader=frames)
        experiment = tiny_experiment(epochs=2, lr_milestones=(), eval_batch_size=4)
        model = build(experiment)
        summary = train(model, train_set, test_set, experiment, out, progress=False)
        assert len(summary["history"]) == 2  # the same summary on every rank
        torch.save(dict(model.named_parameters()), os.path.join(out, f"rank{rank}.pt"))


def test_ddp_with_two_gloo_processes_on_cpu(tmp_path):
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    for key in rank0:
        # Gradients are all-reduced, so the weights stay identical (BatchNorm statistics are per process).
        assert torch.equal(rank0[key], rank1[key]), key
    state = read_checkpoint(tmp_path / "last.pt").training
    assert state["epoch"] == 2 and len(state["history"]) == 2  # written once, by rank 0


def test_fine_tuning_starts_from_another_checkpoints_backbone_with_a_new_classifier(tiny_datasets, tmp_path):
    """Pretrain on 2 classes, fine-tune on 3: the backbone comes from the checkpoint, the classifier
    is new and alone learns in the frozen first epoch; then everything learns."""
    train_set, test_set = tiny_datasets()
    pretrain = tiny_experiment(epochs=1)
    train(build(pretrain), train_set, test_set, pretrain, tmp_path / "pretrain", progress=False)
    source = read_checkpoint(tmp_path / "pretrain" / "best.pt").state_dict

    three = pretrain.dataset.model_copy(update={"class_names": ("down", "up", "still")})
    model_options = pretrain.model.model_copy(update={"init_from": str(tmp_path / "pretrain" / "best.pt")})
    finetune = tiny_experiment(epochs=2, freeze_backbone_epochs=1).model_copy(update={"dataset": three, "model": model_options})
    model = finetune.build_model()
    assert model.fc.out_features == 3
    start = {k: v.clone() for k, v in model.state_dict().items()}
    for key, value in source.items():
        if not key.startswith("fc."):
            assert torch.equal(value, start[key]), key
    assert read_checkpoint(tmp_path / "pretrain" / "best.pt").experiment.model.init_from is None

    one_epoch = finetune.model_copy(update={"recipe": finetune.recipe.model_copy(update={"limit_epochs": 1})})
    train(finetune.build_model(), train_set, test_set, one_epoch, tmp_path / "frozen", progress=False)
    after_frozen = read_checkpoint(tmp_path / "frozen" / "last.pt").state_dict
    learnt = [k for k, v in after_frozen.items() if v.is_floating_point() and not torch.equal(v, start[k])]
    assert any(k.startswith("fc.") for k in learnt)
    assert all(k.startswith("fc.") or "running_" in k for k in learnt), learnt  # BatchNorm statistics still adapt

    train(finetune.build_model(), train_set, test_set, finetune, tmp_path / "full", progress=False)
    full = read_checkpoint(tmp_path / "full" / "last.pt")
    assert not torch.equal(full.state_dict["stem.stem_2d.0.weight"], start["stem.stem_2d.0.weight"])
    assert full.experiment.model.init_from == str(tmp_path / "pretrain" / "best.pt")  # the checkpoint names its source


def test_fine_tuning_refuses_a_checkpoint_of_another_architecture(tiny_datasets, tmp_path):
    train_set, test_set = tiny_datasets()
    pretrain = tiny_experiment(epochs=1)
    train(build(pretrain), train_set, test_set, pretrain, tmp_path, progress=False)
    other = pretrain.model_copy(update={"arch": "resnet3d_18", "model": ModelOptions(width=8, init_from=str(tmp_path / "best.pt"))})
    with pytest.raises(CheckpointError, match=r"model.init_from: .*best.pt holds a mict_resnet18, not a resnet3d_18. Fix: point"):
        other.build_model()
    wider = pretrain.model_copy(update={"model": pretrain.model.model_copy(update={"width": 16, "init_from": str(tmp_path / "best.pt")})})
    with pytest.raises(CheckpointError, match=r"model.init_from: .*best.pt.*Fix: point model.init_from at .* the same arch and model options"):
        wider.build_model()
    missing = pretrain.model_copy(update={"model": pretrain.model.model_copy(update={"init_from": str(tmp_path / "none.pt")})})
    with pytest.raises(CheckpointError, match=r"model.init_from: .*none.pt: no such file. Fix: train the experiment it comes from first"):
        missing.build_model()


def test_an_empty_test_set_is_refused_with_the_command_to_rerun(tiny_datasets):
    from mict_pipeline.training.loop import NothingToScoreError

    _, test_set = tiny_datasets()
    with pytest.raises(NothingToScoreError, match=r"no videos to score: .*test.csv\) is empty; rerun `kedro run --env <env> --pipelines=prepare`"):
        predict_scores(build(), torch.utils.data.Subset(test_set, []), RECIPE)
