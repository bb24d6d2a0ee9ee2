"""DistributedDataParallel set-up when launched with ``torchrun`` (WORLD_SIZE > 1), on one machine or several.

Every process of a run, on every machine, runs the same training: rank 0 (global, whichever machine
holds it after a restart) writes the checkpoints and metrics, and every rank resumes from the same
``last.pt``, so the machines must share the data root (one folder at the same path on each).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from mict_pipeline.config import ParameterError
from mict_pipeline.errors import UserError


class SharedFolderError(UserError, RuntimeError):
    """The processes of one run see different checkpoints: their machines do not share the data root."""


@contextlib.contextmanager
def distributed_context() -> Iterator[int]:
    """Join the process group that torchrun describes in the environment; yield this process's rank.

    NCCL on CUDA (each process on its machine's GPU ``LOCAL_RANK``), gloo on the CPU. Without
    torchrun it yields 0 and does nothing.
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


def per_process_batch(batch_size: int, world: int, where: str) -> int:
    """Each of ``world`` processes' share of the recipe's ``batch_size``, the global batch, which
    stays the recipe's (DDP averages the gradients of equal shares); :class:`ParameterError` naming
    ``where`` (the key) when it does not split evenly."""
    if batch_size % world:
        raise ParameterError(
            f"{where}: {batch_size} clips do not split evenly over the {world} processes torchrun started, so the global batch would "
            f"not be the recipe's; set `batch_size: {max(world, batch_size // world * world)}` (a multiple of {world}) in the "
            "experiment's `recipe:` in conf/<env>/parameters.yml, or start a number of processes that divides it"
        )
    return batch_size // world


def check_same_start(last_path: Path, epoch: int) -> None:
    """Every process of the run resumes from ``epoch`` of ``last_path`` (0: none there), or
    :class:`SharedFolderError`: a machine with its own copy of the data root would train other epochs
    than the rest and stall them. A collective call: every rank has read ``last_path`` when it returns."""
    seen: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(seen, (socket.gethostname(), epoch))
    (host, first), *_ = seen
    for rank, (other_host, other) in enumerate(seen):
        if other != first:
            raise SharedFolderError(
                f"{last_path}: the processes of one run see different checkpoints there (rank 0 on {host}: epoch {first}; rank "
                f"{rank} on {other_host}: epoch {other}; 0 is none), so they cannot train together: every machine must see the same "
                "data root, one shared folder at the same path on each; set `data_root: <that folder>` in conf/<env>/globals.yml"
            )


def from_rank_0(*values: Any) -> list[Any]:
    """``values`` as rank 0 holds them, on every rank (picklable objects): what rank 0 wrote, known
    without reading it back from a shared folder that another machine may see late."""
    objects = list(values)
    dist.broadcast_object_list(objects, src=0)
    return objects
