from kedro.pipeline import Pipeline, node

from mict_pipeline.datasets.ucf101 import SPLITS

from ..experiments import configured_experiments
from .nodes import cross_split_report, metrics_input, summary_input


def create_pipeline(**kwargs) -> Pipeline:
    experiments = configured_experiments()
    inputs = {"benchmark": "benchmark_report"}
    inputs.update({metrics_input(e, s): f"split_{s}.{e}.metrics" for e in experiments for s in SPLITS})
    # What each experiment is, from its training summary (the same on every split).
    inputs.update({summary_input(e): f"split_{SPLITS[0]}.{e}.train_summary" for e in experiments})
    return Pipeline(
        [
            node(
                cross_split_report,
                inputs=inputs,
                outputs=["cross_split_metrics", "results_table", "results_markdown"],
                name="cross_split_report",
            )
        ]
    )
