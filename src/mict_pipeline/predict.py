"""Classify video files with a trained model, from its checkpoint alone.

A video goes through what the test videos went through: frames decoded, resized and JPEG-encoded
as ``prepare`` stored them, then the video-level protocol of evaluation (consecutive clips over up
to ``video_frames`` frames, centre crop, softmax averaged). Frame size, clip settings and class
names come from the checkpoint's experiment, never from a project's configuration, so a
``best.pt`` or ``last.pt`` copied anywhere gives the same answer. No Kedro is imported. On a CPU
the model runs as evaluation runs it, folded and channels-last (``--plain``/``fast=False``: as trained).

Python::

    from mict_pipeline.predict import Classifier

    classifier = Classifier.from_checkpoint("best.pt")          # or an original's, with arch=...
    for prediction in classifier.predict(["a.mp4", "videos/"], top=5):
        if prediction.error:                                     # a path that could not be used
            print(prediction.error)
        else:
            print(prediction.video, prediction.top[0].class_name, prediction.top[0].probability)

Command line (``mict-pipeline predict`` or ``python -m mict_pipeline predict``)::

    mict-pipeline predict VIDEO [VIDEO or FOLDER ...] --checkpoint best.pt [--top 5] [--json] [--device cpu] [--plain]
    mict-pipeline predict VIDEO --checkpoint model_best.pth.tar --arch mict_resnet18 [--version v2]
    mict-pipeline predict VIDEO --experiment mict_resnet18 --split 1 [--env demo]   # inside a project
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from mict_pipeline.checkpoint import BEST, read_checkpoint
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.errors import UserError, for_environment
from mict_pipeline.experiment import Experiment, resolve_device
from mict_pipeline.io.frame_store import VIDEO_SUFFIXES, VideoDecodeError, extract_frames
from mict_pipeline.models import ARCHITECTURES
from mict_pipeline.models.inference import inference_model
from mict_pipeline.project import active_env, catalog_folder, configuration, find_project
from mict_pipeline.training import NonFiniteScoresError, predict_scores

DEVICE_FIX = "pass `--device cpu`, or leave --device out (auto: CUDA when there is one, else the CPU)"


class PredictInputError(ValueError):
    """A video path, folder or project setting cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class ClassScore:
    class_name: str
    label: int
    probability: float

    def to_json(self) -> dict[str, object]:
        return {"class": self.class_name, "label": self.label, "probability": self.probability}


@dataclass(frozen=True)
class Prediction:
    """The ``top`` most likely classes of one video, most likely first; or, for a path that could
    not be used (missing, a folder without videos, not a readable video), ``error``, one line
    naming it, and no classes."""

    video: Path
    top: list[ClassScore]
    error: str | None = None


def expand_inputs(paths: Iterable[str | os.PathLike]) -> list[Path | Prediction]:
    """``paths`` in order, every folder replaced by the video files under it (by suffix, sorted);
    a path that does not exist, or a folder with no video, becomes its :class:`Prediction` with the
    ``error`` that names it, so the other paths are still scored."""
    inputs: list[Path | Prediction] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
            inputs += found or [Prediction(path, [], f"{path}: folder holds no video file ({', '.join(VIDEO_SUFFIXES)})")]
        elif path.exists():
            inputs.append(path)
        else:
            inputs.append(Prediction(path, [], f"{path}: no such file or folder"))
    return inputs


class Classifier:
    """A trained model with its experiment: ``predict`` videos as the experiment's test videos were scored."""

    def __init__(self, model: nn.Module, experiment: Experiment, device: str = "auto", fast: bool = True) -> None:
        self.experiment = experiment
        # Scored in this process, on the asked device; the experiment's own batch size is kept.
        self.recipe = experiment.recipe.model_copy(update={"workers": 0, "device": device})
        # What evaluation runs (fast: on a CPU folded and channels-last, same top-1 and scores).
        self.model = inference_model(model, experiment.arch, resolve_device(device, key="--device", fix=DEVICE_FIX), fast)

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike, *, arch: str | None = None, version: str = "v1", device: str = "auto", fast: bool = True
    ) -> Classifier:
        """From a ``best.pt``/``last.pt`` of this project, or an original MiCT-Net-PyTorch checkpoint
        with its ``arch`` (and ``version``) named. Raises :class:`CheckpointError` naming the file."""
        checkpoint = read_checkpoint(path, arch=arch, version=version)
        return cls(checkpoint.build_model(), checkpoint.experiment, device, fast)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.experiment.dataset.class_names

    def scores(self, video: str | os.PathLike) -> torch.Tensor:
        """Class probabilities of ``video``; :class:`VideoDecodeError` names a file that is not a readable video."""
        frames = self.experiment.dataset.frames
        with tempfile.TemporaryDirectory(prefix="mict-predict-") as scratch:
            store = Path(scratch) / "video.frames"
            n_frames = extract_frames(video, store, frames.width, frames.height, quality=frames.quality)
            index = pd.DataFrame({"frame_store": [str(store)], "n_frames": [n_frames], "label": [0]})
            return torch.from_numpy(predict_scores(self.model, ClipDataset(index, "video", self.experiment.clips), self.recipe)[0])

    def predict_video(self, video: str | os.PathLike, top: int = 5) -> Prediction:
        probabilities = self.scores(video)
        values, labels = probabilities.topk(min(top, len(probabilities)))
        scores = [ClassScore(self.class_names[i], i, p) for i, p in zip(labels.tolist(), values.tolist())]
        return Prediction(Path(video), scores)

    def predict(self, videos: str | os.PathLike | Iterable[str | os.PathLike], top: int = 5) -> Iterator[Prediction]:
        """A prediction for each video (folders are searched for videos), in order; a path that
        cannot be used gives a prediction with its ``error`` and the others are still scored."""
        paths = [videos] if isinstance(videos, (str, os.PathLike)) else list(videos)
        return self.predict_inputs(expand_inputs(paths), top)

    def predict_inputs(self, inputs: Iterable[Path | Prediction], top: int = 5) -> Iterator[Prediction]:
        """:meth:`predict` of :func:`expand_inputs`' list: videos scored, unusable paths passed on."""
        for item in inputs:
            if isinstance(item, Prediction):
                yield item
                continue
            try:
                yield self.predict_video(item, top)
            except VideoDecodeError as error:
                yield Prediction(item, [], str(error))


def project_checkpoint(experiment: str, split: int, env: str | None, project: Path | None = None) -> Path:
    """The ``best.pt`` of ``experiment`` on ``split`` in the project at or above the working directory,
    where the environment's catalog puts it (``{split}.{experiment}.run_dir``; read with Kedro's
    config loader, the one use of Kedro here)."""
    try:
        root = project or find_project()
    except FileNotFoundError as error:
        raise PredictInputError(f"--experiment needs a project: {error}; or give --checkpoint PATH") from None
    parameters = configuration(root, env)["parameters"]
    if experiment not in parameters["experiments"]:
        raise PredictInputError(
            f"experiment {experiment!r} is not defined in environment {active_env(env)!r} "
            f"(defined: {', '.join(parameters['experiments'])}); or give --checkpoint PATH"
        )
    path = catalog_folder(root, env, f"split_{split}.{experiment}.run_dir") / BEST
    if not path.is_file():
        trained = sorted(e for e in parameters["experiments"] if (catalog_folder(root, env, f"split_{split}.{e}.run_dir") / BEST).is_file())
        have = f"experiments with a {BEST} on split {split}: {', '.join(trained)}" if trained else f"no experiment has a {BEST} on split {split} yet"
        raise PredictInputError(f"{path}: not found; {have} (train with `kedro run --env {active_env(env)} --pipelines=train --namespaces=split_{split}.{experiment}`, or give --checkpoint PATH)")
    return path


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mict-pipeline predict",
        description="Top classes of video files, from a trained checkpoint.",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the examples' lines kept
        epilog="examples:\n"
        "  mict-pipeline predict video.mp4 --checkpoint best.pt               # top 5 classes\n"
        "  mict-pipeline predict clips/ more.avi --checkpoint best.pt --json  # a folder's videos; JSON lines\n"
        "  mict-pipeline predict video.avi --checkpoint model_best.pth.tar --arch mict_resnet18  # an original's\n"
        "  mict-pipeline predict video.avi --experiment resnet3d_18 --split 2 --env demo  # inside a project",
    )
    parser.add_argument("videos", nargs="+", type=Path, metavar="VIDEO", help="video files OpenCV reads (AVI, MP4/H.264, ...) or folders of them")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=Path, help="a best.pt or last.pt, or an original MiCT-Net-PyTorch checkpoint with --arch")
    source.add_argument("--experiment", help="inside a project: the best.pt of this experiment (with --split, --env)")
    parser.add_argument("--arch", choices=list(ARCHITECTURES), help="the architecture of an original MiCT-Net-PyTorch checkpoint")
    parser.add_argument("--version", choices=("v1", "v2"), default="v1", help="temporal strides of an original MiCT checkpoint (default: %(default)s)")
    parser.add_argument("--split", type=int, default=1, help="with --experiment: the split it was trained on (default: %(default)s)")
    parser.add_argument("--env", help="with --experiment: the Kedro environment (default: KEDRO_ENV, else local)")
    parser.add_argument("--top", type=_positive, default=5, help="how many classes to print (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="one JSON object per video on stdout")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, ... (default: cuda when available)")
    parser.add_argument(
        "--plain", action="store_true",
        help="run the model as trained; by default a CPU runs it with BatchNorm folded and channels-last weights (same top class, scores within 1e-5)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Print the top classes of each video; stdout carries only results. Exit status 2 when an
    input cannot be used (one line on stderr each) or the model's scores are not finite (one line,
    nothing printed for that video), 0 otherwise."""
    args = _parser().parse_args(argv)
    inputs = expand_inputs(args.videos)
    # What a fix in an environment's configuration names: --env (or KEDRO_ENV), else a checkpoint's own environment.
    env = args.env or os.environ.get("KEDRO_ENV") or "<the environment that trained it>"
    if all(isinstance(item, Prediction) for item in inputs):  # nothing to score: no model to load
        for item in inputs:
            print(f"error: {item.error}", file=sys.stderr)
        return 2
    try:
        checkpoint = args.checkpoint or project_checkpoint(args.experiment, args.split, args.env)
        classifier = Classifier.from_checkpoint(checkpoint, arch=args.arch, version=args.version, device=args.device, fast=not args.plain)
    except (PredictInputError, UserError) as error:  # no or a corrupt checkpoint, a device this machine lacks, ...
        print(f"error: {for_environment(str(error), env)}", file=sys.stderr)
        return 2
    failed = False
    predictions = classifier.predict_inputs(inputs, args.top)
    try:
        for prediction in tqdm(predictions, total=len(inputs), desc="videos", unit="video", file=sys.stderr, disable=None, leave=False):
            video = prediction.video
            if prediction.error:
                tqdm.write(f"error: {prediction.error}", file=sys.stderr)
                failed = True
                continue
            if args.json:
                record = {"video": str(video), "checkpoint": str(checkpoint), "top": [s.to_json() for s in prediction.top]}
                print(json.dumps(record, allow_nan=False), flush=True)  # strict JSON: never NaN
            else:
                print(f"{video} ({checkpoint}):")
                for score in prediction.top:
                    print(f"  {score.probability:7.2%}  {score.class_name}", flush=True)
    except NonFiniteScoresError as error:  # the model's fault, not the video's: the others would fail alike
        print(f"error: {checkpoint}: {for_environment(str(error), env)}", file=sys.stderr)
        return 2
    return 2 if failed else 0
