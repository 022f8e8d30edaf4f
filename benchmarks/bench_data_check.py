"""Time and memory of loading and validating a large COCO dataset.

Builds a seeded COCO folder once (default 20,000 distinct 48x32 PNG images and
100,000 boxes, 1 % of them partly outside their image and 0.1 % with a
duplicate id, and every 200th image a brighter copy of the one before, so
that problems are reported too), then, each in a fresh
interpreter, times ``load_coco`` and ``check_dataset`` in three settings:
headers only (``dup_distance=None``), the default (reduced decode for the
perceptual hash, near duplicates within 4 bits) and ``decode=True`` with the
hash. Prints seconds, problems found and peak resident memory
(``ru_maxrss``) per run; the interpreter with numpy and PIL imported is the
baseline row.

Usage:
    .venv/bin/python benchmarks/bench_data_check.py --images 20000 --annotations 100000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np


def build(root: Path, n_images: int, n_annotations: int, seed: int = 0) -> float:
    """Write the fixture; seconds taken."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    w, h = 48, 32
    images, img = [], np.zeros((h, w, 3), np.uint8)
    for i in range(n_images):
        if i % 200 == 199:  # a slightly brighter copy of the previous image: a near duplicate
            img = cv2.add(img, 6)
        else:
            blocks = rng.integers(0, 250, (8, 12, 3), dtype=np.uint8)  # coarse blocks: distinct perceptual hashes
            img = cv2.resize(blocks, (w, h), interpolation=cv2.INTER_NEAREST)
        name = f"{i // 1000:03d}/{i:06d}.png"
        (root / "images" / name).parent.mkdir(exist_ok=True)
        cv2.imwrite(str(root / "images" / name), img)
        images.append({"id": i + 1, "file_name": name, "width": w, "height": h})
    img_of = rng.integers(0, n_images, n_annotations)
    bw, bh = rng.uniform(2, 20, n_annotations), rng.uniform(2, 14, n_annotations)
    x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
    x[: n_annotations // 100] += w - x[: n_annotations // 100] - bw[: n_annotations // 100] / 2  # partly outside
    cats = rng.integers(1, 11, n_annotations)
    ids = np.arange(1, n_annotations + 1)
    ids[-(n_annotations // 1000) :] = 1  # duplicate annotation ids
    anns = [
        {
            "id": int(ids[k]),
            "image_id": int(img_of[k]) + 1,
            "category_id": int(cats[k]),
            "bbox": [round(float(v), 2) for v in (x[k], y[k], bw[k], bh[k])],
            "area": 1.0,
            "iscrowd": 0,
        }
        for k in range(n_annotations)
    ]
    categories = [{"id": c, "name": f"brand{c}"} for c in range(1, 11)]
    (root / "annotations.json").write_text(json.dumps({"images": images, "annotations": anns, "categories": categories}))
    return time.perf_counter() - t0


def _run(task: str, root: str, queue: mp.Queue) -> None:
    import numpy  # noqa: F401  # the baseline: what every run imports
    from PIL import Image  # noqa: F401

    t0 = time.perf_counter()
    found = ""
    if task == "load_coco":
        from logodet.datasets.formats.coco import load_coco

        found = f"{sum(len(r.annotations) for r in load_coco(root).images)} annotations loaded"
    elif task.startswith("check"):
        from logodet.datasets.check import check_dataset

        options = {"check headers": {"dup_distance": None}, "check default": {}, "check --decode": {"decode": True}}[task]
        report = check_dataset(root, **options)
        found = ", ".join(f"{n} {c}" for c, n in report.counts().items())
    queue.put((time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--annotations", type=int, default=100_000)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        built = build(root, args.images, args.annotations)
        size = (root / "annotations.json").stat().st_size / 1e6
        print(f"fixture: {args.images} images, {args.annotations} annotations, annotations.json {size:.1f} MB, built in {built:.1f} s")
        print(f"{'run':<16} {'seconds':>8} {'peak MiB':>9}  problems")
        for task in ("baseline", "load_coco", "check headers", "check default", "check --decode"):
            queue = ctx.Queue()
            proc = ctx.Process(target=_run, args=(task, str(root), queue))
            proc.start()
            seconds, peak, found = queue.get()
            proc.join()
            print(f"{task:<16} {seconds:8.2f} {peak:9.0f}  {found}")


if __name__ == "__main__":
    main()
