"""Predicting from a checkpoint alone: in an empty folder, with best.pt or last.pt, on AVI and MP4,
several videos or a folder, an original MiCT-Net-PyTorch checkpoint with --arch, the project-aware
shortcut, the Python API, and one-line errors (exit status 2) for every bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import mict_pipeline.predict as predict_module
from mict_pipeline.checkpoint import FORMAT, FORMAT_VERSION, save_checkpoint
from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.datasets.synthetic import VideoSpec, render_frames, write_video
from mict_pipeline.datasets.ucf101 import CLASS_NAMES as UCF101_CLASSES
from mict_pipeline.experiment import DatasetSpec, Experiment, ModelOptions, Recipe
from mict_pipeline.io.frame_store import FrameSpec, video_frames
from mict_pipeline.models.inference import inference_model
from mict_pipeline.predict import Classifier, main

from demo_project import CLASSES, project_env
from reference import OriginalMiCTResNet


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    """A ZoomIn video as AVI (MPEG-4 Part 2, as UCF-101) and the same frames as MP4."""
    folder = tmp_path_factory.mktemp("videos")
    avi = write_video(folder / "zoom.avi", render_frames(VideoSpec("ZoomIn", 1, 1, 24, 11)))
    mp4 = write_video(folder / "zoom.mp4", np.stack(list(video_frames(avi))), fourcc="mp4v")
    return {"avi": avi, "mp4": mp4}


@pytest.fixture
def checkpoints(shared_demo, tmp_path) -> Path:
    """An empty folder (no conf/, no data/) holding copies of a trained best.pt and last.pt."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    for name in ("best.pt", "last.pt"):
        shutil.copy(shared_demo.model("resnet3d_18", 1, name), folder / name)
    return folder


def predict(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The command line as a user runs it, in its own process."""
    return subprocess.run([sys.executable, "-m", "mict_pipeline", "predict", *args], cwd=cwd, env=project_env(), capture_output=True, text=True)


@pytest.mark.parametrize("name", ["best.pt", "last.pt"])
def test_predicts_anywhere_from_the_checkpoint_alone(checkpoints, videos, name):
    done = predict(str(videos["avi"]), str(videos["mp4"]), "--checkpoint", name, "--json", cwd=checkpoints)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]  # stdout is the results alone
    assert [r["video"] for r in records] == [str(videos["avi"]), str(videos["mp4"])]
    for record in records:
        assert record["checkpoint"] == name
        assert {row["class"] for row in record["top"]} == set(CLASSES)  # 3 classes: the top 5 is all of them
        assert sum(row["probability"] for row in record["top"]) == pytest.approx(1.0, abs=1e-5)
        assert [row["probability"] for row in record["top"]] == sorted((row["probability"] for row in record["top"]), reverse=True)
    # The same frames up to MPEG-4 re-encoding: the same ranking.
    assert [row["class"] for row in records[0]["top"]] == [row["class"] for row in records[1]["top"]]
    assert sorted(p.name for p in checkpoints.iterdir()) == ["best.pt", "last.pt"]  # nothing written beside them


def test_predict_imports_no_kedro(checkpoints, videos):
    code = (
        "import sys; from mict_pipeline.__main__ import main; sys.argv = ['mict-pipeline', 'predict', "
        f"{str(videos['avi'])!r}, '--checkpoint', 'best.pt']\n"
        "try:\n    main()\nexcept SystemExit as done:\n"
        "    assert done.code == 0, done.code\n    assert not [m for m in sys.modules if m.startswith('kedro')]\n    print('no kedro')"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=checkpoints, env=project_env(), capture_output=True, text=True)
    assert done.returncode == 0 and "no kedro" in done.stdout, done.stderr


def test_the_python_api_gives_what_the_command_prints(shared_demo, videos, capsys):
    classifier = Classifier.from_checkpoint(shared_demo.model("mict_resnet18"), device="cpu")
    assert classifier.class_names == classifier.experiment.dataset.class_names and set(classifier.class_names) == set(CLASSES)
    predictions = list(classifier.predict(videos["avi"].parent, top=2))  # a folder: its videos, sorted
    assert [p.video.name for p in predictions] == ["zoom.avi", "zoom.mp4"]
    assert all(len(p.top) == 2 for p in predictions)
    assert main([str(videos["avi"]), "--checkpoint", str(shared_demo.model("mict_resnet18")), "--json", "--top", "2"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["top"] == [s.to_json() for s in predictions[0].top]


def test_top_larger_than_the_classes_prints_every_class(shared_demo, videos, capsys):
    assert main([str(videos["avi"]), "--checkpoint", str(shared_demo.model("mict_resnet18")), "--top", "10"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == 3 and {row.split()[-1] for row in rows} == set(CLASSES)


@pytest.mark.parametrize("top", ["0", "-2", "many"])
def test_top_must_be_a_positive_number(checkpoints, videos, top, capsys):
    with pytest.raises(SystemExit) as done:
        main([str(videos["avi"]), "--checkpoint", str(checkpoints / "best.pt"), "--top", top])
    assert done.value.code == 2 and "--top" in capsys.readouterr().err


def test_original_checkpoint_with_its_architecture(tmp_path, videos):
    torch.manual_seed(0)
    original = OriginalMiCTResNet((2, 2, 2, 2), first_kernel_depth=5)
    torch.save({"epoch": 120, "state_dict": original.state_dict(), "optimizer": {}, "best_pred": 63.3}, tmp_path / "mict.pth.tar")
    done = predict(str(videos["avi"]), "--checkpoint", "mict.pth.tar", "--arch", "mict_resnet18", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    top = json.loads(done.stdout)["top"]
    assert len(top) == 5 and all(UCF101_CLASSES[row["label"]] == row["class"] for row in top)  # classInd order
    refused = predict(str(videos["avi"]), "--checkpoint", "mict.pth.tar", cwd=tmp_path)
    assert refused.returncode == 2 and "name its architecture (--arch mict_resnet18" in refused.stderr


def test_project_shortcut_resolves_the_experiment(shared_demo, videos, capsys, monkeypatch):
    monkeypatch.chdir(shared_demo.path / "conf")  # anywhere inside the project
    assert main([str(videos["avi"]), "--experiment", "resnet3d_18", "--split", "2", "--env", "demo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["checkpoint"].endswith("data/demo/06_models/split_2/resnet3d_18/best.pt")
    assert main([str(videos["avi"]), "--experiment", "mict_resnet34_v2", "--env", "demo"]) == 2
    error = capsys.readouterr().err
    assert "split_1/mict_resnet34_v2/best.pt: not found; experiments with a best.pt on split 1: mict_resnet18, resnet3d_18" in error
    assert "(train with `kedro run --env demo --pipelines=train --namespaces=split_1.mict_resnet34_v2`" in error
    assert main([str(videos["avi"]), "--experiment", "r3d_18", "--env", "demo"]) == 2
    assert "experiment 'r3d_18' is not defined in environment 'demo' (defined: mict_resnet18, resnet3d_18, " in capsys.readouterr().err


def _bad_inputs(tmp_path: Path, checkpoint: Path) -> list[tuple[list[str], str]]:
    empty, noise, text, folder = tmp_path / "empty.avi", tmp_path / "noise.mp4", tmp_path / "notes.pt", tmp_path / "nothing"
    empty.write_bytes(b"")
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    text.write_text("not a checkpoint\n")
    folder.mkdir()
    (folder / "readme.txt").write_text("no videos here")
    newer = tmp_path / "newer.pt"
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION + 1, "experiment": {}, "model": {}}, newer)
    good = ["--checkpoint", str(checkpoint)]
    return [
        ([str(tmp_path / "missing.avi"), *good], f"error: {tmp_path / 'missing.avi'}: no such file or folder"),
        ([str(empty), *good], f"error: {empty}: empty file (0 bytes)"),
        ([str(noise), *good], f"error: {noise}: cannot be opened as a video"),
        ([str(folder), *good], f"error: {folder}: folder holds no video file (.avi, .mp4"),
        ([str(empty), "--checkpoint", str(text)], f"error: {text}: not a PyTorch checkpoint"),
        ([str(empty), "--checkpoint", str(newer)], f"error: {newer}: checkpoint format version {FORMAT_VERSION + 1}, but this mict-pipeline reads versions up to {FORMAT_VERSION}"),
        ([str(empty), "--checkpoint", str(tmp_path)], f"error: {tmp_path}: is a directory, not a checkpoint file"),
    ]


def test_bad_inputs_give_one_line_and_status_2(checkpoints, tmp_path, capsys):
    for args, message in _bad_inputs(tmp_path, checkpoints / "best.pt"):
        assert main(args) == 2, args
        out, err = capsys.readouterr()
        assert out == "" and err.splitlines() == [err.strip()] and err.startswith(message), (args, err)


def test_a_bad_input_from_the_command_line_has_no_traceback(checkpoints, tmp_path):
    (tmp_path / "noise.avi").write_bytes(b"RIFF garbage")
    done = predict(str(tmp_path / "noise.avi"), "--checkpoint", "best.pt", cwd=checkpoints)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [f"error: {tmp_path / 'noise.avi'}: cannot be opened as a video (corrupt or unsupported format)"]


def test_one_bad_video_among_good_ones(checkpoints, videos, tmp_path, capsys):
    (tmp_path / "broken.avi").write_bytes(b"RIFF garbage")
    assert main([str(videos["avi"]), str(tmp_path / "broken.avi"), "--checkpoint", str(checkpoints / "best.pt"), "--json"]) == 2
    out, err = capsys.readouterr()
    assert [json.loads(line)["video"] for line in out.splitlines()] == [str(videos["avi"])]  # the good one is still scored
    assert err.strip() == f"error: {tmp_path / 'broken.avi'}: cannot be opened as a video (corrupt or unsupported format)"


def test_every_usable_video_is_scored_and_each_unusable_path_named_once(checkpoints, videos, tmp_path, capsys):
    """A missing file, a folder without videos and a broken video among good ones: the command
    scores the good ones and names each bad path in one line, in order (exit 2); the Python API
    yields a prediction with its error for each bad path and scores the others."""
    (tmp_path / "broken.avi").write_bytes(b"RIFF garbage")
    (tmp_path / "nothing").mkdir()
    bad = [tmp_path / "missing.avi", tmp_path / "nothing", tmp_path / "broken.avi"]
    paths = [str(bad[0]), str(videos["avi"]), str(bad[1]), str(bad[2]), str(videos["mp4"])]
    assert main([*paths, "--checkpoint", str(checkpoints / "best.pt"), "--json"]) == 2
    out, err = capsys.readouterr()
    assert [json.loads(line)["video"] for line in out.splitlines()] == [str(videos["avi"]), str(videos["mp4"])]
    lines = err.splitlines()
    assert len(lines) == len(bad) and all(line.startswith(f"error: {path}: ") for line, path in zip(lines, bad)), lines
    predictions = list(Classifier.from_checkpoint(checkpoints / "best.pt", device="cpu").predict(paths, top=2))
    assert [(p.video, bool(p.error), len(p.top)) for p in predictions] == [
        (bad[0], True, 0), (videos["avi"], False, 2), (bad[1], True, 0), (bad[2], True, 0), (videos["mp4"], False, 2),
    ]
    assert predictions[0].error == f"{bad[0]}: no such file or folder"


TINY = Experiment(
    name="tiny", arch="mict_resnet18", model=ModelOptions(width=8), recipe=Recipe(eval_batch_size=2),
    clips=ClipConfig(clip_len=8, output_size=16, crop_sizes=(24, 32), video_frames=24),
    dataset=DatasetSpec(name="motions", class_names=tuple(CLASSES), frames=FrameSpec(width=40, height=32)),
)


def _has_batchnorm(model: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())


def test_predict_runs_the_fast_path_on_the_cpu_with_the_same_scores(videos, tmp_path, randomize_batchnorm, capsys, monkeypatch):
    torch.manual_seed(0)
    model = TINY.build_model()
    randomize_batchnorm(model)
    checkpoint = save_checkpoint(tmp_path / "best.pt", model, TINY)
    fast = Classifier.from_checkpoint(checkpoint, device="cpu")
    plain = Classifier.from_checkpoint(checkpoint, device="cpu", fast=False)
    assert not _has_batchnorm(fast.model) and _has_batchnorm(plain.model)
    for video in videos.values():
        got, expected = fast.scores(video), plain.scores(video)
        assert got.argmax() == expected.argmax()
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)

    # The command: the fast path by default, --plain the model as trained.
    ran = []
    monkeypatch.setattr(predict_module, "inference_model", lambda *args, **kwargs: ran.append(inference_model(*args, **kwargs)) or ran[-1])
    command = [str(videos["avi"]), "--checkpoint", str(checkpoint), "--device", "cpu", "--json", "--top", "3"]
    assert main(command) == 0 and main([*command, "--plain"]) == 0
    assert not _has_batchnorm(ran[0]) and _has_batchnorm(ran[1])
    by_fast, by_plain = (json.loads(line)["top"] for line in capsys.readouterr().out.splitlines())
    assert [row["class"] for row in by_fast] == [row["class"] for row in by_plain]
    assert np.allclose([row["probability"] for row in by_fast], [row["probability"] for row in by_plain], rtol=0, atol=1e-5)


def test_scores_that_overflow_are_one_line_and_never_printed(videos, tmp_path, capsys, monkeypatch):
    """Finite weights so large the logits overflow: softmax gives NaN, which neither the text nor
    the JSON output ever shows (strict JSON has no NaN); one line names the checkpoint instead, and
    (no --env, no KEDRO_ENV) says whose configuration the fix is in."""
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    torch.manual_seed(0)
    model = TINY.build_model()
    with torch.no_grad():
        model.fc.weight.fill_(3e38)
    checkpoint = save_checkpoint(tmp_path / "best.pt", model, TINY)
    for output in ([], ["--json"]):
        assert main([str(videos["avi"]), "--checkpoint", str(checkpoint), "--device", "cpu", *output]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.splitlines() == [
            f"error: {checkpoint}: the model gives non-finite scores (NaN or infinite) for 1 of 1 items, its weights overflow "
            "on them; retrain it with a lower `lr:` in its experiment's `recipe:` in conf/<the environment that trained it>/parameters.yml"
        ], err
