"""COCO box evaluation time: faster-coco-eval against pycocotools on synthetic data.

Builds a seeded fixture (5,000 images, 8 classes, ~3 ground-truth boxes and ~10
predictions per image, some crowd regions), then times the full public
pipeline of each library (load ground truth from a dict, ``loadRes``,
``evaluate``, ``accumulate``, ``summarize``), alternating the two for
``--repeats`` rounds so both see the same machine state. Prints median / min /
max seconds, the ratio of medians (pycocotools / faster-coco-eval) measured in
this run, and the time of ``logodet.evaluation.evaluate_coco`` (which adds
validation, per-class AP and the best-F1 matching). Fails if the two libraries'
twelve stats differ by more than 1e-6.

Usage:
    .venv/bin/python benchmarks/bench_eval.py --images 5000 --repeats 5
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import statistics
import time

import numpy as np


def make_fixture(n_images: int, n_classes: int = 8, seed: int = 0) -> tuple[dict, list[dict]]:
    """Seeded synthetic ground truth and predictions (xywh boxes, areas of all COCO sizes)."""
    rng = np.random.default_rng(seed)
    images, anns, preds = [], [], []
    for iid in range(1, n_images + 1):
        w, h = 640, 480
        images.append({"id": iid, "file_name": f"{iid:06d}.jpg", "width": w, "height": h})
        gts = []
        for _ in range(rng.poisson(3)):
            side = float(np.exp(rng.uniform(np.log(10), np.log(300))))
            bw, bh = side, side * rng.uniform(0.5, 1.5)
            box = [float(rng.uniform(0, w - bw)), float(rng.uniform(0, max(1.0, h - bh))), bw, bh]
            cat = int(rng.integers(1, n_classes + 1))
            crowd = int(rng.random() < 0.02)
            anns.append({"id": len(anns) + 1, "image_id": iid, "category_id": cat, "bbox": box, "area": box[2] * box[3], "iscrowd": crowd})
            gts.append((box, cat))
        n_pred = rng.poisson(10)
        for j in range(n_pred):
            if j < len(gts) and rng.random() < 0.8:
                box, cat = gts[j]
                jit = rng.normal(0, 0.1, 4) * np.array([box[2], box[3], box[2], box[3]])
                pb = [box[0] + jit[0], box[1] + jit[1], max(1.0, box[2] + jit[2]), max(1.0, box[3] + jit[3])]
                pcat = cat if rng.random() < 0.9 else int(rng.integers(1, n_classes + 1))
                score = float(rng.uniform(0.3, 1.0))
            else:
                side = float(np.exp(rng.uniform(np.log(10), np.log(300))))
                pb = [float(rng.uniform(0, w - side)), float(rng.uniform(0, max(1.0, h - side))), side, side]
                pcat, score = int(rng.integers(1, n_classes + 1)), float(rng.uniform(0.0, 0.7))
            preds.append({"image_id": iid, "category_id": pcat, "bbox": [float(v) for v in pb], "score": score})
    cats = [{"id": i + 1, "name": f"brand{i + 1}"} for i in range(n_classes)]
    return {"images": images, "annotations": anns, "categories": cats}, preds


def run_pycocotools(gt: dict, preds: list[dict]) -> np.ndarray:
    """pycocotools' public pipeline; its printing is discarded."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        ev = COCOeval(coco_gt, coco_gt.loadRes(preds), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats[:12])


def run_faster_coco_eval(gt: dict, preds: list[dict]) -> np.ndarray:
    """faster-coco-eval's public pipeline, silent."""
    from faster_coco_eval import COCO, COCOeval_faster

    def quiet(*_: object, **__: object) -> None:
        return None

    coco_gt = COCO(gt, print_function=quiet)
    ev = COCOeval_faster(coco_gt, coco_gt.loadRes(preds), "bbox", print_function=quiet)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return np.asarray(ev.stats[:12])


def run_logodet(gt: dict, preds: list[dict]) -> np.ndarray:
    """logodet's ``evaluate_coco`` (faster-coco-eval plus validation, per-class AP and best-F1 matching)."""
    from logodet.evaluation.detection import COCO_METRIC_NAMES, evaluate_coco

    m = evaluate_coco(gt, preds)
    return np.array([getattr(m, k) for k in COCO_METRIC_NAMES])


def _timed(fn, gt: dict, preds: list[dict]) -> tuple[float, np.ndarray]:
    gt, preds = copy.deepcopy(gt), copy.deepcopy(preds)  # both libraries annotate their inputs in place
    t0 = time.perf_counter()
    stats = fn(gt, preds)
    return time.perf_counter() - t0, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    gt, preds = make_fixture(args.images, seed=args.seed)
    print(f"fixture: {len(gt['images'])} images, {len(gt['categories'])} classes, {len(gt['annotations'])} boxes, {len(preds)} predictions")
    runners = {"pycocotools": run_pycocotools, "faster-coco-eval": run_faster_coco_eval, "logodet evaluate_coco": run_logodet}
    times: dict[str, list[float]] = {name: [] for name in runners}
    reference = None
    for r in range(args.repeats):
        order = list(runners) if r % 2 == 0 else list(reversed(runners))  # alternate who goes first
        for name in order:
            seconds, stats = _timed(runners[name], gt, preds)
            times[name].append(seconds)
            if reference is None:
                reference = stats
            elif not np.allclose(stats, reference, atol=1e-6, rtol=0):
                raise SystemExit(f"{name}: stats differ from the first run: {stats} vs {reference}")
        print(f"round {r + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f}s" for n in runners))

    print(f"\nstats (AP, AP50, ..., ARl), identical to 1e-6 across libraries: {np.round(reference, 4).tolist()}")
    print("\n| tool | median s | min s | max s |\n|---|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts):.2f} | {min(ts):.2f} | {max(ts):.2f} |")
    speedup = statistics.median(times["pycocotools"]) / statistics.median(times["faster-coco-eval"])
    paired = statistics.median(p / f for p, f in zip(times["pycocotools"], times["faster-coco-eval"], strict=True))
    print(f"\nratio of medians pycocotools / faster-coco-eval: {speedup:.1f}x ({args.repeats} rounds)")
    print(f"median of per-round ratios (same round, robust to machine load): {paired:.1f}x")


if __name__ == "__main__":
    main()
