"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

from mict_pipeline.context import ProjectContext
from mict_pipeline.project import BASE_ENV, DEFAULT_RUN_ENV

CONTEXT_CLASS = ProjectContext
CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": BASE_ENV,
    "default_run_env": DEFAULT_RUN_ENV,
    # Environments (conf/demo, conf/local) override single keys, not whole top-level blocks.
    "merge_strategy": {"parameters": "soft"},
}
