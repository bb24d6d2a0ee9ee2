"""A copy of the project with a tiny demo environment, for tests that run it end to end.

The demo environment shrinks to 3 classes, 40x32 frames, narrow width-8 models and one epoch, so
every stage runs in seconds through the same code as the real demo. ``tests/conftest.py`` reproduces
one such copy once per session (``demo_repo``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SPLITS = (1, 2, 3)
EXPERIMENTS = ("mict_resnet18", "resnet3d_18")
CLASSES = ["MoveUp", "ZoomIn", "Twist"]

# Deep-merged into the copies of conf/ files.
TINY = {
    "base/parameters_synthetic.yml": {
        "synthetic": {"motions": {"classes": CLASSES, "groups": 15, "clips_per_group": [1, 1], "frames": [16, 24], "short_fraction": 0.0}}
    },
    "demo/parameters.yml": {
        "experiments": {
            name: {"model": {"width": 8}, "recipe": {"epochs": 1, "batch_size": 4, "lr_milestones": []}} for name in EXPERIMENTS
        },
    },
    "demo/parameters_download.yml": {"download": {"archives": {"videos": {"sha256": None}, "splits": {"sha256": None}}}},
    "demo/parameters_prepare.yml": {"prepare": {"frames": {"width": 40, "height": 32}, "workers": 1}},
    "demo/parameters_train.yml": {
        "training": {"defaults": {"workers": 0, "eval_batch_size": 8}, "clips": {"clip_len": 8, "crop_sizes": [24, 32], "output_size": 16, "video_frames": 16}}
    },
    "demo/parameters_benchmark.yml": {"benchmark": {"frames": 8, "size": 32, "warmup": 1, "iters": 1, "loader_clips": 4}},
}


def merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def project_env(**extra: str) -> dict[str, str]:
    """The environment of a command run in a project copy: this venv's tools, the demo, no telemetry."""
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "KEDRO_ENV": "demo",
        "KEDRO_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        **extra,
    }


def copy_project(dest: Path, overlay: dict[str, dict] = TINY) -> Path:
    """The project's conf, code, DVC set-up and committed data layout in ``dest``, with ``overlay``
    deep-merged into the conf files it names; an empty conf/local."""
    for name in ("conf", "src", ".dvc"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "tmp", "cache"))
    shutil.rmtree(dest / "conf" / "local")
    (dest / "conf" / "local").mkdir()
    (dest / "conf" / "local" / ".gitkeep").touch()
    for name in ("pyproject.toml", ".telemetry", ".gitignore", ".dvcignore", "dvc.yaml"):
        shutil.copy(ROOT / name, dest / name)
    # The data layer folders as committed (placeholders only): a DVC out must not be tracked by git.
    tracked = subprocess.run(["git", "ls-files", "data"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in tracked:
        if name.endswith(".gitkeep"):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, dest / name)
    for relpath, extra in overlay.items():
        path = dest / "conf" / relpath
        path.write_text(yaml.safe_dump(merge(yaml.safe_load(path.read_text()), extra), sort_keys=False))
    return dest


def _running_commands_state(folder: str, names: list[str]) -> list[str]:
    path = Path(folder)
    return ["tmp"] if path.name == ".dvc" else ["index.lock"] if path.name == ".git" else []


@dataclass
class DemoRepo:
    """A reproduced project: run commands in it, read its outputs, copy it to change it."""

    path: Path
    repro_output: str = ""  # what the first `dvc repro conf/demo/dvc.yaml` printed

    def run(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        done = subprocess.run(args, cwd=self.path, env=project_env(**env), capture_output=True, text=True)
        if check:
            assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def copy(self, dest: Path) -> DemoRepo:
        """A full copy (git history, DVC cache, outputs) to change without touching the shared one.
        Without the locks of a command running in it meanwhile (another worker's): DVC's state and
        locks (.dvc/tmp, made again) and git's index lock."""
        shutil.copytree(self.path, dest, symlinks=True, ignore=_running_commands_state)
        return DemoRepo(dest)

    @property
    def data(self) -> Path:
        """The demo environment's data root."""
        return self.path / "data" / "demo"

    def model(self, experiment: str, split: int = 1, name: str = "best.pt") -> Path:
        return self.data / "06_models" / f"split_{split}" / experiment / name
