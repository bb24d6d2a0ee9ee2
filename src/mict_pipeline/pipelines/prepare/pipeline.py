from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node

from ..experiments import configured_splits, dataset_parameters
from .nodes import (
    check_data_quality,
    data_quality_report,
    extract_video_frames,
    list_unusable_videos,
    locate_dataset,
    publish_prepared_set,
    read_dataset,
    split_tables,
)

SPLIT_TABLES = ("train_index", "test_index", "excluded")


def create_pipeline(**kwargs) -> Pipeline:
    """The prepared set (frame_index, dataset_spec, the split tables, data_quality, split_summary) is
    written only after check_data_quality passes, and prepared (its manifest) last. The split tables
    are made outside the split_<n> namespaces, which read the manifest made from them."""
    dataset, splits = dataset_parameters(), configured_splits()  # the session's datasets.<name> block and its splits
    tables = {name: name for name in (f"split_{s}.{t}" for s in splits for t in SPLIT_TABLES)}
    index_splits = update_wrapper(partial(split_tables, splits=splits), split_tables)
    return Pipeline(
        [
            node(locate_dataset, inputs=["archives", dataset, "raw_dir", "params:dataset"], outputs="dataset_folders", name="locate_dataset"),
            node(
                read_dataset,
                inputs=["dataset_folders", dataset, "raw_dir", "params:dataset"],
                outputs={"split_lists": "split_lists", "video_files": "video_files", "missing_videos": "missing_videos", "unlisted_videos": "unlisted_videos"},
                name="read_dataset",
            ),
            node(extract_video_frames, inputs=["video_files", "params:prepare", "frames_dir"], outputs="extracted_frames", name="extract_video_frames"),
            node(list_unusable_videos, inputs=["missing_videos", "extracted_frames"], outputs="unusable_videos", name="list_unusable_videos"),
            node(
                check_data_quality,
                inputs=["split_lists", "missing_videos", "unusable_videos", "extracted_frames", dataset, "params:dataset", "params:prepare"],
                # The description comes with the frame index, before the tables, so in the default pipeline the
                # benchmark (which reads it) precedes training (which reads the manifest): Kedro validates typed
                # parameters in node order and cannot set training.clips (benchmark) once training is a model.
                outputs={"frame_index": "frame_index", "dataset_spec": "dataset_spec"},
                name="check_data_quality",
            ),
            node(index_splits, inputs=["split_lists", "frame_index"], outputs=tables, name="split_tables"),
            node(
                data_quality_report,
                inputs={
                    "split_lists": "split_lists", "missing_videos": "missing_videos", "unlisted_videos": "unlisted_videos",
                    "frame_index": "frame_index", "dataset": dataset, **tables,
                },
                outputs=["data_quality", "split_summary"],
                name="data_quality_report",
            ),
            node(
                publish_prepared_set,
                inputs={
                    "frames_dir": "frames_dir", "frame_index": "frame_index", "dataset_spec": "dataset_spec",
                    "data_quality": "data_quality", "split_summary": "split_summary", **tables,
                },
                outputs="prepared",
                name="publish_prepared_set",
            ),
        ]
    )
