"""`mict-pipeline`: a front page listing the commands, each command's help with examples, and the
entry point's old forms (no command, Kedro run options first) still running the pipelines."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mict_pipeline import __main__ as cli_module

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINT = Path(sys.executable).parent / "mict-pipeline"  # pyproject.toml's [project.scripts]
COMMANDS = ["run", "predict", "dvc-stages", "new-env"]


def mict_pipeline(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    # Help is wrapped to the terminal's width: 80 columns, as in a terminal of the default size.
    env = {**os.environ, "COLUMNS": "80", "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
    return subprocess.run([ENTRY_POINT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("option", ["--help", "-h"])
def test_the_front_page_lists_each_command_on_one_line(option):
    shown = mict_pipeline(option)
    assert shown.returncode == 0 and shown.stderr == "", shown.stderr
    assert "INFO" not in shown.stdout and "Traceback" not in shown.stdout
    assert shown.stdout.startswith("Usage: mict-pipeline [OPTIONS] COMMAND [ARGS]...\n")
    listed = shown.stdout.split("\nCommands:\n", 1)[1].splitlines()
    assert [re.match(r"  (\S+) {2,}\S", line).group(1) for line in listed] == COMMANDS  # no line wrapped


def test_the_front_page_imports_neither_kedro_nor_torch():
    """Its help is at hand at once: neither the Kedro project nor the models are loaded for it."""
    code = (
        "import sys\nfrom mict_pipeline.__main__ import main\ntry:\n    main(['--help'])\nexcept SystemExit as done:\n"
        "    assert done.code == 0\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'kedro', 'torch'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.endswith("[]\n"), done.stdout + done.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_gives_examples(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli_module.main([command, "--help"])
    shown = capsys.readouterr()
    assert done.value.code == 0 and shown.err == "", shown.err
    examples = re.split(r"\n *examples:\n", shown.out, flags=re.IGNORECASE)[1]
    assert re.search(rf"^ +mict-pipeline {command} \S", examples, flags=re.MULTILINE), shown.out


def test_run_options_without_a_command_are_run():
    shown = mict_pipeline("run", "--help")
    assert shown.returncode == 0 and shown.stderr == "" and "INFO" not in shown.stdout  # Kedro imported quietly
    assert "--pipelines TEXT" in shown.stdout  # Kedro's run options
    assert mict_pipeline("--env", "demo", "--help").stdout == shown.stdout


def test_run_is_the_projects_own_run_command_for_kedro_and_mict_pipeline():
    """Kedro takes the project's run from mict_pipeline.cli, as mict-pipeline does: an environment
    without a folder is refused by it, in one line (tests/test_user_errors.py has the others)."""
    from kedro.framework.cli.utils import find_run_command

    from mict_pipeline import cli

    assert find_run_command("mict_pipeline") is cli.run
    done = mict_pipeline("--env", "no_such_env")
    assert done.returncode == 2 and done.stderr.startswith("Error: --env no_such_env: no environment 'no_such_env'")


def test_run_runs_in_the_project_root_from_any_folder_of_it(monkeypatch):
    """The catalog's relative folders are the project's whatever the current folder; it is restored after."""
    from kedro.framework import project
    from kedro.framework.cli.project import run as kedro_run

    ran_in = []
    monkeypatch.setattr(project, "configure_project", lambda name: None)
    monkeypatch.setattr(kedro_run, "callback", lambda **options: ran_in.append(Path.cwd()))
    monkeypatch.chdir(ROOT / "data")
    cli_module.main(["--env", "demo", "--pipelines=report"], standalone_mode=False)
    assert ran_in == [ROOT] and Path.cwd() == ROOT / "data"


def test_run_configures_the_project_and_passes_kedros_options(monkeypatch):
    from kedro.framework import project
    from kedro.framework.cli.project import run as kedro_run

    calls = []
    monkeypatch.setattr(project, "configure_project", lambda name: calls.append(("configure", name)))
    monkeypatch.setattr(kedro_run, "callback", lambda **options: calls.append(("run", options)))
    assert cli_module.main(["--env", "demo", "--pipelines=train,evaluate"], standalone_mode=False) is None
    assert [call[0] for call in calls] == ["configure", "run"] and calls[0][1] == "mict_pipeline"
    assert calls[1][1]["env"] == "demo" and calls[1][1]["pipelines"] == ["train", "evaluate"]


def test_predict_keeps_its_exit_status_and_one_line_errors(tmp_path):
    done = mict_pipeline("predict", "missing.mp4", "--checkpoint", "best.pt", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", "error: missing.mp4: no such file or folder\n")
    usage = mict_pipeline("predict", cwd=tmp_path)  # argparse's usage error, as before
    assert usage.returncode == 2 and usage.stderr.splitlines()[-1].startswith("mict-pipeline predict: error: ")


def test_dvc_stages_writes_the_environments_asked_for(monkeypatch):
    from mict_pipeline import dvc_stages

    asked = []
    monkeypatch.setattr(dvc_stages, "main", lambda envs: asked.append(envs) or 0)
    with pytest.raises(SystemExit) as done:
        cli_module.main(["dvc-stages", "demo", "base"])
    assert done.value.code == 0 and asked == [["demo", "base"]]
    assert cli_module.main(["dvc-stages"], standalone_mode=False) == 0
    assert asked[-1] == []  # dvc_stages.main: no environment is the committed ones
