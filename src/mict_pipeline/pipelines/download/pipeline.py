from kedro.pipeline import Pipeline, node

from ..experiments import dataset_parameters
from .nodes import download_archives


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [node(download_archives, inputs=["params:download", dataset_parameters(), "archives_dir"], outputs="archives", name="download_archives")]
    )
