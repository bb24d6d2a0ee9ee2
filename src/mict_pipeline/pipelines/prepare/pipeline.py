from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node

from ..experiments import configured_splits, dataset_parameters
from .nodes import (
    check_data_quality,
    data_quality_report,
    describe_dataset,
    extract_video_frames,
    locate_dataset,
    read_dataset,
    split_tables,
)


def split_pipeline(split: int) -> Pipeline:
    """The per-split index tables, under namespace ``split_<n>``."""
    tables = update_wrapper(partial(split_tables, split=split), split_tables)
    return Pipeline(
        [node(tables, inputs=["split_lists", "checked_frame_index"], outputs=["train_index", "test_index", "excluded"], name="split_tables")],
        namespace=f"split_{split}",
        inputs={"split_lists", "checked_frame_index"},
    )


def create_pipeline(**kwargs) -> Pipeline:
    dataset = dataset_parameters()  # the session's datasets.<name> block
    return Pipeline(
        [
            node(locate_dataset, inputs=["archives", dataset, "raw_dir"], outputs="dataset_folders", name="locate_dataset"),
            node(
                read_dataset,
                inputs=["dataset_folders", dataset, "raw_dir"],
                outputs={"split_lists": "split_lists", "video_files": "video_files", "missing_videos": "missing_videos", "unlisted_videos": "unlisted_videos"},
                name="read_dataset",
            ),
            node(describe_dataset, inputs=["split_lists", dataset, "params:prepare"], outputs="dataset_spec", name="describe_dataset"),
            node(extract_video_frames, inputs=["video_files", "params:prepare", "frames_dir"], outputs="frame_index", name="extract_video_frames"),
            node(
                data_quality_report,
                inputs=["split_lists", "missing_videos", "unlisted_videos", "frame_index", dataset],
                outputs=["data_quality", "split_summary"],
                name="data_quality_report",
            ),
            node(
                check_data_quality,
                inputs=["data_quality", "frame_index", "params:prepare"],
                outputs="checked_frame_index",
                name="check_data_quality",
            ),
        ]
    ) + sum((split_pipeline(s) for s in configured_splits()), Pipeline([]))
