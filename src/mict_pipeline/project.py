"""The project on disk: where it is, and an environment's configuration read with Kedro's loader.

Used where no Kedro session exists: the pipeline registry before a session, ``predict
--experiment`` and the DVC stage generator. Kedro is imported only when a configuration is read.
Before it is, :func:`check_configuration` makes the user's mistakes one line (an environment
without a folder, a YAML file that does not parse), as ``kedro run`` would otherwise end them in a
traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from mict_pipeline.errors import UserError

BASE_ENV = "base"
DEFAULT_RUN_ENV = "local"  # Kedro's default environment for personal settings (git-ignored)
# Kedro's config loader (settings.py uses these): environments override single keys of conf/base,
# not whole top-level blocks.
CONFIG_LOADER_ARGS = {"base_env": BASE_ENV, "default_run_env": DEFAULT_RUN_ENV, "merge_strategy": {"parameters": "soft"}}
#: The command that writes an environment for one's own data (``mict-pipeline new-env``).
NEW_ENV = "mict-pipeline new-env {name} --format {{ucf101,hmdb51,kinetics,folder}} --videos PATH"


class ConfigurationFileError(UserError):
    """An environment that does not exist, or a configuration file that is not valid YAML."""


def find_project(start: str | os.PathLike | None = None) -> Path:
    """The project root at or above ``start`` (default: the working directory): the first folder
    with ``conf/base`` and ``pyproject.toml`` (notebooks run in ``notebooks/``)."""
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "conf" / BASE_ENV).is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    raise FileNotFoundError(f"no mict-pipeline project (a folder with conf/{BASE_ENV} and pyproject.toml) at or above {start}")


def active_env(env: str | None = None) -> str:
    """``env``, else ``KEDRO_ENV``, else Kedro's default run environment."""
    return env or os.environ.get("KEDRO_ENV") or DEFAULT_RUN_ENV


def environments(conf: Path) -> list[str]:
    """The environments of a configuration folder: its sub-folders but ``base``."""
    return sorted(p.name for p in conf.iterdir() if p.is_dir() and p.name != BASE_ENV and not p.name.startswith("."))


def shown_path(path: Path) -> str:
    """``path`` as messages name it: relative to the working folder (the project root in a run) when inside it."""
    return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)


def check_configuration(conf: Path, env: str | None) -> None:
    """``env`` (default :func:`active_env`) has its folder in ``conf`` (Kedro's default, ``local``,
    may lack one; a packed ``--conf-source`` is Kedro's to read), and every YAML file Kedro would
    read for it (``conf/base`` and the environment's) parses; else one line naming the file and line."""
    name = active_env(env)
    if not conf.is_dir():
        return
    if name != DEFAULT_RUN_ENV and not (conf / name).is_dir():
        raise ConfigurationFileError(
            f"--env {name}: no environment {name!r} (no folder {conf.name}/{name}); environments: "
            f"{', '.join([BASE_ENV, *environments(conf)])}. Fix: pass one of them with `--env NAME`, or make one for your data: "
            f"`{NEW_ENV.format(name=name)}`"
        )
    for folder in (conf / BASE_ENV, conf / name):
        for path in sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()):
            try:
                yaml.safe_load(path.read_text())
            except yaml.YAMLError as error:
                mark = getattr(error, "problem_mark", None)
                where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
                problem = " ".join(str(getattr(error, "problem", None) or error).split())
                raise ConfigurationFileError(
                    f"{shown_path(path)}{where}: not valid YAML ({problem}). Fix: correct the file there (keys as `key: value`, "
                    "indented with spaces, not tabs; lists as `- item` lines or `[a, b]`)"
                ) from None


def configuration(project: str | os.PathLike, env: str | None = None) -> Any:
    """Kedro's config loader for ``env`` (default :func:`active_env`) of the project: ``["parameters"]``,
    ``["catalog"]`` and ``["globals"]`` as a session of that environment reads them, once
    :func:`check_configuration` passes."""
    from kedro.config import OmegaConfigLoader  # not settings: that sets up Kedro's logging (on stdout)

    check_configuration(Path(project) / "conf", env)

    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    return OmegaConfigLoader(conf_source=str(Path(project) / "conf"), env=active_env(env), **args)


def catalog_folder(project: str | os.PathLike, env: str | None, name: str) -> Path:
    """The folder the catalog's dataset ``name`` (a ``*_dir`` MemoryDataset, factories resolved)
    points to, relative to the project."""
    from kedro.io import DataCatalog

    catalog = DataCatalog.from_config(configuration(project, env)["catalog"])
    return Path(project) / catalog.get(name).load()  # not catalog.load: it logs, and Kedro logs to stdout
