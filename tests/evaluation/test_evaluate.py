"""Evaluation on a CPU runs the folded, channels-last model: the same top-1 and scores within 1e-5
of the model as trained, which it leaves alone; ``fast=False`` runs the model as trained."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

import mict_pipeline.evaluation.evaluate as evaluate
from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.datasets.synthetic import VideoSpec, render_frames, write_video
from mict_pipeline.experiment import DatasetSpec, Experiment, ModelOptions, Recipe
from mict_pipeline.io.frame_store import extract_frames

CLASSES = ("MoveUp", "ZoomIn", "Twist")


@pytest.fixture(scope="module")
def test_index(tmp_path_factory) -> pd.DataFrame:
    """Four tiny videos' frame stores (40 x 32, 20-28 frames) as a prepared test table."""
    folder = tmp_path_factory.mktemp("frames")
    rows = []
    for i, n_frames in enumerate((20, 28, 24, 20)):
        spec = VideoSpec(CLASSES[i % 3], 1, i + 1, n_frames, seed=i)
        video = write_video(folder / f"{spec.name}.avi", render_frames(spec, (80, 64)))
        stored = extract_frames(video, folder / f"{spec.name}.frames", 40, 32)
        rows.append({"video": spec.name, "frame_store": f"{spec.name}.frames", "n_frames": stored, "label": i % 3})
    return pd.DataFrame(rows).assign(root=str(folder))


def experiment(arch: str) -> Experiment:
    return Experiment(
        name=arch, arch=arch, model=ModelOptions(width=8),
        recipe=Recipe(workers=0, eval_batch_size=3, device="cpu"),  # batches cut across videos
        clips=ClipConfig(clip_len=8, output_size=16, crop_sizes=(24, 32), video_frames=24),
        dataset=DatasetSpec(name="three", class_names=CLASSES),
    )


@pytest.mark.parametrize("arch", ["mict_resnet18", "resnet3d_18"])
def test_evaluation_runs_the_fast_path_with_the_same_results(arch, test_index, randomize_batchnorm, monkeypatch):
    torch.manual_seed(0)
    run = experiment(arch)
    model = run.build_model()
    randomize_batchnorm(model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    ran, scores = [], []  # the model each scoring pass (clip level, video level) was given, its scores

    def spy(net, *args, **kwargs):
        ran.append(net)
        scores.append(torch.from_numpy(predict_scores(net, *args, **kwargs)))
        return scores[-1].numpy()

    predict_scores = evaluate.predict_scores
    monkeypatch.setattr(evaluate, "predict_scores", spy)
    root = test_index["root"].iloc[0]
    fast = evaluate.evaluate_model(model, run, test_index, root)
    assert len(ran) == 2 and all(net is not model for net in ran)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for net in ran for m in net.modules())
    ran.clear()
    plain = evaluate.evaluate_model(model, run, test_index, root, fast=False)
    assert len(ran) == 2 and all(net is model for net in ran)  # the off switch: the model as trained
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())

    for got, expected in zip(scores[:2], scores[2:]):  # clip level, then video level
        assert torch.equal(got.argmax(1), expected.argmax(1))
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)
    assert fast.predictions[["clip_pred", "video_pred"]].equals(plain.predictions[["clip_pred", "video_pred"]])
    assert fast.metrics == plain.metrics
