"""Kedro project settings."""

import warnings

from kedro.config import OmegaConfigLoader

from mict_pipeline.context import ProjectContext
from mict_pipeline.hooks import ProjectHooks
from mict_pipeline.project import CONFIG_LOADER_ARGS

CONTEXT_CLASS = ProjectContext
HOOKS = (ProjectHooks(),)
CONFIG_LOADER_CLASS = OmegaConfigLoader  # mict_pipeline.project.configuration reads conf/ with it too
CONFIG_LOADER_ARGS = CONFIG_LOADER_ARGS  # conf/base under each environment, merged key by key

# The report and benchmark nodes gather the outputs of the per-split and per-experiment namespaces by
# their full (dotted) names, which is what namespaces are for; Kedro's advice against dots in
# dataset names is about names chosen by hand.
warnings.filterwarnings("ignore", message="One or more dataset names contain '.' characters", category=UserWarning)
