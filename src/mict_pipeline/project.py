"""The project on disk: where it is, and an environment's configuration read with Kedro's loader.

Used where no Kedro session exists: the pipeline registry before a session, ``predict
--experiment`` and the DVC stage generator. Kedro is imported only when a configuration is read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_ENV = "base"
DEFAULT_RUN_ENV = "local"  # Kedro's default environment for personal settings (git-ignored)
# Kedro's config loader (settings.py uses these): environments override single keys of conf/base,
# not whole top-level blocks.
CONFIG_LOADER_ARGS = {"base_env": BASE_ENV, "default_run_env": DEFAULT_RUN_ENV, "merge_strategy": {"parameters": "soft"}}


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


def configuration(project: str | os.PathLike, env: str | None = None) -> Any:
    """Kedro's config loader for ``env`` (default :func:`active_env`) of the project: ``["parameters"]``,
    ``["catalog"]`` and ``["globals"]`` as a session of that environment reads them."""
    from kedro.config import OmegaConfigLoader  # not settings: that sets up Kedro's logging (on stdout)

    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    return OmegaConfigLoader(conf_source=str(Path(project) / "conf"), env=active_env(env), **args)


def catalog_folder(project: str | os.PathLike, env: str | None, name: str) -> Path:
    """The folder the catalog's dataset ``name`` (a ``*_dir`` MemoryDataset, factories resolved)
    points to, relative to the project."""
    from kedro.io import DataCatalog

    catalog = DataCatalog.from_config(configuration(project, env)["catalog"])
    return Path(project) / catalog.get(name).load()  # not catalog.load: it logs, and Kedro logs to stdout
