"""One run (an experiment trained and evaluated on one split) as the report reads it.

From three things a run leaves behind:

* the evaluation's predictions table of ``best.pt`` (:data:`~.metrics.PREDICTION_COLUMNS`): which
  test videos it classifies correctly, at clip and at video level;
* the training summary (``summary.json``): epochs, the best epoch, and per epoch ``train_clips``
  (training clips processed) and, on validated epochs, ``val_top1`` (clip top-1 on the test list);
* the DVCLive log folder (:func:`read_training_log`): per epoch ``train_seconds``, the training wall
  time (loader and steps, validation excluded). Timings live only there: the summary stays a
  function of the inputs, byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mict_pipeline.errors import UserError

#: The per-video correctness columns of :attr:`Run.correct`: top-1 at clip and at video level.
CORRECTNESS = ("clip_top1", "video_top1")


class TrainingLogError(UserError, FileNotFoundError):
    """A run's training logs lack a metric the report reads; the message says how to get it."""


def read_training_log(folder: str | Path, metrics: Sequence[str]) -> pd.DataFrame:
    """DVCLive's per-epoch ``metrics`` of one run from ``<folder>/plots/metrics/<metric>.tsv``.

    One row per logged epoch in order, column ``epoch`` (1-based; DVCLive's ``step`` + 1) then one
    column per metric, NaN where a metric was not logged (validation every few epochs). A step logged
    twice keeps its last row: a run killed after logging an epoch but before its checkpoint trains
    that epoch again on resuming, and the second row is the epoch its checkpoint holds. Raises
    :class:`TrainingLogError` naming a metric file that is missing (logs written before the training loop
    logged that metric: train the run again beside the old one), ValueError for a file of another layout.
    """
    base = Path(folder) / "plots" / "metrics"
    table: pd.DataFrame | None = None
    for metric in metrics:
        path = base / f"{metric}.tsv"
        if not path.is_file():
            raise TrainingLogError(
                f"{path} is missing: these training logs have no {metric!r} (written before the training loop logged it, "
                "or not a DVCLive folder). Fix: rerun the run's training stage; if its logs still lack it, train the run again "
                "beside the old one (`--params=run_root=<another folder>`), which leaves the trained checkpoints as they are"
            )
        values = pd.read_csv(path, sep="\t")
        if values.columns.tolist() != ["step", metric]:
            raise ValueError(f"{path}: expected the columns step and {metric}, got {values.columns.tolist()}")
        values = values.drop_duplicates("step", keep="last")
        table = values if table is None else table.merge(values, on="step", how="outer")
    if table is None:
        raise ValueError("no metric to read")
    table = table.sort_values("step", ignore_index=True)
    return table.assign(step=table["step"] + 1).rename(columns={"step": "epoch"})


@dataclass(frozen=True)
class Run:
    """What the report knows of one run."""

    #: Index: the test videos; bool columns :data:`CORRECTNESS`, from the evaluation of ``best.pt``.
    correct: pd.DataFrame
    #: The epoch ``best.pt`` is from: the best clip top-1 on the test list (the original's selection).
    best_epoch: int
    #: Clip top-1 on the test list at the last epoch (a fraction): no selection on the test list.
    last_top1: float
    epochs: int
    #: Training clips processed over all epochs.
    clip_steps: int
    #: Training wall time over all epochs, validation excluded.
    train_seconds: float
    #: The dataset's name, as the run's checkpoint records it.
    dataset: str = ""
    #: The checkpoint a fine-tuning run started from (:func:`mict_pipeline.checkpoint.describe_source`).
    source: Mapping[str, Any] | None = None

    @property
    def videos(self) -> int:
        return len(self.correct)

    @classmethod
    def from_outputs(cls, predictions: pd.DataFrame, summary: Mapping[str, Any], training_log: pd.DataFrame, name: str = "run") -> Run:
        """The run of a predictions table, a training summary and :func:`read_training_log`'s table
        (with ``train_seconds``). ``name`` (e.g. ``split_1.mict_resnet18``) goes into error messages:
        a video listed twice, a summary whose history lacks ``train_clips`` or the last epoch's
        ``val_top1``."""
        if predictions["video"].duplicated().any():
            raise ValueError(f"{name}: video {predictions['video'][predictions['video'].duplicated()].iloc[0]!r} is predicted twice")
        correct = pd.DataFrame(
            {"clip_top1": predictions["clip_pred"] == predictions["label"], "video_top1": predictions["video_pred"] == predictions["label"]}
        ).set_axis(predictions["video"].astype(str))
        history = summary["history"]
        missing = [f"epoch {row['epoch']}" for row in history if "train_clips" not in row]
        if missing or not history:
            raise ValueError(
                f"{name}: the training summary's history has no train_clips at {', '.join(missing) or 'any epoch'} "
                "(written before the training loop counted them); retrain the run from scratch"
            )
        if "val_top1" not in history[-1]:
            raise ValueError(f"{name}: the training summary's last epoch ({history[-1]['epoch']}) has no val_top1: it was not validated")
        return cls(
            correct=correct,
            best_epoch=int(summary["best_epoch"]),
            last_top1=float(history[-1]["val_top1"]),
            epochs=int(summary["epochs"]),
            clip_steps=sum(int(row["train_clips"]) for row in history),
            train_seconds=float(training_log["train_seconds"].sum()),
            dataset=str(summary["experiment"]["dataset"]["name"]),
            source=summary.get("init_from"),
        )
