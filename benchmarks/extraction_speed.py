"""Frame extraction: this project's packed-JPEG frame stores against the `ffmpeg` command line.

The original approach writes one JPEG file per frame with ffmpeg (``ffmpeg -i video.avi -vf
scale=256:192 -q:v 2 frames/%05d.jpg``). Both sides here decode the same synthetic MPEG-4 AVIs
(320x240, 25 fps) and write 256x192 JPEG frames, with the same number of parallel workers (one
video per worker at a time, one thread each). Prints videos/s, frames/s, disk use per video
(bytes written and blocks allocated: a file per frame costs a file-system block each) and a
projection for UCF-101 (13,320 videos, about 2.5 million frames).

Usage: python benchmarks/extraction_speed.py [--videos 24] [--frames 120 240] [--workers 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mict_pipeline.datasets.synthetic import MOTIONS, VideoSpec, render_frames, write_video
from mict_pipeline.io.frame_store import extract_many

UCF101_FRAMES = 2_500_000  # about 2.5 million frames (13,320 videos, ~7 s each at 25 fps)


def _disk(folder: Path) -> tuple[int, int]:
    """(bytes written, bytes of blocks allocated) of every file under ``folder``."""
    files = [f for f in folder.rglob("*") if f.is_file()]
    return sum(f.stat().st_size for f in files), sum(f.stat().st_blocks * 512 for f in files)


def _ffmpeg(video: Path, out: Path, quality: int) -> int:
    out.mkdir(parents=True)
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-threads", "1", "-i", str(video),
               "-vf", "scale=256:192", "-q:v", str(quality), str(out / "%05d.jpg")]
    subprocess.run(command, check=True)
    return len(list(out.iterdir()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=24)
    parser.add_argument("--frames", type=int, nargs=2, default=[120, 240], help="frame count range per video")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--ffmpeg-quality", type=int, default=2, help="ffmpeg -q:v (2 = high quality, common)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg not found: install it (e.g. apt-get install ffmpeg) to run the baseline")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        classes = sorted(MOTIONS)
        lo, hi = args.frames
        videos = []
        for i in range(args.videos):
            spec = VideoSpec(classes[i % len(classes)], 1, i + 1, lo + (hi - lo) * i // max(args.videos - 1, 1), 1000 + i)
            videos.append(write_video(root / "videos" / spec.name, render_frames(spec)))

        start = time.perf_counter()
        results = extract_many([(v, root / "stores" / f"{v.stem}.frames") for v in videos], 256, 192, workers=args.workers, quality=90)
        ours_s = time.perf_counter() - start
        ours_frames = sum(r.frames for r in results)
        ours_disk = _disk(root / "stores")

        start = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:  # each thread waits on one ffmpeg process
            counts = list(pool.map(lambda v: _ffmpeg(v, root / "ffmpeg" / v.stem, args.ffmpeg_quality), videos))
        ffmpeg_s = time.perf_counter() - start
        ffmpeg_frames = sum(counts)
        ffmpeg_disk = _disk(root / "ffmpeg")

    rows = {
        "frame stores (this project, JPEG q90)": (ours_s, ours_frames, *ours_disk),
        f"ffmpeg CLI, one JPEG per frame (-q:v {args.ffmpeg_quality})": (ffmpeg_s, ffmpeg_frames, *ffmpeg_disk),
    }
    print(f"{args.videos} synthetic videos, {ours_frames} frames, {args.workers} workers")
    print(f"{'':48s} {'videos/s':>9s} {'frames/s':>9s} {'KiB/video':>10s} {'alloc KiB/video':>16s} {'UCF-101 GiB':>12s} {'UCF-101 h':>10s}")
    summary = {}
    for name, (seconds, frames, written, allocated) in rows.items():
        per_frame_alloc = allocated / frames
        projected_gib = per_frame_alloc * UCF101_FRAMES / 2**30
        projected_h = UCF101_FRAMES / (frames / seconds) / 3600
        print(f"{name:48s} {args.videos / seconds:9.1f} {frames / seconds:9.0f} {written / args.videos / 1024:10.0f} "
              f"{allocated / args.videos / 1024:16.0f} {projected_gib:12.1f} {projected_h:10.2f}")
        summary[name] = {"seconds": seconds, "frames": frames, "videos_per_s": args.videos / seconds, "frames_per_s": frames / seconds,
                         "bytes_per_video": written / args.videos, "allocated_bytes_per_video": allocated / args.videos,
                         "ucf101_projected_gib": projected_gib, "ucf101_projected_hours": projected_h}
    print(f"speed ratio (frames/s): {(ours_frames / ours_s) / (ffmpeg_frames / ffmpeg_s):.2f}x")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
