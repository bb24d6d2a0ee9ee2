from kedro.pipeline import Pipeline, node

from ..experiments import configured_experiments, configured_splits, per_experiment
from .nodes import add_loader_benchmark, benchmark_model, collect_model_benchmarks


def model_benchmark(experiment: str) -> Pipeline:
    return Pipeline(
        [
            node(
                benchmark_model,
                inputs=["dataset_spec", "params:experiment.arch", "params:experiment.model", "params:benchmark"],
                outputs="model_benchmark",
                name="benchmark_model",
            )
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Every configured experiment's model timed (namespace ``benchmark.<experiment>``), then the loader
    (on the training videos of the first split)."""
    train_index = f"split_{configured_splits()[0]}.train_index"
    models = per_experiment(model_benchmark, inputs=["dataset_spec"], parameters=["params:benchmark"])
    report = Pipeline(
        [
            node(
                collect_model_benchmarks,
                inputs={name: f"{name}.model_benchmark" for name in configured_experiments()},
                outputs="model_benchmarks",
                name="collect_model_benchmarks",
            ),
            node(
                add_loader_benchmark,
                inputs=["model_benchmarks", train_index, "frames_dir", "params:training.clips", "params:benchmark"],
                outputs="benchmark_report",
                name="benchmark_loader",
            ),
        ]
    )
    return Pipeline(
        models + report,
        namespace="benchmark",
        inputs={"dataset_spec", train_index, "frames_dir"},
        outputs={"benchmark_report"},
        parameters={
            "params:benchmark", "params:training.clips",
            *(f"params:experiments.{e}.{key}" for e in configured_experiments() for key in ("arch", "model")),
        },
    )
