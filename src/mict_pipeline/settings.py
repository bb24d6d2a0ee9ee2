"""Kedro project settings."""

import warnings

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

# The report and benchmark nodes gather the outputs of the per-split and per-experiment namespaces by
# their full (dotted) names, which is what namespaces are for; Kedro's advice against dots in
# dataset names is about names chosen by hand.
warnings.filterwarnings("ignore", message="One or more dataset names contain '.' characters", category=UserWarning)
