from kedro.pipeline import Pipeline, node

from ..experiments import configured_experiments, configured_splits
from .nodes import LOG, METRICS, PREDICTIONS, SUMMARY, cross_split_report, mean_metrics, plot_time_accuracy, plot_training_curves, run_input


def create_pipeline(**kwargs) -> Pipeline:
    experiments, splits = configured_experiments(), configured_splits()

    def every_run(kind: str, dataset: str) -> dict[str, str]:
        return {run_input(kind, e, s): f"split_{s}.{e}.{dataset}" for e in experiments for s in splits}

    summaries = every_run(SUMMARY, "train_summary")
    logs = every_run(LOG, "training_log_dir")
    return Pipeline(
        [
            node(
                cross_split_report,
                inputs={"benchmark": "benchmark_report", **every_run(METRICS, "metrics"), **every_run(PREDICTIONS, "predictions"), **summaries, **logs},
                outputs=["cross_split_metrics", "results_table", "results_markdown"],
                name="cross_split_report",
            ),
            node(mean_metrics, inputs="cross_split_metrics", outputs={e: f"{e}.mean_metrics" for e in experiments}, name="mean_metrics"),
            node(plot_training_curves, inputs=summaries, outputs="training_curves", name="plot_training_curves"),
            node(plot_time_accuracy, inputs={**logs, **summaries}, outputs="time_accuracy_plot", name="plot_time_accuracy"),
        ]
    )
