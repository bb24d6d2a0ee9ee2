"""What the per-split and per-experiment pipelines are built for: the session's experiments, its
dataset and that dataset's splits.

Their namespaces depend on ``run_experiments``, ``dataset`` and the dataset's ``splits`` in the
session's parameters, but Kedro builds pipelines apart from any session. So the project context
(:mod:`mict_pipeline.context`) hands the session's parameters over here when it is created, whatever
created it (``kedro run --env``, ``KEDRO_ENV``, ``KedroSession.create(env=...)``, kedro-viz), and
has the pipelines built again when they change. Before any session, the active environment's files
are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from kedro.pipeline import Pipeline

from mict_pipeline.parameters.project import ProjectParameters
from mict_pipeline.project import configuration, find_project


@dataclass(frozen=True)
class SessionPlan:
    """What a session runs: experiments by name, the dataset block's name and its splits."""

    experiments: tuple[str, ...]
    dataset: str
    splits: tuple[int, ...]

    @classmethod
    def of(cls, parameters: ProjectParameters) -> SessionPlan:
        return cls(tuple(parameters.run_experiments), parameters.dataset, parameters.run_dataset.run_splits)


_session_plan: SessionPlan | None = None
_build_plan: SessionPlan | None = None  # the environment's, read once while the pipelines are built without a session


def use_session_parameters(parameters: ProjectParameters) -> bool:
    """Build pipelines for ``parameters`` from now on; True when that changes them."""
    global _session_plan
    plan = SessionPlan.of(parameters)
    changed = plan != _session_plan
    _session_plan = plan
    return changed


def session_plan() -> SessionPlan:
    """The current session's plan, else the active environment's."""
    if _session_plan is not None:
        return _session_plan
    if _build_plan is not None:
        return _build_plan
    parameters = ProjectParameters.model_validate(configuration(find_project())["parameters"], where="")
    return SessionPlan.of(parameters)


@contextmanager
def one_plan_per_build() -> Iterator[None]:
    """While the pipelines are built: without a session, the environment's files are read and
    validated once for all of them, not once per pipeline and namespace."""
    global _build_plan
    _build_plan = session_plan()
    try:
        yield
    finally:
        _build_plan = None


def configured_experiments() -> list[str]:
    return list(session_plan().experiments)


def configured_splits() -> tuple[int, ...]:
    return session_plan().splits


def dataset_parameters() -> str:
    """The ``params:`` input of the session's dataset block (``params:datasets.<name>``)."""
    return f"params:datasets.{session_plan().dataset}"


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
            for split in configured_splits()
        ),
        Pipeline([]),
    )
