"""COCO results (predictions) and ground truth: conversion, validation and loading.

A COCO results file is a JSON list of
``{"image_id": int, "category_id": int, "bbox": [x, y, w, h], "score": float}``.
Everything here returns fresh, normalised dictionaries, so the evaluators may
annotate them without touching the caller's data.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from logodet.datasets.formats.coco import ANNOTATIONS_FILE, COCOFormatError, load_coco_dict
from logodet.types import DetectionDataset, Detections

__all__ = [
    "PredictionsFormatError",
    "detections_to_coco_results",
    "load_ground_truth",
    "load_predictions",
    "normalize_ground_truth",
    "validate_predictions",
]


class PredictionsFormatError(ValueError):
    """A predictions (COCO results) list is malformed; the message names the source, index and field."""


def _is_number(value: Any) -> bool:
    """A finite int or float (numpy scalars included), not a bool."""
    kind = type(value)
    if kind is float or kind is int:  # fast path for parsed JSON
        return math.isfinite(value)
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return type(value) is int or (isinstance(value, (int, np.integer)) and not isinstance(value, bool))


def detections_to_coco_results(image_id: int, detections: Detections, category_ids: Sequence[int] | None = None) -> list[dict]:
    """COCO results entries of one image's detections.

    Args:
        image_id: COCO image id.
        detections: boxes with scores; ``class_ids`` index the class names.
        category_ids: COCO category id of each class index; by default
            ``class_id + 1`` (the ids ``dataset_to_coco`` gives, 1..K in class order).

    Returns:
        One dict per box with ``bbox`` as ``[x, y, w, h]`` rounded to 1/1000 pixel.

    Raises:
        ValueError: ``detections`` has no scores, or a class index has no category id.

    Example:
        >>> d = Detections(xyxy=[[10, 20, 30, 60]], class_ids=[0], scores=[0.75])
        >>> detections_to_coco_results(7, d)
        [{'image_id': 7, 'category_id': 1, 'bbox': [10.0, 20.0, 20.0, 40.0], 'score': 0.75}]
    """
    if detections.scores is None:
        raise ValueError("detections_to_coco_results: detections need scores")
    out = []
    for (x1, y1, x2, y2), cls, score in zip(
        detections.xyxy.tolist(), detections.class_ids.tolist(), detections.scores.tolist(), strict=True
    ):
        if category_ids is None:
            cat = cls + 1
        elif 0 <= cls < len(category_ids):
            cat = int(category_ids[cls])
        else:
            raise ValueError(f"detections_to_coco_results: class index {cls} has no category id (got {len(category_ids)} ids)")
        bbox = [round(x1, 3), round(y1, 3), round(x2 - x1, 3), round(y2 - y1, 3)]
        out.append({"image_id": int(image_id), "category_id": cat, "bbox": bbox, "score": float(score)})
    return out


def normalize_ground_truth(gt: dict | DetectionDataset, source: str = "ground truth") -> dict:
    """A validated, minimal copy of COCO ground truth fit for both COCO evaluators.

    Images keep ``id``/``width``/``height``; annotations keep ``image_id``,
    ``category_id``, ``bbox``, ``area`` (``w * h`` when missing) and ``iscrowd``,
    and get fresh ids ``1..N`` (ids do not change any metric). A
    :class:`DetectionDataset` is converted with ``dataset_to_coco`` first
    (category ids ``1..K`` in class order).

    Raises:
        COCOFormatError: naming ``source`` and the offending field.
    """
    if isinstance(gt, DetectionDataset):
        from logodet.datasets.formats.coco import dataset_to_coco

        gt = dataset_to_coco(gt)
    load_coco_dict(gt, source)  # validation only: raises COCOFormatError naming the field
    images = [{"id": im["id"], "width": im["width"], "height": im["height"], "file_name": im.get("file_name", "")} for im in gt["images"]]
    anns = []
    for i, a in enumerate(gt.get("annotations", [])):
        x, y, w, h = (float(v) for v in a["bbox"])
        area = a.get("area")
        area = float(area) if _is_number(area) else w * h
        anns.append(
            {
                "id": i + 1,
                "image_id": a["image_id"],
                "category_id": a["category_id"],
                "bbox": [x, y, w, h],
                "area": area,
                "iscrowd": int(bool(a.get("iscrowd", 0))),
            }
        )
    cats = [{"id": c["id"], "name": c["name"]} for c in sorted(gt["categories"], key=lambda c: c["id"])]
    return {"images": images, "annotations": anns, "categories": cats}


def validate_predictions(data: Any, gt: dict, source: str = "predictions") -> list[dict]:
    """Check a COCO results list against ground truth and return normalised copies.

    Args:
        data: the parsed results (a list of dicts).
        gt: COCO ground truth whose image and category ids the results must use.
        source: name used in error messages (a file path, for instance).

    Returns:
        New dicts with exactly ``image_id``, ``category_id``, ``bbox`` (floats) and ``score``.

    Raises:
        PredictionsFormatError: naming ``source``, the entry index and the field.

    Example:
        >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}]}
        >>> validate_predictions([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 1}], gt)
        [{'image_id': 1, 'category_id': 1, 'bbox': [0.0, 0.0, 5.0, 5.0], 'score': 1.0}]
    """
    if not isinstance(data, list):
        raise PredictionsFormatError(f"{source}: expected a JSON list of COCO results, got {type(data).__name__}")
    image_ids = {im["id"] for im in gt.get("images", [])}
    cat_ids = {c["id"] for c in gt.get("categories", [])}
    out = []
    for i, r in enumerate(data):
        where = f"{source}: [{i}]"
        if not isinstance(r, dict):
            raise PredictionsFormatError(f"{where}: expected an object, got {type(r).__name__}")
        for key in ("image_id", "category_id", "bbox", "score"):
            if key not in r:
                raise PredictionsFormatError(f"{where}: missing field '{key}'")
        iid, cid, bbox, score = r["image_id"], r["category_id"], r["bbox"], r["score"]
        if not _is_int(iid):
            raise PredictionsFormatError(f"{where}.image_id: expected int, got {iid!r}")
        iid = int(iid)
        if iid not in image_ids:
            raise PredictionsFormatError(f"{where}.image_id: image id {iid} is not in the ground truth")
        if not _is_int(cid):
            raise PredictionsFormatError(f"{where}.category_id: expected int, got {cid!r}")
        cid = int(cid)
        if cid not in cat_ids:
            raise PredictionsFormatError(f"{where}.category_id: unknown category id {cid} (known: {sorted(cat_ids)})")
        if not isinstance(bbox, (list, tuple)) or len(bbox) != 4 or not all(map(_is_number, bbox)):
            raise PredictionsFormatError(f"{where}.bbox: expected [x, y, w, h] finite numbers, got {bbox!r}")
        if bbox[2] < 0 or bbox[3] < 0:
            raise PredictionsFormatError(f"{where}.bbox: negative width or height in {bbox!r}")
        if not _is_number(score):
            raise PredictionsFormatError(f"{where}.score: expected a finite number, got {score!r}")
        out.append({"image_id": iid, "category_id": cid, "bbox": [float(v) for v in bbox], "score": float(score)})
    return out


def load_predictions(path: str | Path, gt: dict) -> list[dict]:
    """Read and validate a COCO results JSON file.

    Raises:
        FileNotFoundError: the file does not exist.
        PredictionsFormatError: invalid JSON or entries, naming the file, index and field.

    Example:
        >>> preds = load_predictions("runs/predictions.json", gt)  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: predictions file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PredictionsFormatError(f"{path}: not valid JSON ({exc})") from exc
    return validate_predictions(data, gt, str(path))


def load_ground_truth(path: str | Path) -> dict:
    """Read a dataset folder's ``annotations.json`` (or a COCO json file) as a normalised COCO dict.

    Category and image ids are kept as in the file, so a results file written
    against it evaluates as it would with pycocotools.

    Raises:
        FileNotFoundError: no annotations file.
        COCOFormatError: malformed file, naming the file and the field.
    """
    path = Path(path)
    json_path = path / ANNOTATIONS_FILE if path.is_dir() else path
    if not json_path.is_file():
        raise FileNotFoundError(f"{json_path}: no COCO annotations file")
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise COCOFormatError(f"{json_path}: not valid JSON ({exc})") from exc
    return normalize_ground_truth(data, str(json_path))
