"""The ``benchmark`` block: the original's speed protocol and the loader benchmark."""

from __future__ import annotations

from typing import Literal

from pydantic import NonNegativeInt, PositiveInt

from mict_pipeline.config import Params


class BenchmarkParams(Params):
    """The ``benchmark`` block: the original's speed protocol and the loader benchmark."""

    device: str = "auto"
    batch_size: PositiveInt = 1
    frames: PositiveInt = 16
    size: PositiveInt = 160
    warmup: NonNegativeInt = 10
    iters: PositiveInt = 100
    amp_dtype: Literal["bfloat16", "float16"] | None = None  # null: fp32, as the original
    channels_last: bool = False
    compile: bool = False
    loader_clips: PositiveInt = 200  # training clips timed for the loader's clips/s per worker
