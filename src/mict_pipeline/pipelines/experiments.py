"""Which experiments the per-experiment pipelines (train, evaluate, benchmark, report) are built for.

Their namespaces depend on ``run_experiments`` of the session's parameters, but Kedro builds
pipelines apart from any session. So the project context (:mod:`mict_pipeline.context`) hands the
session's ``run_experiments`` over here when it is created, whatever created it (``kedro run
--env``, ``KEDRO_ENV``, ``KedroSession.create(env=...)``, kedro-viz), and has the pipelines built
again when they change. Before any session, the active environment's files are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from kedro.pipeline import Pipeline

from mict_pipeline.datasets.ucf101 import SPLITS
from mict_pipeline.project import configuration, find_project

_session_experiments: tuple[str, ...] | None = None


def use_session_experiments(names: Sequence[str]) -> bool:
    """Build pipelines for ``names`` from now on; True when that changes them."""
    global _session_experiments
    changed = tuple(names) != _session_experiments
    _session_experiments = tuple(names)
    return changed


def configured_experiments() -> list[str]:
    """``run_experiments`` of the current session, else of the active environment's files."""
    if _session_experiments is not None:
        return list(_session_experiments)
    return list(configuration(find_project())["parameters"]["run_experiments"])


def _namespaced(pipe: Pipeline, namespace: str, experiment: str, inputs: dict[str, str], parameters: Iterable[str]) -> Pipeline:
    """``pipe`` under ``namespace``, its ``params:experiment`` (or a key of it, ``params:experiment.model``)
    mapped to the experiment's block."""
    mapping = {p: p for p in parameters}
    for name in pipe.inputs():
        if name == "params:experiment" or name.startswith("params:experiment."):
            mapping[name] = name.replace("params:experiment", f"params:experiments.{experiment}", 1)
    return Pipeline(pipe, namespace=namespace, inputs=inputs, parameters=mapping)


def per_experiment(template: Callable[[str], Pipeline], inputs: Iterable[str] = (), parameters: Iterable[str] = ()) -> Pipeline:
    """``template(experiment)`` for every configured experiment, under the namespace of the
    experiment's name; ``params:experiment`` is that experiment's block, ``parameters`` the shared
    blocks it reads and ``inputs`` come from the top level."""
    return sum(
        (_namespaced(template(e), e, e, {i: i for i in inputs}, parameters) for e in configured_experiments()),
        Pipeline([]),
    )


def per_split_and_experiment(
    template: Callable[[int, str], Pipeline], split_inputs: Iterable[str] = (), shared_inputs: Iterable[str] = (),
    parameters: Iterable[str] = (),
) -> Pipeline:
    """``template(split, experiment)`` for every configured experiment and split, each under
    namespace ``split_<n>.<experiment>``.

    In the template, ``params:experiment`` is that experiment's block and ``parameters`` the
    shared blocks it reads; ``split_inputs`` come from the split's namespace (``split_<n>.<name>``)
    and ``shared_inputs`` from the top level.
    """
    return sum(
        (
            _namespaced(
                template(split, experiment),
                f"split_{split}.{experiment}",
                experiment,
                {**{i: f"split_{split}.{i}" for i in split_inputs}, **{i: i for i in shared_inputs}},
                parameters,
            )
            for experiment in configured_experiments()
            for split in SPLITS
        ),
        Pipeline([]),
    )
