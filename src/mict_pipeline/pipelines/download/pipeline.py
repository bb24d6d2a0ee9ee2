from kedro.pipeline import Pipeline, node

from .nodes import download_archives


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([node(download_archives, inputs=["params:download", "archives_dir"], outputs="archives", name="download_archives")])
