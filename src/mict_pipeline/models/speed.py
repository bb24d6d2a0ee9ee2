"""Inference speed and memory by the original's protocol.

The original times ``model(x)`` for a random batch-1 clip of 16 x 160 x 160, synchronising the
device around each call, drops the first call and reports FPS = 16 / mean latency. Here the warm-up
is configurable and FPS counts frames of every clip in the batch.

Peak memory: on CUDA, the allocator's peak during the timed calls (weights + activations). On the
CPU, the process's peak resident set size (Linux VmHWM, reset just before the model is built) minus
the resident size at that moment. That needs a fresh process per measurement (``isolate=True``):
in a long-lived process the allocator reuses pages freed by earlier work and hides the growth.
"""

from __future__ import annotations

import multiprocessing
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .builders import build_model
from .inference import fold_batchnorm as fold
from .layout import to_channels_last


def _proc_status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _start_peak_rss() -> float:
    """Reset the peak resident set size and return the current one, in MiB (Linux >= 4.0)."""
    # ru_maxrss is no use here: Linux carries it over from the parent across fork and exec.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _proc_status_mb("VmRSS")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_forward(
    forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, warmup: int, iters: int
) -> list[float]:
    """Seconds per call of ``forward(x)`` over ``iters`` calls after ``warmup`` untimed ones."""
    times = []
    with torch.inference_mode():
        for i in range(warmup + iters):
            _sync(x.device)
            start = time.perf_counter()
            forward(x)
            _sync(x.device)
            if i >= warmup:
                times.append(time.perf_counter() - start)
    return times


def prepare_for_inference(
    model: nn.Module,
    device: torch.device,
    channels_last: bool = False,
    compile: bool = False,
    fold_batchnorm: bool = False,
    compile_mode: str | None = None,
) -> nn.Module:
    """Eval mode on ``device``; optionally BatchNorm folded into the convolutions (a copy),
    channels-last weights and torch.compile (``compile_mode``: e.g. ``"reduce-overhead"``, CUDA graphs)."""
    model = model.eval().to(device)
    if fold_batchnorm:
        model = fold(model)
    if channels_last:
        to_channels_last(model)
    # dynamic=False: clips have fixed shapes, and a second shape would otherwise be recompiled with
    # shape-generic (slower) kernels.
    return torch.compile(model, mode=compile_mode, dynamic=False) if compile else model


def _measure(
    arch: str,
    num_classes: int,
    options: dict[str, Any],
    device: str,
    batch_size: int,
    frames: int,
    size: int,
    warmup: int,
    iters: int,
    amp_dtype: str | None,
    channels_last: bool,
    compile: bool,
    fold_batchnorm: bool,
) -> dict[str, Any]:
    dev = torch.device(device)
    torch.manual_seed(0)
    rss_before = _start_peak_rss() if dev.type == "cpu" else 0.0
    model = build_model(arch, num_classes, **{k: v for k, v in options.items() if k != "pretrained"})
    params = sum(p.numel() for p in model.parameters())
    model = prepare_for_inference(model, dev, channels_last, compile, fold_batchnorm)
    x = torch.randn(batch_size, 3, frames, size, size, device=dev)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last_3d)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    dtype = getattr(torch, amp_dtype) if amp_dtype else None
    with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
        times = time_forward(model, x, warmup, iters)
    if dev.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated(dev) / 2**20
        device_name = torch.cuda.get_device_name(dev)
    else:
        peak_mb = _proc_status_mb("VmHWM") - rss_before
        device_name = f"{cpu_name()} ({torch.get_num_threads()} threads, {torch.backends.cpu.get_cpu_capability()} kernels)"
    latency = statistics.mean(times)
    return {
        "arch": arch,
        "params": params,
        "batch_size": batch_size,
        "input": [3, frames, size, size],
        "latency_ms": latency * 1e3,
        "fps": batch_size * frames / latency,
        "peak_memory_mb": peak_mb,
        "device": device_name,
        "amp_dtype": amp_dtype,
        "channels_last": channels_last,
        "compile": compile,
        "fold_batchnorm": fold_batchnorm,
    }


def cpu_name() -> str:
    """The processor's model name, as ``lscpu`` gives it: a speed figure names its machine."""
    try:
        with open("/proc/cpuinfo") as info:
            names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else platform.processor() or platform.machine() or "cpu"


def measure_inference(
    arch: str,
    num_classes: int = 101,
    options: dict[str, Any] | None = None,
    *,
    device: str = "cpu",
    batch_size: int = 1,
    frames: int = 16,
    size: int = 160,
    warmup: int = 10,
    iters: int = 50,
    amp_dtype: str | None = None,
    channels_last: bool = False,
    compile: bool = False,
    fold_batchnorm: bool = False,
    isolate: bool | None = None,
) -> dict[str, Any]:
    """Parameters, latency, FPS (frames/s) and peak memory of ``arch`` on random clips.

    ``isolate`` (default: True on CPU) runs the measurement in a fresh process so the CPU peak
    memory is the model's own.
    """
    args = (
        arch, num_classes, dict(options or {}), device, batch_size, frames, size, warmup, iters, amp_dtype, channels_last, compile,
        fold_batchnorm,
    )
    if isolate is None:
        isolate = torch.device(device).type == "cpu"
    if not isolate:
        return _measure(*args)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measure, args)
