"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from mict_pipeline.pipelines.experiments import one_plan_per_build

# Not part of the default run: it only makes the demo's source archives (`make demo` runs it first).
SOURCE_ONLY = {"synthetic"}


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline under ``mict_pipeline.pipelines``; the default runs them all but the synthetic source."""
    with one_plan_per_build():
        pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum((p for name, p in pipelines.items() if name not in SOURCE_ONLY), Pipeline([]))
    return pipelines
