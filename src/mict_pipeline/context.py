"""The project's Kedro context: parameters checked as a whole, pipelines built for the session.

Kedro creates the context for every session, however it is made (``kedro run --env``,
``KEDRO_ENV``, ``KedroSession.create(env=...)`` in a script or notebook, ``kedro viz``). Here it

* checks every parameter against :class:`~mict_pipeline.parameters.ProjectParameters`, so a typo
  anywhere (also in a top-level key no node reads) or a wrong type stops the session before any
  node runs, with one line per problem naming the key path and the valid keys;
* hands the session's experiments, dataset and splits to the pipeline registry and has the pipelines built
  again when they change, so every way of making a session gives the same pipelines.
"""

from __future__ import annotations

import click
from kedro.framework.context import KedroContext
from kedro.framework.project import pipelines

from mict_pipeline.config import ParameterError
from mict_pipeline.parameters.project import ProjectParameters
from mict_pipeline.pipelines.experiments import use_session_parameters


class ConfigurationError(click.ClickException):
    """Invalid parameters: Kedro's command line prints the message alone, without a traceback."""

    exit_code = 2


class ProjectContext(KedroContext):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        try:
            parameters = ProjectParameters.model_validate(self.config_loader["parameters"], where="")
        except ParameterError as error:
            raise ConfigurationError(f"invalid parameters (environment {self.env!r}): {error}") from None
        if use_session_parameters(parameters):
            # Build them again, still only the pipelines the run asked for (Kedro imports no others).
            requested = pipelines._requested_pipelines
            pipelines.configure(f"{self._package_name}.pipeline_registry")
            pipelines.set_requested(requested)
