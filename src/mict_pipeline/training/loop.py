"""Training with per-epoch checkpoints, automatic resume, the best model kept apart, and scoring.

Repeatability: every source of randomness is derived from ``(recipe.seed, epoch)`` at the start of
each epoch (sampler order, dropout, clip sampling and augmentation), and a checkpoint is written
after each epoch. A run interrupted anywhere and resumed from its last checkpoint therefore ends
with the same weights as an uninterrupted run on the CPU. A run resumes only from a ``last.pt``
of the same experiment and code: one trained with another model, recipe, clip recipe, dataset,
training list (its fingerprint: stores, lengths, labels) or other sources (the digest of the
files that shape what the model learns, :func:`mict_pipeline.sources.code_record`) is refused,
naming what differs, or with ``on_other_experiment="restart"`` trained afresh.

Speed: the loader's workers persist across epochs (the epoch reaches them with every index, see
:class:`EpochSampler`), and the step path never waits for the device: loss and top-k counts add up
on the device and are read once per epoch (:func:`train_epoch`).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler, Sampler, Subset
from tqdm import tqdm

from mict_pipeline.checkpoint import BEST, LAST, Checkpoint, read_checkpoint, save_checkpoint
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.clips.device import EncodedClipDataset
from mict_pipeline.clips.transforms import normalize_clips
from mict_pipeline.config import ParameterError
from mict_pipeline.datasets.prepared import PREPARE_COMMAND
from mict_pipeline.errors import UserError
from mict_pipeline.experiment import Experiment, Recipe
from mict_pipeline.models.layout import to_channels_last
from mict_pipeline.models.weights import CLASSIFIER
from mict_pipeline.sources import changed_files, module_code
from mict_pipeline.training.distributed import check_same_start, from_rank_0, per_process_batch

log = logging.getLogger(__name__)


class ResumeError(UserError, RuntimeError):
    """A run's ``last.pt`` belongs to another experiment or code; the message says what differs and how to start afresh."""


class NonFiniteScoresError(UserError, ValueError):
    """A model scores some items NaN or infinite: its weights overflow (the training diverged)."""


class NothingToScoreError(UserError, ValueError):
    """A validation or test set without items: its split table is empty (a prepare before prepare refused that)."""


def topk_hits(logits: torch.Tensor, labels: torch.Tensor, ks: tuple[int, ...] = (1, 5)) -> torch.Tensor:
    """Number of samples whose label is among the top-k logits, for each k: an int64 tensor on the
    logits' device (reading it is the caller's choice, so the training step never waits for it)."""
    top = logits.topk(min(max(ks), logits.shape[1]), dim=1).indices
    hits = top == labels[:, None]
    return torch.stack([hits[:, :k].any(dim=1).sum() for k in ks])


# Timings go to the log and DVCLive only: checkpoints and the summary stay a function of the inputs,
# so a rerun that reproduces the weights leaves the DVC-tracked model folder byte for byte unchanged.
# train_seconds: the epoch's training time (loading and steps, not validation).
TIMINGS = ("clips_per_s", "train_seconds")


def _epoch_seed(seed: int, epoch: int) -> int:
    return seed * 100_003 + epoch


class EpochSampler(Sampler[tuple[int, int]]):
    """One epoch's training order as ``(epoch, index)`` keys, shuffled by ``(seed, epoch)``
    (across processes with ``distributed``, as ``DistributedSampler``).

    The epoch travels with every index, so workers that persist across epochs, each holding its own
    copy of the dataset, draw that epoch's clips (:class:`~mict_pipeline.clips.dataset.ClipDataset`).
    """

    def __init__(self, size: int, seed: int, distributed: bool = False) -> None:
        self.size, self.seed, self.distributed, self.epoch = size, seed, distributed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _order(self) -> Sampler[int]:
        if self.distributed:
            order = DistributedSampler(range(self.size), shuffle=True, seed=self.seed, drop_last=True)
            order.set_epoch(self.epoch)
            return order
        return RandomSampler(range(self.size), generator=torch.Generator().manual_seed(_epoch_seed(self.seed, self.epoch)))

    def __iter__(self):
        epoch = self.epoch
        return ((epoch, index) for index in self._order())

    def __len__(self) -> int:
        return len(self._order())


def _is_main() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


class _Metrics:
    """Per-epoch metric logging to DVCLive (for `dvc plots`), on the main process only."""

    def __init__(self, log_dir: Path | None, resume: bool) -> None:
        self.live = None
        if log_dir is not None and _is_main():
            from dvclive import Live

            # dvcyaml=False: dvc.yaml declares these files itself; DVCLive must not rewrite it.
            self.live = Live(str(log_dir), resume=resume, dvcyaml=False, save_dvc_exp=False, report=None)

    def log(self, epoch: int, values: dict[str, float]) -> None:
        if self.live is not None:
            self.live.step = epoch
            for name, value in values.items():
                self.live.log_metric(name, value, plot=True)
            self.live.make_summary()

    def close(self) -> None:
        if self.live is not None:
            self.live.end()


def _code_difference(recorded: dict[str, Any] | None, code: dict[str, Any]) -> str | None:
    """What differs between the code a checkpoint records and ``code``, or None when it is the same."""
    if recorded is None:
        return "its code is unknown (a checkpoint of format version 1 records none)"
    if recorded.get("sha256") == code["sha256"]:
        return None
    return f"code changed: {', '.join(changed_files(recorded, code)) or 'its digest'}"


def _resume_from(
    last_path: Path, experiment: Experiment, data: str | None, code: dict[str, Any], on_other_experiment: str
) -> Checkpoint | None:
    """``last_path`` if it was written by a run of ``experiment`` on the training data of fingerprint
    ``data`` with the sources of record ``code``; else None (``on_other_experiment="restart"``: the
    caller removes the run's checkpoints) or :class:`ResumeError`."""
    checkpoint = read_checkpoint(last_path)
    differences = checkpoint.experiment.differences(experiment)
    if checkpoint.training is None:
        differences.append("it holds no training state")
    elif checkpoint.training.get("data") != data:
        differences.append(f"training list {checkpoint.training.get('data')} -> {data} (another list or other videos)")
    if (changed := _code_difference(checkpoint.code, code)) is not None:
        differences.append(changed)
    if not differences:
        return checkpoint
    what = "; ".join(differences)
    if on_other_experiment == "restart":
        log.warning("%s was written by another experiment (%s): training afresh", last_path, what)
        return None
    raise ResumeError(
        f"{last_path} was written by another experiment than the one asked for ({what}), so training does "
        f"not resume from it. To start afresh, move {last_path.parent} aside (it holds a model of those settings), or set "
        "`on_other_experiment: restart` under `training:` in conf/<env>/parameters_train.yml, which replaces it; to continue "
        "that run, restore the settings and code it was trained with."
    )


def train(
    model: nn.Module,
    train_set: Dataset,
    val_set: Dataset | None,
    experiment: Experiment,
    out_dir: str | Path,
    *,
    log_dir: str | Path | None = None,
    progress: bool = True,
    on_other_experiment: str = "refuse",
    code: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train ``model`` by ``experiment.recipe``; checkpoints in ``out_dir``: ``last.pt`` every epoch,
    ``best.pt`` at the best validation clip top-1, both carrying ``experiment``.

    Both checkpoints record ``code``, the :func:`~mict_pipeline.sources.code_record` of the sources
    that shape what the model learns (default: this loop's, :func:`~mict_pipeline.sources.module_code`
    of this module; the train node passes its own module's, the files its DVC stage depends on).
    Resumes from ``out_dir/last.pt`` when it exists and belongs to the same experiment and code; a
    ``last.pt`` of another raises :class:`ResumeError`, or with
    ``on_other_experiment="restart"`` is removed with ``best.pt`` and training starts afresh.
    Under ``torchrun`` (WORLD_SIZE > 1, on one machine or several) it trains with
    DistributedDataParallel, the recipe's batch split evenly across the processes; every process
    resumes from the same ``last.pt`` (:func:`~mict_pipeline.training.distributed.check_same_start`).
    Returns a summary with the per-epoch history.
    """
    out_dir = Path(out_dir)
    recipe = experiment.recipe
    device = recipe.resolve_device()
    distributed = dist.is_initialized() and dist.get_world_size() > 1
    world = dist.get_world_size() if distributed else 1
    batch_size = per_process_batch(recipe.batch_size, world, f"experiments.{experiment.name}.recipe.batch_size")
    if len(train_set) // world < batch_size:  # the loader drops each epoch's last partial batch: no step at all
        raise ParameterError(
            f"experiments.{experiment.name}.recipe.batch_size: {len(train_set)} training clips give no full batch of "
            f"{recipe.batch_size}{f' over {world} processes' if distributed else ''} (each epoch drops its last partial "
            f"batch), so nothing would be learnt; set `batch_size: {max(1, len(train_set) // world * world)}` (at most the "
            "training clips) in the experiment's `recipe:` in conf/<env>/parameters.yml, or add training videos"
        )
    if distributed:  # each rank says so: the log shows which processes of which run trained
        log.info("%s: rank %d of %d processes, %d clips a step (%d each)", out_dir, dist.get_rank(), world, recipe.batch_size, batch_size)
    amp_dtype = recipe.autocast_dtype(device)
    channels_last = recipe.channels_last and device.type == "cuda"

    model = model.to(device)
    if channels_last:
        to_channels_last(model)
    optimizer = recipe.make_optimizer(model.parameters())
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, list(recipe.lr_milestones), gamma=recipe.lr_gamma)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)

    start_epoch, best_top1, best_epoch, history = 0, -1.0, -1, []
    last_path = out_dir / LAST
    data = getattr(train_set, "fingerprint", None)
    code = code or module_code([__name__])
    checkpoint = _resume_from(last_path, experiment, data, code, on_other_experiment) if last_path.is_file() else None
    if checkpoint is not None:
        model.load_state_dict(checkpoint.state_dict)
        state = checkpoint.training
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        start_epoch, best_top1, best_epoch, history = state["epoch"], state["best_top1"], state["best_epoch"], state["history"]
        log.info("resuming %s from epoch %d of %d", out_dir, start_epoch, recipe.epochs_to_run)
    if distributed:
        check_same_start(last_path, start_epoch)
    if checkpoint is None and last_path.is_file() and _is_main():  # another experiment's, to restart; every rank has read it
        for name in (LAST, BEST):
            (out_dir / name).unlink(missing_ok=True)
    metrics = _Metrics(Path(log_dir) if log_dir else None, resume=start_epoch > 0)

    net = nn.parallel.DistributedDataParallel(model) if distributed else model
    net = torch.compile(net) if recipe.compile else net
    sampler = EpochSampler(len(train_set), recipe.seed, distributed)
    loader = train_loader(train_set, recipe, batch_size, sampler, device)
    to_device = batch_to_device(train_set)

    if distributed and recipe.freeze_backbone_epochs:
        raise ValueError("recipe.freeze_backbone_epochs needs a single process (DDP expects every parameter to learn); set it to 0 under torchrun")
    for epoch in range(start_epoch, recipe.epochs_to_run):
        if recipe.freeze_backbone_epochs:
            freeze_backbone(model, frozen=epoch < recipe.freeze_backbone_epochs)
        sampler.set_epoch(epoch)
        torch.manual_seed(_epoch_seed(recipe.seed, epoch))  # dropout masks
        # A DataLoader made afresh each epoch drew its workers' base seed here; drawing it still keeps
        # the dropout masks, and so the weights, those of runs made before the workers persisted.
        torch.empty((), dtype=torch.int64).random_()
        net.train()
        started = time.perf_counter()
        totals = train_epoch(
            net, loader, optimizer, scaler, amp_dtype, to_device, device, limit=recipe.limit_train_batches,
            progress=f"epoch {epoch + 1}/{recipe.epochs_to_run}" if progress and _is_main() else None,
        )
        seconds = time.perf_counter() - started
        if distributed:
            dist.all_reduce(totals)
        loss_sum, top1, top5, n = totals.tolist()  # the epoch's one wait for the device
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step()
        n = max(1.0, n)
        row = {"epoch": epoch + 1, "train_loss": loss_sum / n, "train_top1": top1 / n, "train_top5": top5 / n, "lr": lr,
               "train_clips": int(n), "clips_per_s": n / seconds, "train_seconds": seconds}
        if val_set is not None and _is_main() and recipe.validates_after(epoch + 1):
            row.update(validate(model, val_set, recipe, device))
        if _is_main():
            history.append({k: v for k, v in row.items() if k not in TIMINGS})
            log.info("%s epoch %d: %s", out_dir, epoch + 1, {k: round(v, 4) for k, v in row.items() if k != "epoch"})
            metrics.log(epoch, {k: v for k, v in row.items() if k != "epoch"})
            score = row.get("val_top1", row["train_top1"] if val_set is None else None)
            if score is not None and score > best_top1:
                best_top1, best_epoch = score, epoch + 1
                save_checkpoint(out_dir / BEST, model, experiment, code=code)
            save_checkpoint(last_path, model, experiment, code=code, training={
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(),
                "epoch": epoch + 1, "best_top1": best_top1, "best_epoch": best_epoch, "history": history, "data": data,
            })
        if distributed:
            dist.barrier()
    metrics.close()
    if distributed:  # only rank 0 kept the history: every rank reports what it wrote
        best_top1, best_epoch, history = from_rank_0(best_top1, best_epoch, history)
    return {"epochs": recipe.epochs_to_run, "best_epoch": best_epoch, "best_val_top1": best_top1, "history": history,
            "best_checkpoint": str(out_dir / BEST), "last_checkpoint": str(last_path)}


def freeze_backbone(model: nn.Module, frozen: bool) -> None:
    """Let only the classifier learn (``frozen``), or every weight: parameters without a gradient are
    left alone by the optimiser, weight decay included."""
    for name, param in model.named_parameters():
        param.requires_grad_(not frozen or name.startswith(CLASSIFIER))


def training_dataset(index: pd.DataFrame, experiment: Experiment, frames_dir: str | Path | None = None) -> Dataset:
    """The training clips of ``index`` (frame stores relative to ``frames_dir``): decoded in the
    loader workers, or (``recipe.decode: device``) only read there and decoded by the training loop."""
    if experiment.recipe.decode == "device":
        return EncodedClipDataset(index, experiment.clips, seed=experiment.recipe.seed, root=frames_dir)
    return ClipDataset(index, "train", experiment.clips, seed=experiment.recipe.seed, root=frames_dir)


def train_loader(train_set: Dataset, recipe: Recipe, batch_size: int, sampler: Sampler, device: torch.device) -> DataLoader:
    """The training DataLoader: the recipe's workers (kept across epochs) and prefetch, the dataset's collation."""
    return DataLoader(
        train_set, batch_size=batch_size, sampler=sampler, drop_last=True, num_workers=recipe.workers,
        pin_memory=device.type == "cuda", persistent_workers=recipe.workers > 0,
        prefetch_factor=recipe.prefetch_factor if recipe.workers else None,
        collate_fn=getattr(train_set, "collate_fn", None),
        generator=torch.Generator().manual_seed(recipe.seed),  # the workers' base seed: not from the global RNG
    )


def batch_to_device(train_set: Dataset) -> Callable[[Any, torch.device], torch.Tensor]:
    """How a collated batch of ``train_set`` becomes uint8 clips on the device: moved (clips decoded in
    the workers), or decoded and augmented there (``recipe.decode: device``)."""
    return getattr(train_set, "batch_to_device", lambda batch, device: batch.to(device, non_blocking=True))


def train_step(
    net: nn.Module, clips: torch.Tensor, labels: torch.Tensor, optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler, amp_dtype: torch.dtype | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimisation step on uint8 (N, T, H, W, 3) clips already on the device; returns (loss, logits)."""
    x = normalize_clips(clips)
    with torch.autocast(x.device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
        logits = net(x)
        loss = F.cross_entropy(logits, labels)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss, logits


def train_epoch(
    net: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
    amp_dtype: torch.dtype | None, to_device: Callable[[Any, torch.device], torch.Tensor], device: torch.device,
    *, limit: int | None = None, progress: str | None = None,
) -> torch.Tensor:
    """One epoch of :func:`train_step` over ``loader`` (its first ``limit`` batches); returns the
    float64 sums (loss x clips, top-1 hits, top-5 hits, clips) on ``device``, unread: nothing in the
    step path converts a device tensor to a Python value, so the host never waits for the device."""
    totals = torch.zeros(4, dtype=torch.float64, device=device)
    batches = itertools.islice(loader, limit)
    for clips, labels in tqdm(batches, total=min(len(loader), limit or len(loader)), desc=progress, disable=progress is None, leave=False):
        labels = labels.to(device, non_blocking=True)
        loss, logits = train_step(net, to_device(clips, device), labels, optimizer, scaler, amp_dtype)
        totals[0] += loss.detach().double() * len(labels)
        totals[1:3] += topk_hits(logits.detach().float(), labels)
        totals[3] += len(labels)
    return totals


@torch.no_grad()
def validate(model: nn.Module, val_set: Dataset, recipe: Recipe, device: torch.device) -> dict[str, float]:
    """Clip-level loss, top-1 and top-5 on ``val_set`` (a dataset with a ``labels`` array), or on
    the part ``recipe.limit_val_batches`` keeps."""
    rows = recipe.validation_rows(len(val_set))
    probs = torch.from_numpy(predict_scores(model, Subset(val_set, rows.tolist()), recipe, device))
    labels = torch.tensor(np.asarray(val_set.labels)[rows])
    top1, top5 = topk_hits(probs, labels).tolist()
    loss = F.nll_loss(probs.clamp_min(1e-12).log(), labels).item()
    return {"val_loss": loss, "val_top1": top1 / len(labels), "val_top5": top5 / len(labels)}


@torch.no_grad()
def predict_scores(model: nn.Module, dataset: Dataset, recipe: Recipe, device: torch.device | None = None) -> np.ndarray:
    """Softmax scores (N, num_classes) for every item of ``dataset``.

    Items are ``(uint8 clip (T, H, W, 3), label)`` or, for video-level scoring,
    ``(uint8 clips (K, T, H, W, 3), label)``: the K clips' softmax scores are averaged.
    Clips of consecutive items are batched together up to ``recipe.eval_batch_size``. Raises
    :class:`NonFiniteScoresError` when a score is NaN or infinite: no caller reports one as a probability,
    and :class:`NothingToScoreError` for an empty ``dataset``, before any work.
    """
    if len(dataset) == 0:
        raise NothingToScoreError(
            f"no videos to score: the split's test table (05_model_input/split_<n>/test.csv) is empty; rerun `{PREPARE_COMMAND}`, "
            "which names the split without usable videos and the fix"
        )
    device = device or recipe.resolve_device()
    amp_dtype = recipe.autocast_dtype(device)
    was_training = model.training
    model.eval()
    loader = DataLoader(dataset, batch_size=None, num_workers=recipe.workers, pin_memory=device.type == "cuda")
    # One (N, classes) table of score sums, not a tensor per video: small long-lived allocations
    # between the batches' large transient ones made the allocator's footprint grow with N.
    sums: torch.Tensor | None = None
    counts = torch.zeros(len(dataset), dtype=torch.int64)
    pending: list[torch.Tensor] = []
    owners: list[int] = []

    def flush() -> None:
        nonlocal sums
        x = normalize_clips(torch.stack(pending).to(device, non_blocking=True))
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            probs = F.softmax(model(x).float(), dim=1).cpu()
        if sums is None:
            sums = torch.zeros(len(dataset), probs.shape[1])
        for owner, p in zip(owners, probs):  # in clip order, so the sums are those of a running total
            sums[owner] += p
            counts[owner] += 1
        pending.clear()
        owners.clear()

    for index, (clips, _) in enumerate(loader):
        for clip in clips if clips.dim() == 5 else clips[None]:
            pending.append(clip)
            owners.append(index)
            if len(pending) == recipe.eval_batch_size:
                flush()
    if pending:
        flush()
    model.train(was_training)
    scores = (sums / counts[:, None]).numpy()
    if not np.isfinite(scores).all():
        bad = int((~np.isfinite(scores)).any(axis=1).sum())
        raise NonFiniteScoresError(
            f"the model gives non-finite scores (NaN or infinite) for {bad} of {len(scores)} items, its weights overflow on "
            "them; retrain it with a lower `lr:` in its experiment's `recipe:` in conf/<env>/parameters.yml"
        )
    return scores
