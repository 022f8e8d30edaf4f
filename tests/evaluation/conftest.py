"""Fixtures for the evaluation tests: a generated COCO fixture and a pycocotools reference."""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Callable

import numpy as np
import pytest

CLASS_NAMES = ["acme", "globex", "initech", "umbrella", "hooli"]
# side lengths (pixels) hitting COCO's small (< 32), medium (32-96) and large (> 96) ranges
SIDES = [8, 14, 22, 30, 40, 64, 90, 120, 200]


def make_coco_fixture(seed: int = 0, n_images: int = 72) -> tuple[dict, list[dict]]:
    """Ground truth and predictions covering the cases COCO treats specially.

    Images 0-5 have no ground truth (some get false positives), every 7th
    image has no prediction, every 5th image holds a crowd region (with
    detections on it), class ``hooli`` (id 5) has no ground truth at all but
    gets predictions, and predictions include class confusions, localisation
    jitter, duplicates and scores rounded to 2 decimals (ties).
    """
    rng = np.random.default_rng(seed)
    cats = [{"id": i + 1, "name": n, "supercategory": "logo"} for i, n in enumerate(CLASS_NAMES)]
    images, anns, preds = [], [], []
    for i in range(n_images):
        iid = 100 + i  # image ids not starting at 1
        w, h = int(rng.integers(320, 640)), int(rng.integers(240, 480))
        images.append({"id": iid, "file_name": f"img_{i:03d}.jpg", "width": w, "height": h})
        n_gt = 0 if i < 6 else int(rng.integers(1, 6))
        boxes = []
        for _ in range(n_gt):
            side = float(rng.choice(SIDES)) * float(rng.uniform(0.8, 1.25))
            bw, bh = side, side * float(rng.uniform(0.6, 1.4))
            x, y = float(rng.uniform(0, w - bw)), float(rng.uniform(0, max(1.0, h - bh)))
            cat = int(rng.integers(1, 5))  # classes 1..4 have ground truth
            box = [round(x, 2), round(y, 2), round(bw, 2), round(bh, 2)]
            anns.append({"id": len(anns) + 1, "image_id": iid, "category_id": cat, "bbox": box, "area": box[2] * box[3], "iscrowd": 0})
            boxes.append((box, cat))
        if i % 5 == 0 and i >= 6:
            crowd = [10.0, 10.0, 150.0, 120.0]
            cat = int(rng.integers(1, 5))
            anns.append({"id": len(anns) + 1, "image_id": iid, "category_id": cat, "bbox": crowd, "area": 15000.0, "iscrowd": 1})
            for _ in range(2):  # detections inside the crowd region
                preds.append(
                    {"image_id": iid, "category_id": cat, "bbox": [20.0 + 30 * rng.random(), 20.0, 40.0, 40.0], "score": _score(rng)}
                )
        if i % 7 == 3:
            continue  # an image without predictions
        for box, cat in boxes:
            if rng.random() < 0.85:
                jit = rng.normal(0, 0.08, 4) * np.array([box[2], box[3], box[2], box[3]])
                pb = [box[0] + jit[0], box[1] + jit[1], max(1.0, box[2] + jit[2]), max(1.0, box[3] + jit[3])]
                pcat = cat if rng.random() < 0.85 else int(rng.integers(1, 6))
                preds.append({"image_id": iid, "category_id": pcat, "bbox": [round(float(v), 2) for v in pb], "score": _score(rng)})
                if rng.random() < 0.2:  # duplicate
                    preds.append({"image_id": iid, "category_id": pcat, "bbox": [round(float(v) + 2, 2) for v in pb], "score": _score(rng)})
        for _ in range(int(rng.integers(0, 4))):  # false positives, any class (including ones absent from the image)
            side = float(rng.choice(SIDES))
            pb = [float(rng.uniform(0, w - side)), float(rng.uniform(0, max(1.0, h - side))), side, side]
            preds.append(
                {"image_id": iid, "category_id": int(rng.integers(1, 6)), "bbox": [round(v, 2) for v in pb], "score": _score(rng) * 0.6}
            )
    return {"images": images, "annotations": anns, "categories": cats}, preds


def make_dense_fixture(seed: int = 0) -> tuple[dict, list[dict]]:
    """Two crowded images: many overlapping boxes of one class, crowd regions, duplicates (large matching groups)."""
    rng = np.random.default_rng(seed)
    gt: dict = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "acme"}, {"id": 2, "name": "globex"}]}
    preds = []
    for iid in (1, 2):
        gt["images"].append({"id": iid, "file_name": f"{iid}.jpg", "width": 400, "height": 400})
        for j in range(24):
            box = [round(float(v), 1) for v in (*rng.uniform(0, 320, 2), *rng.uniform(20, 80, 2))]
            crowd = int(j < 2)
            gt["annotations"].append(
                {
                    "id": len(gt["annotations"]) + 1,
                    "image_id": iid,
                    "category_id": 1,
                    "bbox": box,
                    "area": box[2] * box[3],
                    "iscrowd": crowd,
                }
            )
            for _ in range(int(rng.integers(1, 4))):
                jb = [round(float(v + d), 1) for v, d in zip(box, rng.normal(0, 5, 4), strict=True)]
                jb[2], jb[3] = max(jb[2], 2.0), max(jb[3], 2.0)
                preds.append({"image_id": iid, "category_id": 1, "bbox": jb, "score": _score(rng)})
    return gt, preds


def _score(rng: np.random.Generator) -> float:
    return round(float(rng.uniform(0.05, 1.0)), 2)


def pycocotools_reference(gt: dict, preds: list[dict]) -> tuple[np.ndarray, dict[str, dict[str, float]]]:
    """The twelve stats and per-class AP / AP50 computed by pycocotools."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        if preds:
            coco_dt = coco_gt.loadRes(copy.deepcopy(preds))
        else:  # pycocotools' loadRes cannot take an empty list
            coco_dt = COCO()
            coco_dt.dataset = {"images": copy.deepcopy(gt["images"]), "categories": copy.deepcopy(gt["categories"]), "annotations": []}
            coco_dt.createIndex()
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    names = {c["id"]: c["name"] for c in gt["categories"]}
    per_class = {}
    precision = ev.eval["precision"]
    for k, cid in enumerate(ev.params.catIds):
        p = precision[:, :, k, 0, -1]
        p50 = p[0]
        per_class[names[cid]] = {
            "AP": float(np.mean(p[p > -1])) if (p > -1).any() else -1.0,
            "AP50": float(np.mean(p50[p50 > -1])) if (p50 > -1).any() else -1.0,
        }
    return np.asarray(ev.stats, np.float64), per_class


@pytest.fixture(scope="session")
def coco_fixture() -> tuple[dict, list[dict]]:
    """``(ground truth dict, predictions)`` from :func:`make_coco_fixture`."""
    return make_coco_fixture()


@pytest.fixture(scope="session")
def pycoco() -> Callable[[dict, list[dict]], tuple[np.ndarray, dict[str, dict[str, float]]]]:
    """The pycocotools reference function."""
    return pycocotools_reference
