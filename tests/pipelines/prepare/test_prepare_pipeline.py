"""The prepare pipeline through Kedro, in-process, on a copy of the reproduced tiny demo: what a stopped
prepare leaves, counts that agree with the tables, training refusing tables of another prepare, a
wrong dataset path as one line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from mict_pipeline.hooks import RunError
from mict_pipeline.pipelines import experiments

# The published set: replaced together by a prepare that passes its check, untouched by one that stops.
PUBLISHED = (
    "05_model_input/dataset.json", "05_model_input/prepared.json", "03_primary/frame_index.csv",
    "08_reporting/data_quality.json", "08_reporting/split_summary.csv",
    *(f"05_model_input/split_{s}/{t}.csv" for s in (1, 2, 3) for t in ("train", "test", "excluded")),
)


def _digests(data: Path) -> dict[str, str]:
    return {name: hashlib.sha256((data / name).read_bytes()).hexdigest() for name in PUBLISHED}


def _run(project: Path, **kwargs) -> None:
    with KedroSession.create(project_path=project, env="demo") as session:
        session.run(**kwargs)


def _edit(path: Path, block: str, **values) -> None:
    conf = yaml.safe_load(path.read_text())
    conf[block].update(values)
    path.write_text(yaml.safe_dump(conf, sort_keys=False))


@pytest.fixture
def project(shared_demo, tmp_path, monkeypatch) -> Path:
    copy = shared_demo.copy(tmp_path / "project").path
    monkeypatch.chdir(copy)  # the catalog's paths start at the project root
    monkeypatch.setattr(experiments, "_session_plan", None)  # put back at teardown
    bootstrap_project(copy)
    return copy


def test_a_stopped_prepare_leaves_the_previous_set_and_training_refuses_a_mix(project):
    data = project / "data" / "demo"
    before = _digests(data)
    test = pd.read_csv(data / "05_model_input/split_1/test.csv")
    video = test["video"].iloc[0]
    (data / "01_raw/unpacked/videos/UCF-101" / f"{video}.avi").write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage")
    (data / "03_primary/frames" / f"{video}.frames").unlink()  # extracted again, and failing

    # The demo allows no unusable video: prepare stops, names the list, and the published set is as it was.
    with pytest.raises(RunError, match=r"1 of 45 listed videos are unusable .*conf/demo/parameters_prepare.yml.*08_reporting/unusable_videos.csv"):
        _run(project, pipeline_names=["prepare"])
    assert _digests(data) == before
    unusable = pd.read_csv(data / "08_reporting/unusable_videos.csv")
    assert unusable["video"].tolist() == [video] and unusable["reason"].str.startswith("extraction failed").all()

    # Allowed one, prepare publishes a new set; split_summary counts what test.csv holds.
    old_test = (data / "05_model_input/split_1/test.csv").read_bytes()
    _edit(project / "conf/demo/parameters_prepare.yml", "prepare", max_failed_videos=1)
    _run(project, pipeline_names=["prepare"])
    new_test = pd.read_csv(data / "05_model_input/split_1/test.csv")
    assert len(new_test) == len(test) - 1 and video not in set(new_test["video"])
    summary = pd.read_csv(data / "08_reporting/split_summary.csv")
    split_1_test = summary[(summary["split"] == 1) & (summary["subset"] == "test")]
    assert (split_1_test["n_videos"].sum(), split_1_test["n_listed"].sum()) == (len(new_test), len(test))
    assert pd.read_csv(data / "05_model_input/split_1/test.csv").groupby("class_name").size().to_dict() == (
        split_1_test.set_index("class_name")["n_videos"].loc[lambda n: n > 0].to_dict()
    )

    # A prepare stopped between two saves leaves an older table beside the new ones: training refuses it.
    (data / "05_model_input/split_1/test.csv").write_bytes(old_test)
    with pytest.raises(RunError, match=r"split_1.test_index not from the prepare .*rerun `kedro run --env demo --pipelines=prepare`") as refused:
        _run(project, pipeline_names=["train"], node_names=["split_1.mict_resnet18.train"])
    assert "\n" not in str(refused.value.message) and refused.value.exit_code == 2


def test_a_wrong_videos_path_is_one_line_naming_the_key_and_the_environment(project):
    conf = project / "conf/demo/parameters_datasets.yml"
    datasets = yaml.safe_load(conf.read_text())
    datasets["datasets"]["ucf101"]["videos"] = {"archive": None, "path": "no/such/folder"}  # a local folder, mistyped
    conf.write_text(yaml.safe_dump(datasets, sort_keys=False))
    with pytest.raises(RunError) as stopped:
        _run(project, pipeline_names=["prepare"])
    message = stopped.value.message
    assert "\n" not in message and stopped.value.exit_code == 2
    assert "no/such/folder not found (datasets.ucf101.videos.path in conf/demo/parameters_datasets.yml)" in message
