"""`make rehearsal`: conf/rehearsal end to end as DVC stages, each one timed, and a report of scale.

The rehearsal environment is conf/base at UCF-101's full shape (13,320 videos, 101 classes, the
official lists with their counts asserted) on a synthetic replica small enough for 2 CPU cores. This
script runs its stages one by one (`dvc repro -s conf/rehearsal/dvc.yaml:<stage>`, in the order of
the file), records each stage's wall time, CPU time and peak resident memory (of its largest
process: DVC, the `kedro run` it starts, or a worker), and then measures what a real run's size
depends on:

* frame extraction alone, per core, on a sample of replica videos: at the rehearsal's size and at
  UCF-101's (320x240 videos to 256x192 JPEG stores at quality 90), with the bytes per frame;
* from those, the predicted time and disk of `prepare` on real UCF-101 for 2, 8 and 32 cores;
* with `--small-clips N` (default 1: 2,525 videos, a fifth), the peak memory of prepare, train and
  evaluate again on a replica with at most N clips per group (the same 101 classes and 25 groups,
  the same DVC stages, in a temporary git copy of the project), beside the full size's: memory must
  not grow with the number of videos beyond the index tables.

Writes data/rehearsal/08_reporting/scale.json and prints a summary and where the report is.

    python benchmarks/rehearsal.py [--small-clips 1] [--sample 60]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import yaml

from mict_pipeline.datasets.synthetic import FOURCC, FPS, UCF101_SECONDS, replica_specs, render_frames, write_video
from mict_pipeline.dvc_stages import StageWriter, pipeline_file
from mict_pipeline.models.speed import cpu_name
from mict_pipeline.io.atomic import write_bytes_atomic
from mict_pipeline.io.disk import format_bytes
from mict_pipeline.io.frame_store import extract_frames
from mict_pipeline.io.workers import available_cores

ROOT = Path(__file__).resolve().parents[1]
ENV = "rehearsal"
DVC_FILE = pipeline_file(ENV)  # written first: only the root's and the demo's are committed
DATA = ROOT / "data" / ENV
LOG = DATA / "rehearsal.log"  # *.log is git-ignored
UCF101_VIDEOS = 13_320
UCF101_FRAMES = round(UCF101_VIDEOS * UCF101_SECONDS[0] * FPS)  # 2.40 M frames at 25 fps
CORES = (2, 8, 32)


def tools_env() -> dict[str, str]:
    """This environment with the project's tools first on PATH (DVC stages call `kedro`)."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "KEDRO_DISABLE_TELEMETRY": "1"}


def _peaks(root: psutil.Process, done: threading.Event, peaks: dict[str, int], root_kind: str, every: float = 0.1) -> None:
    """Until ``done``: the largest resident size seen of each kind of process under ``root`` (itself,
    ``root_kind``: DVC, or the `kedro run` DVC starts, their workers) and of all of them together."""
    while not done.wait(every):
        total = 0
        try:
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        commands = {}
        for process in processes:
            try:
                commands[process.pid] = (process.memory_info().rss, " ".join(process.cmdline()), process.ppid())
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        for pid, (rss, command, parent) in commands.items():
            # DataLoader workers are forks of `kedro run`: the same command line as their parent's.
            is_kedro = " run " in command and "kedro" in command and commands.get(parent, (0, ""))[1] != command
            kind = root_kind if pid == root.pid else "kedro" if is_kedro else "workers"
            peaks[kind] = max(peaks.get(kind, 0), rss)
            total += rss
        peaks["all"] = max(peaks.get("all", 0), total)


def run_measured(command: list[str], cwd: Path, log, root_kind: str = "dvc") -> dict:
    """Run ``command``; its wall and CPU seconds, and the peak resident memory (sampled every 0.1 s)
    of its largest `kedro run`, of itself (``root_kind``: DVC), of the largest worker, and of all of
    them at once (shared pages counted in each process)."""
    log.write(f"\n$ {' '.join(command)}\n".encode())
    log.flush()
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=tools_env())
    peaks: dict[str, int] = {}
    done = threading.Event()
    sampler = threading.Thread(target=_peaks, args=(psutil.Process(process.pid), done, peaks, root_kind))
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"`{' '.join(command)}` in {cwd} failed (exit {process.returncode}); its output is in {log.name}")
    mb = {f"peak_rss_mb_{kind}": round(peak / 2**20) for kind, peak in sorted(peaks.items()) if kind != "all"}
    return {"wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "peak_rss_mb": round(peaks.get("all", 0) / 2**20), **mb}


def repro(project: Path, stage: str, log) -> dict:
    """``dvc repro`` of one stage of the rehearsal in ``project``, measured; whether DVC ran it."""
    offset = log.tell()
    measured = run_measured([str(Path(sys.executable).parent / "dvc"), "repro", "-s", f"{DVC_FILE}:{stage}"], project, log)
    ran = f"Running stage '{DVC_FILE}:{stage}'".encode() in LOG.read_bytes()[offset:]
    return {"stage": stage, "ran": ran, **measured}


def rehearse(log) -> list[dict]:
    results = []
    for stage in yaml.safe_load((ROOT / DVC_FILE).read_text())["stages"]:
        results.append(repro(ROOT, stage, log))
        r = results[-1]
        print(f"  {stage:32s} {'ran' if r['ran'] else 'unchanged':9s} {r['wall_s']:7.1f} s  {r['peak_rss_mb']:6d} MB peak in all, "
              f"{r.get('peak_rss_mb_kedro', 0):6d} MB kedro", flush=True)
    status = subprocess.run([str(Path(sys.executable).parent / "dvc"), "status", DVC_FILE], cwd=ROOT, capture_output=True, text=True).stdout
    if "up to date" not in status:
        raise SystemExit(f"dvc status {DVC_FILE} after the rehearsal is not clean:\n{status}")
    return results


def render_sample(specs, video_size: tuple[int, int], folder: Path, fourcc: str = FOURCC) -> list[Path]:
    """``specs`` rendered at ``video_size`` into videos in ``folder`` (their names' suffixes pick the container)."""
    return [write_video(folder / f"{video_size[0]}x{video_size[1]}" / spec.name, render_frames(spec, video_size), fourcc=fourcc) for spec in specs]


def extraction_rate(videos: list[Path], video_size: tuple[int, int], store_size: tuple[int, int], folder: Path) -> dict:
    """Frames per CPU second (one process, so per core) and bytes per frame of extracting ``videos``
    (of ``video_size``) into JPEG stores (quality 90) of ``store_size``."""
    frames, stored, cpu = 0, 0, 0.0
    for video in videos:
        out = folder / f"{video_size[0]}x{video_size[1]}-{store_size[0]}x{store_size[1]}.frames" / f"{video.stem}.frames"
        started = time.process_time()
        frames += extract_frames(video, out, *store_size, quality=90)
        cpu += time.process_time() - started
        stored += out.stat().st_size
    return {"video_size": list(video_size), "store_size": list(store_size), "quality": 90, "videos": len(videos), "frames": frames,
            "frames_per_s_per_core": round(frames / cpu, 1), "bytes_per_frame": round(stored / frames)}


def measure_extraction(sample: int, rehearsal: dict) -> dict:
    """Extraction per core on ``sample`` replica videos spread over the classes, at full length."""
    specs = replica_specs()[:: UCF101_VIDEOS // sample][:sample]
    sizes = {"rehearsal": (tuple(rehearsal["video_size"]), tuple(rehearsal["store_size"])), "ucf101": ((320, 240), (256, 192))}
    with tempfile.TemporaryDirectory() as scratch:
        return {name: extraction_rate(render_sample(specs, video, Path(scratch)), video, store, Path(scratch)) for name, (video, store) in sizes.items()}


def predict_prepare(ucf101: dict) -> dict:
    """Frame extraction of real UCF-101 (2.40 M frames) at the measured rate per core."""
    hours = {str(c): round(UCF101_FRAMES / (ucf101["frames_per_s_per_core"] * c) / 3600, 2) for c in CORES}
    return {"frames": UCF101_FRAMES, "hours_by_cores": hours, "frame_stores_gib": round(UCF101_FRAMES * ucf101["bytes_per_frame"] / 2**30, 1)}


MEMORY_STAGES = ("prepare", "train-split_1-mict_resnet18", "evaluate-split_1-mict_resnet18")


def small_replica(clips_per_group: int, log) -> dict:
    """Peak memory of prepare, train and evaluate (split 1, MiCT-ResNet-18) on a replica with at
    most ``clips_per_group`` clips per group: the same classes, DVC stages and settings as the full
    run, in a temporary git copy of the project (its official-count check off: the lists are
    shorter)."""
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "project"
        skip = shutil.ignore_patterns("local", "dvc.lock", "cache", "tmp", "__pycache__", "*.egg-info")
        for name in ("conf", "src", ".dvc"):
            shutil.copytree(ROOT / name, project / name, ignore=skip)
        (project / "conf" / "local").mkdir()
        for name in ("pyproject.toml", ".telemetry", ".gitignore", ".dvcignore"):
            shutil.copy(ROOT / name, project / name)
        overrides = {"parameters_synthetic.yml": ("ucf101", {"max_clips_per_group": clips_per_group}), "parameters_datasets.yml": ("ucf101", {"expected_counts": None})}
        for file, (key, value) in overrides.items():
            path = project / "conf" / ENV / file
            conf = yaml.safe_load(path.read_text())
            block = next(iter(conf.values()))
            block[key] = {**block.get(key, {}), **value} if isinstance(value, dict) else value
            path.write_text(yaml.safe_dump(conf, sort_keys=False))
        git = ["git", "-c", "user.name=rehearsal", "-c", "user.email=rehearsal@localhost"]
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        subprocess.run(["git", "add", "-A"], cwd=project, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "small replica"], cwd=project, check=True)  # DVCLive needs a commit
        stages = [repro(project, stage, log) for stage in ("synthetic", "download", *MEMORY_STAGES)]
        videos = len(pd.read_csv(project / "data" / ENV / "03_primary" / "frame_index.csv"))
    return {"max_clips_per_group": clips_per_group, "videos": videos, "stages": stages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small-clips", type=int, default=1, help="also measure memory on a replica of this many clips per group (0: skip)")
    parser.add_argument("--sample", type=int, default=60, help="replica videos timed for the extraction rate")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with LOG.open("wb") as log:
        StageWriter(ROOT, ENV).write()
        print(f"rehearsal: the stages of {DVC_FILE} (output in {LOG.relative_to(ROOT)})", flush=True)
        stages = rehearse(log)
        rehearsal_wall = time.perf_counter() - started
        synthetic = json.loads((DATA / "01_raw" / "synthetic" / "manifest.json").read_text())
        prepare = yaml.safe_load((ROOT / "conf" / ENV / "parameters_prepare.yml").read_text())["prepare"]["frames"]
        sizes = {"video_size": synthetic["frame_size"], "store_size": [prepare["width"], prepare["height"]]}
        print(f"extraction per core on {args.sample} replica videos ...", flush=True)
        extraction = measure_extraction(args.sample, sizes)
        small = None
        if args.small_clips:
            print(f"memory on a replica of at most {args.small_clips} clips per group ...", flush=True)
            small = small_replica(args.small_clips, log)

    frame_index = pd.read_csv(DATA / "03_primary" / "frame_index.csv")
    stores = sum(f.stat().st_size for f in (DATA / "03_primary" / "frames").rglob("*.frames"))
    prepare_stage = next(s for s in stages if s["stage"] == "prepare")
    quality = json.loads((DATA / "08_reporting" / "data_quality.json").read_text())
    report = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpu": cpu_name(), "cores": available_cores(), "python": platform.python_version()},
        "dataset": {
            "videos": len(frame_index), "frames": int(frame_index["n_frames"].sum()), "lists": quality["lists"],
            "length_scale": synthetic["length_scale"], "seconds": synthetic["seconds"], **sizes,
        },
        "stages": stages,
        "rehearsal_wall_s": round(rehearsal_wall, 1),
        "prepare": {
            "videos_per_s": round(len(frame_index) / prepare_stage["wall_s"], 1),
            "frames_per_s": round(frame_index["n_frames"].sum() / prepare_stage["wall_s"], 1),
            "frames_per_cpu_s": round(frame_index["n_frames"].sum() / prepare_stage["cpu_s"], 1),
            "note": "the whole stage (archive extraction, lists, frame stores, DVC hashing) by its wall and CPU time",
        },
        "frame_store_bytes_per_frame": round(stores / frame_index["n_frames"].sum()),
        "extraction": extraction,
        "ucf101_prepare_prediction": predict_prepare(extraction["ucf101"]),
        "memory_by_size": small,
        "report": str((DATA / "08_reporting" / "results.md").relative_to(ROOT)),
    }
    summarise(report, write_scale_report(report, DATA))
    return 0


def write_scale_report(report: dict, data_root: Path) -> Path:
    """``report`` as ``08_reporting/scale.json`` under ``data_root``; its path."""
    out = data_root / "08_reporting" / "scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out, (json.dumps(report, indent=2) + "\n").encode())
    return out


def summarise(report: dict, out: Path) -> None:
    stages = report["stages"]
    print(f"\nrehearsal: {report['dataset']['videos']:,} videos, {sum(s['wall_s'] for s in stages) / 60:.1f} min of stages on "
          f"{report['machine']['cores']} cores ({report['machine']['cpu']})")
    for name, rate in report["extraction"].items():
        print(f"  extraction {name:9s} {rate['video_size']} -> {rate['store_size']}: {rate['frames_per_s_per_core']:7.1f} frames/s per core, "
              f"{rate['bytes_per_frame']:6d} bytes/frame")
    prediction = report["ucf101_prepare_prediction"]
    print(f"  real UCF-101 frame extraction ({prediction['frames']:,} frames): "
          + ", ".join(f"{h} h on {c} cores" for c, h in prediction["hours_by_cores"].items())
          + f"; {prediction['frame_stores_gib']} GiB of frame stores")
    if report["memory_by_size"]:
        small = report["memory_by_size"]
        full = {s["stage"]: s for s in stages}
        for measured in small["stages"]:
            stage = measured["stage"]
            if stage in MEMORY_STAGES:
                for kind in ("peak_rss_mb_kedro", "peak_rss_mb"):
                    print(f"  {'kedro' if kind.endswith('kedro') else 'in all':6s} {stage:30s}: {measured[kind]:5d} MB at {small['videos']:,} videos, "
                          f"{full[stage][kind]:5d} MB at {report['dataset']['videos']:,} (x{full[stage][kind] / measured[kind]:.2f})")
    print(f"\nreport: {report['report']}\nscale:  {out.relative_to(ROOT)} ({format_bytes(out.stat().st_size)})")


if __name__ == "__main__":
    sys.exit(main())
