"""The project on disk, read without Kedro: where it is and what its environments' parameters say.

Parameter files are plain YAML by the project's rule (no interpolation, no anchors: DVC tracks
them), so an environment's parameters are its files merged key by key over ``conf/base``'s, exactly
what Kedro's config loader gives with the soft merge ``settings.py`` sets (``tests/test_project.py``
checks both agree). Used where Kedro is not wanted or not running yet: the pipeline registry before
a session exists, and ``predict --experiment``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

BASE_ENV = "base"
DEFAULT_RUN_ENV = "local"  # Kedro's default environment for personal settings (git-ignored)


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


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_env(folder: Path) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for path in sorted(folder.glob("parameters*.y*ml")):
        params.update(yaml.safe_load(path.read_text()) or {})
    return params


def load_parameters(project: str | os.PathLike, env: str | None = None) -> dict[str, Any]:
    """The parameters of ``env`` (default :func:`active_env`) merged over ``conf/base``."""
    conf = Path(project) / "conf"
    return _merge(_read_env(conf / BASE_ENV), _read_env(conf / active_env(env)))
