"""Frame-store format comparison at 256x192: bytes per frame, encode time, random-access read+decode time.

Two sources, 150 frames each, encoded like UCF-101 (MPEG-4 Part 2, 320x240): a slow pan and zoom
over a procedurally generated photo-like image (multi-scale noise plus edges, with sensor noise), and
one synthetic-dataset video. Each candidate format stores the frames packed in one file with an
offset index; reads are 60 random 16-frame clips. Usage: python benchmarks/frame_store_formats.py
"""
import os, tempfile, time
from pathlib import Path
import cv2, numpy as np
from mict_pipeline.datasets import synthetic as S
from mict_pipeline.io.frame_store import extract_frames, load_frames

cv2.setNumThreads(1)
out = Path(tempfile.mkdtemp(prefix="frame_store_formats_"))
T = 150

def natural_video():
    """Slow pan/zoom over a procedural photo-like image plus sensor-like noise, encoded like UCF-101 (XVID 320x240)."""
    rng = np.random.default_rng(0)
    h, w = 960, 1280
    img = sum(cv2.resize(rng.random((h // s, w // s, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC) / s**0.5
              for s in (64, 16, 4, 1))
    img = (255 * (img - img.min()) / (img.max() - img.min())).astype(np.uint8)
    for _ in range(40):  # edges: random filled shapes
        cv2.rectangle(img, tuple(int(v) for v in rng.integers(0, (w, h))), tuple(int(v) for v in rng.integers(0, (w, h))),
                      tuple(int(v) for v in rng.integers(0, 256, 3)), -1)
    frames = []
    for t in range(T):
        s = 1.0 + 0.3 * t / T; cw = int(w / s * 0.9); ch = int(cw * 0.75)
        x = int((w - cw) * t / T); y = int((h - ch) * 0.5 * (1 + np.sin(t / 20)))
        frames.append(cv2.resize(img[y:y + ch, x:x + cw], (320, 240), interpolation=cv2.INTER_AREA))
    frames = np.clip(np.stack(frames) + np.random.default_rng(0).normal(0, 4, (T, 240, 320, 3)), 0, 255).astype(np.uint8)
    return S.write_video(out / "natural.avi", frames)

def pack(path, blobs):
    offs = np.cumsum([0] + [len(b) for b in blobs]) + 8 * (len(blobs) + 1)
    with open(path, "wb") as f:
        f.write(offs.astype("<u8").tobytes()); [f.write(b) for b in blobs]

def load_packed(path, idx, n):
    with open(path, "rb") as f:
        offs = np.frombuffer(f.read(8 * (n + 1)), "<u8")
        res = np.empty((len(idx), 192, 256, 3), np.uint8)
        for r, i in enumerate(idx):
            f.seek(int(offs[i])); data = f.read(int(offs[i + 1] - offs[i]))
            cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB, dst=res[r])
    return res

def main():
    videos = {"natural": natural_video(), "synthetic": S.write_video(out / "synthetic.avi", S.render_frames(S.VideoSpec("Twist", 1, 1, T, 123)))}
    rng = np.random.default_rng(1)
    clips = [np.sort(rng.choice(T, 16, replace=False)) for _ in range(60)]
    def per_frame_ms(fn):
        fn(clips[0]); t0 = time.perf_counter()
        for c in clips: fn(c)
        return (time.perf_counter() - t0) / (len(clips) * 16) * 1e3
    for name, video in videos.items():
        ref_store = out / f"{name}.png.frames"
        extract_frames(video, ref_store, image_format="png")
        ref = load_frames(ref_store, range(T))  # lossless decoded frames at 256x192
        print(f"--- {name}: {T} frames, 256x192 (MPEG-4 source {os.path.getsize(video)/T/1024:.1f} KiB/frame at 320x240)")
        for label, ext, params in [("JPEG q75", ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 75]), ("JPEG q90", ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 90]),
                                   ("JPEG q95", ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95]), ("WebP q90", ".webp", [cv2.IMWRITE_WEBP_QUALITY, 90]),
                                   ("PNG (lossless)", ".png", [cv2.IMWRITE_PNG_COMPRESSION, 3])]:
            t0 = time.perf_counter()
            blobs = [cv2.imencode(ext, cv2.cvtColor(f, cv2.COLOR_RGB2BGR), params)[1].tobytes() for f in ref]
            enc = (time.perf_counter() - t0) / T * 1e3
            p = out / f"{name}{ext}.pack"; pack(p, blobs)
            got = load_packed(p, range(T), T)
            mse = np.mean((got.astype(float) - ref) ** 2); psnr = 10 * np.log10(255**2 / mse) if mse else float("inf")
            print(f"  packed {label:15s} {os.path.getsize(p)/T/1024:6.1f} KiB/frame  encode {enc:5.2f} ms/frame  "
                  f"random read+decode {per_frame_ms(lambda c: load_packed(p, c, T)):5.3f} ms/frame  PSNR {psnr:5.1f} dB")
        np.save(out / f"{name}.npy", ref)
        ms = per_frame_ms(lambda c: np.array(np.load(out / f"{name}.npy", mmap_mode="r")[c]))
        print(f"  raw .npy uint8 (mmap)  {os.path.getsize(out / f'{name}.npy')/T/1024:6.1f} KiB/frame                      random read {ms:5.3f} ms/frame  lossless")
        store = out / f"{name}.frames"; extract_frames(video, store)
        print(f"  -> frames.py store (JPEG q90): load_frames {per_frame_ms(lambda c: load_frames(store, c)):5.3f} ms/frame")

if __name__ == "__main__":
    main()
