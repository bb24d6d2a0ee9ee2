"""Process pools for OpenCV work (frame extraction, synthetic video encoding)."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import cv2


def available_cores() -> int:
    """Cores this process may run on (its affinity mask, e.g. a container's CPU set)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _single_threaded_opencv() -> None:
    # The pool already uses every core; OpenCV's own threads would only oversubscribe them.
    cv2.setNumThreads(1)


def opencv_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` spawned processes, each with single-threaded OpenCV. Spawn, not fork: the caller
    may hold threads (torch, Kedro runners) that fork would copy mid-state; a calling script needs the
    ``if __name__ == "__main__":`` guard."""
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_single_threaded_opencv)
