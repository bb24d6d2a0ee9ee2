"""Cross-split aggregation and the results table in the original's layout.

``cross_split_metrics`` turns per-split metrics into::

    {experiment: {metric: {"per_split": {"1": x, "2": y, "3": z}, "mean": m, "std": s}}}

for ``clip_top1``, ``clip_top5``, ``video_top1``, ``video_top5`` (fractions 0-1).

``std`` is the *sample* standard deviation (``ddof=1``, the spread one would expect between
independent splits) over the splits present; with a single split it is ``0.0``. An experiment
evaluated on only some splits is aggregated over those (its ``per_split`` shows which).

``results_table`` renders those numbers (clip-level means as percentages) next to the model's
parameter count and, when a benchmark is given, its peak memory and FPS; ``results_markdown``
writes any such table as GitHub markdown.
"""

from __future__ import annotations

import math
import numbers
import re
import statistics
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from .metrics import METRIC_NAMES

#: The training curves drawn for every run (per-epoch history keys) and their chart titles.
TRAINING_CURVES = {"val_top1": "validation clip top-1", "train_loss": "training loss", "val_loss": "validation loss"}

#: Shown in a results-table cell whose number is unknown.
MISSING = "–"

#: Columns of :func:`results_table`, in order.
RESULTS_COLUMNS: tuple[str, ...] = ("Architecture", "Parameters", "Top1 / Top5", "Video Top1 / Top5", "Memory", "FPS")

_SPLIT_KEY = re.compile(r"^(?:split[_-]?)?0*(\d+)$", re.IGNORECASE)


def _split_key(key: int | str, experiment: str) -> str:
    if isinstance(key, bool):
        raise ValueError(f"experiment {experiment!r}: split key {key!r} is not a split number")
    if isinstance(key, numbers.Integral):
        number = int(key)
    else:
        match = _SPLIT_KEY.match(str(key).strip())
        if not match:
            raise ValueError(f"experiment {experiment!r}: split key {key!r} is not a split number (1, '1' or 'split_1')")
        number = int(match.group(1))
    if number < 1:
        raise ValueError(f"experiment {experiment!r}: split key {key!r} must be a positive split number")
    return str(number)


def _metric_value(value: Any, experiment: str, split: str, metric: str) -> float:
    where = f"experiment {experiment!r}, split {split}, metric {metric!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{where}: {value!r} is not a number")
    value = float(value)
    if not (0.0 <= value <= 1.0):  # also rejects NaN
        raise ValueError(f"{where}: {value!r} is outside [0, 1] (metrics are fractions, not percentages)")
    return value


def cross_split_metrics(per_split: Mapping[str, Mapping[int | str, Mapping[str, float]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per-split values, mean and standard deviation of each metric of each experiment.

    ``per_split`` is ``{experiment: {split: {metric: value}}}``; split keys may be ``1``, ``"1"`` or
    ``"split_1"`` and come out as ``"1"``, sorted numerically. Metrics other than the four are
    ignored. Mean over the splits present; std is the sample std (ddof=1) with two splits or more,
    ``0.0`` with one. Raises ValueError, naming experiment, split and metric, when a metric is
    missing, not a number or outside [0, 1], when two keys name the same split, or when an
    experiment has no split.
    """
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for experiment, splits in per_split.items():
        experiment = str(experiment)
        if not isinstance(splits, Mapping) or not splits:
            raise ValueError(f"experiment {experiment!r} has no split metrics")
        normalised: dict[str, Mapping[str, float]] = {}
        for key, metrics in splits.items():
            split = _split_key(key, experiment)
            if split in normalised:
                raise ValueError(f"experiment {experiment!r}: two entries for split {split}")
            if not isinstance(metrics, Mapping):
                raise ValueError(f"experiment {experiment!r}, split {split}: expected a mapping of metrics, got {type(metrics).__name__}")
            normalised[split] = metrics
        ordered = sorted(normalised, key=int)
        block: dict[str, dict[str, Any]] = {}
        for metric in METRIC_NAMES:
            values: dict[str, float] = {}
            for split in ordered:
                if metric not in normalised[split]:
                    raise ValueError(
                        f"experiment {experiment!r}, split {split}: metric {metric!r} is missing "
                        f"(has {sorted(map(str, normalised[split]))})"
                    )
                values[split] = _metric_value(normalised[split][metric], experiment, split, metric)
            numbers_ = list(values.values())
            mean = float(statistics.mean(numbers_))
            std = float(statistics.stdev(numbers_)) if len(numbers_) >= 2 else 0.0
            block[metric] = {"per_split": values, "mean": mean, "std": std}
        result[experiment] = block
    return result


# --------------------------------------------------------------------------------------------- #
# results table
# --------------------------------------------------------------------------------------------- #

_FAMILIES = {"mict_resnet": "MiCT-ResNet", "resnet3d_": "3D-ResNet"}
_DEFAULTS = {"version": "v1", "first_kernel_depth": 7, "width": 64}


_LIMITS = {"limit_epochs": "epochs", "limit_train_batches": "batches per epoch", "limit_val_batches": "test batches"}


def architecture_name(experiment: Mapping[str, Any]) -> str:
    """The architecture of an experiment description (``Experiment.describe()``) as the original's
    tables name it, with what differs from the paper's MiCT-ResNet: ``MiCT-ResNet-18``,
    ``3D-ResNet-18``, ``MiCT-ResNet-18 (k=3)``, ``MiCT-ResNet-34 (v2)``, ``MiCT-ResNet-18 (width 8)``,
    and ``(smoke run: 1 epochs, ...)`` for a run the recipe's limits cut short."""
    arch, model = str(experiment["arch"]), experiment.get("model", {})
    match = re.fullmatch(r"(mict_resnet|resnet3d_)(\d+)", arch)
    name = f"{_FAMILIES[match.group(1)]}-{match.group(2)}" if match else arch
    tags = {
        "first_kernel_depth": f"k={model.get('first_kernel_depth')}",
        "version": str(model.get("version")),
        "width": f"width {model.get('width')}",
    }
    shown = [tag for key, tag in tags.items() if key in model and model[key] != _DEFAULTS[key]]
    recipe = experiment.get("recipe", {})
    limits = [f"{what} {recipe[key]}" for key, what in _LIMITS.items() if recipe.get(key) is not None]
    if limits:  # a smoke run's figures must not pass for a trained model's
        shown.append(f"smoke run: {', '.join(limits)}")
    return f"{name} ({', '.join(shown)})" if shown else name


def _millions(count: Any) -> str:
    if count is None or isinstance(count, bool) or not isinstance(count, numbers.Real) or not math.isfinite(count):
        return MISSING
    return f"{count / 1e6:.2f}M"


def _pair(block: Mapping[str, Any] | None, first: str, second: str) -> str:
    try:
        a, b = float(block[first]["mean"]), float(block[second]["mean"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return MISSING
    if not (math.isfinite(a) and math.isfinite(b)):
        return MISSING
    return f"{100 * a:.1f} / {100 * b:.1f}"


def _number(entry: Mapping[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return None
    return float(value)


def results_table(
    cross_split: Mapping[str, Mapping[str, Any]],
    benchmark: Mapping[str, Any] | None,
    params: Mapping[str, int],
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The original's results table, one row per experiment of ``cross_split`` (in its order).

    Columns :data:`RESULTS_COLUMNS`, all strings:

    * ``Architecture``: ``names[experiment]`` (e.g. :func:`architecture_name`), else the experiment's name;
    * ``Parameters``: ``params[experiment]`` (else the benchmark's ``params``) in millions, ``"16.05M"``;
    * ``Top1 / Top5``: clip-level cross-split means in percent, ``"63.3 / 83.8"``;
    * ``Video Top1 / Top5``: the same at video level;
    * ``Memory``: ``benchmark["models"][experiment]["peak_memory_mb"]`` rounded, ``"985 MB"``;
    * ``FPS``: ``benchmark["models"][experiment]["fps"]`` rounded to an integer.

    A number that is not available (no benchmark, experiment not benchmarked, ...) shows as ``–``.
    """
    names = dict(names or {})
    models = (benchmark or {}).get("models") or {}
    rows = []
    for experiment, metrics in cross_split.items():
        entry = models.get(experiment) or {}
        count = params.get(experiment) if params else None
        if count is None:
            count = entry.get("params")
        memory = _number(entry, "peak_memory_mb")
        fps = _number(entry, "fps")
        rows.append(
            {
                "Architecture": names.get(experiment) or experiment,
                "Parameters": _millions(count),
                "Top1 / Top5": _pair(metrics, "clip_top1", "clip_top5"),
                "Video Top1 / Top5": _pair(metrics, "video_top1", "video_top5"),
                "Memory": MISSING if memory is None else f"{round(memory):d} MB",
                "FPS": MISSING if fps is None else f"{round(fps):d}",
            }
        )
    return pd.DataFrame(rows, columns=list(RESULTS_COLUMNS), dtype=object)


def split_results_table(cross_split: Mapping[str, Mapping[str, Any]], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every experiment on every split: clip / video top-1 in percent per split, then their mean and
    sample standard deviation over the splits, one row per experiment of ``cross_split``."""
    names = dict(names or {})
    splits = sorted({split for metrics in cross_split.values() for split in metrics.get("clip_top1", {}).get("per_split", {})}, key=int)
    rows = []
    for experiment, metrics in cross_split.items():
        row = {"Architecture": names.get(experiment) or experiment}
        for split in splits:
            clip, video = (metrics.get(m, {}).get("per_split", {}).get(split) for m in ("clip_top1", "video_top1"))
            row[f"Split {split}"] = MISSING if clip is None or video is None else f"{100 * clip:.1f} / {100 * video:.1f}"
        spread = [f"{100 * metrics[m]['mean']:.1f} ± {100 * metrics[m]['std']:.1f}" for m in ("clip_top1", "video_top1") if m in metrics]
        row["Mean ± std"] = " / ".join(spread) if len(spread) == 2 else MISSING
        rows.append(row)
    return pd.DataFrame(rows, columns=["Architecture", *(f"Split {s}" for s in splits), "Mean ± std"], dtype=object)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    text = str(value).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return text.replace("|", "\\|")


def results_markdown(table: pd.DataFrame, caption: str) -> str:
    """``table`` as a GitHub-flavoured markdown table, preceded by ``caption`` (omitted when empty).

    The index is not written. The first column is left-aligned, the others right-aligned; ``|`` in a
    cell is escaped, newlines become spaces and missing values show as ``–``. Ends with a newline.
    """
    headers = [_cell(c) for c in table.columns]
    if not headers:
        raise ValueError("cannot render a table without columns")
    lines = []
    if caption and caption.strip():
        lines += [caption.strip(), ""]
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|")
    for row in table.itertuples(index=False, name=None):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def training_curves_figure(curves: Mapping[tuple[str, int], pd.DataFrame], metric: str, names: Mapping[str, str] | None = None) -> Figure:
    """One chart of ``metric`` (one of :data:`TRAINING_CURVES`) per epoch for every run: ``curves[(experiment, split)]`` has columns
    ``step`` (epoch - 1, as DVCLive counts) and ``metric``; one colour per experiment, one line style
    per split; ``names`` gives experiments' display names."""
    names = dict(names or {})
    experiments = list(dict.fromkeys(experiment for experiment, _ in curves))
    figure = Figure(figsize=(7, 4))
    ax = figure.subplots()
    styles = ["-", "--", ":", "-."]
    for (experiment, split), curve in curves.items():
        ax.plot(
            curve["step"] + 1, curve[metric], color=f"C{experiments.index(experiment)}", linestyle=styles[(split - 1) % len(styles)],
            marker="o", markersize=3, label=f"{names.get(experiment, experiment)}, split {split}",
        )
    ax.set(xlabel="epoch", ylabel=metric, title=f"{TRAINING_CURVES[metric]}, every experiment and split")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncols=max(1, len(experiments) // 4))
    figure.tight_layout()
    return figure
