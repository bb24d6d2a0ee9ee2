"""``mict-pipeline new-env``: an environment for one's own dataset, written, then run as a user runs it.

The end-to-end tests encode tiny real videos (OpenCV, from generated frames) in three of the
formats, make the environment with the command, run prepare -> train -> evaluate with one
``kedro run`` and predict with the command it printed. They use no shared fixture, so pytest-xdist
spreads them over its workers (``--dist loadgroup`` groups only the shared demo's tests).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from demo_project import BIN, copy_project, project_env
from mict_pipeline.__main__ import main
from mict_pipeline.datasets.synthetic import generate_hmdb51, generate_kinetics
from mict_pipeline.dvc_stages import StageWriter
from mict_pipeline.environments import EnvironmentSetupError, Machine, write_environment
from mict_pipeline.pipelines import experiments
from mict_pipeline.predict import main as predict_main
from test_dvc_stages import _leaves

TINY_VIDEOS = {"size": (40, 30), "frames": (16, 20), "workers": 1}
CLASSES = ["MoveUp", "Twist"]
# A model and data small enough for seconds: 1 epoch of a width-8 network on 32x24 frames.
TINY_RUN = ["--width", "8", "--epochs", "1", "--frame-size", "32x24"]
CPU = Machine(gpu=False, cores=2)


def _new_env(project: Path, monkeypatch, capsys, *args: str) -> str:
    """``mict-pipeline new-env`` in ``project``, in process; what it printed."""
    monkeypatch.chdir(project)
    main(["new-env", *args], standalone_mode=False)
    return capsys.readouterr().out


def _hmdb51(data: Path) -> list[str]:
    """An HMDB-51-format archive of per-class archives and the split files' archive."""
    generate_hmdb51(data, classes=CLASSES, videos_per_class=5, per_class={"train": 3, "test": 1}, **TINY_VIDEOS)
    return ["--videos", str(data / "hmdb51_org.zip"), "--lists", str(data / "test_train_splits.zip"), "--split", "1"]


def _kinetics(data: Path) -> list[str]:
    """A Kinetics-style CSV with two of its clips not downloaded."""
    generate_kinetics(data, classes=CLASSES, clips={"train": 4, "val": 2, "test": 0}, missing=2, **TINY_VIDEOS)
    return ["--videos", str(data / "clips"), "--lists", str(data / "annotations.csv"), "--dataset-name", "my clips"]


def _folder(data: Path) -> list[str]:
    """Class folders of videos (the Kinetics clips' <label>/<clip>.mp4 layout), no lists."""
    generate_kinetics(data, classes=CLASSES, clips={"train": 3, "val": 1, "test": 0}, missing=0, **TINY_VIDEOS)
    return ["--videos", str(data / "clips")]


def _assert_dvc_writes_them_back_unchanged(conf: Path) -> None:
    """As tests/test_dvc_stages.py checks the committed parameter files: `dvc exp run -S key=value`
    with each key's own value rewrites nothing."""
    from dvc.utils.hydra import apply_overrides

    for path in sorted(conf.glob("parameters*.yml")):
        text = path.read_text()
        for key, value in _leaves(yaml.safe_load(text)):
            if isinstance(value, list) and any(isinstance(item, dict) for item in value):
                continue  # a list of blocks (Kinetics' CSVs): not a value `-S` can set
            apply_overrides(str(path), [f"{key}='{value}'" if isinstance(value, str) else f"{key}={json.dumps(value)}"])
            assert path.read_text() == text, f"{path.name}: `dvc exp run -S {key}=...` rewrites more than {key}"


@pytest.mark.parametrize("dataset_format, make", [("folder", _folder), ("hmdb51", _hmdb51), ("kinetics", _kinetics)])
def test_a_new_environment_runs_prepare_train_evaluate_and_predict(dataset_format, make, tmp_path, monkeypatch, capsys):
    project = copy_project(tmp_path / "project", {})
    args = make(tmp_path / "videos")
    printed = _new_env(project, monkeypatch, capsys, "mine", "--format", dataset_format, *args, *TINY_RUN)
    conf = project / "conf" / "mine"
    assert "make repro KEDRO_ENV=mine" in printed and "kedro run --env mine" in printed
    # What conf/base says for UCF-101 on a GPU is written out for this dataset and this CPU.
    params = {}
    for path in conf.glob("parameters*.yml"):
        params.update(yaml.safe_load(path.read_text()))
    assert params["dataset"] == "mine" and params["datasets"]["mine"]["format"] == dataset_format
    assert params["experiments"]["mict_resnet18"]["model"] == {"pretrained": False, "zero_init_residual": True, "width": 8}
    assert params["prepare"]["frames"] == {"width": 32, "height": 24, "quality": 90}
    assert ("download" in params) == (dataset_format == "hmdb51")
    _assert_dvc_writes_them_back_unchanged(conf)

    run = subprocess.run(
        [str(BIN / "kedro"), "run", "--env", "mine", "--pipelines=download,prepare,train,evaluate"],
        cwd=project, env=project_env(KEDRO_ENV="mine"), capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    data = project / "data" / "mine"
    predictions = pd.read_csv(data / "07_model_output/split_1/mict_resnet18/predictions.csv")
    assert len(predictions) == len(pd.read_csv(data / "05_model_input/split_1/test.csv")) > 0
    missing = pd.read_csv(data / "08_reporting/missing_videos.csv")
    assert len(missing) == (2 if dataset_format == "kinetics" else 0)

    # The predict command it printed, on a test video.
    command = shlex.split(next(line for line in printed.splitlines() if "mict-pipeline predict" in line))
    video = pd.read_csv(data / "02_intermediate/video_files.csv")["path"].iloc[0]
    assert predict_main([video if arg == "VIDEO" else arg for arg in command[2:]] + ["--json"]) == 0
    top = json.loads(capsys.readouterr().out)["top"]
    spec = json.loads((data / "05_model_input/dataset.json").read_text())
    assert sorted(score["class"] for score in top) == sorted(spec["class_names"])
    assert spec["name"] == ("my clips" if dataset_format == "kinetics" else "mine")

    # `make repro KEDRO_ENV=mine`'s stages depend on the user's files outside the project, so a changed one reruns them.
    monkeypatch.setattr(experiments, "_session_plan", None)
    # (The stages' other deps are the installed package's files, outside this copy: only these are asked for.)
    writer = StageWriter(project, "mine")
    outside = {name: set(writer._read_sources(name)) for name in ("download", "prepare")}
    given = {arg for arg in args if arg.startswith(str(tmp_path))}
    assert outside == ({"download": given, "prepare": set()} if dataset_format == "hmdb51" else {"download": set(), "prepare": given})


def test_the_recipe_fits_the_machine_and_imagenet_weights_are_asked_for(tmp_path):
    generate_kinetics(tmp_path / "k", classes=CLASSES, clips={"train": 2, "val": 1, "test": 0}, missing=0, **TINY_VIDEOS)
    project = copy_project(tmp_path / "project", {})
    common = {"project": project, "dataset_format": "folder", "videos": tmp_path / "k/clips"}
    cpu = write_environment(name="on_cpu", machine=CPU, **common)
    gpu = write_environment(name="on_gpu", machine=Machine(gpu=True, cores=16), pretrained=True, **common)

    def params(written, file):
        return yaml.safe_load((written.folder / file).read_text())

    assert params(cpu, "parameters_prepare.yml")["prepare"]["frames"]["width"] == 64
    assert params(cpu, "parameters.yml")["experiments"]["mict_resnet18"]["model"]["pretrained"] is False
    # 2 of each class's 3 videos train: a batch of 8 would give no full batch, and train nothing.
    assert params(cpu, "parameters.yml")["experiments"]["mict_resnet18"]["recipe"]["batch_size"] == 4
    assert "batch_size: 4, the 4 training videos of split 1" in cpu.found
    assert params(cpu, "parameters_train.yml")["training"]["clips"]["output_size"] == 32
    model, recipe = params(gpu, "parameters.yml")["experiments"]["mict_resnet18"].values()
    assert model == {"pretrained": True, "zero_init_residual": False, "width": 64} and recipe["optimizer"] == "sgd"
    assert params(gpu, "parameters_prepare.yml")["prepare"]["frames"]["width"] == 256
    assert params(gpu, "parameters_train.yml")["training"]["clips"]["output_size"] == 160
    assert "parameters_benchmark.yml" not in gpu.files  # conf/base's protocol on a GPU


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "folder", "--videos", "nowhere"], r"--videos nowhere: no such file or folder"),
        (["--format", "hmdb51", "--videos", "{clips}", "--lists", "{clips}"], r"k/clips: no <class>_test_split<k>.txt files"),
        (["--format", "folder", "--videos", "{clips}", "--experiment", "mict_resnet81"], r"--experiment mict_resnet81: .*valid: .*mict_resnet18"),
        (["--format", "folder", "--videos", "{clips}", "--frame-size", "64"], r"--frame-size 64: not WIDTHxHEIGHT"),
    ],
)
def test_a_wrong_option_is_one_line_naming_it_and_nothing_is_written(args, message, tmp_path, monkeypatch, capsys):
    generate_kinetics(tmp_path / "k", classes=CLASSES, clips={"train": 2, "val": 1, "test": 0}, missing=0, **TINY_VIDEOS)
    project = copy_project(tmp_path / "project", {})
    monkeypatch.chdir(project)
    with pytest.raises(SystemExit) as stopped:
        main(["new-env", "mine", *(arg.format(clips=tmp_path / "k/clips") for arg in args)])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert re.search(message, err), err
    assert not (project / "conf" / "mine").exists() and not list((project / "conf").glob(".mine.*"))


def test_a_dataset_prepare_could_not_use_is_refused(tmp_path):
    generate_kinetics(tmp_path / "k", classes=CLASSES, clips={"train": 2, "val": 1, "test": 0}, missing=0, **TINY_VIDEOS)
    clips, annotations = tmp_path / "k/clips", (tmp_path / "k/annotations.csv").read_text().splitlines()
    train_csv = tmp_path / "train.csv"
    train_csv.write_text("\n".join(line for line in annotations if not line.endswith(",val")) + "\n")
    with pytest.raises(EnvironmentSetupError, match=r"--lists: hmdb51 needs one .* got 0\. Fix: give it once, e.g. --lists test_train_splits.rar$"):
        write_environment(tmp_path / "project", "mine", "hmdb51", clips, machine=CPU)
    with pytest.raises(EnvironmentSetupError, match=r"train.csv: no val clips listed, so the test split would be empty.* Fix: give the "
                       r"validation CSV with a second --lists, e.g. --lists validate.csv$"):
        write_environment(tmp_path / "project", "mine", "kinetics", clips, [train_csv], machine=CPU)
    # Videos in the project's data/ (here through a link, as to a larger disk): prepare would write among them.
    (tmp_path / "project").mkdir()
    (tmp_path / "project/data").symlink_to(tmp_path / "k")
    with pytest.raises(EnvironmentSetupError, match=r"--videos .*k/clips: inside the project's data/.* Fix: move them out of data/"):
        write_environment(tmp_path / "project", "mine", "folder", clips, machine=CPU)


def test_an_existing_environment_is_replaced_only_when_forced(tmp_path):
    generate_kinetics(tmp_path / "k", classes=CLASSES, clips={"train": 2, "val": 1, "test": 0}, missing=0, **TINY_VIDEOS)
    project = copy_project(tmp_path / "project", {})
    with pytest.raises(EnvironmentSetupError, match=r"conf/demo exists. Fix: .*--force"):
        write_environment(project, "demo", "folder", tmp_path / "k/clips", machine=CPU)
    assert (project / "conf/demo/dvc.lock").is_file()
    write_environment(project, "demo", "folder", tmp_path / "k/clips", machine=CPU, force=True)
    assert not (project / "conf/demo/dvc.lock").exists()
