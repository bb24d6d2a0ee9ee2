from kedro.pipeline import Pipeline, node

from .nodes import add_loader_benchmark, benchmark_models


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                benchmark_models,
                inputs=["params:experiments", "params:run_experiments", "params:num_classes", "params:benchmark"],
                outputs="model_benchmark",
                name="benchmark_models",
            ),
            node(
                add_loader_benchmark,
                inputs=["model_benchmark", "split_1.train_index", "params:training", "params:benchmark"],
                outputs="benchmark_report",
                name="benchmark_loader",
            ),
        ]
    )
