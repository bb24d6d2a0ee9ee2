"""A new environment for one's own dataset: ``conf/<name>/`` written complete, checked, all at once.

:func:`write_environment` reads the dataset where it is (a folder, list files, a Kinetics CSV, or
archives to download from ``file:`` URLs) with its format's own reader, so a wrong layout is named
before anything is written. It writes every setting that matters for that dataset and this machine
rather than leaving it to ``conf/base`` (UCF-101 on a GPU): the dataset block and ``dataset:``, the
archives, the frame size, the workers, the unusable-video limit, the model's start (ImageNet weights
only when asked) and a recipe that runs here (on a CPU: small frames, clips and width). The files
are validated as a session of the environment reads them (:func:`~mict_pipeline.project.configuration`,
:class:`~mict_pipeline.parameters.project.ProjectParameters`), in a temporary folder renamed into
place, and written as ``dvc exp run -S`` writes parameter files back.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mict_pipeline.config import ParameterError
from mict_pipeline.errors import UserError
from mict_pipeline.io.archives import archive_format, extract_archive
from mict_pipeline.io.atomic import atomic_path
from mict_pipeline.io.workers import available_cores
from mict_pipeline.project import BASE_ENV, DEFAULT_RUN_ENV, configuration

FORMATS = ("ucf101", "hmdb51", "kinetics", "folder")
DEFAULT_EXPERIMENTS = ("mict_resnet18",)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Frame height : crop sizes : network input, as conf/base's 192 : 128-192 : 160 and conf/demo's 48 : 32-48 : 32.
_CROP_FRACTIONS = (2 / 3, 3 / 4, 5 / 6, 11 / 12, 1.0)


# What the format's own keys mean, for the dataset file's comment.
_DATASET_KEYS = {
    "ucf101": "splits: empty = all three, or e.g. `- 1`. expected_counts: the sizes found in the lists when\n"
              "this was written, checked by prepare (official: UCF-101's; empty: no check).",
    "folder": "lists: empty = a stratified split per class (test_fraction, seed) that prepare writes to\n"
              "data/{name}/01_raw/unpacked/split_lists/ as list files, to edit and give back as\n"
              "`lists: {{train: {{path: ...}}, test: {{path: ...}}}}`.",
    "kinetics": "Clips the CSVs list but the folder lacks are listed in data/{name}/08_reporting/missing_videos.csv;\n"
                "prepare stops when they are more than max_missing_fraction of the listed clips and more than\n"
                "prepare.max_failed_videos.",
}
_DATASET_KEYS["hmdb51"] = _DATASET_KEYS["ucf101"].replace("UCF-101's", "HMDB-51's")


class EnvironmentSetupError(UserError, ValueError):
    """A new environment cannot be written as asked; the message names the option or file and the fix."""


@dataclass(frozen=True)
class Machine:
    """What the recipe is sized for: a CUDA GPU or the CPU, and its cores."""

    gpu: bool
    cores: int

    @classmethod
    def here(cls) -> Machine:
        import torch

        return cls(gpu=torch.cuda.is_available(), cores=available_cores())


@dataclass(frozen=True)
class Written:
    """What :func:`write_environment` wrote: the folder, its files and what it found in the dataset."""

    folder: Path
    files: tuple[str, ...]
    found: str
    data_root: str


def _is_archive(path: Path) -> bool:
    """Whether ``path`` is a file that prepare extracts (by its content, not its name)."""
    return path.is_file() and archive_format(path) is not None


def _in_project(path: Path, project: Path) -> str:
    """``path`` as a dataset block writes it: relative to the project root inside it, else absolute."""
    path = path.resolve()
    return path.relative_to(project).as_posix() if path.is_relative_to(project) else str(path)


def _dataset_path(path: str | os.PathLike, option: str, project: Path, name: str) -> Path:
    """``path`` given as ``option``, refused when missing or inside the project's ``data/`` (conf/base's
    data root, holding every environment's): prepare would write its outputs among the dataset's files."""
    path = Path(path).expanduser()
    if not path.exists():
        raise EnvironmentSetupError(f"{option} {path}: no such file or folder. Fix: give the path of the dataset's {option.lstrip('-')}")
    if path.resolve().is_relative_to((project / "data").resolve()):
        raise EnvironmentSetupError(
            f"{option} {path}: inside the project's data/, where environments write what they prepare and train (this one "
            f"in data/{name}/), so prepare would write among the dataset's files. Fix: move them out of data/ (e.g. to "
            f"~/datasets/{name}/) and give that path"
        )
    return path


def _smallest_training_list(table: Any, splits: Sequence[int]) -> tuple[int, int]:
    """The split of ``splits`` (empty: all) with the fewest training videos in ``table``, and how many."""
    per_split = table[table["subset"] == "train"].groupby("split").size()
    per_split = per_split.reindex(list(splits) or sorted(table["split"].unique()) or [1], fill_value=0)
    return int(per_split.idxmin()), int(per_split.min())


class _Sources:
    """The dataset block's sources and the ``download.archives`` they need (``file:`` URLs)."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.archives: dict[str, dict[str, Any]] = {}

    def source(self, path: Path, archive_key: str, inner: str | None = None) -> dict[str, Any]:
        """``{archive: ..., path: inner}`` for an archive (downloaded from its ``file:`` URL), else ``{path: ...}``."""
        if _is_archive(path):
            self.archives[archive_key] = {
                "filename": path.name, "urls": [path.resolve().as_uri()], "sha256": None, "md5": None, "size": None,
            }
            return {"archive": archive_key, "path": inner}
        return {"path": _in_project(path, self.project)}


def _unpacked_lists(path: Path, marker: str, scratch: Path) -> tuple[Path, str | None]:
    """The folder of list files at ``path``, extracted into ``scratch`` when an archive (they are
    small), and where inside the archive that folder is (the first one holding ``marker``)."""
    if not _is_archive(path):
        return path, None
    extract_archive(path, scratch, progress=False)
    holder = next((found.parent for found in sorted(scratch.rglob(marker))), None)
    if holder is None:
        raise EnvironmentSetupError(f"--lists {path}: no {marker} inside. Fix: give the archive (or folder) of the format's split files")
    inner = holder.relative_to(scratch).as_posix()
    return holder, None if inner == "." else inner


def _split_list_counts(dataset_format: str, table: Any) -> Any:
    """The sizes a ucf101 or hmdb51 block asserts: ``official`` when the lists have the published
    counts, else the counts found (the explicit layout), or null when an HMDB-51 class differs."""
    from mict_pipeline.datasets import hmdb51, ucf101

    if dataset_format == "ucf101":
        per_split = table.groupby(["split", "subset"]).size()
        counts = ucf101.ExpectedCounts(
            classes=table["class_name"].nunique(), videos=table["video"].nunique(),
            per_split={int(split): {subset: int(per_split[split, subset]) for subset in ("train", "test")}
                       for split in sorted(table["split"].unique())},
        )
        return "official" if counts == ucf101.OFFICIAL_COUNTS else counts.model_dump()
    per_class = table.groupby(["split", "subset", "class_name"]).size().groupby("subset").unique()
    if any(len(sizes) != 1 for sizes in per_class):
        return None
    counts = hmdb51.HMDB51Counts(classes=table["class_name"].nunique(), per_class={s: int(n[0]) for s, n in per_class.items()})
    return "official" if counts == hmdb51.HMDB51_COUNTS else counts.model_dump()


def dataset_block(
    dataset_format: str, name: str, videos: str | os.PathLike, lists: Sequence[str | os.PathLike], splits: Sequence[int],
    project: Path, dataset_name: str | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], str, tuple[int, int]]:
    """The ``datasets.<name>`` block (called ``dataset_name``, default ``name``, in checkpoints and
    reports) for the dataset at ``videos`` and ``lists``, the archives it is
    read from, a line saying what was found, and the split with the fewest training videos found
    (listed, in an archive) with their number; the lists (and local videos) are read by the
    format's own reader, so a layout it would refuse is refused here."""
    from mict_pipeline.datasets import formats, hmdb51, kinetics, ucf101
    from mict_pipeline.datasets.folder import read_folder_dataset

    if dataset_format not in FORMATS:
        raise EnvironmentSetupError(f"--format {dataset_format}: unknown format. Fix: one of {', '.join(FORMATS)}")
    videos = _dataset_path(videos, "--videos", project, name)
    list_paths = [_dataset_path(path, "--lists", project, name) for path in lists]
    if dataset_format in ("kinetics", "folder"):
        archive = next((path for path in (videos, *list_paths) if _is_archive(path)), None)
        if archive is not None:
            raise EnvironmentSetupError(f"{archive}: an archive; a {dataset_format} dataset is read where it lies. Fix: extract it, and give its folder and list files")
    sources = _Sources(project)
    block: dict[str, Any] = {"format": dataset_format, "name": dataset_name or name}
    if dataset_format in ("ucf101", "hmdb51"):
        if len(list_paths) != 1:
            example = "test_train_splits.rar" if dataset_format == "hmdb51" else "UCF101TrainTestSplits-RecognitionTask.zip"
            raise EnvironmentSetupError(
                f"--lists: {dataset_format} needs one (the split files' archive or folder), got {len(list_paths)}. "
                f"Fix: give it once, e.g. --lists {example}"
            )
        marker = "classInd.txt" if dataset_format == "ucf101" else "*_test_split1.txt"
        with tempfile.TemporaryDirectory() as scratch:
            folder, inner = _unpacked_lists(list_paths[0], marker, Path(scratch) / "lists")
            if dataset_format == "ucf101":
                table = ucf101.load_split_lists(folder, expected_counts=None)
            else:
                table = hmdb51.read_hmdb51_split_files(folder, expected_counts=None)
        # UCF-101's own archive keeps its videos in UCF-101/; HMDB-51's holds an archive per class.
        block["videos"] = sources.source(videos, "videos", "UCF-101" if dataset_format == "ucf101" else None)
        block["lists"] = sources.source(list_paths[0], "splits", inner)
        block["expected_counts"] = _split_list_counts(dataset_format, table)
        found = f"{table['class_name'].nunique()} classes, {table['video'].nunique()} videos in the lists"
        if "archive" not in block["videos"]:
            if dataset_format == "hmdb51":
                hmdb51.check_class_folders(videos, table)
            on_disk = ucf101.find_videos(videos, table)["found"]
            found += f", {len(on_disk)} of them in {videos}"
            table = table[table["video"].isin(on_disk["video"])]
    elif dataset_format == "kinetics":
        if not list_paths:
            raise EnvironmentSetupError("--lists: kinetics needs the annotation CSV(s). Fix: --lists train.csv [--lists validate.csv]")
        table, missing = kinetics.read_kinetics_annotations(list_paths, videos)
        if not (table["subset"] == "test").any():  # Kinetics' val rows are its test split
            listed = (missing["subset"] == "test").any()
            raise EnvironmentSetupError(
                f"--lists {' '.join(map(str, list_paths))}: no val clips {'in ' + str(videos) if listed else 'listed'}, so the "
                "test split would be empty and nothing evaluated. Fix: "
                + (f"download the val rows' clips into {videos}" if listed else "give the validation CSV with a second --lists, e.g. --lists validate.csv")
            )
        block["videos"] = sources.source(videos, "videos")
        lists = [sources.source(path, "lists") for path in list_paths]
        block["lists"] = lists[0] if len(lists) == 1 else lists  # one as a mapping: every key settable by `dvc exp run -S`
        block["max_missing_fraction"] = 0.1
        found = f"{table['class_name'].nunique()} classes, {len(table)} clips found, {len(missing)} listed clips not found (missing_videos.csv lists them after prepare)"
    else:
        if len(list_paths) not in (0, 2):
            raise EnvironmentSetupError("--lists: a folder dataset takes none (a stratified split) or two, train then test")
        table = read_folder_dataset(videos, dict(zip(("train", "test"), list_paths)) or None)
        block["videos"] = sources.source(videos, "videos")
        block["lists"] = {subset: sources.source(path, subset) for subset, path in zip(("train", "test"), list_paths)} or None
        block["test_fraction"] = 0.3
        block["seed"] = 0
        found = f"{table['class_name'].nunique()} classes, {len(table)} videos"
    if splits or dataset_format in ("ucf101", "hmdb51"):
        block["splits"] = list(splits)  # empty: every split of the format
    formats.dataset_format(block, where=f"datasets.{name}")
    return block, sources.archives, found, _smallest_training_list(table, splits)


def fitting_batch(machine: Machine, training_videos: int) -> int:
    """The recipe's batch on ``machine``, at most ``training_videos``: the loader drops each epoch's
    last partial batch, so a larger one would train nothing (training refuses it)."""
    return max(1, min(112 if machine.gpu else 8, training_videos))


def _crops(height: int) -> list[int]:
    return sorted({int(round(height * fraction / 2)) * 2 for fraction in _CROP_FRACTIONS})


def parameter_files(
    name: str, block: dict[str, Any], archives: dict[str, dict[str, Any]], machine: Machine, *, pretrained: bool,
    experiments: Sequence[str], width: int | None, epochs: int | None, frame_size: tuple[int, int] | None,
    training_videos: int,
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each file of the environment: its header comment and content; the batch fits
    ``training_videos``, the smallest split's (:func:`fitting_batch`)."""
    gpu = machine.gpu
    frame_width, frame_height = frame_size or ((256, 192) if gpu else (64, 48))
    output_size = int(round(frame_height * (5 / 6 if gpu else 2 / 3) / 8)) * 8 or 8
    # ImageNet weights are ResNet-18's, at width 64; from scratch, residual blocks start as the
    # identity and AdamW replaces SGD (which diverges at lr 0.01 from a random start: conf/demo).
    model: dict[str, Any] = {"pretrained": pretrained, "zero_init_residual": not pretrained, "width": width or (64 if gpu or pretrained else 16)}
    recipe: dict[str, Any] = (
        {"optimizer": "sgd", "lr": 0.01} if pretrained else {"optimizer": "adamw", "lr": 0.001}
    )
    recipe["epochs"] = epochs or (120 if gpu else 10)
    recipe["lr_milestones"] = [max(1, recipe["epochs"] * 2 // 3)] if recipe["epochs"] > 1 else []
    recipe["batch_size"] = fitting_batch(machine, training_videos)
    where = "a CUDA GPU" if gpu else f"the CPU ({machine.cores} cores)"
    files = {
        "globals.yml": (f"The data of environment {name}, apart from every other environment's.", {"data_root": f"data/{name}"}),
        "parameters_datasets.yml": (
            "The dataset this environment prepares, trains on and evaluates (docs/data.md, \"Datasets\");\n"
            f"name: what checkpoints and reports call it.\n{_DATASET_KEYS[block['format']].format(name=name)}",
            {"dataset": name, "datasets": {name: block}},
        ),
        "parameters.yml": (
            f"The experiments it runs, sized for {where} when it was written (`mict-pipeline new-env`).\n"
            "pretrained: true downloads torchvision's ImageNet weights; a path of a ResNet state_dict\n"
            "works offline; false trains from scratch. batch_size: at most the training videos of a split\n"
            "(each epoch drops its last partial batch).",
            {"experiments": {experiment: {"model": model, "recipe": recipe} for experiment in experiments},
             "run_experiments": list(experiments)},
        ),
        "parameters_prepare.yml": (
            "Frames stored per video (resized once) and extraction processes (null: every core). Unusable\n"
            "videos (listed but missing, or failing to decode) stop prepare only when they are more than\n"
            "both max_failed_fraction of the listed videos and max_failed_videos.",
            {"prepare": {"frames": {"width": frame_width, "height": frame_height, "quality": 90}, "workers": None,
                         "max_failed_fraction": 0.05, "max_failed_videos": 5}},
        ),
        "parameters_train.yml": (
            f"Clips and loader for {where}: crops and network input scaled to the {frame_width}x{frame_height} frames.",
            {"training": {
                "defaults": {"workers": min(8, max(machine.cores - 1, 0)) if gpu else 1, "eval_batch_size": 32},
                # Milder colour jitter from scratch: learning colour invariance too takes far longer (conf/demo).
                "clips": {"crop_sizes": _crops(frame_height), "output_size": output_size,
                          "jitter": [0.5, 1.5] if pretrained else [0.8, 1.2], "video_frames": 300 if gpu else 64},
            }},
        ),
    }
    if not gpu:
        files["parameters_benchmark.yml"] = (
            "The original's speed protocol with fewer timed iterations on a CPU.",
            {"benchmark": {"warmup": 2, "iters": 10, "loader_clips": 50}},
        )
    if archives:
        files["parameters_download.yml"] = (
            "The dataset's archives, fetched from where they are (file: URLs). Unpinned: the first download\n"
            f"records each one's sha256 in data/{name}/01_raw/archives.json; pin it here to verify later ones.",
            {"download": {"archives": archives}},
        )
    return files


def render(comment: str, content: dict[str, Any]) -> str:
    """A parameter file as ``dvc exp run -S`` writes it back (DVC's own YAML writer: block lists at
    the key's indent, null as an empty value, long values folded), under its comment."""
    from dvc.utils.serialize import dumps_yaml

    header = "".join(f"# {line}\n" if line else "#\n" for line in comment.splitlines())
    return header + dumps_yaml(content)


def write_environment(
    project: str | os.PathLike, name: str, dataset_format: str, videos: str | os.PathLike,
    lists: Sequence[str | os.PathLike] = (), *, splits: Sequence[int] = (), pretrained: bool = False,
    experiments: Sequence[str] = DEFAULT_EXPERIMENTS, width: int | None = None, epochs: int | None = None,
    frame_size: tuple[int, int] | None = None, dataset_name: str | None = None, force: bool = False,
    machine: Machine | None = None,
) -> Written:
    """Write ``conf/<name>/`` for the dataset at ``videos`` (and ``lists``) in ``dataset_format``.

    Everything is checked first (the name, the paths, the dataset read by its format's reader, the
    configuration as a session of the environment validates it); the folder then appears whole,
    replacing an existing one only with ``force``. Raises :class:`EnvironmentSetupError` (or the
    format reader's :class:`~mict_pipeline.errors.UserError`, naming the file and line).
    """
    project = Path(project).resolve()
    if not _NAME.fullmatch(name) or name in (BASE_ENV, DEFAULT_RUN_ENV):
        raise EnvironmentSetupError(
            f"environment name {name!r}: use letters, digits and _ (starting with a letter), not {BASE_ENV} or {DEFAULT_RUN_ENV}"
        )
    folder = project / "conf" / name
    if folder.exists() and not force:
        raise EnvironmentSetupError(f"conf/{name} exists. Fix: choose another name, or pass --force to replace it")
    block, archives, found, (split, training_videos) = dataset_block(dataset_format, name, videos, lists, splits, project, dataset_name)
    machine = machine or Machine.here()
    files = parameter_files(
        name, block, archives, machine, pretrained=pretrained, experiments=experiments,
        width=width, epochs=epochs, frame_size=frame_size, training_videos=training_videos,
    )
    batch_size = fitting_batch(machine, training_videos)
    if batch_size == training_videos:  # the dataset, not the machine, sets it
        found += (
            f"\nbatch_size: {batch_size}, the {training_videos} training videos of split {split} (each epoch drops its last "
            "partial batch, so a larger batch would train nothing)"
        )
    with atomic_path(folder, directory=True) as tmp:
        for file_name, (comment, content) in files.items():
            (tmp / file_name).write_text(render(comment, content))
        parameters = configuration(project, tmp.name)["parameters"]
        # An experiment conf/base does not define has only the recipe written here: no arch.
        defined = [name for name, block in parameters["experiments"].items() if "arch" in block]
        unknown = [name for name in experiments if name not in defined]
        if unknown:
            raise EnvironmentSetupError(f"--experiment {', '.join(unknown)}: no such experiment in conf/base; valid: {', '.join(defined)}")
        try:
            from mict_pipeline.parameters.project import ProjectParameters

            ProjectParameters.model_validate(parameters, where="")
        except ParameterError as error:
            raise EnvironmentSetupError(f"conf/{name}: {error}") from None
    return Written(folder, tuple(files), found, f"data/{name}")
