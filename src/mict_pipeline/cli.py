"""The project's ``run`` command: Kedro's own, run in the project root, its usage mistakes in one line.

Kedro takes a project's ``run`` from ``<package>.cli``: ``kedro run`` through its ``cli`` group,
``mict-pipeline run`` through Kedro's ``find_run_command``. This one checks what Kedro would
otherwise end with a traceback (an environment without a folder in ``conf/``, a configuration file
that is not valid YAML, a pipeline that is not registered) and runs Kedro's run in the project root, so the catalog's relative folders (the
``*_dir`` datasets) and the paths nodes write into their outputs are the same from any folder of
the project.
"""

from __future__ import annotations

import contextlib
import pkgutil
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run

import mict_pipeline.pipelines
from mict_pipeline.errors import UserError
from mict_pipeline.hooks import RunError
from mict_pipeline.project import active_env, check_configuration, find_project

DEFAULT_PIPELINE = "__default__"


def pipeline_names() -> list[str]:
    """The registered pipelines: Kedro's ``find_pipelines`` registers each package of
    ``mict_pipeline.pipelines`` under its name (pipeline_registry.py)."""
    return sorted(m.name for m in pkgutil.iter_modules(mict_pipeline.pipelines.__path__) if m.ispkg)


def check_pipelines(requested: list[str], env: str | None) -> None:
    valid = pipeline_names()
    unknown = [name for name in requested if name not in (*valid, DEFAULT_PIPELINE)]
    if unknown:
        raise RunError(
            f"--pipelines: no pipeline {', '.join(map(repr, unknown))} (environment {active_env(env)}); valid: "
            f"{', '.join(valid)} (without --pipelines: every one but synthetic)"
        )


def _run(**options: Any) -> Any:
    try:
        project = find_project()
    except FileNotFoundError as error:
        raise RunError(f"{error}: run it in the project or one of its folders") from None
    source = options.get("conf_source")
    if source and Path(source).exists():
        options["conf_source"] = source = str(Path(source).absolute())  # given relative to where the command was typed
    try:
        check_configuration(Path(source) if source else project / "conf", options.get("env"))
    except UserError as error:
        raise RunError(str(error)) from None
    check_pipelines([*(options.get("pipelines") or ()), *([options["pipeline"]] if options.get("pipeline") else [])], options.get("env"))
    with contextlib.chdir(project):
        return kedro_run.callback(**options)


@click.group()
def cli() -> None:
    """The project's Kedro commands."""


run = click.Command(
    "run", params=kedro_run.params, callback=_run, help=kedro_run.help, context_settings=kedro_run.context_settings
)
cli.add_command(run)
