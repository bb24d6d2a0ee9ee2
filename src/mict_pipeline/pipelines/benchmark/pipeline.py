from kedro.pipeline import Pipeline, node

from ..experiments import configured_experiments, per_experiment
from .nodes import add_loader_benchmark, benchmark_model, collect_model_benchmarks


def model_benchmark(experiment: str) -> Pipeline:
    return Pipeline(
        [
            node(
                benchmark_model,
                inputs=["dataset_spec", "params:experiment", "params:benchmark"],
                outputs="model_benchmark",
                name="benchmark_model",
            )
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    models = per_experiment(model_benchmark, inputs=["dataset_spec"], parameters=["params:benchmark"])
    return models + Pipeline(
        [
            node(
                collect_model_benchmarks,
                inputs={name: f"{name}.model_benchmark" for name in configured_experiments()},
                outputs="model_benchmarks",
                name="collect_model_benchmarks",
            ),
            node(
                add_loader_benchmark,
                inputs=["model_benchmarks", "split_1.train_index", "params:training", "params:benchmark"],
                outputs="benchmark_report",
                name="benchmark_loader",
            ),
        ]
    )
