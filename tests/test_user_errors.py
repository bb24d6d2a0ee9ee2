"""Each mistake a user can make in a run ends `kedro run` and `mict-pipeline run` alike in one line
on stderr, exit status 2, without a traceback, naming the option, key or folder, the environment and
the fix (issue 25). In-process, in the shared tiny demo; a run that gets as far as writing writes
under ``run_root`` in the test's folder, never in the shared project."""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.error import URLError

import pytest
import torch
from click.testing import CliRunner

from mict_pipeline import __main__ as mict_pipeline_main
from mict_pipeline.io import disk
from mict_pipeline.pipelines import experiments

TRAIN_ONE = ["--env", "demo", "--pipelines=train", "--namespaces=split_1.mict_resnet18"]


def _kedro(project: Path, args: list[str]):
    from kedro.framework.cli.cli import KedroCLI

    return CliRunner().invoke(KedroCLI(project), ["run", *args])


def _mict_pipeline(project: Path, args: list[str]):
    return CliRunner().invoke(mict_pipeline_main.cli, ["run", *args])


def _offline(monkeypatch, tmp_path):
    import torch.hub

    def no_network(url, *args, **kwargs):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # nothing cached
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)


def _full_disk(monkeypatch, tmp_path):
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda path: usage(2**40, 2**40 - 2**20, 2**20))


def _file_in_the_way(monkeypatch, tmp_path):
    # Root writes into read-only folders: a file where a folder must go is refused to anyone.
    (tmp_path / "file").write_text("")


def _another_run(monkeypatch, tmp_path):
    """Another process holds the run's lock (the train stage's folders' common root) while this one runs."""
    code = f"""
        import sys, time
        from pathlib import Path
        from mict_pipeline.hooks import RunLock
        RunLock(Path({str(tmp_path / "run")!r})).acquire("demo")
        print("held", flush=True)
        sys.stdin.read()
    """
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    return holder


def _yaml_typo(monkeypatch, tmp_path):
    """The project's configuration, copied, with a list left open in the demo's parameters."""
    shutil.copytree(Path.cwd() / "conf", tmp_path / "conf")
    with (tmp_path / "conf" / "demo" / "parameters_train.yml").open("a") as file:
        file.write("training:\n  experiments: [mict_resnet18\n")


# (entry point, arguments, setup, what the line names: the option or key, the environment, the fix)
CASES = {
    "unknown pipeline (kedro)": (
        _kedro, ["--env", "demo", "--pipelines=trian"], None,
        ["--pipelines: no pipeline 'trian' (environment demo); valid: benchmark, download, evaluate, prepare, report, synthetic, train"],
    ),
    "unknown pipeline (mict-pipeline)": (
        _mict_pipeline, ["--env", "demo", "--pipelines=train,evalute"], None, ["no pipeline 'evalute' (environment demo); valid: "],
    ),
    "unknown environment (kedro)": (
        _kedro, ["--env", "dmeo"], None,
        ["--env dmeo: no environment 'dmeo'", "environments: base, demo, ", "`mict-pipeline new-env dmeo --format {ucf101,hmdb51,kinetics,folder} --videos PATH`"],
    ),
    "unknown environment (mict-pipeline)": (_mict_pipeline, ["--env", "dmeo"], None, ["--env dmeo: no environment 'dmeo'", "new-env dmeo"]),
    "configuration file not valid YAML": (
        _mict_pipeline, [*TRAIN_ONE, "--conf-source={tmp}/conf"], _yaml_typo,
        ["{tmp}/conf/demo/parameters_train.yml line ", ": not valid YAML (", "Fix: correct the file there"],
    ),
    "misspelt experiment": (
        _kedro, [*TRAIN_ONE, "--params=experiments.mict_resnt18.recipe.limit_epochs=1"], None,
        ["experiments.mict_resnt18.recipe.limit_epochs: unknown experiment 'mict_resnt18'; valid: mict_resnet18, resnet3d_18",
         "conf/demo/parameters*.yml", "`arch:`"],
    ),
    "CUDA device without CUDA": (
        _mict_pipeline, [*TRAIN_ONE, "--params=training.defaults.device=cuda,run_root={tmp}/run"], None,
        ["training.defaults.device", "conf/demo/parameters*.yml: 'cuda', but this machine has no CUDA device", "`device: cpu`"],
    ),
    "ImageNet weights offline": (
        _kedro, [*TRAIN_ONE, "--params=experiments.mict_resnet18.model.pretrained=true,experiments.mict_resnet18.model.width=64,run_root={tmp}/run"], _offline,
        ["model.pretrained: true: torchvision's ImageNet ResNet-18 weights", "name resolution", "conf/demo/parameters.yml",
         "under experiments.mict_resnet18.model",
         "`pretrained: /path/to/resnet18-f37072fd.pth`", "`pretrained: false`"],
    ),
    "unwritable data folder": (
        _mict_pipeline, [*TRAIN_ONE, "--params=run_root={tmp}/file/run"], _file_in_the_way,
        ["{tmp}/file/run/06_models/split_1/mict_resnet18: the run cannot write there (Not a directory", "conf/demo/globals.yml"],
    ),
    "full data folder": (
        _kedro, [*TRAIN_ONE, "--params=run_root={tmp}/run"], _full_disk,
        ["Not enough free disk space to start a run writing {tmp}/run/06_models/split_1/mict_resnet18", "conf/demo/globals.yml"],
    ),
    "second run at once": (
        _kedro, [*TRAIN_ONE, "--params=run_root={tmp}/run"], _another_run,
        ["{tmp}/run (environment demo): another run is writing there (pid ", " `-c`, since ", "wait for it to end"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_users_mistake_is_one_line_naming_the_key_the_environment_and_the_fix(case, shared_demo, tmp_path, monkeypatch):
    if case == "CUDA device without CUDA" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    entry_point, args, setup, named = CASES[case]
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    monkeypatch.setattr(experiments, "_session_plan", None)  # the session sets it for its environment
    monkeypatch.chdir(shared_demo.path)
    holder = setup(monkeypatch, tmp_path) if setup else None
    try:
        done = entry_point(shared_demo.path, [arg.replace("{tmp}", str(tmp_path)) for arg in args])
    finally:
        if holder is not None:
            holder.communicate("")
    lines = done.stderr.splitlines()
    assert done.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error: "), done.stderr + done.stdout
    assert "Traceback" not in done.output
    for part in named:
        assert part.replace("{tmp}", str(tmp_path)) in lines[0], lines[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_predict_on_a_cuda_device_without_cuda_is_one_line(shared_demo, tmp_path, capsys):
    from mict_pipeline.predict import main as predict

    (tmp_path / "clip.avi").write_bytes(b"")  # never read: the device is refused first
    assert predict([str(tmp_path / "clip.avi"), "--checkpoint", str(shared_demo.model("mict_resnet18")), "--device", "cuda"]) == 2
    shown = capsys.readouterr()
    assert shown.out == "" and shown.err == (
        "error: --device: 'cuda', but this machine has no CUDA device. Fix: pass `--device cpu`, or leave --device out "
        "(auto: CUDA when there is one, else the CPU)\n"
    )
