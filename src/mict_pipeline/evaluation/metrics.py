"""Accuracy metrics, confusion matrices and the per-video predictions table (numpy / pandas only).

Conventions
-----------
* Scores are ``(N, C)`` arrays, one row per video, one column per class (logits or probabilities).
  ``clip_scores`` are the scores of the single evaluated clip of each video (clip-level accuracy);
  ``video_scores`` combine all clips of the video (video-level accuracy).
* Labels and predictions are integer class indices in ``[0, C)``.
* Top-k ranks a row by descending score with a *stable* sort: among equal scores the lower class
  index ranks first (the same choice as ``argmax`` for k=1). ``k`` larger than ``C`` is clamped to
  ``C`` (top-k is then always a hit).
* Accuracies are fractions in ``[0, 1]``.

The predictions table (one row per test video, CSV-friendly, see :data:`PREDICTION_COLUMNS`):

==============  =============================================================================
``video``       the video's identifier (e.g. ``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01``)
``label``       true class index
``class_name``  name of the true class
``clip_pred``   clip-level top-1 class index
``clip_top5``   clip-level top-5 class indices, best first, space separated (``"3 7 1 0 2"``)
``video_pred``  video-level top-1 class index
``video_top5``  video-level top-5 class indices, as ``clip_top5``
``clip_prob``   probability of ``clip_pred`` (see ``normalise`` in :func:`predictions_table`)
``video_prob``  probability of ``video_pred``
==============  =============================================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

#: The metrics of one split, all fractions in [0, 1].
METRIC_NAMES: tuple[str, ...] = ("clip_top1", "clip_top5", "video_top1", "video_top5")

#: Columns of the predictions table, in order.
PREDICTION_COLUMNS: tuple[str, ...] = (
    "video",
    "label",
    "class_name",
    "clip_pred",
    "clip_top5",
    "video_pred",
    "video_top5",
    "clip_prob",
    "video_prob",
)

#: Number of classes in the ``*_top5`` columns (fewer when there are fewer classes).
TOP_K = 5

#: The confusion-matrix figure annotates its cells with percentages up to this many classes.
MAX_ANNOTATED_CLASSES = 12


# --------------------------------------------------------------------------------------------- #
# validation helpers
# --------------------------------------------------------------------------------------------- #


def _scores(scores: np.ndarray, name: str = "scores") -> np.ndarray:
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (N videos, C classes), got shape {scores.shape}")
    if scores.shape[1] < 1:
        raise ValueError(f"{name} has no class column (shape {scores.shape})")
    if not np.issubdtype(scores.dtype, np.number) or np.issubdtype(scores.dtype, np.complexfloating):
        raise ValueError(f"{name} must be real numbers, got dtype {scores.dtype}")
    scores = scores.astype(np.float64, copy=False)
    if np.isnan(scores).any():
        raise ValueError(f"{name} contains NaN (row {int(np.isnan(scores).any(axis=1).argmax())})")
    return scores


def _indices(values, name: str, num_classes: int | None = None, length: int | None = None) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.floating) or not np.all(array == np.round(array)):
            raise ValueError(f"{name} must hold integer class indices, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if length is not None and len(array) != length:
        raise ValueError(f"{name} has {len(array)} entries, expected {length}")
    if num_classes is not None and array.size:
        bad = (array < 0) | (array >= num_classes)
        if bad.any():
            raise ValueError(
                f"{name} holds class index {int(array[bad][0])} outside [0, {num_classes}) (position {int(bad.argmax())})"
            )
    return array


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


# --------------------------------------------------------------------------------------------- #
# top-k
# --------------------------------------------------------------------------------------------- #


def topk_labels(scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best class indices of each row, best first: an ``(N, min(k, C))`` int64 array.

    Stable descending order: equal scores keep ascending class order.
    """
    scores = _scores(scores)
    k = min(_check_k(k), scores.shape[1])
    # Stable sort of the negated scores = descending scores, ties by ascending class index.
    order = np.argsort(-scores, axis=1, kind="stable")
    return order[:, :k].astype(np.int64)


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Fraction (0-1) of rows whose label is among the ``k`` best-scored classes.

    ``scores`` is ``(N, C)``, ``labels`` ``(N,)``; ``k > C`` is clamped to ``C``. Raises ValueError
    for an empty input, mismatched shapes, NaN scores or labels outside ``[0, C)``.
    """
    scores = _scores(scores)
    labels = _indices(labels, "labels", num_classes=scores.shape[1], length=scores.shape[0])
    if len(labels) == 0:
        raise ValueError("topk_accuracy of an empty set of predictions is undefined")
    top = topk_labels(scores, k)
    return float((top == labels[:, None]).any(axis=1).mean())


def metrics_from_scores(clip_scores: np.ndarray, video_scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """``{"clip_top1", "clip_top5", "video_top1", "video_top5"}`` as fractions in [0, 1]."""
    clip_scores = _scores(clip_scores, "clip_scores")
    video_scores = _scores(video_scores, "video_scores")
    if clip_scores.shape != video_scores.shape:
        raise ValueError(f"clip_scores {clip_scores.shape} and video_scores {video_scores.shape} differ in shape")
    return {
        "clip_top1": topk_accuracy(clip_scores, labels, 1),
        "clip_top5": topk_accuracy(clip_scores, labels, TOP_K),
        "video_top1": topk_accuracy(video_scores, labels, 1),
        "video_top5": topk_accuracy(video_scores, labels, TOP_K),
    }


# --------------------------------------------------------------------------------------------- #
# per class / confusion matrix
# --------------------------------------------------------------------------------------------- #


def per_class_accuracy(predicted, labels, class_names: Sequence[str]) -> pd.DataFrame:
    """One row per class: ``label, class_name, n_videos, correct, accuracy``.

    ``accuracy = correct / n_videos``; a class with no sample has ``n_videos`` 0 and accuracy NaN.
    """
    class_names = [str(name) for name in class_names]
    num_classes = len(class_names)
    if num_classes == 0:
        raise ValueError("class_names is empty")
    labels = _indices(labels, "labels", num_classes=num_classes)
    predicted = _indices(predicted, "predicted", num_classes=num_classes, length=len(labels))
    n_videos = np.bincount(labels, minlength=num_classes).astype(np.int64)
    correct = np.bincount(labels[predicted == labels], minlength=num_classes).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(n_videos > 0, correct / np.maximum(n_videos, 1), np.nan)
    return pd.DataFrame(
        {
            "label": np.arange(num_classes, dtype=np.int64),
            "class_name": class_names,
            "n_videos": n_videos,
            "correct": correct,
            "accuracy": accuracy.astype(np.float64),
        }
    )


def confusion_matrix(predicted, labels, num_classes: int) -> np.ndarray:
    """``(C, C)`` int64 counts: ``cm[t, p]`` = number of samples of true class t predicted as p."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    num_classes = int(num_classes)
    labels = _indices(labels, "labels", num_classes=num_classes)
    predicted = _indices(predicted, "predicted", num_classes=num_classes, length=len(labels))
    flat = np.bincount(labels * num_classes + predicted, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(np.int64)


def _check_cm(cm: np.ndarray, class_names: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    cm = np.asarray(cm)
    names = [str(name) for name in class_names]
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion matrix must be square, got shape {cm.shape}")
    if cm.shape[0] != len(names):
        raise ValueError(f"confusion matrix is {cm.shape[0]}x{cm.shape[1]} but there are {len(names)} class names")
    if (cm < 0).any():
        raise ValueError("confusion matrix holds negative counts")
    return cm, names


def confusion_matrix_table(cm: np.ndarray, class_names: Sequence[str]) -> pd.DataFrame:
    """The counts with class names as index (true class) and columns (predicted class).

    Written with ``to_csv()`` the first header cell is ``true\\predicted``; read it back with
    ``pd.read_csv(path, index_col=0)``.
    """
    cm, names = _check_cm(cm, class_names)
    table = pd.DataFrame(cm.astype(np.int64), index=pd.Index(names, name="true\\predicted"), columns=pd.Index(names))
    return table


def row_normalise(cm: np.ndarray) -> np.ndarray:
    """Each row divided by its total (a row without samples stays all zeros)."""
    cm = np.asarray(cm, dtype=np.float64)
    totals = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)


#: Columns of :func:`top_confusions`.
CONFUSION_COLUMNS = ("true_class", "predicted_class", "videos", "share_of_true_class")


def top_confusions(cm: np.ndarray, class_names: Sequence[str], k: int = 20) -> pd.DataFrame:
    """The ``k`` largest off-diagonal cells of ``cm`` (rows = true class), most videos first (ties:
    larger share of the true class, then class order): which classes a model mixes up, readable at
    any class count."""
    cm, names = _check_cm(cm, class_names)
    norm = row_normalise(cm)
    true, predicted = np.nonzero(cm * (1 - np.eye(len(names), dtype=cm.dtype)))
    order = sorted(zip(true.tolist(), predicted.tolist()), key=lambda tp: (-cm[tp], -norm[tp], tp))[:k]
    return pd.DataFrame(
        [(names[t], names[p], int(cm[t, p]), float(norm[t, p])) for t, p in order], columns=list(CONFUSION_COLUMNS)
    )


def confusion_matrix_figure(cm: np.ndarray, class_names: Sequence[str], title: str) -> Figure:
    """Row-normalised heat map (each true class's row sums to 1) as a stand-alone Figure.

    Built with ``matplotlib.figure.Figure`` (no pyplot, no global state, no display): save it with
    ``fig.savefig(path)``. Every class is named on both axes: the figure grows with the class count
    (UCF-101's 101 names read at 100 dpi, with :func:`top_confusions` beside it for the numbers);
    cells carry percentages up to :data:`MAX_ANNOTATED_CLASSES` classes.
    """
    cm, names = _check_cm(cm, class_names)
    num_classes = len(names)
    norm = row_normalise(cm)
    side = float(np.clip(3.0 + 0.18 * num_classes, 5.0, 22.0))
    fig = Figure(figsize=(side + 1.2, side), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest", aspect="equal")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02, label="fraction of the true class")
    ax.set_title(title)
    fontsize = 9 if num_classes <= MAX_ANNOTATED_CLASSES else 7 if num_classes <= 30 else 6
    ticks = np.arange(num_classes)
    ax.set_xticks(ticks, labels=names, rotation=90, fontsize=fontsize)
    ax.set_yticks(ticks, labels=names, fontsize=fontsize)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if num_classes <= MAX_ANNOTATED_CLASSES:
        for t in range(num_classes):
            for p in range(num_classes):
                if cm[t, p]:
                    value = norm[t, p]
                    ax.text(p, t, f"{100 * value:.0f}", ha="center", va="center", fontsize=8,
                            color="white" if value > 0.5 else "black")
    return fig


# --------------------------------------------------------------------------------------------- #
# predictions table
# --------------------------------------------------------------------------------------------- #


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _is_distribution(scores: np.ndarray) -> bool:
    return bool(
        np.isfinite(scores).all()
        and (scores >= 0).all()
        and (scores <= 1).all()
        and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3)
    )


def _probabilities(scores: np.ndarray, normalise: str, name: str) -> np.ndarray:
    if normalise == "softmax" or (normalise == "auto" and not _is_distribution(scores)):
        return _softmax(scores)
    if normalise == "none" or normalise == "auto":
        return scores
    raise ValueError(f"normalise must be 'auto', 'softmax' or 'none', got {normalise!r} (for {name})")


def _join(rows: np.ndarray) -> list[str]:
    return [" ".join(str(int(v)) for v in row) for row in rows]


def predictions_table(
    videos: Sequence[str],
    labels,
    class_names: Sequence[str],
    clip_scores: np.ndarray,
    video_scores: np.ndarray,
    *,
    normalise: str = "auto",
) -> pd.DataFrame:
    """The per-video predictions table (columns :data:`PREDICTION_COLUMNS`) from ``(N, C)`` scores.

    ``clip_prob`` / ``video_prob`` are the probability of the top-1 class. ``normalise`` says how
    scores become probabilities: ``"softmax"`` (scores are logits), ``"none"`` (already
    probabilities), or ``"auto"`` (default): rows that are already distributions (in [0, 1],
    summing to 1 within 1e-3) are kept, otherwise a softmax is applied; clip and video scores are
    decided separately. Predictions never depend on ``normalise`` (softmax keeps the ranking).
    """
    clip_scores = _scores(clip_scores, "clip_scores")
    video_scores = _scores(video_scores, "video_scores")
    if clip_scores.shape != video_scores.shape:
        raise ValueError(f"clip_scores {clip_scores.shape} and video_scores {video_scores.shape} differ in shape")
    n, num_classes = clip_scores.shape
    class_names = [str(name) for name in class_names]
    if len(class_names) != num_classes:
        raise ValueError(f"{len(class_names)} class names for {num_classes} score columns")
    videos = [str(v) for v in videos]
    if len(videos) != n:
        raise ValueError(f"{len(videos)} videos for {n} score rows")
    labels = _indices(labels, "labels", num_classes=num_classes, length=n)

    columns: dict[str, object] = {
        "video": videos,
        "label": labels,
        "class_name": [class_names[i] for i in labels],
    }
    probs = {}
    for prefix, scores in (("clip", clip_scores), ("video", video_scores)):
        top = topk_labels(scores, TOP_K)
        columns[f"{prefix}_pred"] = top[:, 0]
        columns[f"{prefix}_top5"] = _join(top)
        probs[f"{prefix}_prob"] = _probabilities(scores, normalise, f"{prefix}_scores")[np.arange(n), top[:, 0]]
    columns.update(probs)
    table = pd.DataFrame(columns, columns=list(PREDICTION_COLUMNS))
    for column in ("label", "clip_pred", "video_pred"):
        table[column] = table[column].astype(np.int64)
    for column in ("clip_prob", "video_prob"):
        table[column] = table[column].astype(np.float64)
    return table
