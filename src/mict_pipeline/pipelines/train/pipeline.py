from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node

from ..experiments import per_split_and_experiment
from .nodes import train_experiment


def training(split: int, experiment: str) -> Pipeline:
    train = update_wrapper(partial(train_experiment, name=experiment, split=split), train_experiment)
    return Pipeline(
        [
            node(
                train,
                inputs=[
                    "train_index", "test_index", "dataset_spec", "prepared", "frames_dir", "run_dir", "training_log_dir",
                    "params:experiment", "params:training",
                ],
                outputs="train_summary",
                name="train",
            )
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    return per_split_and_experiment(
        training,
        split_inputs=["train_index", "test_index"],
        shared_inputs=["dataset_spec", "prepared", "frames_dir"],
        parameters=["params:training"],
    )
