"""DistributedDataParallel set-up when launched with ``torchrun`` (WORLD_SIZE > 1)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch
import torch.distributed as dist


@contextlib.contextmanager
def distributed_context() -> Iterator[int]:
    """Join the process group that torchrun describes in the environment; yield this process's rank.

    NCCL on CUDA (each process on GPU ``LOCAL_RANK``), gloo on the CPU. Without torchrun it yields 0
    and does nothing.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or dist.is_initialized():
        yield dist.get_rank() if dist.is_initialized() else 0
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")
    try:
        yield dist.get_rank()
    finally:
        dist.destroy_process_group()
