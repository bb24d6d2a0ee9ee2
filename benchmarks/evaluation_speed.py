"""End to end on a CPU: evaluation and ``predict`` plain against fast, and against the original's own evaluation.

What a user runs, timed whole, in interleaved rounds (the order of the variants alternates from
round to round; every run is a fresh process, so none inherits another's caches or warm-up):

  evaluate  ``evaluate_checkpoint(best.pt, split 1's test list, frames)``, what the evaluate stage
            runs (clip level, then video level), ``fast=False`` (plain: the model as trained) and
            ``fast=True`` (BatchNorm folded, channels_last), for each environment (``--env``) and
            architecture, in its own process: wall time of the evaluation and of the process.
  predict   ``python -m mict_pipeline predict VIDEOS --checkpoint best.pt --device cpu --json``
            with and without ``--plain``, on the first ``--predict-videos`` videos of the test
            list (their AVI files): videos/s of the whole command (start-up included) and of the
            scoring alone (reported by the child).
  original  with ``--original PATH`` (a checkout of github.com/fmahoudeau/MiCT-Net-PyTorch, e.g. in
            /tmp; never copied here), on the rehearsal: the original's own
            ``experiments/classification/test.py`` (its ``test(args)``, unmodified, run from its
            folder on the CPU as its ``__main__`` runs it) against the project's evaluation of the
            same weights (a full-width MiCT-ResNet-18, 101 classes: the only model the original's
            test builds) on the same clips (the first 16 frames of each test video, centre crop:
            the project's frame stores written out as the original's numbered JPEG files, bytes
            unchanged). Throughput = clips scored per second of the evaluation call: the original
            scores one clip per video, the project's evaluation that clip and then every clip of
            the video level; ``project clip level`` runs the project's code on the original's work
            alone (the clip-level pass, fast). One function of the original is replaced at run time:
            its ``utils.accuracy`` (top-k counting after the forward pass) stops under torch 2.x
            (``.view`` of a non-contiguous tensor); the child gives it the same computation with
            ``.reshape``.

Weights: the environment's trained ``best.pt`` when the project has one, else the experiment's
model with seeded random weights and BatchNorm statistics (speed does not depend on the values;
top-1 agreement between plain and fast is still checked on every video).

The data come from the environments' own stages, run beforehand in a project (``--project``, by
default this one): ``kedro run --env demo --pipelines=synthetic`` then ``download``, ``prepare``
(the same for ``--env rehearsal``).

Usage: python benchmarks/evaluation_speed.py --project /tmp/evalbench/proj --env demo --env rehearsal \
           [--original /tmp/mict_original] [--rounds 3] [--limit N] [--json out.json]
For an AVX2-only CPU on an AVX-512 one: ``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2`` in front
(children inherit them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from mict_pipeline.checkpoint import BEST, save_checkpoint
from mict_pipeline.clips.sampling import video_clip_indices
from mict_pipeline.datasets.spec import DatasetSpec
from mict_pipeline.experiment import Experiment, ExperimentConfig, TrainingParams
from mict_pipeline.models.checks import randomize_batchnorm
from mict_pipeline.models.speed import cpu_name
from mict_pipeline.project import catalog_folder, configuration

ISA_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")
SPLIT = 1


# ----------------------------------------------------------------------------------------------- #
# Children: each measured run is its own process.


def child_evaluate(checkpoint: str, index_csv: str, frames_dir: str, fast: bool, clip_only: bool) -> dict:
    started = time.perf_counter()
    from mict_pipeline.checkpoint import load_checkpoint
    from mict_pipeline.clips.dataset import ClipDataset
    from mict_pipeline.evaluation.evaluate import evaluate_checkpoint
    from mict_pipeline.models.inference import inference_model
    from mict_pipeline.training import predict_scores

    test_index = pd.read_csv(index_csv)
    imported = time.perf_counter()
    if clip_only:  # the project's code on the original's work: the clip-level pass alone
        model, experiment = load_checkpoint(checkpoint)
        net = inference_model(model, experiment.arch, experiment.recipe.resolve_device(), fast)
        scores = predict_scores(net, ClipDataset(test_index, "clip", experiment.clips, root=frames_dir), experiment.recipe)
        top1 = scores.argmax(1)
    else:
        evaluation = evaluate_checkpoint(checkpoint, test_index, frames_dir, fast=fast)
        top1 = evaluation.predictions["video_pred"].to_numpy()
    done = time.perf_counter()
    return {"seconds": done - imported, "process_seconds": done - started, "top1": top1.tolist()}


def child_predict(checkpoint: str, videos: list[str], fast: bool) -> dict:
    from mict_pipeline.predict import Classifier

    classifier = Classifier.from_checkpoint(checkpoint, device="cpu", fast=fast)
    started = time.perf_counter()
    top1 = [p.top[0].label for p in classifier.predict(videos, top=1)]
    return {"seconds": time.perf_counter() - started, "top1": top1}


def child_original(original: str, data_folder: str, checkpoint: str, base_size: int, crop_size: int, batch: int) -> dict:
    """The original's test.py as its ``__main__`` runs it, timed around ``test(args)``."""
    started = time.perf_counter()
    folder = Path(original) / "experiments" / "classification"
    os.chdir(folder)  # test.py adds '../../' to sys.path and writes its log under output/
    sys.path.insert(0, str(folder))
    sys.argv = ["test.py", "--dataset", "ucf101", "--data-folder", data_folder, "--split", str(SPLIT),
                "--base-size", str(base_size), "--crop-size", str(crop_size), "--crop-vid", "16",
                "--batch-size", str(batch), "--resume", checkpoint, "--no-cuda", "--checkname", "evaluation_speed"]
    import test as original_test  # noqa: E402  (the original's module, from its checkout)
    from option import Options  # noqa: E402

    # Its utils.accuracy stops under torch >= 1.x (`.view` of a non-contiguous tensor); the same
    # computation with `.reshape` stands in for that one function (test.py looks it up at each call).
    original_test.utils.accuracy = _original_accuracy

    args = Options().parse()
    torch.manual_seed(args.seed)
    imported = time.perf_counter()
    original_test.test(args)
    done = time.perf_counter()
    return {"seconds": done - imported, "process_seconds": done - started}


def _original_accuracy(output: torch.Tensor, target: torch.Tensor, topk: tuple[int, ...] = (1,)) -> list[torch.Tensor]:
    with torch.no_grad():
        _, pred = output.topk(max(topk), 1, True, True)
        correct = pred.t().eq(target.view(1, -1).expand_as(pred.t()))
        return [correct[:k].reshape(-1).float().sum(0, keepdim=True).div_(target.size(0)) for k in topk]


def run_child(kind: str, payload: dict, env: dict | None = None) -> dict:
    """Run a child of this script; its last stdout line is its JSON result."""
    command = [sys.executable, __file__, "--child", kind, "--payload", json.dumps(payload)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"child {kind} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def run_predict_command(checkpoint: str, videos: list[str], fast: bool) -> dict:
    command = [sys.executable, "-m", "mict_pipeline", "predict", *videos, "--checkpoint", checkpoint, "--device", "cpu", "--json", "--top", "1"]
    started = time.perf_counter()
    done = subprocess.run([*command, *([] if fast else ["--plain"])], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"predict failed:\n{done.stderr[-3000:]}")
    return {"wall": wall, "top1": [json.loads(line)["top"][0]["label"] for line in done.stdout.splitlines()]}


# ----------------------------------------------------------------------------------------------- #
# Set-up in the parent.


def randomized(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Seeded random weights with non-trivial BatchNorm statistics, so folding has work to do."""
    return randomize_batchnorm(model, seed).eval()


def environment(project: Path, env: str) -> dict:
    """The environment's split-1 test list, frames, videos and experiments."""
    parameters = configuration(project, env)["parameters"]
    data = catalog_folder(project, env, "frames_dir").parents[1]  # <data root>/03_primary/frames
    spec = DatasetSpec.model_validate(json.loads((data / "05_model_input" / "dataset.json").read_text()))
    training = TrainingParams.model_validate(parameters["training"])
    experiments = {
        name: Experiment.create(name, ExperimentConfig.model_validate(parameters["experiments"][name]), training, spec, SPLIT)
        for name in parameters["run_experiments"]
    }
    index = data / "05_model_input" / f"split_{SPLIT}" / "test.csv"
    return {"env": env, "data": data, "frames": data / "03_primary" / "frames", "index": index, "experiments": experiments}


def checkpoint_for(project: Path, env: str, experiment: Experiment, scratch: Path) -> tuple[str, str]:
    trained = catalog_folder(project, env, f"split_{SPLIT}.{experiment.name}.run_dir") / BEST
    if trained.is_file():
        return str(trained), "trained best.pt"
    torch.manual_seed(0)
    path = save_checkpoint(scratch / f"{env}.{experiment.name}.pt", randomized(experiment.build_model()), experiment)
    return str(path), "seeded random weights"


def find_videos(data: Path, names: list[str]) -> list[str]:
    unpacked = data / "01_raw" / "unpacked"
    found = {p.with_suffix("").relative_to(p.parents[1]).as_posix(): p for p in unpacked.rglob("*.avi")}
    return [str(found[name]) for name in names]


def write_original_dataset(index: pd.DataFrame, frames: Path, folder: Path, clip_len: int) -> None:
    """The original's layout: images/val<split>.csv (``video,n_frames,class id from 1``) and the
    numbered JPEG files it opens (the first ``clip_len`` frames), the frame stores' bytes unchanged."""
    from mict_pipeline.io.frame_store import read_encoded_frames

    images = folder / "images"
    lines = []
    for row in index.itertuples():
        (images / row.video).parent.mkdir(parents=True, exist_ok=True)
        _, payloads = read_encoded_frames(frames / row.frame_store, range(min(clip_len, row.n_frames)))
        for i, payload in enumerate(payloads):
            (images / f"{row.video}-{i + 1:04d}.jpg").write_bytes(payload)
        lines.append(f"{row.video},{row.n_frames},{row.label + 1}\n")
    (images / f"val{SPLIT}.csv").write_text("".join(lines))


def original_pair(original: str, experiment: Experiment, scratch: Path) -> tuple[str, str, dict]:
    """The original's MiCT-ResNet-18 with seeded weights, saved as its checkpoint, and the project's
    checkpoint of the same weights (full width, 101 classes, the experiment's clips)."""
    sys.path.insert(0, original)
    from mictnet import models  # the original's package, from its checkout

    from mict_pipeline.models.weights import load_state_into, rename_keys

    torch.manual_seed(0)
    net = randomized(models.get_mictresnet("resnet18", "v1", n_classes=101))
    theirs = scratch / "original_model_best.pth.tar"
    torch.save({"epoch": 0, "state_dict": net.state_dict()}, theirs)
    run = experiment.model_copy(update={"model": experiment.model.model_copy(update={"width": 64, "version": "v1", "first_kernel_depth": 7})})
    ours = run.build_model()
    load_state_into(ours, rename_keys(net.state_dict(), "mict"), "the original's state_dict")
    path = save_checkpoint(scratch / "project_full_width.pt", ours, run)
    return str(theirs), str(path), {"net": net, "ours": ours, "run": run}


def same_clips(models: dict, index: pd.DataFrame, frames: Path, data_folder: Path, crop: int, base: int, n: int = 16) -> dict:
    """The original's data set and model against the project's clips and model (plain and fast), first ``n`` videos."""
    from mictnet.datasets import get_classification_dataset
    import logging
    import torchvision.transforms as transform

    from mict_pipeline.clips.dataset import ClipDataset
    from mict_pipeline.clips.transforms import normalize_clips
    from mict_pipeline.models.inference import inference_model

    normalize = transform.Compose([transform.ToTensor(), transform.Normalize([.485, .456, .406], [.229, .224, .225])])
    theirs = get_classification_dataset("ucf101", mode="val", logger=logging.getLogger("original"), transform=normalize,
                                        base_size=base, crop_size=crop, crop_vid=16, split=SPLIT, root=str(data_folder))
    run = models["run"]
    ours = ClipDataset(index.iloc[:n], "clip", run.clips, root=frames)
    x_theirs = torch.stack([theirs[i][0] for i in range(n)])
    x_ours = normalize_clips(torch.stack([ours[i][0] for i in range(n)]))
    fast = inference_model(models["ours"], run.arch, "cpu")
    with torch.inference_mode():
        a, b, c = models["net"].eval()(x_theirs), models["ours"].eval()(x_ours), fast(x_ours)
    return {"clips": n, "max_input_diff": (x_theirs - x_ours).abs().max().item(),
            "max_logit_diff_plain": (a - b).abs().max().item(), "max_logit_diff_fast": (a - c).abs().max().item(),
            "top1_equal_plain": bool(torch.equal(a.argmax(1), b.argmax(1))), "top1_equal_fast": bool(torch.equal(a.argmax(1), c.argmax(1)))}


# ----------------------------------------------------------------------------------------------- #


def machine() -> str:
    model = cpu_name()
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    isa = {name: os.environ.get(name) for name in ISA_VARIABLES if os.environ.get(name)}
    return (f"{model}, {os.cpu_count()} cores, AVX-512 {'yes' if 'avx512f' in flags else 'no'}, AVX2 {'yes' if 'avx2' in flags else 'no'}; "
            f"torch {torch.__version__}, {torch.get_num_threads()} threads; {isa or 'native ISA'}; python {platform.python_version()}")


def load() -> str:
    return "load " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def alternate(items: list, round_: int) -> list:
    return items if round_ % 2 == 0 else items[::-1]


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):7.2f} s [{min(times):.2f}-{max(times):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--env", action="append", help="environments (default: demo and rehearsal)")
    parser.add_argument("--arch", action="append", help="experiments to time (default: every run_experiments entry)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, help="the first N videos of each test list (default: all)")
    parser.add_argument("--predict-videos", type=int, default=40)
    parser.add_argument("--original", help="a checkout of MiCT-Net-PyTorch (outside this project), for the comparison on the rehearsal")
    parser.add_argument("--original-limit", type=int, help="the first N test videos for the comparison with the original")
    parser.add_argument("--skip", action="append", default=[], choices=("evaluate", "predict", "original"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child")
    parser.add_argument("--payload")
    args = parser.parse_args()
    if args.child:
        handler = {"evaluate": child_evaluate, "predict": child_predict, "original": child_original}[args.child]
        result = handler(**json.loads(args.payload))
        print(json.dumps(result))
        return

    print(f"machine: {machine()}")
    print(f"start: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {load()}")
    report: dict = {"machine": machine(), "results": []}
    with tempfile.TemporaryDirectory(prefix="evaluation-speed-") as tmp:
        scratch = Path(tmp)
        for name in args.env or ["demo", "rehearsal"]:
            env = environment(args.project, name)
            index = pd.read_csv(env["index"])
            if args.limit:
                index = index.iloc[: args.limit]
            index_csv = scratch / f"{name}.test.csv"
            index.to_csv(index_csv, index=False)
            for experiment in env["experiments"].values():
                if args.arch and experiment.name not in args.arch:
                    continue
                checkpoint, weights = checkpoint_for(args.project, name, experiment, scratch)
                clips = len(index) + sum(len(video_clip_indices(n, experiment.clips.clip_len, experiment.clips.video_frames)) for n in index.n_frames)
                print(f"\n{name} / {experiment.name} (width {experiment.model.width}, {weights}): {len(index)} test videos, "
                      f"{clips} clips (clip + video level), {experiment.clips.output_size} px, eval batch {experiment.recipe.eval_batch_size}, "
                      f"loader workers {experiment.recipe.workers}")
                if "evaluate" not in args.skip:
                    times = {True: [], False: []}
                    top1 = {}
                    for r in range(args.rounds):
                        for fast in alternate([False, True], r):
                            result = run_child("evaluate", {"checkpoint": checkpoint, "index_csv": str(index_csv), "frames_dir": str(env["frames"]), "fast": fast, "clip_only": False})
                            times[fast].append(result["seconds"])
                            top1[fast] = result["top1"]
                            print(f"  round {r + 1} evaluate {'fast ' if fast else 'plain'}: {result['seconds']:.2f} s (process {result['process_seconds']:.2f} s), {load()}", flush=True)
                    ratio = statistics.median(p / f for p, f in zip(times[False], times[True]))
                    agree = top1[True] == top1[False]
                    print(f"  evaluate plain {summary(times[False])}  fast {summary(times[True])}  plain/fast {ratio:.2f}x  "
                          f"video top-1 identical: {agree}")
                    report["results"].append({"env": name, "arch": experiment.name, "what": "evaluate", "videos": len(index), "clips": clips,
                                              "plain": times[False], "fast": times[True], "ratio": ratio, "top1_identical": agree, "weights": weights})
                if "predict" not in args.skip:
                    videos = find_videos(env["data"], index.video.tolist()[: args.predict_videos])
                    walls = {True: [], False: []}
                    inner = {True: [], False: []}
                    top1 = {}
                    for r in range(args.rounds):
                        for fast in alternate([False, True], r):
                            command = run_predict_command(checkpoint, videos, fast)
                            scored = run_child("predict", {"checkpoint": checkpoint, "videos": videos, "fast": fast})
                            walls[fast].append(command["wall"])
                            inner[fast].append(scored["seconds"])
                            top1[fast] = command["top1"]
                            print(f"  round {r + 1} predict {'fast ' if fast else 'plain'}: command {len(videos) / command['wall']:.2f} videos/s, "
                                  f"scoring alone {len(videos) / scored['seconds']:.2f} videos/s, {load()}", flush=True)
                    n = len(videos)
                    rate = {k: [n / t for t in v] for k, v in walls.items()}
                    rate_inner = {k: [n / t for t in v] for k, v in inner.items()}
                    ratio = statistics.median(p / f for p, f in zip(walls[False], walls[True]))
                    ratio_inner = statistics.median(p / f for p, f in zip(inner[False], inner[True]))
                    print(f"  predict {n} videos: command plain {statistics.median(rate[False]):.2f} videos/s, fast {statistics.median(rate[True]):.2f} "
                          f"(fast/plain {ratio:.2f}x); scoring alone plain {statistics.median(rate_inner[False]):.2f}, fast "
                          f"{statistics.median(rate_inner[True]):.2f} ({ratio_inner:.2f}x); top-1 identical: {top1[True] == top1[False]}")
                    report["results"].append({"env": name, "arch": experiment.name, "what": "predict", "videos": n, "command_plain": walls[False],
                                              "command_fast": walls[True], "scoring_plain": inner[False], "scoring_fast": inner[True],
                                              "ratio": ratio, "ratio_scoring": ratio_inner, "top1_identical": top1[True] == top1[False]})
            if args.original and "original" not in args.skip and "mict_resnet18" in env["experiments"]:
                compare_with_original(args, env, index, scratch, report)
    print(f"\nend: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {load()}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def compare_with_original(args: argparse.Namespace, env: dict, index: pd.DataFrame, scratch: Path, report: dict) -> None:
    experiment = env["experiments"]["mict_resnet18"]
    if len(experiment.dataset.class_names) != 101:
        print(f"\n{env['env']}: the original's test builds 101 classes only; comparison skipped")
        return
    if args.original_limit:
        index = index.iloc[: args.original_limit]
    index_csv = scratch / "original.test.csv"
    index.to_csv(index_csv, index=False)
    data_folder = scratch / "original_data"
    write_original_dataset(index, env["frames"], data_folder, experiment.clips.clip_len)
    theirs, ours, models = original_pair(args.original, experiment, scratch)
    run = models["run"]
    frames = experiment.dataset.frames
    crop, base = run.clips.output_size, frames.height  # base = the frames' short side: the original's resize is then a copy
    check = same_clips(models, index, env["frames"], data_folder, crop, base)
    batch = run.recipe.eval_batch_size
    clips_video = sum(len(video_clip_indices(n, run.clips.clip_len, run.clips.video_frames)) for n in index.n_frames)
    n = len(index)
    print(f"\n{env['env']}: the original's test.py against the project's evaluation, full-width MiCT-ResNet-18 (101 classes, seeded weights), "
          f"{n} test videos, {crop} px centre crop of {frames.width}x{frames.height} frames, batch {batch}; the original's loader in the main process "
          f"(its default on a CPU), the project's with {run.recipe.workers} worker(s) (the environment's recipe)")
    print(f"  same clips: {check}")
    work = {"original": n, "project plain": n + clips_video, "project fast": n + clips_video, "project clip level (fast)": n}
    runs = {
        "original": ("original", {"original": args.original, "data_folder": str(data_folder), "checkpoint": theirs, "base_size": base, "crop_size": crop, "batch": batch}),
        "project plain": ("evaluate", {"checkpoint": ours, "index_csv": str(index_csv), "frames_dir": str(env["frames"]), "fast": False, "clip_only": False}),
        "project fast": ("evaluate", {"checkpoint": ours, "index_csv": str(index_csv), "frames_dir": str(env["frames"]), "fast": True, "clip_only": False}),
        "project clip level (fast)": ("evaluate", {"checkpoint": ours, "index_csv": str(index_csv), "frames_dir": str(env["frames"]), "fast": True, "clip_only": True}),
    }
    times: dict[str, list[float]] = {k: [] for k in runs}
    for r in range(args.rounds):
        for key in alternate(list(runs), r):
            kind, payload = runs[key]
            result = run_child(kind, payload)
            times[key].append(result["seconds"])
            print(f"  round {r + 1} {key}: {result['seconds']:.2f} s, {work[key] / result['seconds']:.1f} clips/s (process {result['process_seconds']:.2f} s), {load()}", flush=True)
    print(f"  {'':28} {'wall (median [range])':>26} {'clips':>7} {'clips/s':>8} {'throughput / original':>22}")
    for key in runs:
        ratio = statistics.median((work[key] / t) / (n / o) for t, o in zip(times[key], times["original"]))
        print(f"  {key:28} {summary(times[key]):>26} {work[key]:>7} {work[key] / statistics.median(times[key]):8.1f} {ratio:21.2f}x")
    report["results"].append({"env": env["env"], "what": "original", "videos": n, "work": work, "times": times, "same_clips": check})


if __name__ == "__main__":
    main()
