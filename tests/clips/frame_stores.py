"""Frame stores of short synthetic videos and their index table, for the clip tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mict_pipeline.io.frame_store import extract_frames
from mict_pipeline.datasets.synthetic import VideoSpec, render_frames, write_video


def store_index(root: Path, motion: str, lengths: tuple[int, ...], seed: int, first_label: int) -> pd.DataFrame:
    """One frame store per length in ``root`` (videos of ``motion``), as an index table."""
    rows = []
    for k, n in enumerate(lengths):
        video = write_video(root / f"v{k}.avi", render_frames(VideoSpec(motion, 1, k + 1, n, seed + k)))
        store = root / f"v{k}.frames"
        assert extract_frames(video, store) == n
        rows.append({"frame_store": str(store), "n_frames": n, "label": first_label + k})
    return pd.DataFrame(rows)
