"""Training-loader throughput per worker: this project's clips against the original's PIL recipe.

Both sides make the same number of augmented training clips (16 frames, 160 x 160, normalised float
(3, 16, 160, 160)) from the same synthetic videos, in this one process (a DataLoader worker runs
exactly this loop, so clips/s here is clips/s per worker), with OpenCV and torch on one thread:

* ours: ``ClipDataset(mode="train")`` (frame store read + JPEG decode of the distinct frames, crop,
  resize, flip, colour jitter, in uint8 with OpenCV) and ``normalize_clips`` on the CPU;
* original: the recipe as the original code (``mictnet/datasets/ucf101.py``) runs it: one JPEG file
  per frame at 256 x 192, PIL open + decode + ``convert("RGB")`` per frame, mirror, rescale to the
  base size (192), multi-scale corner crop then bilinear resize to 160, ImageEnhance Color,
  Brightness, Contrast, then torchvision ToTensor + Normalize per frame and a stack.

The JPEG files hold the same bytes as the frame store (same decoder, resize and quality). Timed
rounds rotate the order of the sides, so machine noise hits all of them. Also timed: ours without
the normalisation (``ours_uint8``), as a training worker runs it (the training device normalises),
and both sides with their draws and decoding only (``*_decode_only``): the floor under each loader,
which shows how much of a 5x budget the exact JPEG decoding leaves for the augmentation.
Then a per-stage breakdown of ours, and a fidelity check that runs the PIL recipe with our draws
(same frames, crop, flip and factors) and reports the difference in uint8 levels, for the worker
path and for ``recipe.decode: device`` (torch decoding and augmentation, here on the CPU).

Usage: python benchmarks/loader_speed.py [--videos 40] [--clips 200] [--rounds 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import PIL
import simplejpeg
import torch
import torchvision
from PIL import Image, ImageEnhance
from torchvision import transforms

from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.clips.transforms import normalize_clips
from mict_pipeline.clips.device import EncodedClipDataset, collate_encoded
from mict_pipeline.clips.sampling import train_clip_indices
from mict_pipeline.clips.transforms import IMAGENET_MEAN, IMAGENET_STD, TrainAugment, crop_resize
from mict_pipeline.datasets.synthetic import MOTIONS, VideoSpec, render_frames, write_video
from mict_pipeline.io.frame_store import extract_frames, load_frames
from mict_pipeline.models.speed import cpu_name

CLIP_LEN = 16
CROP_SIZE = 160
BASE_SIZE = 192  # the original's --base-size: frames are rescaled to this height first
SCALES = (128, 144, 160, 176, 192)


# ----------------------------------------------------------------------------------------------
# Data: synthetic videos -> frame stores (ours) and one JPEG file per frame (original)
# ----------------------------------------------------------------------------------------------


def _write_jpeg_frames(video: Path, out_dir: Path, width: int = 256, height: int = 192, quality: int = 90) -> int:
    """One JPEG per frame, decoded, resized and encoded exactly as ``extract_frames`` does it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    capture = cv2.VideoCapture(str(video))
    n = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if frame.shape[1::-1] != (width, height):
            frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
        n += 1
        cv2.imwrite(str(out_dir / f"frame-{n:04d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    capture.release()
    return n


def make_data(
    root: Path, n_videos: int, frames: tuple[int, int], seed: int, jpeg_files: bool = True, size: tuple[int, int] = (256, 192)
) -> pd.DataFrame:
    """Synthetic videos of ``frames`` (min, max) frames as frame stores of ``size`` frames (``frame_store``,
    ``n_frames``, ``label``) and, with ``jpeg_files``, also as the original's one JPEG per frame (``jpeg_dir``)."""
    rng = np.random.default_rng(seed)
    classes = sorted(MOTIONS)
    rows = []
    for k in range(n_videos):
        spec = VideoSpec(classes[k % len(classes)], 1 + k // len(classes), 1, int(rng.integers(frames[0], frames[1] + 1)),
                         int(rng.integers(2**31)))
        video = write_video(root / "videos" / spec.name, render_frames(spec))
        store = root / "stores" / f"{video.stem}.frames"
        row = {"frame_store": str(store), "n_frames": extract_frames(video, store, *size), "label": k % len(classes)}
        if jpeg_files:
            n_jpeg = _write_jpeg_frames(video, root / "jpeg" / video.stem)
            assert row["n_frames"] == n_jpeg, (video, row["n_frames"], n_jpeg)
            row["jpeg_dir"] = str(root / "jpeg" / video.stem)
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# The original recipe (PIL), as mictnet/datasets/ucf101.py + train.py run it
# ----------------------------------------------------------------------------------------------


def _corner_box(w: int, h: int, crop_w: int, crop_h: int, position: str) -> tuple[int, int, int, int]:
    if position == "c":
        cx, cy = w // 2, h // 2
        return cx - crop_w // 2, cy - crop_h // 2, cx + crop_w // 2, cy + crop_h // 2
    x1 = 0 if position[1] == "l" else w - crop_w
    y1 = 0 if position[0] == "t" else h - crop_h
    return x1, y1, x1 + crop_w, y1 + crop_h


class OriginalTrainClips:
    """The original's training clips: PIL per frame, ToTensor + Normalize per frame, stacked to (3, T, H, W)."""

    def __init__(self, index: pd.DataFrame, seed: int = 0) -> None:
        self.videos = [[str(Path(d) / f"frame-{i + 1:04d}.jpg") for i in range(n)]
                       for d, n in zip(index["jpeg_dir"], index["n_frames"], strict=True)]
        self.labels = index["label"].tolist()
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
        self.seed, self.epoch = seed, 0

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.make_clip(*self.draw(i)), self.labels[i]

    def draw(self, i: int) -> tuple[list[str], bool, tuple[int, int, str], list[float]]:
        """The frame files, flip, crop and jitter factors of sample ``i`` in the current epoch."""
        rnd = random.Random(hash((self.seed, self.epoch, i)))  # the original draws from the global RNGs
        images = self.videos[i][:: rnd.randint(1, 4)]
        start = rnd.randint(0, max(0, len(images) - CLIP_LEN))
        flip = rnd.random() < 0.5
        crop_w, crop_h = SCALES[rnd.randint(0, len(SCALES) - 1)], SCALES[rnd.randint(0, len(SCALES) - 1)]
        position = ["c", "tl", "tr", "bl", "br"][rnd.randint(0, 4)]
        factors = [rnd.uniform(0.5, 1.5) for _ in range(3)]
        return images[start : start + CLIP_LEN], flip, (crop_w, crop_h, position), factors

    @staticmethod
    def decode(images: list[str]) -> list[Image.Image]:
        return [Image.open(name).convert("RGB") for name in images]

    def make_clip(self, images: list[str], flip: bool, crop: tuple[int, int, str], factors: list[float]) -> torch.Tensor:
        vid = self.decode(images)
        for image in vid:  # loop the frames as many times as necessary
            if len(vid) >= CLIP_LEN:
                break
            vid.append(image)
        if flip:
            vid = [im.transpose(Image.Transpose.FLIP_LEFT_RIGHT) for im in vid]
        w, h = vid[0].size
        vid = [im.resize((int(1.0 * w * BASE_SIZE / h), BASE_SIZE), Image.Resampling.BILINEAR) for im in vid]
        box = _corner_box(*vid[0].size, *crop)
        vid = [im.crop(box).resize((CROP_SIZE, CROP_SIZE), Image.Resampling.BILINEAR) for im in vid]
        colour, brightness, contrast = factors
        vid = [ImageEnhance.Color(im).enhance(colour) for im in vid]
        vid = [ImageEnhance.Brightness(im).enhance(brightness) for im in vid]
        vid = [ImageEnhance.Contrast(im).enhance(contrast) for im in vid]
        return torch.stack([self.transform(im) for im in vid], dim=1)


def _cpu() -> str:
    """CPU model, core count and the widest SIMD level torch dispatches to, for the record."""
    return f"{cpu_name()}, {os.cpu_count()} cores, SIMD {torch.backends.cpu.get_cpu_capability()}"


# ----------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------


def _run_ours(dataset: ClipDataset, keys: list[tuple[int, int]], normalize: bool = True) -> float:
    t0 = time.perf_counter()
    for key in keys:
        clip, _ = dataset[key]
        if normalize:
            normalize_clips(clip[None])
    return time.perf_counter() - t0


def _run_read_only(dataset: EncodedClipDataset, keys: list[tuple[int, int]]) -> float:
    """A worker's share with recipe.decode: device: read the clip's JPEG bytes and collate them."""
    t0 = time.perf_counter()
    for key in keys:
        collate_encoded([dataset[key]])
    return time.perf_counter() - t0


def _run_original(dataset: OriginalTrainClips, keys: list[tuple[int, int]]) -> float:
    t0 = time.perf_counter()
    for dataset.epoch, i in keys:
        dataset[i]
    return time.perf_counter() - t0


def _run_decode_only(dataset: ClipDataset, keys: list[tuple[int, int]]) -> float:
    """Ours without augmentation: the clip's draws, then read + decode of its distinct frames."""
    t0 = time.perf_counter()
    for epoch, i in keys:
        indices, _ = dataset.train_draw(epoch, i)
        load_frames(dataset.paths[i], np.unique(indices))
    return time.perf_counter() - t0


def _run_original_decode_only(dataset: OriginalTrainClips, keys: list[tuple[int, int]]) -> float:
    """The PIL recipe without augmentation: the clip's draws, then open + decode of its frame files."""
    t0 = time.perf_counter()
    for dataset.epoch, i in keys:
        dataset.decode(dataset.draw(i)[0])
    return time.perf_counter() - t0


def throughput(index: pd.DataFrame, n_clips: int, rounds: int, seed: int) -> dict:
    """Clips/s of each side over ``n_clips`` clips, in ``rounds`` rounds that rotate the order of the sides.

    ``ours_uint8`` is ours as a training worker runs it: the clip leaves the worker as uint8 and
    is normalised on the training device, so the worker does not normalise. ``read_only`` is a
    worker's share under ``recipe.decode: device`` (decoding and augmentation move to the device,
    so it is not the same work and not a loader-to-loader ratio).
    """
    ours, original = ClipDataset(index, "train", seed=seed), OriginalTrainClips(index, seed=seed)
    encoded = EncodedClipDataset(index, seed=seed)
    sides = {
        "ours": lambda ids: _run_ours(ours, ids),
        "original": lambda ids: _run_original(original, ids),
        "ours_uint8": lambda ids: _run_ours(ours, ids, normalize=False),
        "read_only": lambda ids: _run_read_only(encoded, ids),
        "ours_decode_only": lambda ids: _run_decode_only(ours, ids),
        "original_decode_only": lambda ids: _run_original_decode_only(original, ids),
    }
    n = len(index)
    for run in sides.values():  # warm-up: imports, page cache, allocators
        run([(0, i) for i in range(min(n, 8))])
    per_round = [n_clips // rounds + (r < n_clips % rounds) for r in range(rounds)]
    seconds = dict.fromkeys(sides, 0.0)
    ratios, done = [], 0
    for r, count in enumerate(per_round):
        ids = [(r, (done + j) % n) for j in range(count)]  # (epoch, video) keys
        done += count
        names = list(sides)
        names = names[r % len(names) :] + names[: r % len(names)]
        elapsed = {name: sides[name](ids) for name in names}
        for name, dt in elapsed.items():
            seconds[name] += dt
        ratios.append(elapsed["original"] / elapsed["ours"])
    rates = {f"{name}_clips_per_s": n_clips / dt for name, dt in seconds.items()}
    ms = {name: 1e3 * dt / n_clips for name, dt in seconds.items()}
    return {"clips": n_clips, "rounds": rounds, **rates, "speedup": seconds["original"] / seconds["ours"],
            "speedup_uint8": seconds["original"] / seconds["ours_uint8"],
            "speedup_decode_only": seconds["original"] / seconds["ours_decode_only"],
            "ms_per_clip_at_5x": ms["original"] / 5, "ms_per_clip_decode_only": ms["ours_decode_only"],
            "ms_per_clip_after_decode": ms["ours_uint8"] - ms["ours_decode_only"],
            "speedup_per_round": ratios, "speedup_median_round": statistics.median(ratios)}


def stage_breakdown(index: pd.DataFrame, n_clips: int, seed: int) -> dict:
    """Ours, stage by stage, on the clips of epoch 0 (ms per clip).

    ``augment`` is crop + resize + flip + colour jitter as ClipDataset runs them (fused, frame by
    frame); to split it, crop + resize + flip alone is timed again on the same frames
    (``of_which_crop_resize_flip``, not counted in the total) and ``of_which_colour_jitter`` is the rest.
    """
    config = ClipConfig()
    paths, lengths = index["frame_store"].tolist(), index["n_frames"].tolist()
    stages = dict.fromkeys(["sample", "read_decode", "augment", "normalize"], 0.0)
    crop_only = 0.0
    clock = time.perf_counter
    for j in range(n_clips):
        i = j % len(index)
        t0 = clock()
        rng = np.random.default_rng([seed, 0, i])
        indices = train_clip_indices(lengths[i], config.clip_len, rng, config.max_temporal_stride)
        augment = TrainAugment.draw(config, rng)
        unique, inverse = np.unique(indices, return_inverse=True)
        t1 = clock()
        frames = load_frames(paths[i], unique)
        t2 = clock()
        clip = augment.apply(frames, config.output_size)
        if len(unique) < len(indices):
            clip = clip[inverse]
        t3 = clock()
        normalize_clips(torch.from_numpy(clip)[None])
        t4 = clock()
        crop_resize(frames, augment.box(frames.shape[2], frames.shape[1]), config.output_size, augment.flip)
        crop_only += clock() - t4
        for key, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            stages[key] += dt
    ms = {k: 1e3 * v / n_clips for k, v in stages.items()}
    ms["total"] = sum(ms.values())
    ms["of_which_crop_resize_flip"] = 1e3 * crop_only / n_clips
    ms["of_which_colour_jitter"] = ms["augment"] - ms["of_which_crop_resize_flip"]
    return ms


def _us_per_frame(fn, frames: int, repeats: int = 50) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return 1e6 * (time.perf_counter() - t0) / (repeats * frames)


def augmentation_floor(index: pd.DataFrame) -> dict:
    """Per-frame cost (us) of the augmentation's biggest steps and their alternatives, on real frames.

    Bilinear resizing of a 16-frame clip to 160 x 160 from each crop size ``(h, w)``: OpenCV frame
    by frame (ours) and torch's uint8 kernel on the whole clip (anti-aliased, PIL's filter); and
    Color + Brightness as the four OpenCV calls the jitter makes now against one 3x3 ``cv2.transform``.
    """
    frames = load_frames(index["frame_store"][0], np.arange(CLIP_LEN) % int(index["n_frames"][0]))
    size = ClipConfig().output_size
    out = np.empty((CLIP_LEN, size, size, 3), np.uint8)
    resize = {}
    for h, w in ((128, 144), (160, 192), (176, 176), (192, 192)):
        crop = frames[:, :h, :w]
        tensor = torch.from_numpy(crop).permute(0, 3, 1, 2)

        def opencv(crop=crop) -> None:
            for src, dst in zip(crop, out, strict=True):
                cv2.resize(src, (size, size), dst=dst, interpolation=cv2.INTER_LINEAR)

        def torch_aa(tensor=tensor) -> None:
            torch.nn.functional.interpolate(tensor, size=(size, size), mode="bilinear", antialias=True)

        resize[f"{h}x{w}"] = {"opencv": _us_per_frame(opencv, CLIP_LEN), "torch_antialias": _us_per_frame(torch_aa, CLIP_LEN)}
    frame, grey, grey3 = out[0], np.empty((size, size), np.uint8), np.empty((size, size, 3), np.uint8)
    colour, brightness = 0.8, 1.2

    def four_calls() -> None:
        cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY, dst=grey)
        cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB, dst=grey3)
        cv2.addWeighted(frame, colour, grey3, 1.0 - colour, 0.0, dst=grey3)
        cv2.convertScaleAbs(grey3, dst=grey3, alpha=brightness)

    matrix = brightness * (colour * np.eye(3) + (1 - colour) * np.tile([0.299, 0.587, 0.114], (3, 1)))

    def one_transform() -> None:
        cv2.transform(frame, matrix.astype(np.float32), dst=grey3)

    return {"resize_us_per_frame": resize, "colour_brightness_us_per_frame": {
        "four_opencv_calls": _us_per_frame(four_calls, 1, 2000), "one_transform": _us_per_frame(one_transform, 1, 2000)}}


def fidelity(index: pd.DataFrame, n_clips: int, seed: int) -> dict:
    """Ours against the PIL recipe run with our draws: max and mean |difference| in uint8 levels (x 255 * std).

    Both of our paths: ``worker`` (ClipDataset, OpenCV in the loader worker) and ``device``
    (recipe.decode: device, decoded and augmented by torch; run here on the CPU).
    """
    config, original = ClipConfig(), OriginalTrainClips(index, seed=seed)
    paths = {"worker": ClipDataset(index, "train", seed=seed), "device": EncodedClipDataset(index, seed=seed)}
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1, 1)
    worst, total = dict.fromkeys(paths, 0.0), dict.fromkeys(paths, 0.0)
    for i in range(n_clips):
        rng = np.random.default_rng([seed, 0, i])
        indices = train_clip_indices(int(index["n_frames"][i]), config.clip_len, rng, config.max_temporal_stride)
        augment = TrainAugment.draw(config, rng)
        # Ours flips after the crop, the original before: the same clip is the mirrored crop position.
        position = augment.position
        if augment.flip and position != "c":
            position = position[0] + {"l": "r", "r": "l"}[position[1]]
        names = [original.videos[i][k] for k in indices]
        ref = original.make_clip(names, augment.flip, (augment.crop_w, augment.crop_h, position),
                                 [augment.colour, augment.brightness, augment.contrast])
        for name, dataset in paths.items():
            clip = dataset[i][0]
            if name == "device":
                clip = dataset.batch_to_device(collate_encoded([(clip, 0)])[0], torch.device("cpu"))[0]
            diff = ((normalize_clips(clip) - ref) * std * 255).abs()
            worst[name], total[name] = max(worst[name], diff.max().item()), total[name] + diff.mean().item()
    return {"clips": n_clips, **{name: {"max_abs_diff_levels": worst[name], "mean_abs_diff_levels": total[name] / n_clips}
                                 for name in paths}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=40)
    parser.add_argument("--frames", type=int, nargs=2, default=(60, 150), metavar=("MIN", "MAX"))
    parser.add_argument("--clips", type=int, default=200, help="timed clips per side")
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds, rotating the order of the sides")
    parser.add_argument("--fidelity-clips", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", help="keep the generated data here (default: a temporary folder, removed)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    root = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="loader_speed_"))
    try:
        t0 = time.perf_counter()
        index = make_data(root, args.videos, tuple(args.frames), args.seed)
        print(f"{len(index)} videos, {index['n_frames'].sum()} frames at 256x192 "
              f"({time.perf_counter() - t0:.0f} s to generate); one thread; "
              f"opencv {cv2.__version__}, simplejpeg {simplejpeg.__version__}, pillow {PIL.__version__}, torch {torch.__version__}, "
              f"torchvision {torchvision.__version__}, {_cpu()}")
        speed = throughput(index, args.clips, args.rounds, args.seed)
        print(f"ours       {speed['ours_clips_per_s']:7.1f} clips/s per worker (ClipDataset + normalize_clips on the CPU)")
        print(f"original   {speed['original_clips_per_s']:7.1f} clips/s per worker (PIL + ToTensor + Normalize)")
        rounds = ", ".join(f"{r:.2f}" for r in speed["speedup_per_round"])
        print(f"speed-up   {speed['speedup']:7.2f}x (per round: {rounds})")
        print(f"ours uint8 {speed['ours_uint8_clips_per_s']:7.1f} clips/s per worker, {speed['speedup_uint8']:.2f}x "
              "(as in training: the worker hands over uint8, the training device normalises)")
        print(f"read only  {speed['read_only_clips_per_s']:7.1f} clips/s per worker (recipe.decode: device: the worker "
              "reads and collates the JPEG bytes; decoding and augmentation run on the training device)")
        print(f"decode only {speed['ours_decode_only_clips_per_s']:6.1f} clips/s per worker, "
              f"{speed['speedup_decode_only']:.2f}x (ours: draws + read + decode, no augmentation; the PIL recipe's "
              f"open + decode alone: {speed['original_decode_only_clips_per_s']:.1f} clips/s)")
        print(f"5x budget  {speed['ms_per_clip_at_5x']:.2f} ms per clip; ours decodes in {speed['ms_per_clip_decode_only']:.2f} ms "
              f"and spends {speed['ms_per_clip_after_decode']:.2f} ms more on the augmentation")
        stages = stage_breakdown(index, args.clips, args.seed)
        print("ours per stage, ms per clip: " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
        floor = augmentation_floor(index)
        print("resize to 160, us per frame: " + ", ".join(
            f"{crop} opencv {t['opencv']:.1f} / torch {t['torch_antialias']:.1f}" for crop, t in floor["resize_us_per_frame"].items()))
        cb = floor["colour_brightness_us_per_frame"]
        print(f"Color + Brightness, us per frame: four OpenCV calls (ours) {cb['four_opencv_calls']:.1f}, "
              f"one cv2.transform {cb['one_transform']:.1f}")
        fid = fidelity(index, min(args.fidelity_clips, len(index)), args.seed)
        for name in ("worker", "device"):
            print(f"fidelity vs the PIL recipe with the same draws ({fid['clips']} clips), {name} path: "
                  f"max |diff| {fid[name]['max_abs_diff_levels']:.1f} levels, mean {fid[name]['mean_abs_diff_levels']:.3f}")
        results = {"videos": len(index), "frames": int(index["n_frames"].sum()), "threads": 1, "cpu": _cpu(),
                   "versions": {"opencv": cv2.__version__, "simplejpeg": simplejpeg.__version__, "pillow": PIL.__version__,
                                "torch": torch.__version__,
                                "torchvision": torchvision.__version__},
                   "throughput": speed, "stages_ms_per_clip": stages, "augmentation_floor": floor, "fidelity": fid}
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
