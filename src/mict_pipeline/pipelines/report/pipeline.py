from kedro.pipeline import Pipeline, node

from mict_pipeline.datasets.ucf101 import SPLITS

from ..experiments import configured_experiments
from .nodes import cross_split_report, mean_metrics, metrics_input, plot_training_curves, summary_input


def create_pipeline(**kwargs) -> Pipeline:
    experiments = configured_experiments()
    inputs = {"benchmark": "benchmark_report"}
    inputs.update({metrics_input(e, s): f"split_{s}.{e}.metrics" for e in experiments for s in SPLITS})
    # What each experiment is, from its training summary (the same on every split).
    inputs.update({summary_input(e): f"split_{SPLITS[0]}.{e}.train_summary" for e in experiments})
    summaries = {metrics_input(e, s): f"split_{s}.{e}.train_summary" for e in experiments for s in SPLITS}
    return Pipeline(
        [
            node(
                cross_split_report,
                inputs=inputs,
                outputs=["cross_split_metrics", "results_table", "results_markdown"],
                name="cross_split_report",
            ),
            node(mean_metrics, inputs="cross_split_metrics", outputs={e: f"{e}.mean_metrics" for e in experiments}, name="mean_metrics"),
            node(plot_training_curves, inputs=summaries, outputs="training_curves", name="plot_training_curves"),
        ]
    )
