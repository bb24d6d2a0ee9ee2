"""Kedro hooks: a run fails fast, in one line that names what is wrong and how to fix it.

* Before any node runs, every input the run reads but does not make must exist; a missing one is
  named with its file and the command that makes it.
* A node that fails with a :class:`~mict_pipeline.errors.UserError` (whose message names the file
  or key and the fix: a bad archive, a failed download, too many unusable videos, a checkpoint of
  another experiment, ...) ends the command with that message, its ``conf/<env>/`` naming the
  session's environment, not a traceback. Other errors keep theirs.
"""

from __future__ import annotations

import os
from typing import Any

import click
from kedro.framework.hooks import hook_impl

from mict_pipeline.errors import UserError, for_environment


class RunError(click.ClickException):
    """Kedro's command line prints the message alone (``Error: ...``), without a traceback."""

    exit_code = 2


def _maker(dataset: str) -> str | None:
    """The registered pipeline that outputs ``dataset`` (the first, default pipeline aside)."""
    from kedro.framework.project import pipelines

    pipelines.set_requested(None)  # a run loads only the pipelines it asked for
    return next((name for name, pipe in pipelines.items() if name != "__default__" and dataset in pipe.all_outputs()), None)


class ProjectHooks:
    env: str | None = None  # the running session's environment, for the messages' conf/<env>/

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self.env = run_params.get("env")
        for name in sorted(pipeline.inputs()):
            if name.startswith("params:") or name == "parameters" or catalog.exists(name):
                continue
            dataset = catalog.get(name)
            where = str(getattr(dataset, "_filepath", None) or "")
            where = os.path.relpath(where) if where.startswith(os.getcwd()) else where
            maker = _maker(name)
            how = f"make it with `kedro run --env {run_params.get('env')} --pipelines={maker}`" if maker else "provide it"
            raise RunError(f"input {name} ({where}) is missing: {how} first")

    @hook_impl
    def on_node_error(self, error: Exception, node: Any, **_: Any) -> None:
        if isinstance(error, UserError):
            raise RunError(f"node {node.name}: {for_environment(str(error), self.env)}") from None
