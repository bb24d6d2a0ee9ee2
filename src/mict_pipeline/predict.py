"""Classify any video file with a trained model: top-k classes with probabilities.

The video goes through exactly what the test videos went through: frames decoded, resized to the
frame store's size and JPEG-encoded as ``prepare`` does, then the video-level protocol of
evaluation (up to ``video_frames`` frames in consecutive clips, centre crop, softmax averaged).

Library: :func:`predict_video`. Command line (reads the model, frame size, clip settings and class
names from the project's Kedro configuration and catalog)::

    python -m mict_pipeline predict VIDEO [--experiment mict_resnet18 --split 1 | --checkpoint PATH]
                                          [--env demo] [--top 5] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from torch import nn

from mict_pipeline.data.clips import ClipConfig, ClipDataset
from mict_pipeline.data.frames import VideoDecodeError, extract_frames
from mict_pipeline.models import load_model
from mict_pipeline.training import BEST, Recipe, predict_scores


def predict_video(
    video: str | os.PathLike,
    model: nn.Module,
    class_names: Sequence[str],
    clips: ClipConfig = ClipConfig(),
    frame_size: tuple[int, int] = (256, 192),
    quality: int = 90,
    top: int = 5,
    device: str = "auto",
) -> list[dict[str, Any]]:
    """The ``top`` classes of ``video`` as ``[{"class", "label", "probability"}]``, most likely first.

    Raises :class:`VideoDecodeError` naming the file when it is missing, empty or not a video.
    """
    with tempfile.TemporaryDirectory(prefix="mict-predict-") as scratch:
        store = Path(scratch) / "video.frames"
        n_frames = extract_frames(video, store, *frame_size, quality=quality)
        index = pd.DataFrame({"frame_store": [str(store)], "n_frames": [n_frames], "label": [0]})
        recipe = Recipe(epochs=1, batch_size=1, workers=0, device=device)
        scores = predict_scores(model, ClipDataset(index, "video", clips), recipe)[0]
    if len(class_names) != len(scores):
        raise ValueError(f"the model has {len(scores)} classes but {len(class_names)} class names were given")
    order = scores.argsort()[::-1][:top]
    return [{"class": class_names[i], "label": int(i), "probability": float(scores[i])} for i in order]


def _project_setup(env: str | None) -> tuple[dict[str, Any], list[str]]:
    """Parameters and class names (classInd order) of the Kedro project in the current directory."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from mict_pipeline.pipelines.evaluate.nodes import class_names

    bootstrap_project(Path.cwd())
    # Kedro logs to stdout; stdout is for the result (--json output can be piped).
    with contextlib.redirect_stdout(sys.stderr), KedroSession.create(project_path=Path.cwd(), env=env) as session:
        context = session.load_context()
        if not context.catalog.exists("split_lists"):
            raise FileNotFoundError("no class names yet: run `kedro run --pipeline prepare` (the split lists name the classes)")
        return context.params, class_names(context.catalog.load("split_lists"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mict_pipeline predict", description="Top classes of a video file.")
    parser.add_argument("video", type=Path, help="any video file OpenCV reads (AVI, MP4/H.264, ...)")
    parser.add_argument("--checkpoint", type=Path, help="a best.pt/last.pt of this project (default: the experiment's best model)")
    parser.add_argument("--experiment", default="mict_resnet18", help="experiment whose best model to use (default: %(default)s)")
    parser.add_argument("--split", type=int, default=1, choices=(1, 2, 3), help="split it was trained on (default: %(default)s)")
    parser.add_argument("--env", default=None, help="Kedro environment (default: KEDRO_ENV, else local)")
    parser.add_argument("--top", type=int, default=5, help="how many classes to print (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--device", default="auto", help="cpu, cuda, ... (default: cuda when available)")
    args = parser.parse_args(argv)
    # The project's own layout: imported here so that predict_video stays free of Kedro.
    from mict_pipeline.pipelines.train.nodes import checkpoint_dir, clip_config

    try:
        params, names = _project_setup(args.env)
        training = params["training"]
        checkpoint = args.checkpoint or checkpoint_dir(training, args.experiment, args.split) / BEST
        if not checkpoint.is_file():
            raise FileNotFoundError(f"checkpoint {checkpoint} not found: train it with `kedro run --pipeline train` or pass --checkpoint")
        model = load_model(checkpoint)
        clips = clip_config(params["experiments"].get(args.experiment, {}), training)
        frames = params["prepare"]["frames"]
        top = predict_video(
            args.video, model, names, clips, (frames["width"], frames["height"]), frames.get("quality", 90), args.top, args.device
        )
    except (VideoDecodeError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"video": str(args.video), "checkpoint": str(checkpoint), "top": top}, indent=2))
    else:
        print(f"{args.video} ({checkpoint}):")
        for row in top:
            print(f"  {row['probability']:7.2%}  {row['class']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
