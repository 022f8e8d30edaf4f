"""Synthesis throughput: images/s of ``synthesize`` next to a decode+encode-only loop, in one run.

Setting (issue 3): 640x480 outputs, 1-4 logos each (the 21 FlickrLogos-27
brands' simple-icons SVGs), background analysis cached beforehand, alpha /
feathered-alpha blending, ``--workers`` local processes. Side by side in each
repeat: (a) a loop over the same images that only decodes the background
(reduced-scale JPEG decode, as the pipeline does), crops/resizes it to
640x480 and encodes + writes the JPEG, on the same number of workers;
(b) ``synthesize`` with alpha/feather blending; (c) with Poisson blending
(when ``SynthConfig`` has ``blend_probs``). Prints medians over repeats as a
markdown table, the ratio (b)/(a), the one-time analysis cost per background
(median of ``BackgroundAnalysis.timings``) and the projected time for 50,000
images. The decode loop decodes every image's background; the pipeline keeps
decoded backgrounds in a per-worker cache, as it does in production.

    .venv/bin/python benchmarks/bench_synth.py --images 600 --backgrounds 30 --workers 2 --repeats 3
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BRANDS = [
    *("adidas", "apple", "bmw", "citroen", "cocacola", "dhl", "fedex", "ferrari", "ford", "google", "hp", "intel", "mcdonalds"),
    *("mini", "nbc", "nike", "porsche", "puma", "redbull", "starbucks", "vodafone"),
]


def _logo_folder(root: Path) -> Path:
    """The 21 brand SVGs (links) plus a brands.json with their simple-icons colours."""
    icons = SHARED / "logos" / "simple-icons"
    meta = {e["slug"]: e for e in json.loads((icons / "simple-icons.json").read_text()) if "slug" in e}
    root.mkdir(parents=True, exist_ok=True)
    colors = {}
    for b in BRANDS:
        src = icons / "icons" / f"{b}.svg"
        if src.is_file():
            os.symlink(src, root / f"{b}.svg")
            if b in meta:
                colors[b] = {"hex": meta[b]["hex"]}
    (root / "brands.json").write_text(json.dumps(colors))
    return root


def _baseline_unit(job: tuple, indices: list[int]) -> int:
    """Decode each image's background, crop/resize to the output size, encode and write the JPEG."""
    import cv2

    from logodet.assets.backgrounds import load_background
    from logodet.io import atomic_write_bytes

    paths, seed, out, size, min_size, quality = job
    for i in indices:
        rng = np.random.default_rng([seed, i])
        img = load_background(paths[int(rng.integers(len(paths)))], min_size)
        h, w = img.shape[:2]
        s = min(w / size[0], h / size[1])
        cw, ch = int(size[0] * s), int(size[1] * s)
        crop = img[(h - ch) // 2 : (h - ch) // 2 + ch, (w - cw) // 2 : (w - cw) // 2 + cw]
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        _, buf = cv2.imencode(".jpg", small[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        atomic_write_bytes(Path(out) / f"{i:06d}.jpg", buf.tobytes())
    return len(indices)


def _baseline(paths: list[Path], n: int, seed: int, out: Path, cfg, workers: int) -> float:
    from logodet.synth.executors import LocalExecutor

    c0 = cfg.bg_crop_scale[0]
    job = (paths, seed, str(out), tuple(cfg.size), (math.ceil(cfg.size[0] / c0), math.ceil(cfg.size[1] / c0)), cfg.jpeg_quality)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    done = sum(r for _, r in LocalExecutor(workers).map(_baseline_unit, job, [list(range(k, min(k + 16, n))) for k in range(0, n, 16)]))
    assert done == n
    return time.perf_counter() - start


def _with_blend(cfg, **probs: float):
    """``cfg`` with ``blend_probs`` set, or ``None`` when the config has no blending modes yet."""
    if not hasattr(cfg, "blend_probs"):
        return None
    current = cfg.blend_probs
    try:
        if isinstance(current, dict):
            value = {k: float(probs.get(k, 0.0)) for k in current} | {k: float(v) for k, v in probs.items()}
        else:
            value = dict(probs)
        return dataclasses.replace(cfg, blend_probs=value)
    except (TypeError, ValueError):
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=600, help="images per timed run")
    ap.add_argument("--backgrounds", type=int, default=30, help="backgrounds used (spread over the three sets)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="keep outputs here instead of a temporary folder")
    args = ap.parse_args()

    if not (SHARED / "backgrounds").is_dir() or not (SHARED / "logos" / "simple-icons").is_dir():
        print(f"skipped: {SHARED} (backgrounds / simple-icons) not found")
        return
    from logodet.assets.backgrounds import BackgroundSet
    from logodet.synth.config import SynthConfig
    from logodet.synth.pipeline import synthesize

    all_bgs = sorted((SHARED / "backgrounds").rglob("*.jpg"))
    step = max(1, len(all_bgs) // args.backgrounds)
    paths = all_bgs[::step][: args.backgrounds]
    bgs = BackgroundSet(tuple(paths))
    root = Path(args.keep or tempfile.mkdtemp(prefix="bench-synth-"))
    cache = root / "cache"
    logos = _logo_folder(root / "logos")
    base = SynthConfig(size=(640, 480), min_logos=1, max_logos=4, empty_prob=0.0)
    alpha = _with_blend(base, alpha=0.5, feather=0.5) or base
    poisson = _with_blend(base, poisson=1.0)
    n = args.images

    def run(cfg, name: str, k: int):
        out = root / f"{name}-{k}"
        shutil.rmtree(out, ignore_errors=True)
        report = synthesize(logos, bgs, out, n, cfg, seed=args.seed, workers=args.workers, progress=False, cache_dir=cache, preview=False)
        return report

    t0 = time.perf_counter()
    warm = run(alpha, "warmup", 0)  # fills the analysis cache (all backgrounds these images use)
    warm_s = time.perf_counter() - t0
    has_analysis = bool(warm.analysis_seconds)
    times: dict[str, list[float]] = {"decode+encode": [], "synth alpha/feather": [], "synth poisson": []}
    for k in range(args.repeats):
        times["decode+encode"].append(_baseline(paths, n, args.seed, root / f"baseline-{k}", base, args.workers))
        times["synth alpha/feather"].append(run(alpha, "alpha", k).seconds)
        if poisson is not None:
            times["synth poisson"].append(run(poisson, "poisson", k).seconds)

    med = {k: statistics.median(v) for k, v in times.items() if v}
    base_s = med["decode+encode"]
    print(f"\n{n} images of 640x480, 1-4 logos, {len(paths)} backgrounds, {args.workers} workers, {args.repeats} repeats (medians)\n")
    print("| run | seconds | images/s | x decode+encode |")
    print("|---|---:|---:|---:|")
    for k, s in med.items():
        print(f"| {k} | {s:.2f} | {n / s:.1f} | {s / base_s:.2f} |")
    if poisson is None:
        print("| synth poisson | n/a (SynthConfig has no blend_probs yet) | | |")
    print()
    if has_analysis:
        per_bg = warm.analysis_seconds
        total = sum(v for k, v in per_bg.items() if k != "total") if "total" not in per_bg else per_bg["total"]
        stages = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in per_bg.items())
        print(f"Analysis per background (median over {warm.num_analysed}, one-time, cached): {stages}; total ~{total:.2f} s")
    else:
        total = 0.0
        print(f"Analysis: not run (SynthConfig has no `analysis` section yet); warm-up run took {warm_s:.1f} s")
    rate = n / med["synth alpha/feather"]
    project = 50_000 / rate + (270 * total / max(1, args.workers))
    print(f"Projected 50,000 images (alpha/feather, {args.workers} workers, + analysis of 270 backgrounds): {project / 60:.1f} min")
    print(f"Ratio synth / decode+encode: {med['synth alpha/feather'] / base_s:.2f} (target <= 3); images/s {rate:.1f} (target >= 100)")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
