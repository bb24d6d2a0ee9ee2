from kedro.pipeline import Pipeline, node

from .nodes import benchmark_models


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                benchmark_models,
                inputs=["params:experiments", "params:run_experiments", "params:num_classes", "params:benchmark"],
                outputs="benchmark_report",
                name="benchmark_models",
            )
        ]
    )
