from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node

from ..experiments import per_split_and_experiment
from .nodes import evaluate_experiment


def evaluation(split: int, experiment: str) -> Pipeline:
    evaluate = update_wrapper(partial(evaluate_experiment, split=split), evaluate_experiment)
    return Pipeline(
        [
            node(
                evaluate,
                inputs=["train_summary", "run_dir", "test_index", "prepared", "frames_dir", "params:evaluation"],
                outputs=["metrics", "predictions", "per_class_accuracy", "confusion_matrix", "top_confusions", "confusion_matrix_plot"],
                name="evaluate",
            )
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    return per_split_and_experiment(
        evaluation, split_inputs=["test_index"], shared_inputs=["prepared", "frames_dir"], parameters=["params:evaluation"]
    )
