from kedro.pipeline import Pipeline, node

from .nodes import generate_synthetic_archives


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [node(generate_synthetic_archives, inputs=["params:synthetic", "synthetic_dir"], outputs="synthetic_archives", name="generate_synthetic_archives")]
    )
