"""`make rehearsal-kinetics`: conf/rehearsal_kinetics through the cluster paths, measured, and what
full Kinetics-400 would need.

The environment is a Kinetics-400-shaped replica (Kinetics-400's 400 class names, a Kinetics
download's CSV and clips, 12 train and 1 val clips per class, 1 % missing, 2 s at 160x120; see
conf/rehearsal_kinetics/parameters_synthetic.yml). This script runs the commands a cluster's user
runs, on this machine, timed, with the peak resident memory of each process sampled every 0.1 s:

1. ``kedro run --pipelines=synthetic`` (skipped when the replica is there; ``--regenerate``);
2. ``kedro run --pipelines=prepare --params=prepare.cluster=tcp://...`` on a real Dask cluster
   (``dask scheduler`` and ``dask worker --nworkers N --nthreads 1`` processes on 127.0.0.1, as on
   a cluster's machines) with N = 1, then N = 2, each from no frame stores; then with N = 2 once
   more, every store finished (what a resumed run costs), and ``extract_many`` alone on it from
   this process (what the client and scheduler spend a clip); and, for comparison at the same 2
   processes, the local pool (``prepare.cluster`` null). Every run must give the same stores and
   tables, byte for byte;
3. a few training steps of split 1's MiCT-ResNet-18 on two ``torchrun`` nodes on 127.0.0.1 (c10d
   rendezvous, gloo, one process each), the command of deploy/slurm/train.sbatch;
4. frame extraction alone, one process (so per core), on 8 replica clips at Kinetics' length (10 s)
   from sources of 340x256 (short side 256) and 1280x720, into 256x192 stores and into stores of
   short side 128 (171x128), and on a pan over a photograph for the bytes a frame of real footage
   takes; from those, the predicted wall time and disk of full Kinetics-400 on 1, 8 and 64 cores.

Writes data/rehearsal_kinetics/08_reporting/scale.json and prints the tables of docs/benchmarks.md.

    python benchmarks/rehearsal_kinetics.py [--regenerate] [--steps 20]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import hashlib
import json
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import cv2
import dask
import matplotlib.cbook
import numpy as np
import pandas as pd
import psutil
import torch

from rehearsal import extraction_rate, render_sample, run_measured, tools_env, write_scale_report

from mict_pipeline.checkpoint import read_checkpoint
from mict_pipeline.datasets.synthetic import DEFAULT_CLASSES, KINETICS_FOURCC, kinetics400_labels, kinetics_clips, write_video
from mict_pipeline.io.digest import file_digest
from mict_pipeline.io.frame_store import ExtractResult, extract_many
from mict_pipeline.io.workers import _single_threaded_opencv, available_cores
from mict_pipeline.models.speed import cpu_name
from mict_pipeline.project import configuration

ROOT = Path(__file__).resolve().parents[1]
ENV = "rehearsal_kinetics"
DATA = ROOT / "data" / ENV
LOG = DATA / "rehearsal.log"  # *.log is git-ignored
BIN = Path(sys.executable).parent
KEDRO = [str(BIN / "kedro"), "run", "--env", ENV]
NAMESPACE = "split_1.mict_resnet18"
RUN_DIR = DATA / "06_models" / "split_1" / "mict_resnet18"
# The tables one prepare publishes (besides the stores), compared between runs.
TABLES = ("03_primary/frame_index.csv", "05_model_input/split_1/train.csv", "05_model_input/split_1/test.csv", "08_reporting/data_quality.json")

# Full Kinetics-400 as issue 26 sizes it: about 240k train and 20k val clips of 10 s; at 25 fps.
K400_CLIPS, K400_SECONDS, K400_FPS = 260_000, 10, 25
K400_FRAMES = K400_CLIPS * K400_SECONDS * K400_FPS  # 65 M
CORES = (1, 8, 64)
SOURCES = {"340x256": (340, 256), "1280x720": (1280, 720)}
STORES = {"256x192": (256, 192), "171x128": (171, 128)}  # the recipe's frames; short side 128


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start listening on port {port}; its output is in {LOG}")
        time.sleep(0.1)


class ProcessPeaks:
    """Peak resident memory and last CPU seconds of each process under some roots, by role,
    sampled every 0.1 s in a thread."""

    def __init__(self, roles: dict[int, str]) -> None:
        self.roles = roles  # pid of a root -> its role; its descendants are "<role> child"
        self.rss: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self.role_of: dict[int, str] = {}
        self.cpu_before: dict[int, float] = {}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            self.sample()

    def sample(self) -> None:
        """One sample now (the thread takes one every 0.1 s)."""
        with self._lock:
            for pid, role in list(self.roles.items()):
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    root = psutil.Process(pid)
                    for process, kind in [(root, role), *((child, f"{role} child") for child in root.children(recursive=True))]:
                        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                            if kind.endswith("child") and "resource_tracker" in " ".join(process.cmdline()):
                                continue  # multiprocessing's bookkeeper, not a worker
                            self.rss[process.pid] = max(self.rss.get(process.pid, 0), process.memory_info().rss)
                            times = process.cpu_times()
                            self.cpu[process.pid] = times.user + times.system
                            self.role_of[process.pid] = kind

    def __enter__(self) -> ProcessPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def restart(self) -> None:
        """Peaks and CPU seconds from now on (for the next run on the same processes)."""
        self.sample()
        with self._lock:
            self.rss.clear()
            self.cpu_before = dict(self.cpu)

    def by_role(self, role: str) -> list[tuple[int, float]]:
        """(peak MB, CPU s) of each process of ``role`` since the start or :meth:`restart`, to now."""
        self.sample()
        return [
            (round(self.rss[pid] / 2**20), round(self.cpu[pid] - self.cpu_before.get(pid, 0.0), 1))
            for pid, kind in self.role_of.items() if kind == role and pid in self.rss
        ]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def dask_cluster(workers: int, log) -> Iterator[tuple[str, ProcessPeaks]]:
    """A Dask cluster as on a cluster's machines: ``dask scheduler`` and ``dask worker`` (its nanny
    process starting ``workers`` worker processes of 1 thread) on 127.0.0.1; its address and the
    sampler of its processes' memory (roles: scheduler, nanny, "nanny child" = a worker)."""
    from dask.distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    started: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="dask-worker-") as scratch, contextlib.ExitStack() as stack:  # the folder outlives the worker
        stack.callback(lambda: [_stop(p) for p in reversed(started)])
        log.write(f"\n$ dask scheduler + dask worker --nworkers {workers} at {address}\n".encode())
        log.flush()
        run = dict(cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=tools_env())
        started.append(subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **run))
        _wait_listening(port, started[0], "dask scheduler")
        started.append(subprocess.Popen(
            [str(BIN / "dask"), "worker", address, "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard",
             "--memory-limit", "0", "--local-directory", scratch], **run,
        ))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        peaks = stack.enter_context(ProcessPeaks({started[0].pid: "scheduler", started[1].pid: "nanny"}))
        yield address, peaks


def _prepared_digest() -> str:
    """One digest of every frame store (by path) and of the tables one prepare publishes."""
    digest = hashlib.sha256()
    stores = DATA / "03_primary" / "frames"
    for path in sorted(stores.rglob("*.frames")):
        digest.update(f"{path.relative_to(stores)} {file_digest(path)}\n".encode())
    for name in TABLES:
        digest.update(f"{name} {file_digest(DATA / name)}\n".encode())
    return digest.hexdigest()


def prepare(cluster: str | None, log, *, workers: int, fresh: bool, peaks_of=None) -> dict:
    """``kedro run --pipelines=prepare`` with ``prepare.cluster`` (None: the local pool of
    ``workers``), from no frame stores when ``fresh``; its measures and the digest of what it made."""
    if fresh:
        shutil.rmtree(DATA / "03_primary" / "frames", ignore_errors=True)
    params = f"prepare.cluster={cluster}" if cluster else f"prepare.workers={workers}"
    if peaks_of is not None:
        peaks_of.restart()
    measured = run_measured([*KEDRO, "--pipelines=prepare", f"--params={params}"], ROOT, log, root_kind="client")
    index = pd.read_csv(DATA / "03_primary" / "frame_index.csv")
    videos, frames = len(index), int(index["n_frames"].sum())
    result = {
        "engine": "dask" if cluster else "local pool", "workers": workers, "fresh": fresh, "videos": videos, "frames": frames,
        **measured, "videos_per_s": round(videos / measured["wall_s"], 1), "frames_per_s": round(frames / measured["wall_s"]),
        "digest": _prepared_digest(),
    }
    if peaks_of is not None:
        workers_seen = peaks_of.by_role("nanny child")
        (scheduler_mb, scheduler_cpu), = peaks_of.by_role("scheduler")
        result["dask"] = {
            "scheduler_peak_mb": scheduler_mb,
            "scheduler_cpu_s": scheduler_cpu,
            "nanny_peak_mb": max(mb for mb, _ in peaks_of.by_role("nanny")),
            "worker_peak_mb": [mb for mb, _ in workers_seen],
            "worker_cpu_s": [cpu for _, cpu in workers_seen],
        }
        cpu = sum(result["dask"]["worker_cpu_s"])
        result["frames_per_worker_cpu_s"] = round(frames / cpu) if fresh else None  # a resumed run extracts nothing
    return result


@functools.cache
def _parameters() -> dict:
    """The rehearsal environment's parameters as its runs read them (conf/base merged)."""
    return configuration(ROOT, ENV)["parameters"]


def _batch_size() -> int:
    """The global batch of the experiment the rehearsal trains."""
    return _parameters()["experiments"]["mict_resnet18"]["recipe"]["batch_size"]


def train_two_nodes(steps: int, log) -> dict:
    """``steps`` training steps of split 1's MiCT-ResNet-18 by two torchrun nodes (one process
    each, c10d rendezvous on 127.0.0.1, gloo), the command of deploy/slurm/train.sbatch."""
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    port = _free_port()
    params = f"training.on_other_experiment=restart,training.defaults.limit_train_batches={steps},training.defaults.limit_val_batches=2"
    command = [
        str(BIN / "torchrun"), "--nnodes", "2", "--nproc-per-node", "1", "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}",
        "--rdzv-id", "rehearsal-kinetics", "-m", "kedro", "run", "--env", ENV, "--pipelines=train", f"--namespaces={NAMESPACE}", f"--params={params}",
    ]
    # COLUMNS: Kedro's rich log lines unwrapped, so each rank's line can be found.
    env = {**tools_env(), "OMP_NUM_THREADS": "1", "TORCH_DISABLE_SHARE_RDZV_TCP_STORE": "1", "COLUMNS": "400"}
    log.write(f"\n$ {' '.join(command)}   (twice: two nodes)\n".encode())
    log.flush()
    offset = log.tell()
    started = time.perf_counter()
    nodes = [subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)]
    _wait_listening(port, nodes[0], "the first torchrun node")
    nodes.append(subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env))
    with ProcessPeaks({node.pid: f"node {i}" for i, node in enumerate(nodes)}) as peaks:
        codes = [node.wait() for node in nodes]
    wall = time.perf_counter() - started
    if any(codes):
        raise SystemExit(f"two-node training failed (exit {codes}); its output is in {LOG}")
    text = LOG.read_bytes()[offset:].decode(errors="replace")
    batch = _batch_size()
    missing = [rank for rank in (0, 1) if f"rank {rank} of 2 processes, {batch} clips a step ({batch // 2} each)" not in text]
    if missing:
        raise SystemExit(f"rank {missing} of the two-node run did not train (no line of it in the log); see {LOG}")
    checkpoint = read_checkpoint(RUN_DIR / "last.pt")
    metrics = json.loads((DATA / "08_reporting" / "training" / "split_1" / "mict_resnet18" / "metrics.json").read_text())
    return {
        "nodes": 2, "processes": 2, "steps": steps, "global_batch": batch, "wall_s": round(wall, 1),
        "epoch_recorded": checkpoint.training["epoch"], "clips_per_s_in_the_loop": round(metrics["clips_per_s"], 1),
        # The largest process of each node (its rank, above torchrun's agent and the loader's worker).
        "largest_process_mb_per_node": {
            f"node {i}": max(mb for role in (f"node {i}", f"node {i} child") for mb, _ in peaks.by_role(role)) for i in range(2)
        },
    }


def _store_size() -> tuple[int, int]:
    """The rehearsal's frame-store size."""
    frames = _parameters()["prepare"]["frames"]
    return frames["width"], frames["height"]


def measure_dispatch(address: str, peaks: ProcessPeaks) -> dict:
    """What the client and the scheduler spend a clip when the jobs cost nearly nothing:
    ``extract_many`` in this process (the client, as in `kedro run`; no start-up or other steps)
    on every replica clip, every store finished (each job reads a header and hashes a 100 KB clip),
    on the cluster at ``address``. The most clips a second they can hand out is the inverse of the
    larger. And the client's memory a video in ``extract_many`` (its pairs and results)."""
    index = pd.read_csv(DATA / "03_primary" / "frame_index.csv")
    clips = {path.stem: path for path in (DATA / "01_raw" / "synthetic" / "clips").rglob("*.mp4")}
    pairs = [(clips[video], DATA / "03_primary" / "frames" / store) for video, store in zip(index["video"], index["frame_store"])]
    peaks.restart()
    cpu, wall = time.process_time(), time.perf_counter()
    results = extract_many(pairs, *_store_size(), cluster=address)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if {r.status for r in results} != {"skipped"}:
        raise SystemExit(f"expected every store finished, got {pd.Series([r.status for r in results]).value_counts().to_dict()}")
    (_, scheduler_cpu), = peaks.by_role("scheduler")
    tracemalloc.start()
    held = ([(Path(str(v)), Path(str(o))) for v, o in pairs], [ExtractResult(Path(str(r.video)), Path(str(r.out)), r.status, r.frames) for r in results])
    held_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del held
    return {
        "clips": len(pairs), "wall_s": round(wall, 1), "clips_per_s": round(len(pairs) / wall),
        "client_cpu_ms_per_clip": round(cpu / len(pairs) * 1e3, 2), "scheduler_cpu_ms_per_clip": round(scheduler_cpu / len(pairs) * 1e3, 2),
        "ceiling_clips_per_s": round(len(pairs) / max(cpu, scheduler_cpu)),
        "client_extract_many_mb_per_100k_videos": round(held_bytes / len(pairs) * 1e5 / 2**20, 1),
    }


def _photo_pan(folder: Path, size: tuple[int, int], n_frames: int) -> Path:
    """A slow pan and zoom over a photograph (matplotlib's sample portrait) with sensor-like
    noise, at ``size``: the bytes a frame of real footage takes, which dot fields do not show."""
    photo = cv2.imread(str(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    h, w = photo.shape[:2]
    rng = np.random.default_rng(0)
    frames = np.empty((n_frames, size[1], size[0], 3), np.uint8)
    for t in range(n_frames):
        crop_w = int(w * (0.9 - 0.3 * t / n_frames))
        crop_h = min(h, int(crop_w * size[1] / size[0]))
        x, y = int((w - crop_w) * t / n_frames), int((h - crop_h) / 2)
        view = cv2.resize(photo[y : y + crop_h, x : x + crop_w], size, interpolation=cv2.INTER_AREA)
        frames[t] = np.clip(view + rng.normal(0, 4, view.shape), 0, 255)
    return write_video(folder / f"photo_{size[0]}x{size[1]}.mp4", frames, fourcc=KINETICS_FOURCC)


def measure_extraction(folder: Path) -> dict:
    """Per core, at Kinetics' length (10 s, 250 frames): 8 replica clips spread over the classes
    from each source size into each store size; and the pan over a photograph."""
    specs = [clip.spec for clip in kinetics_clips(classes=DEFAULT_CLASSES, labels=kinetics400_labels(), clips={"train": 1}, frames=(250, 250))[::50]]
    rates = {}
    for source, video_size in SOURCES.items():
        videos = render_sample(specs, video_size, folder, fourcc=KINETICS_FOURCC)
        for store, store_size in STORES.items():
            rates[f"{source} -> {store}"] = extraction_rate(videos, video_size, store_size, folder)
            print(f"  {source} -> {store}: {rates[f'{source} -> {store}']['frames_per_s_per_core']} frames/s per core", flush=True)
        for video in videos:
            video.unlink()
    photo = [_photo_pan(folder, SOURCES["340x256"], 250)]
    photo_rates = {store: extraction_rate(photo, SOURCES["340x256"], size, folder) for store, size in STORES.items()}
    return {"dots": rates, "photo_pan_340x256": photo_rates}


def predict(extraction: dict, task_overhead_s: float, dispatch_videos_per_s: float) -> dict:
    """Full Kinetics-400's frame extraction on 1, 8 and 64 cores, one Dask worker a core: each clip
    costs a worker its 250 frames at the per-core rate measured here plus the Dask task's overhead
    measured on the replica; the wall time is that over the cores, or the clips over what the client
    and scheduler hand out a second, whichever is longer. And its frame stores' size."""
    out = {}
    clip_frames = K400_SECONDS * K400_FPS
    for name, rate in extraction["dots"].items():
        store = name.split(" -> ")[1]
        clip_s = clip_frames / rate["frames_per_s_per_core"] + task_overhead_s
        bytes_photo = extraction["photo_pan_340x256"][store]["bytes_per_frame"]
        out[name] = {
            "worker_s_per_clip": round(clip_s, 3),
            "hours_by_cores": {str(c): round(max(K400_CLIPS * clip_s / c, K400_CLIPS / dispatch_videos_per_s) / 3600, 2) for c in CORES},
            "clips_per_s_at_64_cores": round(64 / clip_s),
            "stores_tib_dots": round(K400_FRAMES * rate["bytes_per_frame"] / 2**40, 2),
            "stores_tib_photo": round(K400_FRAMES * bytes_photo / 2**40, 2),
            # What 64 workers write to the shared filesystem (the stores, at the photo's bytes per frame).
            "write_mb_per_s_64_cores": round(min(64 / clip_s, dispatch_videos_per_s) * clip_frames * bytes_photo / 1e6),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regenerate", action="store_true", help="write the replica again even if it is there")
    parser.add_argument("--steps", type=int, default=20, help="training steps of the two-node run")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    _single_threaded_opencv()  # as in the workers, so the rates measured in this process compare
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    versions = {"python": platform.python_version(), "torch": torch.__version__, "dask": dask.__version__, "opencv": cv2.__version__}
    report: dict = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "commit": commit or None,
                    "machine": {"cpu": cpu_name(), "cores": available_cores()}, "versions": versions}
    with LOG.open("ab") as log:
        manifest = DATA / "01_raw" / "synthetic" / "manifest.json"
        if args.regenerate or not manifest.exists():
            print("the replica (kedro run --pipelines=synthetic) ...", flush=True)
            report["synthetic"] = run_measured([*KEDRO, "--pipelines=synthetic"], ROOT, log, root_kind="client")
        run_measured([*KEDRO, "--pipelines=download"], ROOT, log, root_kind="client")  # records that the dataset has no archives to fetch
        synthetic = json.loads(manifest.read_text())
        report["dataset"] = {key: synthetic[key] for key in ("listed", "videos", "frames", "seconds", "frame_size")}
        report["dataset"].update(classes=len(synthetic["classes"]), missing=len(synthetic["missing"]))
        runs = []
        for workers in (1, 2):
            print(f"prepare on a Dask cluster of {workers} worker(s) ...", flush=True)
            with dask_cluster(workers, log) as (address, peaks):
                runs.append(prepare(address, log, workers=workers, fresh=True, peaks_of=peaks))
                if workers == 2:
                    print("prepare again, every store finished (a resumed run) ...", flush=True)
                    runs.append(prepare(address, log, workers=workers, fresh=False, peaks_of=peaks))
                    print("what the client and scheduler spend a clip ...", flush=True)
                    report["dispatch"] = measure_dispatch(address, peaks)
        print("prepare on the local pool of 2 processes ...", flush=True)
        runs.append(prepare(None, log, workers=2, fresh=True))
        if len({run["digest"] for run in runs}) != 1:
            raise SystemExit(f"the prepare runs made different stores or tables: {[(r['engine'], r['workers'], r['digest'][:12]) for r in runs]}")
        report["prepare"] = runs
        print(f"training {args.steps} steps on two torchrun nodes ...", flush=True)
        report["training"] = train_two_nodes(args.steps, log)
        print("extraction per core at Kinetics' sizes ...", flush=True)
        with tempfile.TemporaryDirectory(dir=DATA) as scratch:
            report["extraction"] = measure_extraction(Path(scratch))
    # A Dask task's overhead on its worker: the 1-worker run's worker CPU a clip, less what one
    # process extracting the replica's clips alone spends on one (same sizes).
    with tempfile.TemporaryDirectory(dir=DATA) as scratch:
        clips = sorted((DATA / "01_raw" / "synthetic" / "clips").rglob("*.mp4"))[::50]
        alone = extraction_rate(clips, tuple(synthetic["frame_size"]), _store_size(), Path(scratch))
    one = runs[0]
    # Charged to each task: the worker's background work too (heartbeats, its event loop).
    overhead = (sum(one["dask"]["worker_cpu_s"]) - one["frames"] / alone["frames_per_s_per_core"]) / one["videos"]
    report["replica_extraction_alone"] = alone
    report["dask_task_overhead_ms"] = round(overhead * 1e3, 2)
    report["scaling_1_to_2_workers"] = round(runs[0]["wall_s"] / runs[1]["wall_s"], 2)
    report["prediction"] = predict(report["extraction"], overhead, report["dispatch"]["ceiling_clips_per_s"])
    index = pd.read_csv(DATA / "03_primary" / "frame_index.csv")
    report["index_mb_per_100k_videos"] = round(index.memory_usage(deep=True).sum() / len(index) * 1e5 / 2**20, 1)
    report["wall_s"] = round(time.perf_counter() - started, 1)
    summarise(report, write_scale_report(report, DATA))
    return 0


def summarise(report: dict, out: Path) -> None:
    d = report["dataset"]
    print(f"\nKinetics-400-shaped rehearsal: {d['videos']:,} clips ({d['listed']:,} listed, {d['classes']} classes), {d['frames']:,} frames; "
          f"{report['wall_s'] / 60:.1f} min on {report['machine']['cores']} cores ({report['machine']['cpu']})\n")
    print("| prepare (the whole command) | wall | videos/s | frames/s | frames/s per worker | CPU s: client | scheduler | each worker "
          "| peak MB: client | scheduler | each worker | nanny |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in report["prepare"]:
        dask = run.get("dask", {})
        what = f"{run['engine']}, {run['workers']} worker{'s' if run['workers'] > 1 else ''}{'' if run['fresh'] else ', every store finished'}"
        each = " / ".join(map(str, dask.get("worker_cpu_s", []))) or "-"
        print(f"| {what} | {run['wall_s']} s | {run['videos_per_s']} | {run['frames_per_s']:,} | {run['frames_per_s'] // run['workers']:,} | "
              f"{run['cpu_s']} | {dask.get('scheduler_cpu_s', '-')} | {each} | {run.get('peak_rss_mb_client', '-')} | "
              f"{dask.get('scheduler_peak_mb', '-')} | {' / '.join(map(str, dask.get('worker_peak_mb', []))) or '-'} | {dask.get('nanny_peak_mb', '-')} |")
    alone = report["replica_extraction_alone"]["frames_per_s_per_core"]
    dispatch = report["dispatch"]
    print(f"\nscaling 1 -> 2 workers (wall): x{report['scaling_1_to_2_workers']}; one process alone on the replica's clips: {alone:,} frames/s; "
          f"a Dask task's overhead on its worker: {report['dask_task_overhead_ms']} ms")
    print(f"dispatch, every store finished, {dispatch['clips']:,} clips in {dispatch['wall_s']} s ({dispatch['clips_per_s']}/s): client "
          f"{dispatch['client_cpu_ms_per_clip']} ms and scheduler {dispatch['scheduler_cpu_ms_per_clip']} ms of CPU a clip, so at most "
          f"{dispatch['ceiling_clips_per_s']:,} clips/s; the client holds {dispatch['client_extract_many_mb_per_100k_videos']} MB per 100k "
          "videos in extract_many")
    t = report["training"]
    print(f"two-node training: {t['steps']} steps of {t['global_batch']} clips in {t['wall_s']} s (whole command), {t['clips_per_s_in_the_loop']} "
          f"clips/s in the loop; largest process per node, MB: {t['largest_process_mb_per_node']}")
    print("\n| source -> store (10 s clips) | frames/s per core | bytes/frame: dots | photo pan | worker s a clip | K400 h on 1 / 8 / 64 cores "
          "| clips/s at 64 | K400 stores: dots / photo | writes at 64 cores |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, rate in report["extraction"]["dots"].items():
        p = report["prediction"][name]
        photo = report["extraction"]["photo_pan_340x256"][name.split(" -> ")[1]]["bytes_per_frame"]
        print(f"| {name} | {rate['frames_per_s_per_core']:,} | {rate['bytes_per_frame']:,} | {photo:,} | {p['worker_s_per_clip']} | "
              f"{' / '.join(str(h) for h in p['hours_by_cores'].values())} | {p['clips_per_s_at_64_cores']} | "
              f"{p['stores_tib_dots']} / {p['stores_tib_photo']} TiB | {p['write_mb_per_s_64_cores']} MB/s |")
    print(f"\nindex tables: {report['index_mb_per_100k_videos']} MB per 100k videos in the client\nscale: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
