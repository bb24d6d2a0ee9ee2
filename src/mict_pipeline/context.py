"""The project's Kedro context: parameters checked as a whole, pipelines built for the session.

Kedro creates the context for every session, however it is made (``kedro run --env``,
``KEDRO_ENV``, ``KedroSession.create(env=...)`` in a script or notebook, ``kedro viz``). Here it

* checks every parameter against :class:`~mict_pipeline.parameters.ProjectParameters`, so a typo
  anywhere (also in a top-level key no node reads) or a wrong type stops the session before any
  node runs, in one line naming each key path and the valid keys; a misspelt experiment name (a
  block of ``experiments`` without ``arch``, as ``--params=experiments.<typo>.recipe...`` makes)
  is named as such, with the valid names;
* hands the session's experiments, dataset and splits to the pipeline registry and has the pipelines built
  again when they change, so every way of making a session gives the same pipelines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from kedro.framework.context import KedroContext
from kedro.framework.project import pipelines

from mict_pipeline.config import ParameterError
from mict_pipeline.errors import for_environment
from mict_pipeline.parameters.project import ProjectParameters
from mict_pipeline.pipelines.experiments import use_session_parameters


class ConfigurationError(click.ClickException):
    """Invalid parameters: Kedro's command line prints the message alone, without a traceback."""

    exit_code = 2


def _keys(block: Any, path: str) -> list[str]:
    """The key paths of a nested block's values: ``recipe.lr`` for ``{"recipe": {"lr": 0.1}}``."""
    if not isinstance(block, Mapping) or not block:
        return [path]
    return [key for name, value in block.items() for key in _keys(value, f"{path}.{name}")]


def _check_experiment_names(experiments: Any, env: str | None) -> None:
    """Every experiment block names its ``arch``; one without is a misspelt name (Kedro merges
    ``--params=experiments.<typo>.recipe.lr=...`` into a new block), named with the valid ones."""
    if not isinstance(experiments, Mapping):
        return
    valid = [name for name, block in experiments.items() if isinstance(block, Mapping) and "arch" in block]
    for name, block in experiments.items():
        if name not in valid:
            raise ConfigurationError(
                f"{', '.join(_keys(block, f'experiments.{name}'))}: unknown experiment {name!r}; valid: {', '.join(valid)} "
                f"(environment {env or 'base'!r}). Fix: use one of these names (in --params or conf/{env or 'base'}/parameters*.yml), "
                f"or define the new experiment with its `arch:` under experiments.{name}"
            )


class ProjectContext(KedroContext):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        values = self.config_loader["parameters"]
        _check_experiment_names(values.get("experiments"), self.env)
        try:
            parameters = ProjectParameters.model_validate(values, where="")
        except ParameterError as error:
            raise ConfigurationError(f"invalid parameters (environment {self.env!r}): {for_environment(str(error), self.env)}") from None
        if use_session_parameters(parameters):
            # Build them again, still only the pipelines the run asked for (Kedro imports no others).
            requested = pipelines._requested_pipelines
            pipelines.configure(f"{self._package_name}.pipeline_registry")
            pipelines.set_requested(requested)
