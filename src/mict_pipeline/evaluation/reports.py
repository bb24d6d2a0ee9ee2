"""Cross-split aggregation, the results table in the original's layout with each figure's
uncertainty and budget, the paired comparison of experiments, and the charts of every run.

``cross_split_metrics`` turns per-split metrics into::

    {experiment: {metric: {"per_split": {"1": x, "2": y, "3": z}, "mean": m, "std": s}}}

for ``clip_top1``, ``clip_top5``, ``video_top1``, ``video_top5`` (fractions 0-1).

``std`` is the *sample* standard deviation (``ddof=1``, the spread one would expect between
independent splits) over the splits present; with a single split it is ``0.0``. An experiment
evaluated on only some splits is aggregated over those (its ``per_split`` shows which).

``results_report`` writes ``results.md``: ``results_table`` (those means as percentages, the
original's figures, beside top-1 pooled over all test videos with its Wilson 95 % interval, the
last epoch's top-1, the training budget, and the benchmark's memory and FPS), ``split_results_table``
(each split with its intervals), and for the first experiment against each other one a paired
McNemar test per split and pooled, the accuracy and training-speed ratios and a conclusion drawn
from the statistics alone. ``results_markdown`` writes any such table as GitHub markdown.
"""

from __future__ import annotations

import math
import numbers
import re
import statistics
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from .metrics import METRIC_NAMES
from .runs import CORRECTNESS, Run
from .stats import PairedOutcome, paired_outcome, pooled, wilson_interval

#: The training curves drawn for every run (per-epoch history keys) and their chart titles.
TRAINING_CURVES = {"val_top1": "validation clip top-1", "train_loss": "training loss", "val_loss": "validation loss"}

#: Shown in a results-table cell whose number is unknown.
MISSING = "–"

#: Columns of :func:`results_table`, in order.
RESULTS_COLUMNS: tuple[str, ...] = (
    "Architecture", "Parameters", "Top1 / Top5", "Top1 pooled [95% CI]", "Video Top1 / Top5", "Video Top1 pooled [95% CI]",
    "Last-epoch Top1 [95% CI]", "Epochs", "Clip steps", "Training time", "Training clips/s", "Memory", "FPS",
)

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


def _mean_std(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0.0 for a single value)."""
    values = list(values)
    return float(statistics.mean(values)), float(statistics.stdev(values)) if len(values) >= 2 else 0.0


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
            mean, std = _mean_std(values.values())
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


def _percent_interval(correct: float, videos: int) -> str:
    low, high = wilson_interval(correct, videos)
    return f"{100 * correct / videos:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def _p(p: float) -> str:
    return "< 0.0001" if p < 1e-4 else f"{p:.2g}"


def _epochs(runs: Mapping[int, Run]) -> str:
    epochs = sorted({run.epochs for run in runs.values()})
    return str(epochs[0]) if len(epochs) == 1 else f"{epochs[0]}–{epochs[-1]}"


def _pooled_correct(runs: Mapping[int, Run], level: str) -> tuple[int, int]:
    """Videos ``level`` gets right and test videos, all splits together."""
    return sum(int(run.correct[level].sum()) for run in runs.values()), sum(run.videos for run in runs.values())


def _pooled_last(runs: Mapping[int, Run]) -> tuple[float, int]:
    """The last epochs' clip top-1 as videos right (fractional: the summary keeps the fraction) and test videos."""
    return sum(run.last_top1 * run.videos for run in runs.values()), sum(run.videos for run in runs.values())


def _clips_per_second(runs: Mapping[int, Run]) -> float:
    return sum(run.clip_steps for run in runs.values()) / sum(run.train_seconds for run in runs.values())


def results_table(
    cross_split: Mapping[str, Mapping[str, Any]],
    runs: Mapping[str, Mapping[int, Run]],
    benchmark: Mapping[str, Any] | None,
    params: Mapping[str, int],
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The original's results table with each experiment's uncertainty and budget, one row per
    experiment of ``cross_split`` (in its order); ``runs[experiment][split]`` its runs.

    Columns :data:`RESULTS_COLUMNS`, all strings:

    * ``Architecture``: ``names[experiment]`` (e.g. :func:`architecture_name`), else the experiment's name;
    * ``Parameters``: ``params[experiment]`` (else the benchmark's ``params``) in millions, ``"16.05M"``;
    * ``Top1 / Top5``: clip-level cross-split means in percent, ``"63.3 / 83.8"`` (the original's figure);
    * ``Top1 pooled [95% CI]``: clip top-1 over every split's test videos together, with its Wilson
      95 % interval, ``"63.1 [61.9, 64.3]"``;
    * ``Video Top1 / Top5``, ``Video Top1 pooled [95% CI]``: the same at video level;
    * ``Last-epoch Top1 [95% CI]``: the last epochs' clip top-1 on the test lists, pooled likewise;
    * ``Epochs`` (per split; ``"3–14"`` when the splits differ), ``Clip steps`` (training clips
      processed, all splits), ``Training time`` (training wall time, all splits, validation
      excluded) and ``Training clips/s`` (the one over the other);
    * ``Memory``: ``benchmark["models"][experiment]["peak_memory_mb"]`` rounded, ``"985 MB"``;
    * ``FPS``: ``benchmark["models"][experiment]["fps"]`` rounded to an integer.

    A number that is not available (no benchmark, experiment not benchmarked, ...) shows as ``–``.
    """
    names = dict(names or {})
    models = (benchmark or {}).get("models") or {}
    rows = []
    for experiment, metrics in cross_split.items():
        entry, experiment_runs = models.get(experiment) or {}, runs[experiment]
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
                "Top1 pooled [95% CI]": _percent_interval(*_pooled_correct(experiment_runs, "clip_top1")),
                "Video Top1 / Top5": _pair(metrics, "video_top1", "video_top5"),
                "Video Top1 pooled [95% CI]": _percent_interval(*_pooled_correct(experiment_runs, "video_top1")),
                "Last-epoch Top1 [95% CI]": _percent_interval(*_pooled_last(experiment_runs)),
                "Epochs": _epochs(experiment_runs),
                "Clip steps": f"{sum(run.clip_steps for run in experiment_runs.values()):,}",
                "Training time": _duration(sum(run.train_seconds for run in experiment_runs.values())),
                "Training clips/s": f"{_clips_per_second(experiment_runs):.1f}",
                "Memory": MISSING if memory is None else f"{round(memory):d} MB",
                "FPS": MISSING if fps is None else f"{round(fps):d}",
            }
        )
    return pd.DataFrame(rows, columns=list(RESULTS_COLUMNS), dtype=object)


#: Columns of :func:`split_results_table`, in order.
SPLIT_COLUMNS: tuple[str, ...] = (
    "Architecture", "Split", "Test videos", "Top1 [95% CI]", "Video Top1 [95% CI]", "Best epoch", "Last-epoch Top1 [95% CI]",
    "Epochs", "Clip steps", "Training time",
)


def split_results_table(runs: Mapping[str, Mapping[int, Run]], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every experiment on every split, in percent with Wilson 95 % intervals over the split's test
    videos: clip and video top-1 of the best epoch (which it names), clip top-1 of the last epoch,
    and the run's budget; then a ``mean ± std`` row per experiment (sample std over the splits).
    Columns :data:`SPLIT_COLUMNS`."""
    names = dict(names or {})
    rows = []
    for experiment, experiment_runs in runs.items():
        name = names.get(experiment) or experiment
        for split, run in sorted(experiment_runs.items()):
            rows.append(
                {
                    "Architecture": name,
                    "Split": str(split),
                    "Test videos": str(run.videos),
                    "Top1 [95% CI]": _percent_interval(int(run.correct["clip_top1"].sum()), run.videos),
                    "Video Top1 [95% CI]": _percent_interval(int(run.correct["video_top1"].sum()), run.videos),
                    "Best epoch": str(run.best_epoch),
                    "Last-epoch Top1 [95% CI]": _percent_interval(run.last_top1 * run.videos, run.videos),
                    "Epochs": str(run.epochs),
                    "Clip steps": f"{run.clip_steps:,}",
                    "Training time": _duration(run.train_seconds),
                }
            )
        per_split = {
            "Top1 [95% CI]": [run.correct["clip_top1"].mean() for run in experiment_runs.values()],
            "Video Top1 [95% CI]": [run.correct["video_top1"].mean() for run in experiment_runs.values()],
            "Last-epoch Top1 [95% CI]": [run.last_top1 for run in experiment_runs.values()],
        }
        spread = {column: "{:.1f} ± {:.1f}".format(*(100 * v for v in _mean_std(values))) for column, values in per_split.items()}
        rows.append({"Architecture": name, "Split": "mean ± std", **spread})
    return pd.DataFrame(rows, columns=list(SPLIT_COLUMNS), dtype=object)


# --------------------------------------------------------------------------------------------- #
# paired comparison
# --------------------------------------------------------------------------------------------- #

#: Significance level of the report's statements (two-sided).
ALPHA = 0.05


def paired_outcomes(first: Mapping[int, Run], second: Mapping[int, Run], level: str) -> dict[str, PairedOutcome]:
    """Two experiments' correctness at ``level`` (one of :data:`CORRECTNESS`) paired video by video on
    each split, keyed ``"1"``, ``"2"``, ..., then ``"pooled"``: every split's test videos together,
    each judged by its own split's pair of models. Only the videos both runs were evaluated on are
    paired (all of them, unless one is a smoke run's evaluation of a few test batches); a split
    without any is left out. Raises ValueError when no video is left."""
    outcomes = {}
    for split in sorted(set(first) & set(second)):
        a, b = first[split].correct[level], second[split].correct[level]
        common = a.index.intersection(b.index)
        if len(common):
            outcomes[str(split)] = paired_outcome(a[common], b[common])
    if not outcomes:
        raise ValueError("the two experiments were evaluated on no common test video")
    outcomes["pooled"] = pooled(outcomes.values())
    return outcomes


def pretraining(runs: Mapping[int, Run]) -> str | None:
    """What a fine-tuned experiment's runs were trained on before, from their source checkpoints
    (:attr:`Run.source`): ``"mict_resnet18 on UCF-101, 5 epochs"``; None for runs from scratch."""
    sources = {source["sha256"]: source for run in runs.values() if (source := run.source)}
    if not sources:
        return None
    return "; ".join(
        f"{source['experiment']} on {source['dataset']}, "
        + (f"{source['epochs']} epochs" if source.get("epochs") else "epochs not recorded (fine-tuned before they were)")
        for source in sources.values()
    )


def budget_gap(first: Mapping[int, Run], second: Mapping[int, Run], names: tuple[str, str] = ("first", "second")) -> str | None:
    """How two experiments' training budgets differ on the splits both have (epochs, else clip
    steps), ``"14 vs 3 epochs per split"``, and the pretraining of a fine-tuned one (named by
    ``names``), which neither count includes; None when they are equal."""
    splits = sorted(set(first) & set(second))
    gaps = []
    if any(first[s].epochs != second[s].epochs for s in splits):
        gaps.append(f"{_epochs(first)} vs {_epochs(second)} epochs per split")
    else:
        steps = [sum(runs[s].clip_steps for s in splits) for runs in (first, second)]
        if steps[0] != steps[1]:
            gaps.append(f"{steps[0]:,} vs {steps[1]:,} clip steps")
    gaps += [f"plus {name}'s pretraining: {before}" for name, runs in zip(names, (first, second)) if (before := pretraining(runs))]
    return "; ".join(gaps) or None


def comparison_table(outcomes: Mapping[str, Mapping[str, PairedOutcome]], first_name: str, second_name: str) -> pd.DataFrame:
    """One row per level (``outcomes[level]``, :func:`paired_outcomes`) and split: test videos, both
    top-1s (percent), their difference (points) and ratio, b (only the first right), c (only the
    second right) and the exact McNemar p."""
    rows = []
    for level, by_split in outcomes.items():
        for split, o in by_split.items():
            first, second = o.first_correct / o.videos, o.second_correct / o.videos
            rows.append(
                {
                    "Level": level.replace("_", " ").replace("top1", "top-1"),
                    "Split": split,
                    "Test videos": str(o.videos),
                    first_name: f"{100 * first:.1f}",
                    second_name: f"{100 * second:.1f}",
                    "Difference (points)": f"{100 * (first - second):+.1f}",
                    "Ratio": f"{first / second:.2f}" if second else MISSING,
                    "b": str(o.first_only),
                    "c": str(o.second_only),
                    "McNemar p": _p(o.p_value),
                }
            )
    return pd.DataFrame(rows, dtype=object)


def comparison_conclusion(outcomes: Mapping[str, PairedOutcome], first_name: str, second_name: str, gap: str | None) -> str:
    """One sentence from the statistics alone: the pooled McNemar test of ``outcomes``
    (:func:`paired_outcomes` at one level) decides between "more accurate" and "no significant
    difference" at :data:`ALPHA`, the splits' tests are counted, and a budget ``gap``
    (:func:`budget_gap`, a fine-tuned experiment's pretraining included) is said, since then the
    comparison is not of the architectures alone."""
    pooled_outcome = outcomes["pooled"]
    splits = [o for split, o in outcomes.items() if split != "pooled"]
    p = pooled_outcome.p_value
    # Named and quoted in the claim's order: the more accurate first when there is one.
    ranked = [(first_name, pooled_outcome.first_correct), (second_name, pooled_outcome.second_correct)]
    if p < ALPHA and pooled_outcome.second_only > pooled_outcome.first_only:
        ranked.reverse()
    (name_a, correct_a), (name_b, correct_b) = ranked
    if p < ALPHA:
        claim = f"{name_a} is more accurate than {name_b}"
    else:
        claim = f"No significant difference between {name_a} and {name_b}"
    budget = " at equal budget" if gap is None else ""
    top1 = f"clip top-1 {100 * correct_a / pooled_outcome.videos:.1f} vs {100 * correct_b / pooled_outcome.videos:.1f} %"
    p_text = f"p {_p(p)}" if p < 1e-4 else f"p = {_p(p)}"  # "p < 0.0001" or "p = 0.21"
    sentence = (
        f"**Conclusion:** {claim}{budget} on the pooled test videos ({top1}, "
        f"McNemar {p_text}); per split: significant (p < {ALPHA}) on "
        f"{sum(o.p_value < ALPHA for o in splits)} of {len(splits)}."
    )
    if gap is not None:
        sentence += f" Not at equal budget ({gap}): the difference is not the architectures' alone."
    return sentence


def comparison_markdown(first: Mapping[int, Run], second: Mapping[int, Run], first_name: str, second_name: str) -> str:
    """The section comparing two experiments: the paired table at clip and video level, both
    training speeds and their ratio, and :func:`comparison_conclusion` on clip top-1 (the headline)."""
    outcomes = {level: paired_outcomes(first, second, level) for level in CORRECTNESS}
    caption = (
        f"Best epochs on the test videos both were evaluated on, percent. Ratio: {first_name} / {second_name}. b: videos only {first_name} "
        f"classifies correctly; c: only {second_name}; McNemar p: exact two-sided (binomial) test of equal accuracy. Pooled: "
        "every split's test videos together, each judged by that split's two models (b and c summed). Both models' best "
        "epochs were selected on these test videos (the original's protocol), which flatters both (the more epochs "
        "validated, the more); the last epochs' figures above are free of that but have no per-video predictions to pair."
    )
    speeds = _clips_per_second(first), _clips_per_second(second)
    return (
        f"## {first_name} vs {second_name}\n\n"
        + results_markdown(comparison_table(outcomes, first_name, second_name), caption)
        + f"\nTraining clips/s (clip steps / training time, all splits): {first_name} {speeds[0]:.1f}, {second_name} "
        f"{speeds[1]:.1f}; ratio {speeds[0] / speeds[1]:.2f}.\n\n"
        + comparison_conclusion(outcomes["clip_top1"], first_name, second_name, budget_gap(first, second, (first_name, second_name)))
        + " These tests take each split's trained models as given: every split was trained once, so how much another "
        "seed or another CPU's kernels would move a split's accuracy is not in them.\n"
    )


def results_report(
    cross_split: Mapping[str, Mapping[str, Any]],
    runs: Mapping[str, Mapping[int, Run]],
    benchmark: Mapping[str, Any] | None,
    params: Mapping[str, int],
    names: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, str]:
    """The results table (:func:`results_table`) and ``results.md``: that table, every experiment on
    every split (:func:`split_results_table`), then the first experiment compared with each other one
    (:func:`comparison_markdown`)."""
    names = {experiment: (names or {}).get(experiment) or experiment for experiment in cross_split}
    table = results_table(cross_split, runs, benchmark, params, names)
    videos = sorted({_pooled_correct(runs[e], "clip_top1")[1] for e in cross_split})
    pooled_videos = str(videos[0]) if len(videos) == 1 else "each experiment's"
    devices = sorted({m.get("device", "?") for m in ((benchmark or {}).get("models") or {}).values()})
    caption = (
        "Top1 / Top5: clip level (first 16 frames) of each split's best epoch (the best clip top-1 on the test list, the "
        "original's selection), mean of the splits, percent. Pooled [95% CI]: top-1 over all splits' test videos together "
        f"(k / n, n = {pooled_videos} test videos) with its Wilson 95% score "
        "interval. Video: up to the configured number of frames per video, clip scores averaged. Last-epoch Top1: clip "
        "top-1 on the test lists at the final epoch (no selection on the test list), pooled likewise. Epochs: per split; "
        "clip steps (training clips processed) and training time (wall time of the training epochs, validation "
        "excluded): all splits together; training clips/s: the one over the other. Memory and FPS: batch 1, "
        f"16x160x160, on {', '.join(devices) or MISSING}: the machine that last ran the benchmark stage (the original's "
        "were measured on a Titan RTX)."
    )
    split_caption = (
        "Each split, percent, with Wilson 95% intervals over the split's test videos: best epoch's clip and video top-1, "
        "last epoch's clip top-1, and the run's budget; mean ± sample std over the splits."
    )
    sections = [provenance_markdown(runs, names), results_markdown(table, caption), results_markdown(split_results_table(runs, names), split_caption)]
    first, *others = cross_split
    sections += [comparison_markdown(runs[first], runs[other], names[first], names[other]) for other in others]
    return table, "\n".join(sections)


def provenance_markdown(runs: Mapping[str, Mapping[int, Run]], names: Mapping[str, str]) -> str:
    """What the runs were trained on, and where a fine-tuned experiment's weights started: the
    source checkpoint's path, SHA-256 and what it holds."""
    datasets = sorted({run.dataset for splits in runs.values() for run in splits.values()})
    splits = sorted({split for by_split in runs.values() for split in by_split})
    lines = [f"Dataset: {', '.join(datasets) or MISSING}; split{'s' if len(splits) > 1 else ''} {', '.join(map(str, splits))}."]
    for experiment, by_split in runs.items():
        sources = {source["sha256"]: source for run in by_split.values() if (source := run.source)}
        for source in sources.values():
            trained_on = f"{source['dataset']}" + (f" split {source['split']}" if source.get("split") else "")
            lines.append(
                f"{names.get(experiment, experiment)}: fine-tuned from `{source['path']}` (sha256 {source['sha256'][:12]}), "
                f"experiment {source['experiment']} trained on {trained_on}, {source['classes']} classes."
            )
    return "\n\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- #
# markdown
# --------------------------------------------------------------------------------------------- #


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


# --------------------------------------------------------------------------------------------- #
# figures
# --------------------------------------------------------------------------------------------- #

#: The training-log metrics :func:`time_accuracy_figure` draws.
TIME_ACCURACY_METRICS = ("train_seconds", "val_top1")


def _runs_chart(lines: Mapping[tuple[str, int], tuple[pd.Series, pd.Series]], names: Mapping[str, str] | None, xlabel: str, ylabel: str, title: str) -> Figure:
    """``lines[(experiment, split)] = (x, y)`` in one chart: a colour per experiment, a line style and
    marker per split; points where y is NaN (epochs not validated) are left out, not gaps."""
    names = dict(names or {})
    experiments = list(dict.fromkeys(experiment for experiment, _ in lines))
    figure = Figure(figsize=(7, 4))
    ax = figure.subplots()
    styles, markers = ["-", "--", ":", "-."], ["o", "s", "^", "D"]
    for (experiment, split), (x, y) in lines.items():
        known = y.notna().to_numpy()
        ax.plot(
            x[known], y[known], color=f"C{experiments.index(experiment)}", linestyle=styles[(split - 1) % len(styles)],
            marker=markers[(split - 1) % len(markers)], markersize=3, label=f"{names.get(experiment, experiment)}, split {split}",
        )
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncols=max(1, len(experiments) // 4))
    figure.tight_layout()
    return figure


def training_curves_figure(curves: Mapping[tuple[str, int], pd.DataFrame], metric: str, names: Mapping[str, str] | None = None) -> Figure:
    """One chart of ``metric`` (one of :data:`TRAINING_CURVES`) per epoch for every run: ``curves[(experiment, split)]`` has columns
    ``step`` (epoch - 1, as DVCLive counts) and ``metric``; one colour per experiment, one line style
    per split; ``names`` gives experiments' display names."""
    lines = {run: (curve["step"] + 1, curve[metric]) for run, curve in curves.items()}
    return _runs_chart(lines, names, "epoch", metric, f"{TRAINING_CURVES[metric]}, every experiment and split")


def time_accuracy_figure(logs: Mapping[tuple[str, int], pd.DataFrame], names: Mapping[str, str] | None = None) -> Figure:
    """Validation clip top-1 (percent, on the test list) against training wall time (minutes, summed
    over the epochs so far, validation excluded) for every run: ``logs[(experiment, split)]`` is
    :func:`~.runs.read_training_log`'s table with :data:`TIME_ACCURACY_METRICS`, a point per
    validated epoch; one colour per experiment, one line style and marker per split."""
    lines = {run: (log["train_seconds"].cumsum() / 60, 100 * log["val_top1"]) for run, log in logs.items()}
    return _runs_chart(
        lines, names, "training wall time, minutes (validation excluded)", "validation clip top-1, %",
        "Validation top-1 against training time, every experiment and split",
    )
