"""Which experiments the train/evaluate/report pipelines are built for.

Kedro builds pipelines before it reads parameters for a run, but the per-experiment namespaces
depend on ``run_experiments`` of the active environment. So the registry reads that one key itself,
with the environment the run was asked for: ``--env``/``-e`` on the command line, else
``KEDRO_ENV``, else Kedro's default run environment.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from kedro.pipeline import Pipeline

from mict_pipeline import settings

SPLITS = (1, 2, 3)  # UCF-101's three official train/test splits


def active_env(argv: list[str] | None = None) -> str:
    argv = sys.argv if argv is None else argv
    for i, arg in enumerate(argv):
        if arg in ("--env", "-e") and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--env="):
            return arg.split("=", 1)[1]
    return os.environ.get("KEDRO_ENV") or settings.CONFIG_LOADER_ARGS["default_run_env"]


def project_conf() -> Path:
    """The project's ``conf`` folder, found from the working directory upwards (a notebook runs in
    ``notebooks/``, Kedro commands in the project root)."""
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "conf" / "base").is_dir() and (folder / "pyproject.toml").is_file():
            return folder / "conf"
    return Path("conf")


def load_parameters(conf_source: str | Path | None = None, env: str | None = None) -> dict:
    """The parameters of ``env`` (default: the active environment) merged over base, as Kedro loads them."""
    args = {k: v for k, v in settings.CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    conf = str(conf_source or project_conf())
    return settings.CONFIG_LOADER_CLASS(conf_source=conf, env=env or active_env(), **args)["parameters"]


def configured_experiments(conf_source: str | Path | None = None, env: str | None = None) -> list[str]:
    """``run_experiments`` of the active environment (base merged with it)."""
    return list(load_parameters(conf_source, env)["run_experiments"])


def per_split_and_experiment(
    template: Callable[[int, str], Pipeline], split_inputs: Iterable[str] = (), shared_inputs: Iterable[str] = ()
) -> Pipeline:
    """``template(split, experiment)`` for every configured experiment and split, each under
    namespace ``split_<n>.<experiment>``.

    In the template, ``params:experiment`` is that experiment's block, ``params:training`` and
    ``params:num_classes`` the shared ones; ``split_inputs`` come from the split's namespace
    (``split_<n>.<name>``) and ``shared_inputs`` from the top level.
    """
    pipelines = []
    for experiment in configured_experiments():
        for split in SPLITS:
            pipelines.append(
                Pipeline(
                    template(split, experiment),
                    namespace=f"split_{split}.{experiment}",
                    inputs={**{i: f"split_{split}.{i}" for i in split_inputs}, **{i: i for i in shared_inputs}},
                    parameters={
                        "params:experiment": f"params:experiments.{experiment}",
                        "params:training": "params:training",
                        "params:num_classes": "params:num_classes",
                    },
                )
            )
    return sum(pipelines, Pipeline([]))
